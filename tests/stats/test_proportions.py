"""Proportions against R (binom.test, prop.test, epiR) and independent implementations.

References: ``tests/reference/expected/04_single_proportion_ci.json`` (R 4.2.2 binom.test and
prop.test; the calls are in its ``how`` field) and ``tests/reference/proportions/
proportion_extra.json`` (made by ``tests/reference/proportions/make_proportion_refs.R``:
binom.test, prop.test, epiR 2.0.57 epi.conf for Jeffreys and Agresti-Coull, and qbeta).
Tolerance 1e-12: Clopper-Pearson and Jeffreys bounds are Beta quantiles and Wilson and
Agresti-Coull bounds closed forms, all computed to ~1e-15 by both sides.

The cluster-adjusted variance is checked against statsmodels' cluster-robust (sandwich)
variance of an intercept-only regression, which is the same ratio-estimator variance up to
the factor I/(I-1), and against a loop written from Rao and Scott (1992).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix as sk_confusion

from validation.errors import InputError
from validation.stats import (
    clustered_proportion_ci,
    confusion_matrix,
    diagnostic_accuracy,
    proportion_ci,
)

TOL = 1e-12
METHODS = ("wilson", "exact", "jeffreys", "agresti-coull")


@pytest.fixture(scope="module")
def ref04(reference_dir):
    return json.loads((reference_dir / "expected" / "04_single_proportion_ci.json").read_text())


@pytest.fixture(scope="module")
def extra(reference_dir):
    data = json.loads((reference_dir / "proportions" / "proportion_extra.json").read_text())
    return {k: v for k, v in data.items() if isinstance(v, dict)}


@pytest.mark.parametrize(
    "case", ["zero_of_20", "all_20_of_20", "one_of_3", "92_of_100", "450_of_500"]
)
def test_exact_and_wilson_match_r(ref04, case):
    c = ref04["subcases"][case]
    ex = proportion_ci(c["x"], c["n"], method="exact")
    wi = proportion_ci(c["x"], c["n"], method="wilson")
    assert ex.estimate == pytest.approx(c["estimate"], abs=TOL)
    assert ex.ci == pytest.approx(
        (c["clopper_pearson"]["lower"], c["clopper_pearson"]["upper"]), abs=TOL
    )
    assert wi.ci == pytest.approx(
        (c["wilson_prop_test"]["lower"], c["wilson_prop_test"]["upper"]), abs=TOL
    )
    assert (ex.successes, ex.n) == (c["x"], c["n"])


def test_all_methods_match_r_extra_cases(extra):
    checked = 0
    for key, c in extra.items():
        x, n, alpha = int(c["x"]), int(c["n"]), 1 - c["conf_level"]
        got = {m: proportion_ci(x, n, method=m, alpha=alpha).ci for m in METHODS}
        assert got["exact"] == pytest.approx(tuple(c["exact"]), abs=TOL), key
        assert got["wilson"] == pytest.approx(tuple(c["wilson"]), abs=TOL), key
        # Jeffreys: R's epi.conf is the plain equal-tailed interval; ours sets the lower bound
        # to 0 at x = 0 and the upper to 1 at x = n (Brown, Cai and DasGupta 2001).
        lo, hi = c["jeffreys_epiR"]
        assert c["jeffreys_qbeta"] == pytest.approx([lo, hi], abs=TOL)
        expect = (0.0 if x == 0 else lo, 1.0 if x == n else hi)
        assert got["jeffreys"] == pytest.approx(expect, abs=TOL), key
        # Agresti-Coull: ours is clipped to [0, 1]
        lo, hi = c["agresti_coull_epiR"]
        expect = (0.0 if x == 0 else max(lo, 0.0), 1.0 if x == n else min(hi, 1.0))
        assert got["agresti-coull"] == pytest.approx(expect, abs=TOL), key
        checked += 1
    assert checked == 14


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_boundaries_are_exact(method, n):
    assert proportion_ci(0, n, method=method).ci[0] == 0.0
    assert proportion_ci(n, n, method=method).ci[1] == 1.0
    assert proportion_ci(0, n, method=method).estimate == 0.0
    assert proportion_ci(n, n, method=method).estimate == 1.0


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.sampled_from(METHODS), st.floats(0.001, 0.5))
def test_interval_properties(xn, method, alpha):
    x, n = xn
    r = proportion_ci(x, n, method=method, alpha=alpha)
    assert 0.0 <= r.ci[0] <= r.estimate <= r.ci[1] <= 1.0
    # symmetry: the interval of n - x successes mirrors that of x
    m = proportion_ci(n - x, n, method=method, alpha=alpha)
    assert m.ci == pytest.approx((1 - r.ci[1], 1 - r.ci[0]), abs=1e-9)
    # a wider level gives a wider interval
    w = proportion_ci(x, n, method=method, alpha=alpha / 2)
    assert w.ci[0] <= r.ci[0] + 1e-12 and w.ci[1] >= r.ci[1] - 1e-12


@pytest.fixture(scope="module")
def calls():
    rng = np.random.default_rng(3)
    truth = (rng.random(400) < 0.35).astype(int)
    called = np.where(truth == 1, rng.random(400) < 0.85, rng.random(400) < 0.12).astype(int)
    return truth, called


def test_diagnostic_accuracy_counts_match_sklearn(calls):
    truth, called = calls
    tn, fp, fn, tp = sk_confusion(truth, called, labels=[0, 1]).ravel()
    cm = confusion_matrix(truth, called)
    assert (cm.tp, cm.fp, cm.fn, cm.tn, cm.n) == (tp, fp, fn, tn, 400)
    r = diagnostic_accuracy(truth, called, ci="exact")
    assert (r.sensitivity.successes, r.sensitivity.n) == (tp, tp + fn)
    assert (r.specificity.successes, r.specificity.n) == (tn, tn + fp)
    assert (r.ppv.successes, r.ppv.n) == (tp, tp + fp)
    assert (r.npv.successes, r.npv.n) == (tn, tn + fn)
    assert (r.accuracy.successes, r.accuracy.n) == (tp + tn, 400)
    assert r.sensitivity.ci == proportion_ci(tp, tp + fn, method="exact").ci
    assert r.method == "exact"


def test_no_positive_calls_gives_no_ppv():
    r = diagnostic_accuracy([1, 1, 0, 0, 0], [0, 0, 0, 0, 0])
    assert r.ppv is None and r.npv is not None
    assert r.sensitivity.estimate == 0.0 and r.sensitivity.ci[0] == 0.0
    assert r.to_dict()["ppv"] is None


def brute_ratio_variance(y, cluster):
    labels = sorted(set(cluster.tolist()))
    x_c = np.array([y[cluster == c].sum() for c in labels], dtype=float)
    n_c = np.array([np.sum(cluster == c) for c in labels], dtype=float)
    p = x_c.sum() / n_c.sum()
    i = len(labels)
    return i / (i - 1) * np.sum((x_c - p * n_c) ** 2) / n_c.sum() ** 2


@pytest.fixture(scope="module")
def clustered():
    rng = np.random.default_rng(11)
    sizes = rng.integers(1, 5, 60)
    cluster = np.repeat(np.arange(60), sizes)
    p_patient = np.repeat(rng.beta(4, 1.5, 60), sizes)
    y = (rng.random(cluster.size) < p_patient).astype(int)
    return y, cluster


def test_clustered_variance_matches_statsmodels_and_loop(clustered):
    y, cluster = clustered
    r = clustered_proportion_ci(y, cluster)
    fit = sm.OLS(y.astype(float), np.ones((y.size, 1))).fit(
        cov_type="cluster", cov_kwds={"groups": cluster, "use_correction": False}
    )
    g = np.unique(cluster).size
    sandwich = float(fit.cov_params()[0, 0]) * g / (g - 1)
    assert r.se**2 == pytest.approx(sandwich, rel=1e-10)
    assert r.se**2 == pytest.approx(brute_ratio_variance(y, cluster), rel=1e-12)
    assert r.estimate == pytest.approx(y.mean(), abs=TOL)
    # the interval is the binomial interval at the effective sample size n / deff
    p = y.mean()
    deff = max(1.0, r.se**2 / (p * (1 - p) / y.size))
    assert r.design_effect == pytest.approx(deff, rel=1e-12)
    assert r.effective_n == pytest.approx(y.size / deff, rel=1e-12)
    from statsmodels.stats.proportion import proportion_confint

    n_eff = y.size / deff
    assert r.ci == pytest.approx(proportion_confint(p * n_eff, n_eff, method="wilson"), abs=TOL)
    assert r.n_clusters == 60 and r.method == "wilson-clustered"


def test_clustered_interval_is_wider_under_positive_correlation(clustered):
    y, cluster = clustered
    r = clustered_proportion_ci(y, cluster)
    plain = proportion_ci(int(y.sum()), y.size)
    assert r.design_effect > 1.0
    assert r.ci[1] - r.ci[0] > plain.ci[1] - plain.ci[0]


def test_diagnostic_accuracy_with_clusters(clustered):
    y, cluster = clustered
    rng = np.random.default_rng(5)
    truth = (rng.random(y.size) < 0.5).astype(int)
    called = np.where(truth == 1, y, 1 - y)
    r = diagnostic_accuracy(truth, called, cluster=cluster, ci="jeffreys")
    direct = clustered_proportion_ci(called[truth == 1], cluster[truth == 1], method="jeffreys")
    assert r.sensitivity == direct
    assert r.method == "jeffreys-clustered" and r.n_clusters == 60


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.floats(0, 1)), min_size=2, max_size=25),
       st.sampled_from(METHODS))
def test_clustered_properties(spec, method):
    sizes = [s for s, _ in spec]
    cluster = np.repeat(np.arange(len(spec)), sizes)
    y = np.concatenate([(np.arange(s) < round(f * s)).astype(int) for s, f in spec])
    r = clustered_proportion_ci(y, cluster, method=method)
    assert 0.0 <= r.ci[0] <= r.estimate <= r.ci[1] <= 1.0
    assert r.design_effect >= 1.0
    assert r.se**2 == pytest.approx(brute_ratio_variance(y, cluster), rel=1e-9, abs=1e-15)


def test_bad_counts():
    with pytest.raises(InputError, match="'successes' must be at most n"):
        proportion_ci(5, 4)
    with pytest.raises(InputError, match="'n' must be a whole number >= 1"):
        proportion_ci(0, 0)


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_clustered_interval_covers_under_clustering(method):
    """Coverage study: 1,000 studies of 120 patients, 1-4 findings each, with a patient-level
    detection probability ~ Beta(8, 2) (true sensitivity 0.8). The cluster-adjusted interval
    should cover about 95% (binomial SE 0.7 points; exact is conservative by design)."""
    rng = np.random.default_rng(20261128)
    hits = 0
    n_sim = 1000
    for _ in range(n_sim):
        sizes = rng.integers(1, 5, 120)
        cluster = np.repeat(np.arange(120), sizes)
        p = np.repeat(rng.beta(8, 2, 120), sizes)
        y = (rng.random(cluster.size) < p).astype(int)
        lo, hi = clustered_proportion_ci(y, cluster, method=method).ci
        hits += lo <= 0.8 <= hi
    assert 0.93 <= hits / n_sim <= (0.985 if method == "exact" else 0.97)
