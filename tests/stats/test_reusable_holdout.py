"""Thresholdout (reusable holdout): the mechanism's probabilities against scipy's Laplace
distribution, and its invariants (budget accounting, replay of a history) as properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy import stats as sps

from validation.errors import InputError
from validation.stats import thresholdout

T, SIGMA = 0.04, 0.01
N_SEEDS = 3000


def _p_holdout_first(diff: float) -> float:
    """P(|holdout - train| > T + Lap(2 sigma) + Lap(4 sigma)) for the first query: the CDF of
    the sum of the two Laplace draws at ``diff - T``, by numerical convolution of scipy's
    Laplace distributions (independent of the generator the function uses)."""
    gamma, eta = sps.laplace(scale=2 * SIGMA), sps.laplace(scale=4 * SIGMA)
    x = diff - T
    # the density of Lap(2 sigma) beyond +-1 is below exp(-50): the finite range loses nothing
    value, _err = integrate.quad(lambda g: gamma.pdf(g) * eta.cdf(x - g), -1.0, 1.0,
                                 epsabs=1e-12, points=[0.0, x], limit=200)
    return float(value)


@pytest.mark.parametrize("diff", [0.0, 0.03, 0.04, 0.06, 0.10])
def test_chance_of_consulting_the_holdout_matches_the_laplace_convolution(diff: float) -> None:
    # tolerance: 4.5 binomial standard errors of the frequency over N_SEEDS seeds (a false
    # failure about once in 150,000 runs; the seeds are fixed, so the test is deterministic)
    hits = [thresholdout([0.5], [0.5 + diff], threshold=T, sigma=SIGMA, budget=1,
                         seed=k).from_holdout[0] for k in range(N_SEEDS)]
    p = _p_holdout_first(diff)
    se = np.sqrt(p * (1 - p) / N_SEEDS)
    assert abs(np.mean(hits) - p) <= 4.5 * se + 1e-9, (np.mean(hits), p)


def test_holdout_answers_carry_laplace_noise_of_scale_sigma() -> None:
    # a gap of 0.9 always consults the holdout (P(miss) < 1e-9); answer - holdout ~ Lap(sigma)
    res = [thresholdout([0.05], [0.95], threshold=T, sigma=SIGMA, budget=1, seed=k)
           for k in range(N_SEEDS)]
    assert all(r.from_holdout == (True,) for r in res)
    noise = np.array([r.estimate[0] - 0.95 for r in res])
    assert sps.kstest(noise, sps.laplace(scale=SIGMA).cdf).pvalue > 0.01
    assert np.mean(np.abs(noise)) == pytest.approx(SIGMA, rel=0.06)  # E|Lap(b)| = b; 3 SE


history = st.integers(1, 25).flatmap(lambda m: st.tuples(
    st.lists(st.floats(0, 1), min_size=m, max_size=m),
    st.lists(st.floats(0, 1), min_size=m, max_size=m)))


@settings(max_examples=60, deadline=None)
@given(h=history, budget=st.integers(1, 6), seed=st.integers(0, 2**32 - 1),
       threshold=st.sampled_from([0.001, 0.04, 0.3]), sigma=st.sampled_from([0.001, 0.01, 0.1]))
def test_budget_accounting_and_replay(h, budget, seed, threshold, sigma) -> None:  # type: ignore[no-untyped-def]
    train, hold = h
    r = thresholdout(train, hold, threshold=threshold, sigma=sigma, budget=budget, seed=seed)
    assert r.n_answered == len(r.estimate) == len(r.from_holdout) <= r.n_queries == len(train)
    assert sum(r.from_holdout) == budget - r.budget_left and r.budget_left >= 0
    assert r.exhausted == (r.n_answered < r.n_queries)
    if r.exhausted:
        assert r.budget_left == 0 and r.from_holdout[-1]
    for i, (answer, noisy) in enumerate(zip(r.estimate, r.from_holdout, strict=True)):
        if not noisy:
            assert answer == train[i]  # a training answer reveals nothing of the holdout
    for k in range(1, len(train) + 1):  # an adaptive analyst replays the history: same answers
        prefix = thresholdout(train[:k], hold[:k], threshold=threshold, sigma=sigma,
                              budget=budget, seed=seed)
        assert prefix.estimate == r.estimate[:k] and prefix.from_holdout == r.from_holdout[:k]
    assert r.to_dict() == thresholdout(train, hold, threshold=threshold, sigma=sigma,
                                       budget=budget, seed=seed).to_dict()


@settings(max_examples=30, deadline=None)
@given(h=history, seed=st.integers(0, 2**32 - 1))
def test_agreeing_sets_are_answered_from_training_far_apart_ones_from_holdout(h, seed) -> None:  # type: ignore[no-untyped-def]
    train, _ = h
    # identical values: a holdout answer needs Lap(2s) + Lap(4s) < -T = -1 with s = 1e-3:
    # probability below 1e-100
    same = thresholdout(train, train, threshold=1.0, sigma=1e-3, budget=3, seed=seed)
    assert same.estimate == tuple(train) and not any(same.from_holdout)
    far = thresholdout([0.0] * len(train), [1.0] * len(train), threshold=1e-3, sigma=1e-4,
                       budget=2, seed=seed)
    assert far.n_answered == min(2, len(train)) and all(far.from_holdout)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"train_values": [0.5, 0.5]}, "one value per query"),
    ({"holdout_values": [1.5]}, "'holdout_values' must be a non-empty 1-D sequence"),
    ({"train_values": []}, "'train_values' must be a non-empty"),
    ({"threshold": 0.0}, "'threshold' must be a finite number > 0"),
    ({"sigma": float("nan")}, "'sigma' must be a finite number > 0"),
    ({"budget": 0}, "'budget' must be a whole number >= 1"),
    ({"seed": -1}, "'seed' must be a whole number >= 0"),
])
def test_bad_input(kwargs, message) -> None:  # type: ignore[no-untyped-def]
    args = {"train_values": [0.5], "holdout_values": [0.6], "threshold": T, "sigma": SIGMA,
            "budget": 1, "seed": 0} | kwargs
    with pytest.raises(InputError, match=message):
        thresholdout(**args)
