"""The vectorised logistic GEE against statsmodels' GEE (its per-cluster loop).

statsmodels stops when the score norm falls below ``ctol`` (1e-6 by default); run with
``ctol=1e-12`` it reaches the same fixed point (mean parameters solving the estimating
equations at the moment estimate of the exchangeable correlation) as ours, so parameters,
the working correlation and the robust covariance agree to round-off: tolerance 1e-9
relative (observed about 1e-13 on 5,000 rows). The figures against R geepack are in
``test_subgroup_consistency.py`` (through the interaction test).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.stats._gee_logit import GEEFitError, logistic_gee


def _data(seed: int, n_pat: int, k: int, continuous: bool):
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 4, n_pat)
    g = np.repeat(rng.permutation(n_pat), size)  # clusters not contiguous
    lev = rng.integers(0, k, n_pat)[g]
    eff = rng.normal(0.0, 1.0, n_pat)[g]
    cols = [np.ones(g.size)] + [(lev == j).astype(float) for j in range(1, k)]
    if continuous:
        cols.append(rng.normal(size=g.size))
    x = np.column_stack(cols)
    lin = 0.3 + 0.4 * lev + eff + (0.5 * x[:, -1] if continuous else 0.0)
    y = (rng.random(g.size) < 1.0 / (1.0 + np.exp(-lin))).astype(float)
    return y, x, g


def _statsmodels(y, x, g, corr):
    cov = sm.cov_struct.Exchangeable() if corr == "exchangeable" else sm.cov_struct.Independence()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GEE(y, x, groups=g, family=sm.families.Binomial(), cov_struct=cov).fit(
            maxiter=1000, ctol=1e-12)
    rho = float(fit.cov_struct.dep_params) if corr == "exchangeable" else 0.0
    return np.asarray(fit.params), np.asarray(fit.cov_robust), rho


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.booleans(),
       st.sampled_from(["exchangeable", "independence"]))
def test_matches_statsmodels_at_its_fixed_point(seed, k, continuous, corr):
    y, x, g = _data(seed, 150, k, continuous)
    try:
        ours = logistic_gee(y, x, g, correlation=corr)
    except GEEFitError:
        return  # a draw with no clean solution: refusals are tested below
    params, cov, rho = _statsmodels(y, x, g, corr)
    np.testing.assert_allclose(ours.params, params, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ours.cov_robust, cov, rtol=1e-8, atol=1e-12)
    assert ours.rho == pytest.approx(rho, rel=1e-9, abs=1e-12)


def test_larger_sample_and_row_order():
    y, x, g = _data(7, 4000, 4, True)
    ours = logistic_gee(y, x, g, correlation="exchangeable")
    params, cov, rho = _statsmodels(y, x, g, "exchangeable")
    np.testing.assert_allclose(ours.params, params, rtol=1e-9)
    np.testing.assert_allclose(ours.cov_robust, cov, rtol=1e-8)
    assert ours.rho == pytest.approx(rho, rel=1e-9) and 0.0 < ours.rho < 1.0
    perm = np.random.default_rng(1).permutation(y.size)
    again = logistic_gee(y[perm], x[perm], g[perm], correlation="exchangeable")
    np.testing.assert_allclose(again.params, ours.params, rtol=1e-12)
    np.testing.assert_allclose(again.cov_robust, ours.cov_robust, rtol=1e-10)


def test_singleton_clusters_make_exchangeable_the_independence_fit():
    y, x, _ = _data(3, 200, 3, False)
    g = np.arange(y.size)
    a = logistic_gee(y, x, g, correlation="exchangeable")
    b = logistic_gee(y, x, g, correlation="independence")
    assert a.rho == 0.0
    np.testing.assert_array_equal(a.params, b.params)
    # independence GEE is the logistic GLM: statsmodels' Logit gives the same coefficients
    glm = sm.Logit(y, x).fit(disp=0, tol=1e-14)
    np.testing.assert_allclose(b.params, glm.params, rtol=1e-9)


def test_no_finite_solution_is_refused_not_returned():
    y = np.r_[np.ones(20), np.zeros(20), np.ones(20)]
    x = np.column_stack([np.ones(60), np.r_[np.zeros(40), np.ones(20)]])  # level 1 all ones
    g = np.repeat(np.arange(30), 2)
    with pytest.raises(GEEFitError):
        logistic_gee(y, x, g, correlation="exchangeable")
    few = np.r_[0, 0, np.arange(1, 59)]  # one pair only, two parameters
    with pytest.raises(GEEFitError, match="pairs"):
        logistic_gee(np.r_[np.ones(30), np.zeros(30)], np.column_stack([np.ones(60), np.arange(60) % 2]),
                     few, correlation="exchangeable")
