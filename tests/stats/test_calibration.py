"""Calibration statistics against R 4.2 (base ``glm``, ``lowess``) and invariants.

Reference values: tests/reference/calibration/calibration_refs.json, written by
make_calibration_refs.R from calibration.csv (make_data.py). R calls, e.g.::

    glm(y ~ 1 + offset(qlogis(p)), binomial, control = glm.control(epsilon = 1e-14))
    glm(y ~ qlogis(p), binomial, ...); confint.default(fit)

Tolerances: closed forms (Brier, ECE, decomposition, Spiegelhalter z, Hosmer-Lemeshow) 1e-12,
the arithmetic being the same; logistic fits 1e-8 (both sides iterate to convergence; measured
agreement 1e-15); LOWESS 1e-5 (statsmodels and R's C code interpolate within ``delta`` slightly
differently; measured 2.6e-6 on 400 cases).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.errors import InputError
from validation.stats import (
    brier_score,
    calibration_bins,
    calibration_curve,
    calibration_summary,
    expected_calibration_error,
    hosmer_lemeshow_test,
)
from validation.stats.calibration_curve import lowess_fit

REF = Path(__file__).resolve().parents[1] / "reference" / "calibration"
R = json.loads((REF / "calibration_refs.json").read_text())
DATA = pd.read_csv(REF / "calibration.csv")
Y = DATA["truth"].to_numpy()
P = DATA["probability"].to_numpy()


@pytest.mark.parametrize("part", ["all", "site_A", "site_B"])
def test_intercept_and_slope_match_r_glm(part: str) -> None:
    mask = np.ones(Y.size, bool) if part == "all" else (DATA["site"] == part[-1]).to_numpy()
    r = calibration_summary(Y[mask], P[mask])
    ref = R[part]
    for name in ("intercept", "slope"):
        got, want = getattr(r, name), ref[name]
        assert got.estimate == pytest.approx(want["estimate"], abs=1e-8)
        assert got.se == pytest.approx(want["se"], abs=1e-8)
        assert got.ci[0] == pytest.approx(want["ci_low"], abs=1e-8)
        assert got.ci[1] == pytest.approx(want["ci_high"], abs=1e-8)
    assert r.slope.statistic == pytest.approx(ref["slope"]["z_vs_1"], abs=1e-7)
    assert r.brier == pytest.approx(ref["brier"], abs=1e-12)
    citl = r.calibration_in_the_large
    assert citl.mean_predicted == pytest.approx(ref["mean_p"], abs=1e-12)
    assert citl.oe_ratio == pytest.approx(ref["oe_ratio"], abs=1e-12)
    assert citl.difference == pytest.approx(ref["mean_y"] - ref["mean_p"], abs=1e-12)


def test_statsmodels_logit_agrees_with_r_glm() -> None:
    """The statsmodels call the module makes, checked on its own against R's glm."""
    lp = np.log(P / (1 - P))
    fit = sm.GLM(Y.astype(float), sm.add_constant(lp), family=sm.families.Binomial()).fit()
    assert fit.params[1] == pytest.approx(R["all"]["slope"]["estimate"], abs=1e-8)
    assert fit.params[0] == pytest.approx(R["all"]["slope_model_intercept"]["estimate"], abs=1e-8)
    assert fit.bse[1] == pytest.approx(R["all"]["slope"]["se"], abs=1e-8)


def test_brier_decomposition_ece_and_spiegelhalter_match_r() -> None:
    b = brier_score(Y, P)
    dec = R["brier_decomposition"]
    assert b.estimate == pytest.approx(R["all"]["brier"], abs=1e-12)
    assert b.reliability == pytest.approx(dec["reliability"], abs=1e-12)
    assert b.resolution == pytest.approx(dec["resolution"], abs=1e-12)
    assert b.uncertainty == pytest.approx(dec["uncertainty"], abs=1e-12)
    assert b.spiegelhalter_z == pytest.approx(R["spiegelhalter"]["z"], abs=1e-12)
    assert b.spiegelhalter_p == pytest.approx(R["spiegelhalter"]["p_value"], rel=1e-9)
    e = expected_calibration_error(Y, P)
    assert e.estimate == pytest.approx(R["ece_uniform10"]["ece"], abs=1e-12)
    assert list(e.bins.n) == R["ece_uniform10"]["n"]
    np.testing.assert_allclose(e.bins.observed_rate, R["ece_uniform10"]["observed"], atol=1e-12)
    q = expected_calibration_error(Y, P, strategy="quantile")
    assert q.estimate == pytest.approx(R["ece_quantile10"]["ece"], abs=1e-12)


def test_hosmer_lemeshow_matches_r_by_hand() -> None:
    h = hosmer_lemeshow_test(Y, P)
    ref = R["hosmer_lemeshow"]
    assert h.statistic == pytest.approx(ref["statistic"], abs=1e-10)
    assert h.df == ref["df_external"]
    assert h.p_value == pytest.approx(ref["p_external"], rel=1e-9)
    assert list(h.groups.n) == ref["n"]
    assert list(h.groups.events) == ref["observed"]
    d = hosmer_lemeshow_test(Y, P, setting="development")
    assert d.df == ref["df_development"] and d.p_value == pytest.approx(ref["p_development"], rel=1e-9)
    assert "number and the cut points" in h.caveat


def test_lowess_matches_r_lowess() -> None:
    x, f = lowess_fit(Y.astype(float), P, 2.0 / 3.0)
    np.testing.assert_allclose(x, R["lowess"]["x"], atol=1e-12)
    np.testing.assert_allclose(f, R["lowess"]["y"], atol=1e-5)


def test_calibration_curve_band_is_seeded_and_contains_curve() -> None:
    a = calibration_curve(Y, P, n_boot=50, seed=7)
    b = calibration_curve(Y, P, n_boot=50, seed=7)
    assert np.array_equal(a.low, b.low) and np.array_equal(a.high, b.high)
    assert np.all(a.low <= a.estimate + 1e-12) and np.all(a.estimate <= a.high + 1e-12)
    # the curve on the grid is R's lowess read by linear interpolation
    np.testing.assert_allclose(a.estimate, np.interp(a.grid, np.unique(R["lowess"]["x"]),
                               np.asarray(R["lowess"]["y"])[np.unique(R["lowess"]["x"], return_index=True)[1]]),
                               atol=1e-5)


# --- invariants ------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), a=st.floats(-1.5, 1.5), b=st.floats(0.3, 2.5))
def test_in_sample_logistic_predictions_have_slope_one_and_intercept_zero(seed: int, a: float, b: float) -> None:
    """Perfect calibration, exactly: the fitted probabilities of a logistic model on the same data
    satisfy its score equations, so recalibrating them gives slope 1 and intercept 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=400)
    y = rng.binomial(1, 1 / (1 + np.exp(-(a + b * x))))
    if y.min() == y.max():
        return
    fit = sm.GLM(y.astype(float), sm.add_constant(x), family=sm.families.Binomial()).fit(tol=1e-12)
    p = np.asarray(fit.fittedvalues)
    r = calibration_summary(y, p)
    assert r.slope.estimate == pytest.approx(1.0, abs=1e-6)
    assert r.intercept.estimate == pytest.approx(0.0, abs=1e-6)
    assert r.calibration_in_the_large.difference == pytest.approx(0.0, abs=1e-8)
    assert r.slope.ci[0] < 1 < r.slope.ci[1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_outcomes_drawn_from_the_predictions_give_slope_near_one(seed: int) -> None:
    """y ~ Bernoulli(p), n = 5000, fixed seeds (no search for a rare sample): slope near 1."""
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-rng.normal(-0.5, 1.2, 5000)))
    r = calibration_summary(rng.binomial(1, p), p)
    assert abs(r.slope.estimate - 1) < 0.15 and abs(r.intercept.estimate) < 0.15


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(20, 200))
def test_scores_are_bounded_order_free_and_decompose(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.integers(1, 10, n) / 10.0  # few distinct values: one per uniform bin
    y = rng.binomial(1, p)
    if y.min() == y.max():
        y[0], y[1] = 0, 1
    perm = rng.permutation(n)
    b1, b2 = brier_score(y, p, bins=10), brier_score(y[perm], p[perm], bins=10)
    assert b1.estimate == pytest.approx(b2.estimate, abs=1e-15)
    assert 0 <= b1.estimate <= 1 and 0 <= b1.spiegelhalter_p <= 1
    e = expected_calibration_error(y, p)
    assert 0 <= e.estimate <= 1
    bins = calibration_bins(y, p, bins=10)
    if all(np.unique(p[(p >= lo) & (p < hi)]).size <= 1 for lo, hi in zip(bins.low, bins.high, strict=True)):
        assert b1.within_bin == pytest.approx(0.0, abs=1e-12)  # Murphy's identity is exact
    h = hosmer_lemeshow_test(y, p, groups=5) if np.unique(p).size > 5 else None
    if h is not None:
        assert 0 <= h.p_value <= 1


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [1.2, -0.1, np.nan])
def test_probability_outside_unit_interval_is_refused(bad: float) -> None:
    p = P[:10].copy()
    p[3] = bad
    for fn in (calibration_summary, brier_score, expected_calibration_error, calibration_curve):
        with pytest.raises(InputError, match=r"'probability' must be a probability in \[0, 1\].*position 3"):
            fn(Y[:10], p)


def test_probability_of_zero_or_one_has_no_logit() -> None:
    p = P[:20].copy()
    p[0] = 1.0
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        calibration_summary(Y[:20], p)
    assert brier_score(Y[:20], p).estimate >= 0  # the Brier score is defined there


def test_one_outcome_only_and_separation_are_refused() -> None:
    with pytest.raises(InputError, match="no event"):
        calibration_summary([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="perfectly separated"):
        calibration_summary([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
