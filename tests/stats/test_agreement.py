"""Bland-Altman, proportional bias, Lin's CCC and ICC against R (tests/reference/agreement).

The values were written by ``tests/reference/agreement/make_agreement_refs.R`` (R 4.2.2, epiR
2.0.57, psych 2.2.9) at full precision. Closed forms are compared to 1e-10 (relative): the
only differences are floating-point summation order; quantiles of the non-central t (Carkeet)
to 1e-8, because R's ``qt(ncp=)`` and SciPy's ``nct.ppf`` invert the distribution function
numerically.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.errors import InputError
from validation.stats import bland_altman, bland_altman_repeated, icc, lin_ccc, proportional_bias

REF = Path(__file__).resolve().parents[1] / "reference" / "agreement"
R = json.loads((REF / "agreement_refs.json").read_text())
M = pd.read_csv(REF / "measurements.csv")


@pytest.mark.parametrize(("key", "n", "alpha"), [
    ("bland_altman_n40_alpha05", 40, 0.05), ("bland_altman_n40_alpha10", 40, 0.10),
    ("bland_altman_first8_alpha05", 8, 0.05),
])
def test_bland_altman_matches_base_r(key: str, n: int, alpha: float) -> None:
    ref = R[key]
    r = bland_altman(M.a[:n], M.b[:n], alpha=alpha)
    for f in ("bias", "sd", "lower", "upper"):
        assert getattr(r, f) == pytest.approx(ref[f], rel=1e-10), f
    for f in ("bias_ci", "lower_ci", "upper_ci"):
        assert getattr(r, f) == pytest.approx(tuple(ref[f]), rel=1e-10), f
    for f in ("lower_ci_exact", "upper_ci_exact"):
        assert getattr(r, f) == pytest.approx(tuple(ref[f]), rel=1e-8), f


def test_exact_limits_are_wider_than_the_approximation_for_small_n() -> None:
    r = bland_altman(M.a[:8], M.b[:8])
    assert r.upper_ci_exact[1] - r.upper_ci_exact[0] > r.upper_ci[1] - r.upper_ci[0]


def test_proportional_bias_matches_r_lm() -> None:
    ref = R["proportional_bias"]
    r = proportional_bias(M.a, M.b)
    assert r.estimate == pytest.approx(ref["slope"], rel=1e-10)
    assert r.se == pytest.approx(ref["se"], rel=1e-10)
    assert r.statistic == pytest.approx(ref["t"], rel=1e-10)
    assert r.p_value == pytest.approx(ref["p"], rel=1e-9)
    assert r.intercept == pytest.approx(ref["intercept"], rel=1e-10)
    assert r.ci == pytest.approx(tuple(ref["ci"]), rel=1e-10)


@pytest.mark.parametrize(("key", "alpha"), [("ccc_95", 0.05), ("ccc_90", 0.10)])
def test_lin_ccc_matches_epir_epi_ccc(key: str, alpha: float) -> None:
    ref = R[key]
    r = lin_ccc(M.a, M.b, alpha=alpha)
    assert r.estimate == pytest.approx(ref["estimate"], rel=1e-12)
    assert r.ci == pytest.approx((ref["lower"], ref["upper"]), rel=1e-10)
    if "C_b" in ref:
        assert r.bias_correction == pytest.approx(ref["C_b"], rel=1e-10)


def test_repeated_bland_altman_matches_the_r_anova() -> None:
    ref = R["bland_altman_repeated"]
    d = pd.read_csv(REF / "repeated.csv")
    r = bland_altman_repeated(d.a, d.b, d.subject)
    for f in ("bias", "sd", "var_between", "var_within", "lower", "upper"):
        assert getattr(r, f) == pytest.approx(ref[f], rel=1e-10), f
    assert (r.n_subjects, r.n_pairs) == (12, len(d))


def test_repeated_bland_altman_with_singletons_only_is_refused_and_balanced_reduces() -> None:
    with pytest.raises(InputError, match="one pair per subject"):
        bland_altman_repeated(M.a, M.b, np.arange(len(M)))
    # two pairs per subject, no subject effect in the construction: sd close to the plain sd
    r = bland_altman_repeated(M.a, M.b, np.arange(len(M)) // 2)
    assert r.bias == pytest.approx(bland_altman(M.a, M.b).bias, rel=1e-12)


@pytest.mark.parametrize("form", ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"])
def test_icc_matches_psych(form: str) -> None:
    ref = R["icc"][form]
    table = pd.read_csv(REF / "ratings_icc.csv").to_numpy()
    r = icc(table, form=form)
    assert r.estimate == pytest.approx(ref["icc"], rel=1e-10)
    assert r.statistic == pytest.approx(ref["F"], rel=1e-10)
    assert r.df == pytest.approx((ref["df1"], ref["df2"]))
    assert r.ci == pytest.approx((ref["lower"], ref["upper"]), rel=1e-8)  # F quantiles


def test_nan_measurement_is_named() -> None:
    with pytest.raises(InputError, match=r"'b' must hold finite measurements; got nan at position 1"):
        bland_altman([1.0, 2.0, 3.0], [1.0, float("nan"), 3.0])


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=3, max_size=30), st.floats(-50, 50))
def test_bland_altman_properties(pairs: list[tuple[float, float]], shift: float) -> None:
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    r = bland_altman(a, b)
    s = bland_altman(b, a)  # swapping the methods mirrors everything
    assert s.bias == pytest.approx(-r.bias, abs=1e-9)
    assert s.upper == pytest.approx(-r.lower, abs=1e-7)
    assert r.lower <= r.bias <= r.upper
    assert r.bias_ci[0] <= r.bias <= r.bias_ci[1]
    assert r.upper_ci_exact[0] <= r.upper <= r.upper_ci_exact[1] + 1e-9
    t = bland_altman(a + shift, b)  # a constant offset moves the bias only
    assert t.sd == pytest.approx(r.sd, abs=1e-6)
    assert t.bias == pytest.approx(r.bias + shift, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100)), min_size=4, max_size=30))
def test_ccc_properties(pairs: list[tuple[float, float]]) -> None:
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    try:
        r = lin_ccc(a, b)
    except InputError:
        return
    assert -1.0 <= r.estimate <= 1.0
    assert abs(r.estimate) <= abs(r.pearson) + 1e-12  # C_b <= 1
    assert r.ci[0] <= r.estimate <= r.ci[1]
    assert lin_ccc(b, a).estimate == pytest.approx(r.estimate, abs=1e-12)
