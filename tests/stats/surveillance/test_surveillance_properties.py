"""Hypothesis properties of the surveillance statistics."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import validation.stats as vs

rates = st.floats(0.02, 0.4)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 1), min_size=1, max_size=300), rates, st.floats(1.05, 3.0),
       st.floats(0.5, 6.0))
def test_cusum_statistic_is_non_negative(y: list[int], p0: float, ratio: float, h: float) -> None:
    p1 = min(0.95, p0 * ratio)
    r = vs.bernoulli_cusum(y, p0=p0, p1=p1, limit=h)
    assert (r.statistic >= 0).all()
    assert len(r.statistic) == len(y)
    assert r.first_signal is None or r.signals[r.first_signal]


@settings(max_examples=15, deadline=None)
@given(rates, st.floats(1.3, 3.0), st.floats(1.0, 4.0))
def test_arl_decreases_in_the_true_rate(p0: float, ratio: float, h: float) -> None:
    p1 = min(0.95, p0 * ratio)
    arls = [vs.cusum_arl(h, p0=p0, p1=p1, p=p, resolution=50).arl
            for p in (p0 * 0.8, p0, (p0 + p1) / 2, p1)]
    assert all(a > b for a, b in zip(arls, arls[1:], strict=False))


@settings(max_examples=10, deadline=None)
@given(rates, st.floats(1.5, 3.0), st.floats(50, 2000), st.floats(1.1, 3.0))
def test_limit_is_monotone_in_arl0(p0: float, ratio: float, arl0: float, factor: float) -> None:
    p1 = min(0.95, p0 * ratio)
    a = vs.cusum_limit(p0=p0, p1=p1, arl0=arl0, resolution=50)
    b = vs.cusum_limit(p0=p0, p1=p1, arl0=arl0 * factor, resolution=50)
    assert a.limit <= b.limit
    assert a.arl0 >= arl0 and b.arl0 >= arl0 * factor
    assert a.arl1 < a.arl0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 200)), min_size=1, max_size=30),
       st.floats(0.01, 0.99), st.floats(0.01, 1.0), st.floats(0.5, 4.0))
def test_ewma_limits_in_unit_interval_and_around_target(cells: list[tuple[int, int]],
                                                        target: float, lam: float,
                                                        width: float) -> None:
    x = [min(a, b) for a, b in cells]
    n = [b for _, b in cells]
    r = vs.ewma_proportion(x, n, target=target, lam=lam, width=width)
    assert ((r.lower >= 0) & (r.upper <= 1)).all()
    assert ((r.lower <= target) & (target <= r.upper)).all()
    assert ((r.statistic >= 0) & (r.statistic <= 1)).all()


finite = st.floats(-1e3, 1e3, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(finite, min_size=2, max_size=200), st.lists(finite, min_size=1, max_size=200),
       st.integers(2, 12))
def test_psi_non_negative_and_zero_for_identical(b: list[float], c: list[float], bins: int) -> None:
    assert vs.population_stability_index(b, c, bins=bins).estimate >= 0
    assert vs.population_stability_index(b, b, bins=bins).estimate == 0.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=300), st.floats(0, 1))
def test_estimated_figures_in_unit_interval(p: list[float], t: float) -> None:
    e = vs.estimated_performance(p, threshold=t)
    for f in (e.sensitivity, e.specificity, e.ppv, e.npv, e.auc):
        if f is not None:
            assert 0 <= f.estimate <= 1
            assert 0 <= f.band[0] <= f.estimate <= f.band[1] <= 1
    assert abs(e.expected_tp + e.expected_fn + e.expected_fp + e.expected_tn - len(p)) < 1e-6


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0.001, 0.999), min_size=2, max_size=100), st.floats(0.05, 0.95))
def test_estimation_is_order_invariant(p: list[float], t: float) -> None:
    a = vs.estimated_performance(p, threshold=t)
    b = vs.estimated_performance(np.array(p)[::-1], threshold=t)
    assert a.to_dict() == b.to_dict() or all(
        (x is None and y is None) or abs(x.estimate - y.estimate) < 1e-12
        for x, y in ((a.sensitivity, b.sensitivity), (a.auc, b.auc)))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_drift_adjustment_is_at_least_the_raw_p(p: list[float]) -> None:
    for m in ("holm", "bh"):
        r = vs.adjust_drift_pvalues(p, method=m)
        assert (r.adjusted >= np.asarray(p) - 1e-15).all() and (r.adjusted <= 1).all()
