"""P-values that invert an interval (validation.stats.interval_inversion).

References: statsmodels' one-sample score z test (Wilson), scipy's exact binomial test
(Clopper-Pearson), and for Jeffreys, Agresti-Coull and the bootstrap percentile interval the
interval itself (statsmodels ``proportion_confint``, numpy ``quantile``) evaluated at the
returned level, which must put the bound on the null value.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from validation.errors import InputError
from validation.stats.interval_inversion import percentile_pvalue, proportion_interval_pvalue

SM = {"wilson": "wilson", "exact": "beta", "jeffreys": "jeffreys", "agresti-coull": "agresti_coull"}


@pytest.mark.parametrize(("x", "n", "p0"), [(170, 200, 0.8), (45, 50, 0.95), (3, 40, 0.2),
                                            (199, 200, 0.9)])
def test_wilson_is_the_score_test(x: int, n: int, p0: float) -> None:
    for side, alt in (("greater", "larger"), ("less", "smaller")):
        _, ref = proportions_ztest(x, n, value=p0, prop_var=p0, alternative=alt)
        got = proportion_interval_pvalue(x, n, p0, method="wilson", side=side)
        assert got == pytest.approx(ref, rel=1e-10, abs=1e-15)


@pytest.mark.parametrize(("x", "n", "p0"), [(90, 100, 0.8), (0, 30, 0.1), (30, 30, 0.9),
                                            (12, 25, 0.3)])
def test_exact_is_the_binomial_test(x: int, n: int, p0: float) -> None:
    for side in ("greater", "less"):
        ref = binomtest(x, n, p0, alternative=side).pvalue
        got = proportion_interval_pvalue(x, n, p0, method="exact", side=side)
        assert got == pytest.approx(ref, rel=1e-10, abs=1e-15)


@pytest.mark.parametrize("method", ["wilson", "exact", "jeffreys", "agresti-coull"])
@pytest.mark.parametrize(("x", "n", "p0"), [(87, 100, 0.8), (61.3, 70.4, 0.75),
                                            (9, 10, 0.6)])
def test_the_bound_at_the_returned_level_is_the_null_value(method: str, x: float, n: float,
                                                           p0: float) -> None:
    p = proportion_interval_pvalue(x, n, p0, method=method)
    lo, _ = proportion_confint(x, n, alpha=2 * p, method=SM[method])
    assert lo == pytest.approx(p0, abs=1e-9)
    q = proportion_interval_pvalue(n - x, n, 1 - p0, method=method, side="less")
    assert q == pytest.approx(p, abs=1e-12)  # symmetry under x -> n - x


@settings(max_examples=300, deadline=None)
@given(n=st.integers(2, 400), frac=st.floats(0, 1), p0=st.floats(0.02, 0.98),
       a=st.floats(0.001, 0.2),
       method=st.sampled_from(["wilson", "exact", "jeffreys", "agresti-coull"]))
def test_p_value_and_bound_agree(n: int, frac: float, p0: float, a: float, method: str) -> None:
    from validation.stats.proportions import proportion_ci

    x = round(frac * n)
    lo = proportion_ci(x, n, method=method, alpha=2 * a).ci[0]
    if abs(lo - p0) < 1e-9:
        return  # a tie: bound and null value equal to round-off
    p = proportion_interval_pvalue(x, n, p0, method=method)
    assert 0.0 <= p <= 1.0
    assert (p <= a) == (lo > p0)


def test_percentile_p_value_puts_the_quantile_on_the_null() -> None:
    reps = np.random.default_rng(3).normal(0.85, 0.02, 2000)
    for null in (0.80, 0.83, 0.85, 0.88):
        p = percentile_pvalue(reps, null)
        assert float(np.quantile(reps, p)) == pytest.approx(null, abs=1e-12)
        q = percentile_pvalue(reps, null, side="less")
        assert float(np.quantile(reps, 1 - q)) == pytest.approx(null, abs=1e-12)
    assert percentile_pvalue(reps, 0.0) == 0.0
    assert percentile_pvalue(reps, 2.0) == 1.0
    assert percentile_pvalue(reps, 2.0, side="less") == 0.0


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10_000), a=st.floats(0.005, 0.2), null=st.floats(0.7, 0.95))
def test_percentile_p_value_and_bound_agree(seed: int, a: float, null: float) -> None:
    reps = np.random.default_rng(seed).normal(0.85, 0.03, 500)
    lo = float(np.quantile(reps, a))
    if abs(lo - null) < 1e-12:
        return
    assert (percentile_pvalue(reps, null) <= a) == (lo > null)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"successes": 5, "n": 10, "null": 1.0, "method": "wilson"}, "'null'"),
    ({"successes": 11, "n": 10, "null": 0.5, "method": "wilson"}, "'successes'"),
    ({"successes": 5, "n": 0, "null": 0.5, "method": "wilson"}, "'n'"),
    ({"successes": 5, "n": 10, "null": 0.5, "method": "wald"}, "'method'"),
    ({"successes": 5, "n": 10, "null": 0.5, "method": "exact", "side": "two"}, "'side'"),
])
def test_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        proportion_interval_pvalue(**kwargs)
    with pytest.raises(InputError, match="replicates"):
        percentile_pvalue([0.5], 0.4)


def test_percentile_tie_with_the_null_value_is_not_rejected() -> None:
    """1001 replicates: the bound at one-sided 0.025 is the 26th order statistic. When it is
    exactly the null value (replicates of a proportion are fractions k/n), the bound does not
    exceed the null value, so the p-value must read as not rejected at 0.025."""
    from validation.stats.multiplicity import passes

    reps = np.r_[np.full(20, 0.76), np.full(10, 0.80), np.full(971, 0.9)]
    assert float(np.quantile(reps, 0.025)) == 0.80
    p = percentile_pvalue(reps, 0.80)
    assert p == pytest.approx(29 / 1000, rel=1e-8)  # the last tied replicate's position
    # at the level of the 26th statistic exactly: a tie when the last tie sits there
    tie = np.r_[np.full(20, 0.76), np.full(6, 0.80), np.full(975, 0.9)]
    assert float(np.quantile(tie, 0.025)) == 0.80
    pt = percentile_pvalue(tie, 0.80)
    assert pt > 0.025 and not passes(pt, 0.025)
    assert pt == pytest.approx(0.025, rel=1e-8)
    assert float(np.quantile(tie, 0.025 * (1 + 1e-6))) > 0.80  # any higher level rejects


def test_bca_p_value_puts_the_bca_bound_on_the_null() -> None:
    """Against the BCa interval itself (validation.stats.bootstrap, same seed) at the returned
    level: the bound equals the null value."""
    from validation.stats.bootstrap import bootstrap_proportion
    from validation.stats.interval_inversion import bca_pvalue

    y = (np.random.default_rng(1).random(80) < 0.85).astype(int)
    ref = bootstrap_proportion(y, seed=3, n_boot=4000, interval="bca", alpha=0.05)
    consts = {"bias_correction": ref.bias_correction, "acceleration": ref.acceleration}
    assert ref.acceleration != 0 and ref.bias_correction != 0
    for null in (0.76, 0.8, 0.82):
        p = bca_pvalue(ref.replicates, null, **consts)
        again = bootstrap_proportion(y, seed=3, n_boot=4000, interval="bca", alpha=2 * p)
        assert again.ci[0] == pytest.approx(null, abs=1e-6)
    q = bca_pvalue(ref.replicates, 0.93, side="less", **consts)
    again = bootstrap_proportion(y, seed=3, n_boot=4000, interval="bca", alpha=2 * q)
    assert again.ci[1] == pytest.approx(0.93, abs=1e-6)
    assert bca_pvalue(ref.replicates, 0.1, **consts) == 0.0
    assert bca_pvalue(ref.replicates, 0.999, **consts) == 1.0
