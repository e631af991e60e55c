"""Localization figures of merit: RJafroc reference values, brute-force oracles, properties.

Reference: tests/reference/froc/ holds RJafroc's dataset01 ("TONY", 2 modalities x 5 readers x
185 cases) as marks and truth, and the outputs RJafroc's own test suite saved for it
(``St(dataset01, FOM = "wAFROC", method = "OR" / "DBM", analysisOption = "RRRC")`` and
``UtilFigureOfMerit`` for AFROC1 / wAFROC1), exported by export_rjafroc.R beside them. The
values are doubles written with 15-17 significant digits; the same formulas evaluated in
another order agree to round-off, so the tolerance is 1e-10 (1e-9 for the p-value and the
df, which pass through a ratio of squared mean squares).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.errors import DesignError, InputError
from validation.stats.localization import (
    afroc_curve,
    fom_kernel,
    froc_curve,
    lesion_localization_fraction,
    localization_arrays,
    localization_fom,
    localization_mrmc,
    lroc,
    match_marks,
    standalone_localization,
)


@pytest.fixture(scope="module")
def tony(reference_dir):
    d = reference_dir / "froc"
    marks = pd.read_csv(d / "dataset01_marks.csv", dtype=str)
    truth = pd.read_csv(d / "dataset01_truth.csv", dtype=str)
    ref = json.loads((d / "rjafroc_dataset01.json").read_text())
    # RJafroc reports BT - DM: put DM first so that the difference is second minus first
    data = localization_arrays(match_marks(marks, truth), truth, modalities=("DM", "BT"))
    return data, ref


@pytest.mark.parametrize(("fom", "key"), [("wAFROC", "wafroc_foms"), ("AFROC1", "afroc1_foms"),
                                          ("wAFROC1", "wafroc1_foms")])
def test_dataset01_foms_match_rjafroc(tony, fom, key):
    data, ref = tony
    got = localization_fom(data.fp, data.ll, data.weights, data.diseased, fom=fom)
    want = np.array(ref[key])[::-1]            # RJafroc rows are BT, DM
    np.testing.assert_allclose(got, want, atol=1e-12, rtol=0)


@pytest.mark.parametrize("method", ["or", "dbm"])
def test_dataset01_wafroc_rrrc_matches_rjafroc(tony, method):
    data, ref = tony
    res = localization_mrmc(data, fom="wAFROC", method=method)
    block = ref["or_rrrc"] if method == "or" else ref["dbm_rrrc"]
    f = block["ftests"]
    ci = block["ci_diff"]
    assert res.rrrc.statistic == pytest.approx(f["FStat"][0], abs=1e-9)
    assert res.rrrc.df_den == pytest.approx(f["DF"][1], abs=1e-9)
    assert res.rrrc.p_value == pytest.approx(f["p"][0], abs=1e-10)
    assert res.difference.estimate == pytest.approx(ci["Estimate"][0], abs=1e-12)
    assert res.rrrc.se == pytest.approx(ci["StdErr"][0], abs=1e-10)
    np.testing.assert_allclose(res.rrrc.ci, (ci["CILower"][0], ci["CIUpper"][0]), atol=1e-10)
    if method == "or":
        vc = dict(zip(block["varcom"]["_row"], block["varcom"]["Estimates"], strict=True))
        got = res.variance_components
        for ours, theirs in (("var", "Var"), ("cov1", "Cov1"), ("cov2", "Cov2"),
                             ("cov3", "Cov3"), ("var_r", "VarR"), ("var_tr", "VarTR")):
            assert getattr(got, ours) == pytest.approx(vc[theirs], abs=1e-12)
        each = block["ci_each"]
        for i, mod in enumerate(("BT", "DM")):
            m = res.modalities[mod]
            assert m.estimate == pytest.approx(each["Estimate"][i], abs=1e-12)
            assert m.se == pytest.approx(each["StdErr"][i], abs=1e-10)
            assert m.df == pytest.approx(each["DF"][i], abs=1e-8)
            np.testing.assert_allclose(m.ci, (each["CILower"][i], each["CIUpper"][i]),
                                       atol=1e-10)


# ------------------------------------------------------------------ brute-force oracles


def _random_study(rng, k1=4, k2=5, lmax=3, t=1, r=1):
    n_les = rng.integers(1, lmax + 1, size=k2)
    k = k1 + k2
    diseased = np.r_[np.zeros(k1, bool), np.ones(k2, bool)]
    ratings = np.array([-np.inf, 1.0, 2.0, 3.0])           # coarse: many ties
    fp = rng.choice(ratings, size=(t, r, k))
    ll = np.full((t, r, k2, lmax), -np.inf)
    w = np.zeros((k2, lmax))
    for d in range(k2):
        ll[:, :, d, :n_les[d]] = rng.choice(ratings, size=(t, r, n_les[d]))
        raw = rng.uniform(0.5, 2.0, size=n_les[d])
        w[d, :n_les[d]] = raw / raw.sum()
    return fp, ll, w, diseased, n_les


def _psi(x, y):
    return 1.0 if y > x else (0.5 if y == x else 0.0)


def _brute(fp, ll, w, diseased, n_les, fom):
    """The definitions, as explicit loops over case pairs and lesions."""
    k = diseased.size
    rows = list(range(k)) if fom.endswith("1") else [c for c in range(k) if not diseased[c]]
    dcases = [c for c in range(k) if diseased[c]]
    total, norm = 0.0, 0.0
    for d_pos, _ in enumerate(dcases):
        norm += 1.0 if fom.startswith("w") else n_les[d_pos]
    for f in rows:
        for d_pos, _ in enumerate(dcases):
            for lz in range(n_les[d_pos]):
                wt = w[d_pos, lz] if fom.startswith("w") else 1.0
                total += wt * _psi(fp[f], ll[d_pos, lz])
    return total / (len(rows) * norm)


@pytest.mark.parametrize("fom", ["wAFROC", "AFROC", "wAFROC1", "AFROC1"])
@pytest.mark.parametrize("seed", range(6))
def test_fom_and_jackknife_match_double_loop(fom, seed):
    rng = np.random.default_rng(seed)
    fp, ll, w, dis, n_les = _random_study(rng)
    kern = fom_kernel(fp, ll, w, dis, fom=fom)
    assert kern.fom[0, 0] == pytest.approx(_brute(fp[0, 0], ll[0, 0], w, dis, n_les, fom), abs=1e-14)
    jk = kern.jackknife()[0, 0]
    didx = np.cumsum(dis) - 1
    for c in range(dis.size):
        keep = np.arange(dis.size) != c
        keep_d = np.array([i for i in range(dis.sum()) if not (dis[c] and didx[c] == i)])
        want = _brute(fp[0, 0][keep], ll[0, 0][keep_d], w[keep_d], dis[keep], n_les[keep_d], fom)
        assert jk[c] == pytest.approx(want, abs=1e-14)


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_afroc_trapezoid_area_equals_fom(weighted, seed):
    fp, ll, w, dis, _ = _random_study(np.random.default_rng(100 + seed), k1=6, k2=7)
    curve = afroc_curve(fp[0, 0], ll[0, 0], w, dis, weighted=weighted)
    area = float(np.trapezoid(curve.y, curve.x))
    fom = localization_fom(fp, ll, w, dis, fom="wAFROC" if weighted else "AFROC")[0, 0]
    assert area == pytest.approx(fom, abs=1e-14)


def test_froc_curve_and_operating_point():
    ll = np.array([[3.0, -np.inf], [1.0, 2.0]])
    w = np.array([[1.0, 0.0], [0.5, 0.5]])
    nl = np.array([2.0, 1.0, 1.0])
    curve = froc_curve(nl, ll, w, n_cases=4)
    assert curve.thresholds[1:] == (3.0, 2.0, 1.0)
    assert curve.y == (0.0, 1 / 3, 2 / 3, 1.0)
    assert curve.x == (0.0, 0.0, 0.25, 0.75)
    pt = lesion_localization_fraction(nl, ll, w, n_cases=4, threshold=2.0)
    assert (pt.llf, pt.nlf, pt.n_lesions) == (2 / 3, 0.25, 3)


@pytest.mark.parametrize("seed", range(4))
def test_lroc_matches_double_loop(seed):
    rng = np.random.default_rng(seed)
    k1, k2 = 5, 6
    dis = np.r_[np.zeros(k1, bool), np.ones(k2, bool)]
    fp = rng.choice([-np.inf, 1.0, 2.0, 3.0], size=k1 + k2)
    ll = rng.choice([-np.inf, 1.0, 2.0, 3.0], size=k2)
    res = lroc(fp, ll, dis)
    total = 0.0
    for f in range(k1):
        for d in range(k2):
            z_d = max(ll[d], fp[k1 + d])
            if ll[d] > fp[k1 + d]:
                total += _psi(fp[f], z_d)
    assert res.estimate == pytest.approx(total / (k1 * k2), abs=1e-14)
    assert res.estimate <= res.roc_auc + 1e-15


# ------------------------------------------------------------------ matching rule


def test_matching_rule_radius_nearest_and_duplicates():
    truth = pd.DataFrame({"case": ["a", "b", "b"], "lesion": [None, "1", "2"],
                          "x": [None, 10.0, 20.0], "y": [None, 10.0, 10.0],
                          "radius": [None, 8.0, 8.0]})
    marks = pd.DataFrame({
        "case": ["a", "b", "b", "b", "b"], "reader": "R1", "modality": "M",
        "x": [10.0, 14.0, 16.0, 11.0, 50.0], "y": [10.0] * 5, "rating": [2, 3, 4, 5, 1]})
    m = match_marks(marks, truth)
    # row 1 (x=14) is within both radii and nearer lesion 1; row 2 (x=16) nearer lesion 2;
    # row 3 is a second mark on lesion 1 rated higher, so row 1 becomes the duplicate
    assert list(m.marks["lesion"].fillna("")) == ["", "1", "2", "1", ""]
    assert list(m.marks["kind"]) == ["NL", "duplicate", "LL", "LL", "NL"]
    assert (m.n_lesion_localizations, m.n_non_lesion_localizations, m.n_duplicates) == (2, 2, 1)
    data = localization_arrays(m, truth)
    assert data.ll[0, 0, 0].tolist() == [5.0, 4.0]
    assert data.fp[0, 0].tolist() == [2.0, 1.0]


def test_marks_on_unknown_case_or_lesion_are_refused():
    truth = pd.DataFrame({"case": ["a", "b"], "lesion": [None, "1"]})
    with pytest.raises(InputError, match="case.*not in the truth"):
        match_marks(pd.DataFrame({"case": ["z"], "reader": "1", "modality": "M",
                                  "lesion": [None], "rating": [1]}), truth)
    with pytest.raises(InputError, match="lesion '7'"):
        match_marks(pd.DataFrame({"case": ["b"], "reader": "1", "modality": "M",
                                  "lesion": ["7"], "rating": [1]}), truth)


def test_mrmc_needs_two_modalities(tony):
    data, _ = tony
    one = type(data)(fp=data.fp[:1], ll=data.ll[:1], weights=data.weights,
                     n_lesions=data.n_lesions, diseased=data.diseased, cases=data.cases,
                     modalities=data.modalities[:1], readers=data.readers, nl=data.nl[:1])
    with pytest.raises(DesignError, match="2 modalities"):
        localization_mrmc(one)


# ------------------------------------------------------------------ standalone bootstrap


def test_standalone_bootstrap_replicate_is_the_fom_of_the_resample():
    fp, ll, w, dis, n_les = _random_study(np.random.default_rng(7), k1=6, k2=6)
    patients = np.r_[np.arange(6), np.arange(6)]   # each patient: a normal and a diseased case
    res = standalone_localization(fp[0, 0], ll[0, 0], w, dis, cluster=patients, n_boot=50, seed=3)
    draws = np.random.default_rng(3).integers(0, 6, size=(50, 6), dtype=np.int64)
    for b in (0, 17):
        cases = np.concatenate([np.flatnonzero(patients == p) for p in draws[b]])
        sub_dis = dis[cases]
        dpos = (np.cumsum(dis) - 1)[cases[sub_dis]]
        want = _brute(fp[0, 0][cases], ll[0, 0][dpos], w[dpos], sub_dis, n_les[dpos], "wAFROC")
        assert res.replicates[b] == pytest.approx(want, abs=1e-14)
    assert res.ci[0] <= res.estimate <= res.ci[1]
    assert res.n_clusters == 6


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_fom_invariant_to_monotone_rating_transform_and_bounded(seed):
    fp, ll, w, dis, _ = _random_study(np.random.default_rng(seed), k1=3, k2=4)
    base = localization_fom(fp, ll, w, dis)
    again = localization_fom(np.exp(fp), np.exp(ll), w, dis)   # exp(-inf) = 0 < exp(rating)
    assert np.allclose(base, again)
    assert ((base >= 0) & (base <= 1)).all()


def test_lroc_case_ratings_match_rjafroc_cadlroc(reference_dir):
    """RJafroc datasetCadLroc: its LROC "Wilcoxon" FOM is the ROC area of the case ratings
    (each case's highest mark); our ``roc_auc`` must equal it (15-17 digit values: 1e-12)."""
    d = reference_dir / "froc"
    df = pd.read_csv(d / "cadlroc.csv")
    want = json.loads((d / "rjafroc_cadlroc.json").read_text())["wilcoxon"]
    for j, w in enumerate(want, start=1):
        sub = df[df["reader"] == j].sort_values("case")
        dis = sub["truth"].to_numpy() == 1
        res = lroc(sub["nl"].to_numpy(float), sub["ll"].to_numpy(float)[dis], dis)
        assert res.roc_auc == pytest.approx(w, abs=1e-12)
        assert res.estimate <= res.roc_auc


def test_fedroc_weighted_jafroc_dbm_matches_published_jafroc_4_2_1(reference_dir):
    """Published output of JAFROC 4.2.1 (Windows, an independent implementation) for its
    "FedRoc" example: 5 modalities x 4 readers x 200 cases, weighted JAFROC FOM, DBM-MRMC
    (RJafroc inst/JAFROC/FedRoc.txt; inputs and values from export_fedroc.py). JAFROC works in
    single precision and prints 8 decimals (FOMs, components) or 2-4 (F, ddf, p): tolerances
    follow - 1e-7 for FOMs, relative 1e-5 for the DBM mean squares and components, the
    printed digits for F, ddf and p."""
    d = reference_dir / "froc"
    marks = pd.read_csv(d / "fedroc_marks.csv", dtype=str)
    truth = pd.read_csv(d / "fedroc_truth.csv", dtype=str)
    pub = json.loads((d / "fedroc_published.json").read_text())
    readers = ("1", "3", "4", "5")
    data = localization_arrays(match_marks(marks, truth), truth,
                               modalities=("1", "2", "3", "4", "5"), readers=readers)
    kern = fom_kernel(data.fp, data.ll, data.weights, data.diseased, fom="wAFROC")
    want = np.array([pub["reader_foms"][r] for r in readers]).T
    np.testing.assert_allclose(kern.fom, want, atol=1e-7, rtol=0)
    from validation.stats.mrmc.dbm import dbm_analysis, pseudovalues

    res = dbm_analysis(pseudovalues(kern.fom, kern.jackknife().reshape(20, -1)))
    assert round(res.rrrc.statistic, 2) == pub["rrrc"]["F"]
    assert round(res.rrrc.df_den, 2) == pub["rrrc"]["ddf"]
    assert round(res.rrrc.p_value, 4) == pub["rrrc"]["p"]
    assert res.dbm_components.ms_t == pytest.approx(pub["rrrc"]["ms_treatment"], rel=1e-5)
    comps = pub["dbm_components"]
    got = res.dbm_components
    for ours, theirs in (("var_r", "Var(R)"), ("var_c", "Var(C)"), ("var_tr", "Var(T*R)"),
                         ("var_tc", "Var(T*C)"), ("var_rc", "Var(R*C)"),
                         ("var_trc_error", "Var(T*R*C) + Var(Error)")):
        assert getattr(got, ours) == pytest.approx(comps[theirs], rel=1e-5, abs=1e-8)
    orc = pub["or_components"]
    vc = res.variance_components
    for ours, theirs in (("cov1", "COV1"), ("cov2", "COV2"), ("cov3", "COV3"), ("var", "ERROR")):
        assert getattr(vc, ours) == pytest.approx(orc[theirs], abs=1e-8)
