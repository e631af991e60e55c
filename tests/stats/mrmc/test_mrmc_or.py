"""OR and DBM analyses against published Van Dyke results and an independent R computation.

Published values: tests/reference/mrmc/published_vandyke.json (OR-DBM MRMC 2.5 output and the
MRMCaov JSS manuscript; sources inside). Those programs report the difference 1 - 2, so the
tests pass ``modalities=("2", "1")``. Franken has no published numbers: it is checked against
tests/reference/mrmc/or_bruteforce.R (R, pROC leave-one-out AUCs recomputed from scratch).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.errors import DesignError, InputError
from validation.stats.mrmc import dbm_analysis, fom_covariance, mrmc_analysis, pseudovalues
from validation.stats.mrmc._design import crossed_design


@pytest.fixture(scope="module")
def vandyke(reference_dir):
    return pd.read_csv(reference_dir / "mrmc" / "vandyke_1993_roc.csv")


@pytest.fixture(scope="module")
def franken(reference_dir):
    return pd.read_csv(reference_dir / "mrmc" / "franken_1992_roc.csv")


@pytest.fixture(scope="module")
def pub(reference_dir):
    return json.loads((reference_dir / "mrmc" / "published_vandyke.json").read_text())


@pytest.fixture(scope="module")
def rref(reference_dir):
    return json.loads((reference_dir / "mrmc" / "or_bruteforce.json").read_text())


def test_vandyke_jackknife_matches_or_dbm_mrmc(vandyke, pub):
    p = pub["jackknife"]
    res = mrmc_analysis(vandyke, modalities=("2", "1"))
    # reader AUCs and means: published to 8 decimals -> 1e-6 is within rounding
    for mod in ("1", "2"):
        got = [res.modalities[mod].readers[str(j)] for j in range(1, 6)]
        np.testing.assert_allclose(got, p["reader_auc"][mod], atol=1e-6)
        assert res.modalities[mod].estimate == pytest.approx(p["modality_mean"][mod], abs=1e-6)
    assert res.difference.estimate == pytest.approx(p["difference_1_minus_2"], abs=1e-6)
    assert res.difference.comparison == "1 - 2"
    vc = res.variance_components
    for key in ("var", "cov1", "cov2", "cov3", "var_r", "var_tr", "ms_t", "ms_r", "ms_tr"):
        assert getattr(vc, key) == pytest.approx(p[key], abs=1e-8), key  # 8 decimals printed
    # RRRC: F to the 4 decimals of MRMCaov, ddf/p to the printed precision
    assert res.rrrc.statistic == pytest.approx(p["mrmcaov_rrrc_f"], abs=1e-4)
    assert res.rrrc.df_num == 1
    assert res.rrrc.df_den == pytest.approx(p["rrrc"]["ddf"], abs=5e-3)
    assert res.rrrc.p_value == pytest.approx(p["rrrc"]["p"], abs=1e-4)
    assert res.rrrc.se == pytest.approx(p["rrrc"]["se"], abs=5e-6)
    np.testing.assert_allclose(res.rrrc.ci, p["rrrc"]["ci_1_minus_2"], atol=5e-6)
    for mod in ("1", "2"):
        s = p["rrrc_single"][mod]
        assert res.modalities[mod].se == pytest.approx(s["se"], abs=1e-8)
        assert res.modalities[mod].df == pytest.approx(s["df"], abs=5e-3)
        np.testing.assert_allclose(res.modalities[mod].ci, s["ci"], atol=1e-8)
    # FRRC
    assert res.frrc.statistic == pytest.approx(p["mrmcaov_frrc_x2"], abs=1e-6)
    assert res.frrc.df_den is None
    assert res.frrc.p_value == pytest.approx(p["mrmcaov_frrc_p"], abs=1e-8)
    np.testing.assert_allclose(res.frrc.ci, p["frrc"]["ci_1_minus_2"], atol=5e-6)
    # RRFC
    assert res.rrfc.statistic == pytest.approx(8.704, abs=1e-3)
    assert (res.rrfc.df_num, res.rrfc.df_den) == (1, 4)
    assert res.rrfc.p_value == pytest.approx(p["mrmcaov_rrfc_p"], abs=1e-8)
    np.testing.assert_allclose(res.rrfc.ci, p["rrfc"]["ci_1_minus_2"], atol=5e-6)
    assert res.notes == ()


def test_vandyke_delong_matches_mrmcaov(vandyke, pub):
    p = pub["delong"]
    res = mrmc_analysis(vandyke, covariance="delong", modalities=("2", "1"))
    vc = res.variance_components
    for key in ("var", "cov1", "cov2", "cov3", "var_r", "var_tr"):
        assert getattr(vc, key) == pytest.approx(p[key], abs=1e-10), key
    assert res.rrrc.statistic == pytest.approx(p["rrrc"]["f"], abs=1e-6)
    assert res.rrrc.df_den == pytest.approx(p["rrrc"]["ddf"], abs=1e-5)
    assert res.rrrc.p_value == pytest.approx(p["rrrc"]["p"], abs=1e-8)
    np.testing.assert_allclose(res.rrrc.ci, p["rrrc"]["ci_1_minus_2"], atol=1e-9)
    for mod in ("1", "2"):
        np.testing.assert_allclose(res.modalities[mod].ci, p["rrrc_single"][mod]["ci"],
                                   atol=1e-7)


def test_vandyke_binary_sensitivity_matches_mrmcaov(vandyke, pub):
    p = pub["binary_sensitivity_rating_ge_3"]
    df = vandyke.assign(decision=(vandyke["rating"] >= 3).astype(int))
    res = mrmc_analysis(df, endpoint="sensitivity", rating="decision", modalities=("2", "1"))
    assert res.n_cases_used == 45
    for mod in ("1", "2"):
        got = [res.modalities[mod].readers[str(j)] for j in range(1, 6)]
        np.testing.assert_allclose(got, p["reader_sens"][mod], atol=5e-4)
    vc = res.variance_components
    for key in ("var", "cov1", "cov2", "cov3", "var_r", "var_tr"):
        assert getattr(vc, key) == pytest.approx(p[key], abs=1e-10), key
    assert res.rrrc.statistic == pytest.approx(p["rrrc"]["f"], abs=1e-6)
    assert res.rrrc.df_den == pytest.approx(p["rrrc"]["ddf"], abs=1e-5)
    assert res.rrrc.p_value == pytest.approx(p["rrrc"]["p"], abs=1e-8)
    np.testing.assert_allclose(res.rrrc.ci, p["rrrc"]["ci_1_minus_2"], atol=1e-7)
    for mod in ("1", "2"):
        np.testing.assert_allclose(res.modalities[mod].ci, p["rrrc_single"][mod]["ci"],
                                   atol=1e-7)


def test_specificity_uses_only_non_diseased_cases(vandyke):
    df = vandyke.assign(decision=(vandyke["rating"] >= 3).astype(int))
    res = mrmc_analysis(df, endpoint="specificity", rating="decision")
    assert res.n_cases_used == 69
    neg = df[df["truth"] == 0]
    want = 1 - neg.groupby(["modality", "reader"])["decision"].mean()
    for (mod, rdr), v in want.items():
        assert res.modalities[str(mod)].readers[str(rdr)] == pytest.approx(v, abs=1e-12)


def test_binary_endpoint_refuses_ratings(vandyke):
    with pytest.raises(InputError, match="binary decision"):
        mrmc_analysis(vandyke, endpoint="sensitivity")


def test_dbm_equals_or_jackknife_under_hillis_df(vandyke, franken, pub):
    for data in (vandyke, franken):
        o = mrmc_analysis(data)
        d = mrmc_analysis(data, method="dbm")
        assert d.rrrc.statistic == pytest.approx(o.rrrc.statistic, rel=1e-10)
        assert d.rrrc.df_den == pytest.approx(o.rrrc.df_den, rel=1e-10)
        assert d.rrrc.p_value == pytest.approx(o.rrrc.p_value, rel=1e-10)
        np.testing.assert_allclose(d.rrrc.ci, o.rrrc.ci, rtol=1e-10)
        assert d.rrfc.statistic == pytest.approx(o.rrfc.statistic, rel=1e-10)
        for key in ("var", "cov1", "cov2", "cov3", "var_r", "var_tr"):
            assert getattr(d.variance_components, key) == pytest.approx(
                getattr(o.variance_components, key), rel=1e-9, abs=1e-15), key
    # DBM components published by OR-DBM MRMC 2.5
    design = crossed_design(vandyke)
    fc = fom_covariance(design.ratings, design.truth)
    comps = dbm_analysis(pseudovalues(fc.fom, fc.jackknife)).dbm_components
    for key, value in pub["jackknife"]["dbm"].items():
        assert getattr(comps, key) == pytest.approx(value, abs=1e-8), key


def test_franken_cov2_below_cov3_matches_bruteforce_r(franken, rref):
    ref = rref["franken"]
    res = mrmc_analysis(franken)
    vc = res.variance_components
    assert vc.cov2 < vc.cov3  # the edge case: Hillis truncates cov2 - cov3 at 0
    for key in ("var", "cov1", "cov2", "cov3", "var_r", "var_tr", "ms_t", "ms_r", "ms_tr"):
        assert getattr(vc, key) == pytest.approx(ref[key], rel=1e-9, abs=1e-15), key
    assert res.difference.estimate == pytest.approx(ref["difference_2_minus_1"], abs=1e-12)
    assert res.rrrc.df_den == pytest.approx(3.0)  # (t-1)(r-1) once cov2 - cov3 is truncated
    for key, r_key in (("rrrc", "f"), ("frrc", "x2"), ("rrfc", "f")):
        tst = getattr(res, key)
        assert tst.statistic == pytest.approx(ref[key][r_key], rel=1e-9)
        assert tst.p_value == pytest.approx(ref[key]["p"], rel=1e-9)
        np.testing.assert_allclose(tst.ci, ref[key]["ci"], rtol=1e-9)
        assert np.isfinite(tst.statistic) and 0 <= tst.p_value <= 1
    assert any("cov2 - cov3" in n for n in res.notes)
    assert any("var_tr" in n for n in res.notes)


def test_vandyke_matches_bruteforce_r(vandyke, rref):
    ref = rref["vandyke"]
    res = mrmc_analysis(vandyke)
    np.testing.assert_allclose(
        [[res.modalities[m].readers[str(j)] for j in range(1, 6)] for m in ("1", "2")],
        ref["fom"], atol=1e-12)
    assert res.rrrc.statistic == pytest.approx(ref["rrrc"]["f"], rel=1e-9)
    assert res.rrrc.df_den == pytest.approx(ref["rrrc"]["ddf"], rel=1e-9)


def test_bootstrap_is_seeded_and_close_to_jackknife(vandyke):
    a = mrmc_analysis(vandyke, covariance="bootstrap", n_bootstrap=400, seed=1)
    b = mrmc_analysis(vandyke, covariance="bootstrap", n_bootstrap=400, seed=1)
    j = mrmc_analysis(vandyke)
    assert a.to_dict() == b.to_dict()
    # bootstrap and jackknife variances agree to sampling error (400 replicates: ~10 %)
    assert a.variance_components.var == pytest.approx(j.variance_components.var, rel=0.25)


def test_noninferiority(vandyke):
    res = mrmc_analysis(vandyke, margin=0.05)
    ni = res.noninferiority
    assert ni is not None
    assert ni.df == pytest.approx(res.rrrc.df_den)
    assert ni.se == pytest.approx(res.rrrc.se)
    # one-sided lower bound at alpha is the two-sided (1 - 2 alpha) lower limit
    res90 = mrmc_analysis(vandyke, alpha=0.10)
    assert ni.lower_bound == pytest.approx(res90.rrrc.ci[0], abs=1e-12)
    assert ni.noninferior == (ni.lower_bound > -0.05)
    assert ni.superiority_p_value == pytest.approx(res.rrrc.p_value / 2, rel=1e-9)
    assert "noninferiority" not in mrmc_analysis(vandyke).to_dict()


def test_design_errors_name_what_is_missing(vandyke):
    gap = vandyke.drop(vandyke.index[(vandyke.reader == 3) & (vandyke.case == 7)
                                     & (vandyke.modality == 2)])
    with pytest.raises(DesignError, match="reader '3' did not read case '7' in modality '2'"):
        mrmc_analysis(gap)
    with pytest.raises(DesignError, match="at least 2 readers"):
        mrmc_analysis(vandyke[vandyke.reader == 1])
    with pytest.raises(DesignError, match="at least 2 modalities"):
        mrmc_analysis(vandyke[vandyke.modality == 1])
    no_truth = vandyke.copy()
    no_truth.loc[no_truth.case == 5, "truth"] = np.nan
    with pytest.raises(DesignError, match="no truth.*5"):
        mrmc_analysis(no_truth)
    dup = pd.concat([vandyke, vandyke.iloc[:1]])
    with pytest.raises(DesignError, match="more than once"):
        mrmc_analysis(dup)
    three = pd.concat([vandyke, vandyke[vandyke.modality == 1].assign(modality=3)])
    with pytest.raises(DesignError, match="choose the two"):
        mrmc_analysis(three)
    assert mrmc_analysis(three, modalities=("3", "2")).difference.comparison == "2 - 3"
    with pytest.raises(DesignError, match="'9' is not in column"):
        mrmc_analysis(vandyke, modalities=("1", "9"))
    bad_truth = vandyke.copy()
    bad_truth.loc[bad_truth.case == 5, "truth"] = 2
    with pytest.raises(InputError, match=r"must hold 0 \(non-diseased\) and 1 \(diseased\); "
                       r"got 2 for case '5' \(\d+ row\(s\)"):
        mrmc_analysis(bad_truth)  # an invalid value, not a conflict
    text = vandyke.astype({"rating": object})
    text.loc[(text.reader == 2) & (text.case == 4) & (text.modality == 1), "rating"] = "high"
    with pytest.raises(InputError, match=r"reader '2', case '4', modality '1' has 'high' "
                       r"\(1 non-numeric rating\(s\)\)"):
        mrmc_analysis(text)


def test_bad_arguments(vandyke):
    with pytest.raises(InputError, match="'covariance' must be one of"):
        mrmc_analysis(vandyke, covariance="unbiased")
    with pytest.raises(InputError, match="'margin' must be a positive"):
        mrmc_analysis(vandyke, margin=-0.05)
    with pytest.raises(InputError, match="'covariance' must be 'jackknife' with method='dbm'"):
        mrmc_analysis(vandyke, method="dbm", covariance="delong")
    with pytest.raises(InputError, match="missing"):
        mrmc_analysis(vandyke, rating="score")


def _random_study(seed: int, r: int, m: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = np.r_[np.ones(m), np.zeros(n)].astype(int)
    rows = []
    for mod in ("A", "B"):
        for j in range(r):
            score = rng.integers(1, 6, size=m + n) + truth * rng.integers(0, 3, size=m + n)
            rows.append(pd.DataFrame({"reader": f"R{j}", "modality": mod,
                                      "case": np.arange(m + n), "truth": truth,
                                      "rating": score}))
    return pd.concat(rows, ignore_index=True)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), r=st.integers(2, 5), m=st.integers(3, 12),
       n=st.integers(3, 12))
def test_relabelling_flips_sign_and_keeps_p(seed, r, m, n):
    df = _random_study(seed, r, m, n)
    ab = mrmc_analysis(df, modalities=("A", "B"))
    ba = mrmc_analysis(df, modalities=("B", "A"))
    assert ba.difference.estimate == pytest.approx(-ab.difference.estimate, abs=1e-12)
    for key in ("rrrc", "frrc", "rrfc"):
        x, y = getattr(ab, key), getattr(ba, key)
        assert 0.0 <= x.p_value <= 1.0 and not np.isnan(x.statistic)
        if not np.isfinite(x.statistic):  # zero error term (tiny studies): flagged, not hidden
            assert any("degenerate" in note for note in ab.notes)
        assert y.p_value == pytest.approx(x.p_value, abs=1e-12)
        assert y.ci[0] == pytest.approx(-x.ci[1], abs=1e-12)
        assert x.ci[0] <= ab.difference.estimate <= x.ci[1]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), r=st.integers(2, 4))
def test_duplicating_every_case_keeps_estimates(seed, r):
    df = _random_study(seed, r, 6, 7)
    twice = pd.concat([df, df.assign(case=df["case"] + 1000)], ignore_index=True)
    a = mrmc_analysis(df)
    b = mrmc_analysis(twice)
    assert b.difference.estimate == pytest.approx(a.difference.estimate, abs=1e-12)
    for mod in ("A", "B"):
        assert b.modalities[mod].readers == pytest.approx(a.modalities[mod].readers, abs=1e-12)
    assert b.n_cases == 2 * a.n_cases


def test_shuffled_rows_change_nothing(vandyke):
    a = mrmc_analysis(vandyke).to_dict()
    b = mrmc_analysis(vandyke.sample(frac=1.0, random_state=3)).to_dict()
    assert a == b


def test_jackknife_shortcut_equals_leave_one_out(franken):
    design = crossed_design(franken)
    fast = fom_covariance(design.ratings, design.truth)

    def auc(truth, x):
        pos, neg = x[truth == 1], x[truth == 0]
        return float(((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
                     .mean())

    naive = fom_covariance(design.ratings[:, :2, :40], design.truth[:40], endpoint=auc)
    fast40 = fom_covariance(design.ratings[:, :2, :40], design.truth[:40])
    np.testing.assert_allclose(fast40.jackknife, naive.jackknife, atol=1e-12)
    np.testing.assert_allclose(fast40.cov, naive.cov, atol=1e-14)
    assert fast.cov.shape == (8, 8)


def test_pluggable_figure_of_merit_equals_builtin(franken):
    """A user figure of merit goes through the naive jackknife; for the empirical AUC it
    must give the placement-value result."""
    small = franken[franken["case"] <= 40]

    def empirical_auc(truth, x):
        pos, neg = x[truth == 1], x[truth == 0]
        return float(((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
                     .mean())

    custom = mrmc_analysis(small, endpoint=empirical_auc)
    builtin = mrmc_analysis(small)
    assert custom.endpoint == "empirical_auc"
    assert custom.rrrc.p_value == pytest.approx(builtin.rrrc.p_value, rel=1e-10)
    assert custom.variance_components.var == pytest.approx(builtin.variance_components.var,
                                                           rel=1e-10)


def test_vandyke_dbm_matches_jafroc(vandyke, pub):
    """JAFROC 4.2.1 works in single precision: mean squares agree to a few 1e-6 relative."""
    p = pub["dbm_jafroc"]
    res = mrmc_analysis(vandyke, method="dbm", modalities=("2", "1"))
    design = crossed_design(vandyke)
    fc = fom_covariance(design.ratings, design.truth)
    comps = dbm_analysis(pseudovalues(fc.fom, fc.jackknife)).dbm_components
    for key, value in p["ms"].items():
        assert getattr(comps, f"ms_{key}") == pytest.approx(value, rel=5e-6), key
    for key in ("rrrc", "frrc", "rrfc"):
        tst, ref = getattr(res, key), p[key]
        assert tst.statistic == pytest.approx(ref["f"], abs=5e-3)   # printed to 2 decimals
        assert tst.p_value == pytest.approx(ref["p"], abs=5e-5)      # printed to 4 decimals
        np.testing.assert_allclose(tst.ci, ref["ci_1_minus_2"], atol=5e-6)
    assert res.frrc.df_den == 113 and res.rrfc.df_den == 4
    assert res.rrrc.df_den == pytest.approx(p["rrrc"]["ddf"], abs=5e-3)


def test_or_and_dbm_name_the_difference_estimate(vandyke, pub):
    """Every comparison result names its number ``estimate`` (no float ``difference`` field)."""
    from validation.stats.mrmc import or_analysis

    design = crossed_design(vandyke)  # modalities "1", "2": the estimate is 2 - 1
    fc = fom_covariance(design.ratings, design.truth)
    ora = or_analysis(fc.fom, fc.cov, n_cases=fc.n_cases_used)
    dbm = dbm_analysis(pseudovalues(fc.fom, fc.jackknife))
    published = -pub["jackknife"]["difference_1_minus_2"]  # printed to 8 decimals
    for res in (ora, dbm):
        assert res.estimate == pytest.approx(published, abs=1e-8)
        out = res.to_dict()
        assert "estimate" in out and "difference" not in out
    assert ora.estimate == mrmc_analysis(vandyke).difference.estimate
