"""Obuchowski-Rockette split-plot form: published outputs, the crossed limit, brute force.

References (tests/reference/mrmc_split_plot/, README there):
* MRMCaov's JSS manuscript prints the analysis of the Van Dyke data with cases nested within
  readers (``case2``): 5 groups of one reader. Values printed to 7 significant digits, so the
  tolerance is relative 1e-6 (5e-7 is the rounding; 1e-6 leaves room for the last digit).
* RJafroc's saved test output for its SPLIT-PLOT-C toy FROC dataset (wAFROC, OR, RRRC), written
  with 17 significant digits by export_rjafroc_spc.R: tolerance 1e-10 (the same formulas in
  another order agree to round-off).
* One group (a fully crossed table) must reproduce :func:`mrmc_analysis` exactly (==).
* Grouped split plots (groups of several readers): per-reader FOMs and the block covariance
  against leave-one-out recomputation from scratch; the FRRC variance of the difference against
  the contrast ``a' Sigma a`` of the covariance matrix; invariance to reader and case order.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.errors import DesignError, InputError
from validation.stats.localization import localization_arrays, localization_mrmc, match_marks
from validation.stats.mrmc import (
    fom_covariance,
    jackknife_block_covariance,
    mrmc_analysis,
    or_split_plot,
    split_plot_design,
    split_plot_mrmc,
)

REL = 1e-6


@pytest.fixture(scope="module")
def vandyke(reference_dir):
    return pd.read_csv(reference_dir / "mrmc" / "vandyke_1993_roc.csv")


@pytest.fixture(scope="module")
def case2(vandyke):
    """MRMCaov's ``case2`` coding: each reader's cases relabelled as its own block."""
    return vandyke.assign(case=vandyke["reader"].astype(str) + "." + vandyke["case"].astype(str))


@pytest.fixture(scope="module")
def grouped(vandyke):
    """Readers 1-3 read the odd cases, readers 4-5 the even ones (2 groups, 57 cases each)."""
    odd = vandyke["case"] % 2 == 1
    low = vandyke["reader"] <= 3
    return vandyke[(odd & low) | (~odd & ~low)].reset_index(drop=True)


def test_vandyke_cases_nested_within_readers_matches_mrmcaov(case2, reference_dir):
    ref = json.loads((reference_dir / "mrmc_split_plot" / "mrmcaov_vandyke_case2.json").read_text())
    res = split_plot_mrmc(case2, modalities=("2", "1"))          # MRMCaov reports 1 - 2
    vc = res.variance_components
    assert res.analysis == "or_split_plot"
    assert vc.cov2 == 0.0 and vc.cov3 == 0.0
    assert vc.ms_t == pytest.approx(ref["ms_t"], rel=REL)
    assert vc.ms_tr == pytest.approx(ref["ms_tr"], rel=REL)
    assert res.rrrc.statistic == pytest.approx(ref["f"], rel=REL)
    assert res.rrrc.df_den == pytest.approx(ref["df2"], abs=1e-12)
    assert res.rrrc.p_value == pytest.approx(ref["p_value"], rel=REL)
    assert res.difference.estimate == pytest.approx(ref["difference"], rel=REL)
    assert res.rrrc.se == pytest.approx(ref["se"], rel=REL)
    np.testing.assert_allclose(res.rrrc.ci, ref["ci"], rtol=REL)
    for mod in ("1", "2"):
        want, got = ref["single"][mod], res.modalities[mod]
        assert got.estimate == pytest.approx(want["estimate"], rel=REL)
        assert got.se == pytest.approx(want["se"], rel=REL)
        assert got.df == pytest.approx(want["df"], abs=1e-12)
        np.testing.assert_allclose(got.ci, want["ci"], rtol=REL)


def test_vandyke_case2_var_cov1_follow_mrmcaovs_jackknife_convention(case2, vandyke, reference_dir):
    """MRMCaov jackknifes over all 570 case levels (a reader's FOM is unchanged when another
    reader's case is left out, factor 569/570); rebuilt from our leave-one-out values it gives
    the printed Var, Cov1 and the reader variance components."""
    ref = json.loads((reference_dir / "mrmc_split_plot" / "mrmcaov_vandyke_case2.json").read_text())
    sp = split_plot_design(case2)
    t, r, n = 2, 5, len(sp.cases)
    jk_all = np.empty((t, r, n))
    for _g, rdrs, cs in sp.group_indices():
        fc = fom_covariance(sp.ratings[:, rdrs][:, :, cs], sp.truth[cs])
        loo = fc.jackknife.reshape(t, len(rdrs), len(cs))
        for a, j in enumerate(rdrs):
            jk_all[:, j, :] = fc.fom[:, a, None]
            jk_all[:, j, cs] = loo[:, a, :]
    flat = jk_all.reshape(t * r, n)
    dev = flat - flat.mean(axis=1, keepdims=True)
    cov = (n - 1) / n * dev @ dev.T
    var = float(np.mean(np.diag(cov)))
    cov1 = float(np.mean([cov[j, r + j] for j in range(r)]))
    assert var == pytest.approx(ref["var"], rel=REL)
    assert cov1 == pytest.approx(ref["cov1"], rel=REL)
    res = split_plot_mrmc(case2, modalities=("2", "1"))
    vc = res.variance_components
    assert vc.ms_tr - var + cov1 == pytest.approx(ref["var_tr"], rel=1e-5)
    assert (vc.ms_r - vc.ms_tr) / t - cov1 == pytest.approx(ref["var_r"], rel=REL)
    # within each reader's own block (this suite, RJafroc): the fully crossed Var and Cov1
    crossed = mrmc_analysis(vandyke, modalities=("2", "1")).variance_components
    assert vc.var == pytest.approx(crossed.var, rel=1e-12)
    assert vc.cov1 == pytest.approx(crossed.cov1, rel=1e-12)


def test_rjafroc_split_plot_c_wafroc_matches_saved_output(reference_dir):
    d = reference_dir / "mrmc_split_plot"
    marks = pd.read_csv(d / "frocspc_marks.csv", dtype=str)
    truth = pd.read_csv(d / "frocspc_truth.csv", dtype=str)
    ref = json.loads((d / "rjafroc_frocspc.json").read_text())
    # RJafroc reports modality 0 - 1: put "1" first so that second minus first is 0 - 1
    data = localization_arrays(match_marks(marks, truth), truth, modalities=("1", "0"))
    group = truth.groupby("case", sort=False)["reader_group"].first()
    res = localization_mrmc(data, reader_groups=list(data.readers),
                            case_groups=[group[c] for c in data.cases])
    for i, mod in enumerate(("0", "1")):
        got = [res.modalities[mod].readers[rd] for rd in ref["readers"]]
        np.testing.assert_allclose(got, ref["wafroc_foms"][i], atol=1e-12, rtol=0)
    assert res.difference.estimate == pytest.approx(ref["difference_first_minus_second"], abs=1e-12)
    vc = res.variance_components
    for key in ("ms_t", "ms_r", "ms_tr"):
        assert getattr(vc, key) == pytest.approx(ref[key], abs=1e-12)
    rr = ref["rrrc"]
    assert res.rrrc.statistic == pytest.approx(rr["f"], rel=1e-10)
    assert res.rrrc.df_den == pytest.approx(rr["df_den"], abs=1e-10)
    assert res.rrrc.p_value == pytest.approx(rr["p_value"], abs=1e-10)
    assert res.rrrc.se == pytest.approx(rr["se"], abs=1e-10)
    np.testing.assert_allclose(res.rrrc.ci, rr["ci"], atol=1e-10)
    sg = ref["single_rrrc"]
    for i, mod in enumerate(("0", "1")):
        m = res.modalities[mod]
        assert m.se == pytest.approx(sg["se"][i], abs=1e-10)
        assert m.df == pytest.approx(sg["df"][i], abs=1e-10)
        assert m.ci[0] == pytest.approx(max(sg["ci_lower"][i], 0.0), abs=1e-10)
        # RJafroc leaves the upper limit above 1 (1.097 in modality 0); the suite clips at 1
        assert m.ci[1] == pytest.approx(min(sg["ci_upper"][i], 1.0), abs=1e-10)


@pytest.mark.parametrize(("endpoint", "covariance"), [
    ("auc", "jackknife"), ("auc", "delong"), ("sensitivity", "jackknife"),
    ("specificity", "jackknife")])
def test_one_group_equals_the_fully_crossed_analysis_exactly(vandyke, endpoint, covariance):
    df = vandyke if endpoint == "auc" else vandyke.assign(rating=(vandyke["rating"] >= 3) * 1.0)
    a = split_plot_mrmc(df, endpoint=endpoint, covariance=covariance, modalities=("2", "1"),
                        margin=0.05)
    b = mrmc_analysis(df, endpoint=endpoint, covariance=covariance, modalities=("2", "1"),
                      margin=0.05)
    assert a.rrrc == b.rrrc and a.frrc == b.frrc and a.rrfc == b.rrfc
    assert a.variance_components == b.variance_components
    assert a.modalities == b.modalities and a.difference == b.difference
    assert a.noninferiority == b.noninferiority


def test_one_group_marks_equal_the_fully_crossed_localization_analysis(reference_dir):
    d = reference_dir / "froc"
    marks = pd.read_csv(d / "dataset01_marks.csv", dtype=str)
    truth = pd.read_csv(d / "dataset01_truth.csv", dtype=str)
    data = localization_arrays(match_marks(marks, truth), truth, modalities=("DM", "BT"))
    a = localization_mrmc(data, reader_groups=["g"] * len(data.readers),
                          case_groups=["g"] * len(data.cases))
    b = localization_mrmc(data)
    assert a.rrrc == b.rrrc and a.frrc == b.frrc and a.rrfc == b.rrfc
    assert a.variance_components == b.variance_components and a.modalities == b.modalities


def _auc(truth, rating):
    pos, neg = rating[truth == 1], rating[truth == 0]
    return float(((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean())


def test_grouped_split_plot_against_brute_force(grouped):
    sp = split_plot_design(grouped)
    assert sp.reader_group == ("G1", "G1", "G1", "G2", "G2")
    t, r = 2, 5
    fom = np.empty((t, r))
    sigma = np.zeros((t * r, t * r))
    for _g, rdrs, cs in sp.group_indices():
        tr = sp.truth[cs]
        k = len(cs)
        loo = np.empty((t, len(rdrs), k))
        for i in range(t):
            for a, j in enumerate(rdrs):
                x = sp.ratings[i, j, cs]
                fom[i, j] = _auc(tr, x)
                for c in range(k):                           # leave-one-out from scratch
                    keep = np.arange(k) != c
                    loo[i, a, c] = _auc(tr[keep], x[keep])
        flat = loo.reshape(t * len(rdrs), k)
        dev = flat - flat.mean(axis=1, keepdims=True)
        rows = [i * r + j for i in range(t) for j in rdrs]
        sigma[np.ix_(rows, rows)] = (k - 1) / k * dev @ dev.T
    res = split_plot_mrmc(grouped)
    for i, mod in enumerate(sp.modalities):
        np.testing.assert_allclose([res.modalities[mod].readers[x] for x in sp.readers], fom[i],
                                   atol=1e-12)
    got = or_split_plot(fom, sigma, reader_groups=sp.reader_group)
    assert res.rrrc.statistic == pytest.approx(got.rrrc.statistic, rel=1e-10)
    assert res.rrrc.df_den == pytest.approx(got.rrrc.df_den, rel=1e-10)
    # FRRC: var(mean_2 - mean_1) = a' Sigma a with a = (-1/r, ..., +1/r, ...)
    a = np.r_[-np.ones(r), np.ones(r)] / r
    assert res.frrc.se ** 2 == pytest.approx(float(a @ sigma @ a), rel=1e-10)
    # the RRRC error term: MS(TR) + r (cov2 - cov3), the covariances averaged over all reader
    # pairs; within-group pairs are 3*2 + 2*1 = 8 of the 20 ordered pairs
    vc = res.variance_components
    same = [(j, k) for j in range(3) for k in range(3) if j != k] + [(3, 4), (4, 3)]
    c2 = np.mean([sigma[i * r + j, i * r + k] for i in range(t) for j, k in same]) * 8 / 20
    c3 = np.mean([sigma[j, r + k] for j, k in same] + [sigma[r + j, k] for j, k in same]) * 8 / 20
    assert vc.cov2 == pytest.approx(c2, rel=1e-10) and vc.cov3 == pytest.approx(c3, rel=1e-10)
    den = vc.ms_tr + r * max(c2 - c3, 0.0)
    assert res.rrrc.statistic == pytest.approx(vc.ms_t / den, rel=1e-10)
    assert res.rrrc.df_den == pytest.approx(den**2 / (vc.ms_tr**2 / (r - 1)), rel=1e-10)
    assert res.rrrc.se == pytest.approx(np.sqrt(2 / r * den), rel=1e-10)


def test_jackknife_block_covariance_is_zero_across_groups(grouped):
    sp = split_plot_design(grouped)
    t, r = 2, 5
    jk = np.full((t, r, len(sp.cases)), np.nan)
    for _g, rdrs, cs in sp.group_indices():
        fc = fom_covariance(sp.ratings[:, rdrs][:, :, cs], sp.truth[cs])
        loo = fc.jackknife.reshape(t, len(rdrs), len(cs))
        for a, j in enumerate(rdrs):
            jk[:, j, cs] = loo[:, a, :]
    cov = jackknife_block_covariance(jk, sp.reader_group, sp.case_group)
    res = split_plot_mrmc(grouped)
    assert cov[0, 3] == 0.0 and cov[0, r + 4] == 0.0 and cov[0, 1] != 0.0
    assert or_split_plot(np.array([[res.modalities[m].readers[x] for x in sp.readers]
                                   for m in sp.modalities]), cov,
                         reader_groups=sp.reader_group).rrrc == res.rrrc


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_reader_and_case_order_do_not_matter(grouped, seed):
    rng = np.random.default_rng(seed)
    shuffled = grouped.iloc[rng.permutation(len(grouped))]
    relabel = {1: "e", 2: "a", 3: "c", 4: "b", 5: "d"}
    shuffled = shuffled.assign(reader=shuffled["reader"].map(relabel))
    a = split_plot_mrmc(grouped)
    b = split_plot_mrmc(shuffled)
    for key in ("statistic", "df_den", "p_value", "se"):
        assert getattr(b.rrrc, key) == pytest.approx(getattr(a.rrrc, key), rel=1e-10)
    assert b.difference.estimate == pytest.approx(a.difference.estimate, abs=1e-12)
    assert 0.0 <= b.rrrc.p_value <= 1.0
    assert b.rrrc.ci[0] <= b.difference.estimate <= b.rrrc.ci[1]


def test_binary_endpoints_run_on_a_grouped_split_plot(grouped):
    df = grouped.assign(rating=(grouped["rating"] >= 3) * 1.0)
    res = split_plot_mrmc(df, endpoint="sensitivity")
    assert res.endpoint == "sensitivity" and res.analysis == "or_split_plot"
    assert res.n_cases_used == int((split_plot_design(df).truth == 1).sum())
    assert 0.0 <= res.rrrc.p_value <= 1.0


def test_design_errors_name_reader_case_and_row(grouped):
    no_mod = grouped[~((grouped["reader"] == 4) & (grouped["modality"] == 2))]
    with pytest.raises(DesignError, match="reader '4' has no readings in modality '2'"):
        split_plot_design(no_mod)
    uneven = grouped.drop(index=grouped.index[(grouped["reader"] == 1) & (grouped["case"] == 1)
                                              & (grouped["modality"] == 2)])
    with pytest.raises(DesignError, match=r"reader '1' read case '1' in modality '1' only "
                                          r"\(data row 1\)"):
        split_plot_design(uneven)
    extra = grouped[(grouped["reader"] == 4) & (grouped["case"] == 2)].assign(reader=1)
    overlap = pd.concat([grouped, extra], ignore_index=True)
    with pytest.raises(DesignError, match="neither fully crossed nor a split plot"):
        split_plot_design(overlap)
    with pytest.raises(DesignError, match="more than once"):
        split_plot_design(pd.concat([grouped, grouped.iloc[:1]], ignore_index=True))


def test_or_split_plot_refuses_covariance_across_groups():
    fom = np.array([[0.8, 0.82, 0.79, 0.85], [0.86, 0.88, 0.84, 0.9]])
    with pytest.raises(InputError, match="zero between readers of different groups"):
        or_split_plot(fom, np.full((8, 8), 1e-4) + np.eye(8) * 1e-3, reader_groups=[1, 1, 2, 2])
    with pytest.raises(InputError, match="a group for each of the 4 readers"):
        or_split_plot(fom, np.eye(8) * 1e-3, reader_groups=[1, 2])


def test_single_reader_groups_have_hillis_df_of_the_interaction(case2):
    res = split_plot_mrmc(case2)
    assert res.rrrc.df_den == 4.0 and res.rrrc.statistic == pytest.approx(
        res.variance_components.ms_t / res.variance_components.ms_tr, rel=1e-12)
