"""U-statistic (Gallas) MRMC variance: iMRMC reference values, the fully crossed closed form.

Reference: tests/reference/ustat/imrmc_reference.R simulates, with iMRMC's own code (CC0,
sourced in R) and random streams, the data sets of iMRMC's test suite - fully crossed
(test_doIMRMC_R2), arbitrary with missing readings (test_doIMRMC_R3) - and a split-plot
derived from the first, and records iMRMC's ``doIMRMC`` results; for the first two it also
records the output of the Java iMRMC 4.0.3 engine that iMRMC's test suite stores. Tolerances:
1e-12 against the R engine (same formulas, double precision, different summation order;
1e-10 for the df, a ratio of squares), 1e-8 against the Java engine (its output is stored
with 9-10 significant digits).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.errors import DesignError
from validation.stats.mrmc.unbalanced import reading_design, ustat_analysis
from validation.stats.mrmc.ustat import success_matrices, ustat_binary_variance, ustat_mrmc


@pytest.fixture(scope="module")
def imrmc(reference_dir):
    d = reference_dir / "ustat"
    ref = json.loads((d / "imrmc_reference.json").read_text())
    data = {n: pd.read_csv(d / f"{n}.csv") for n in ("fully_crossed", "arbitrary", "split_plot")}
    return data, ref


@pytest.mark.parametrize(("name", "kind", "engine"), [
    ("fully_crossed", "fully crossed", "r"), ("fully_crossed", "fully crossed", "java"),
    ("arbitrary", "partially missing", "r"), ("arbitrary", "partially missing", "java"),
    ("split_plot", "split-plot", "r"),     # iMRMC stores Java output for its own data only
])
def test_matches_imrmc(imrmc, name, kind, engine):
    data, ref = imrmc
    tol, tol_df = (1e-12, 1e-10) if engine == "r" else (1e-8, 1e-6)
    df = data[name]
    assert reading_design(df).kind == kind
    # iMRMC reports A - B: put B first so that our difference (second - first) is A - B
    res = ustat_analysis(df, modalities=("testB", "testA"), rating="score",
                         require_both_modalities=False)
    rows = ref[name][engine]
    for i, mod in enumerate(("testA", "testB")):
        e, r = res.modalities[mod], rows[i]
        assert e.estimate == pytest.approx(r["AUCA"], abs=tol)
        assert e.variance == pytest.approx(r["varAUCA"], abs=tol)
        assert e.df == pytest.approx(r["dfBDG"], rel=tol_df)
        assert e.p_value == pytest.approx(r["pValueBDG"], abs=tol_df)
        np.testing.assert_allclose(e.ci, (r["botCIBDG"], r["topCIBDG"]), atol=tol_df)
    d, r = res.difference, rows[2]
    assert d.estimate == pytest.approx(r["AUCAminusAUCB"], abs=tol)
    assert d.variance == pytest.approx(r["varAUCAminusAUCB"], abs=tol)
    assert d.df == pytest.approx(r["dfBDG"], rel=tol_df)
    assert d.p_value == pytest.approx(r["pValueBDG"], abs=tol_df)
    np.testing.assert_allclose(d.ci, (r["botCIBDG"], r["topCIBDG"]), atol=tol_df)


def test_split_plot_groups_are_reported(imrmc):
    design = reading_design(imrmc[0]["split_plot"])
    assert [g["readers"] for g in design.groups] == [["reader1", "reader2", "reader3"],
                                                     ["reader4", "reader5"]]
    assert design.n_readings == design.n_possible // 2


def test_reader_without_readings_in_a_modality_is_refused(imrmc):
    with pytest.raises(DesignError, match="reader 'reader1' has no readings in modality 'testA'"):
        ustat_analysis(imrmc[0]["arbitrary"], modalities=("testA", "testB"), rating="score")


# ----------------------------------------------------- fully crossed: Gallas (2006) closed form


def _gallas_2006(score, truth):
    """One modality, fully crossed: explicit moment loops and closed-form coefficients."""
    nr = score.shape[0]
    neg, pos = np.flatnonzero(truth == 0), np.flatnonzero(truth == 1)
    n0, n1 = neg.size, pos.size

    def s(r, i, j):
        x, y = score[r, i], score[r, j]
        return 1.0 if y > x else (0.5 if y == x else 0.0)

    sums = np.zeros(8)
    counts = np.zeros(8)
    for r, rr in itertools.product(range(nr), repeat=2):
        for i, ii in itertools.product(neg, repeat=2):
            for j, jj in itertools.product(pos, repeat=2):
                k = (0 if j == jj and i == ii else 1 if j == jj else 2 if i == ii else 3)
                k += 0 if r == rr else 4
                sums[k] += s(r, i, j) * s(rr, ii, jj)
                counts[k] += 1
    m = sums / counts
    c = np.array([1, n0 - 1, n1 - 1, (n0 - 1) * (n1 - 1)], dtype=float) / (n0 * n1 * nr)
    c = np.r_[c, c * (nr - 1)]
    c[7] -= 1.0
    auc = np.mean([[s(r, i, j) for i in neg for j in pos] for r in range(nr)])
    return auc, float(c @ m)


@pytest.mark.parametrize("seed", range(5))
def test_fully_crossed_reproduces_gallas_2006_exactly(seed):
    rng = np.random.default_rng(seed)
    truth = np.array([0, 0, 0, 0, 1, 1, 1], dtype=np.int8)
    score = rng.integers(1, 5, size=(2, 3, truth.size)).astype(float)   # ties included
    res = ustat_mrmc(score, np.ones_like(score, dtype=bool), truth)
    for i, mod in enumerate(("A", "B")):
        auc, var = _gallas_2006(score[i], truth)
        assert res.modalities[mod].estimate == pytest.approx(auc, abs=1e-15)
        assert res.modalities[mod].variance == pytest.approx(var, abs=1e-15)


@pytest.mark.parametrize("seed", range(3))
def test_difference_variance_is_the_variance_of_the_difference_kernel(seed):
    """Fully crossed: var(A - B) equals the one-modality estimator applied to s_A - s_B."""
    rng = np.random.default_rng(10 + seed)
    truth = np.array([0, 0, 0, 1, 1, 1, 1], dtype=np.int8)
    score = rng.normal(size=(2, 4, truth.size))
    read = np.ones_like(score, dtype=bool)
    res = ustat_mrmc(score, read, truth)
    from validation.stats.mrmc.ustat import _pair
    sa, da = success_matrices(score[0], read[0], truth)
    sb, _ = success_matrices(score[1], read[1], truth)
    direct = _pair(sb - sa, da, sb - sa, da).cov
    assert res.difference.variance == pytest.approx(direct, abs=1e-15)


def test_binary_fully_crossed_matches_moment_loops():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, size=(3, 6)).astype(float)
    est, var = ustat_binary_variance(x, np.ones_like(x, dtype=bool))
    nr, n = x.shape
    sums, counts = np.zeros(4), np.zeros(4)
    for r, rr in itertools.product(range(nr), repeat=2):
        for k, kk in itertools.product(range(n), repeat=2):
            idx = (0 if k == kk else 1) + (0 if r == rr else 2)
            sums[idx] += x[r, k] * x[rr, kk]
            counts[idx] += 1
    m = sums / counts
    c = counts / counts.sum()
    c[3] -= 1.0
    assert est == pytest.approx(x.mean(), abs=1e-15)
    assert var == pytest.approx(float(c @ m), abs=1e-15)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_reordering_readers_and_cases_changes_nothing(seed):
    rng = np.random.default_rng(seed)
    truth = rng.permutation(np.array([0] * 5 + [1] * 4, dtype=np.int8))
    score = rng.normal(size=(2, 4, truth.size))
    read = rng.uniform(size=score.shape) > 0.2
    read[:, :, truth == 0] |= np.eye(4, 5, dtype=bool)[None]      # every reader: a negative
    read[:, :, truth == 1] |= np.eye(4, 4, dtype=bool)[None]      # and a positive case
    a = ustat_mrmc(score, read, truth)
    pr, pc = rng.permutation(4), rng.permutation(truth.size)
    b = ustat_mrmc(score[:, pr][:, :, pc], read[:, pr][:, :, pc], truth[pc])
    assert a.difference.variance == pytest.approx(b.difference.variance, abs=1e-14)
    assert a.difference.estimate == pytest.approx(b.difference.estimate, abs=1e-14)


def _split_read(rng, shape):
    """Readers 0-1 read cases 0..k/2, readers 2-3 the rest, in both modalities."""
    read = np.zeros(shape, dtype=bool)
    half = shape[2] // 2
    read[:, :2, :half] = True
    read[:, 2:, half:] = True
    return read


@pytest.mark.parametrize("seed", range(3))
def test_binary_difference_variance_is_bilinear_in_a_split_plot(seed):
    """Same readings in both modalities: var(B - A) is the one-sample estimator of x_B - x_A."""
    from validation.stats.mrmc.ustat import _binary_pair, ustat_binary_mrmc

    rng = np.random.default_rng(20 + seed)
    truth = np.array([1] * 8 + [0] * 8, dtype=np.int8)
    dec = rng.integers(0, 2, size=(2, 4, truth.size)).astype(float)
    read = _split_read(rng, dec.shape)
    res = ustat_binary_mrmc(dec, read, truth, endpoint="sensitivity")
    keep = truth == 1
    d = read[0][:, keep].astype(float)
    xa, xb = dec[0][:, keep] * d, dec[1][:, keep] * d
    direct, _, _ = _binary_pair(xb - xa, d, xb - xa, d)
    assert res.difference.variance == pytest.approx(direct, abs=1e-14)
    assert res.difference.estimate == pytest.approx((xb.sum() - xa.sum()) / d.sum(), abs=1e-14)
    assert res.difference.df is None and "normal" in res.notes[0]


def test_binary_cross_modality_covariance_matches_moment_loops():
    """Different reading patterns in the two modalities: the covariance by explicit loops."""
    from validation.stats.mrmc.ustat import _binary_pair

    rng = np.random.default_rng(7)
    xa = rng.integers(0, 2, size=(3, 5)).astype(float)
    xb = rng.integers(0, 2, size=(3, 5)).astype(float)
    ra = rng.uniform(size=xa.shape) > 0.3
    rb = rng.uniform(size=xb.shape) > 0.3
    got, _, _ = _binary_pair(xa * ra, ra * 1.0, xb * rb, rb * 1.0)
    sums, counts = np.zeros(4), np.zeros(4)
    for r, rr in itertools.product(range(3), repeat=2):
        for k, kk in itertools.product(range(5), repeat=2):
            if ra[r, k] and rb[rr, kk]:
                idx = (0 if k == kk else 1) + (0 if r == rr else 2)
                sums[idx] += xa[r, k] * xb[rr, kk]
                counts[idx] += 1
    m = np.divide(sums, counts, out=np.zeros(4), where=counts > 0)
    c = counts / counts.sum()
    c[3] -= 1.0
    assert got == pytest.approx(float(c @ m), abs=1e-14)


def test_ustat_analysis_specificity_from_a_long_table():
    rng = np.random.default_rng(5)
    rows = []
    for r in range(4):
        cases = range(0, 10) if r < 2 else range(10, 20)
        for m in ("A", "B"):
            for k in cases:
                rows.append({"reader": r, "modality": m, "case": k, "truth": k % 2,
                             "rating": float(rng.integers(0, 2))})
    res = ustat_analysis(pd.DataFrame(rows), endpoint="specificity")
    assert res.n_readings == 80 and res.method.startswith("U-statistic MRMC variance for binary")
    neg = [r for r in rows if r["truth"] == 0]
    for m in ("A", "B"):
        want = np.mean([1 - r["rating"] for r in neg if r["modality"] == m])
        assert res.modalities[m].estimate == pytest.approx(want, abs=1e-14)
