"""CUSUM and EWMA charts against independent references (tests/reference/surveillance/).

* Normal CUSUM: R spc ``xcusum.arl``/``xcusum.crit`` (Nyström, 100 Gauss-Legendre nodes).
  Both solve the same integral equation with converged quadrature, so the tolerance is 1e-8
  relative (observed agreement ~1e-12); the limit to 1e-7 (spc's root finder tolerance).
* Bernoulli and binomial CUSUM ARL: spc has no Bernoulli/binomial CUSUM, so the Markov-chain
  ARL is checked against a long Monte Carlo in R of the chart with the exact weights (40,000
  runs each): |ARL - MC mean| <= 4 MC standard errors plus 0.5% (the integer-scaled chain's
  discretisation, see the module notes; at 4 SE a false failure has probability ~6e-5).
* Bernoulli CUSUM ARL against a brute-force oracle: a chain with weights that are exact
  multiples of the grid (chosen p1), where the integer-scaled Markov chain is exact, solved
  by plain dense ``numpy.linalg.solve`` on a hand-built matrix (1e-9 relative).
* Bernoulli statistic against a plain loop of the recursion (1e-12 absolute).
* EWMA: the issue's formula evaluated directly in R (sum form): 1e-12 absolute.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import validation.stats as vs
from validation.stats.surveillance import llr_weights

REF = Path(__file__).parents[2] / "reference" / "surveillance" / "surveillance_refs.json"
R = json.loads(REF.read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", sorted(R["normal_cusum_arl"]))
def test_normal_cusum_arl_matches_spc(key: str) -> None:
    c = R["normal_cusum_arl"][key]
    got = vs.normal_cusum_arl(c["h"], k=c["k"], mu=c["mu"]).arl
    assert got == pytest.approx(c["arl"], rel=1e-8)


@pytest.mark.parametrize("key", sorted(R["normal_cusum_crit"]))
def test_normal_cusum_limit_matches_spc(key: str) -> None:
    c = R["normal_cusum_crit"][key]
    d = vs.normal_cusum_design(shift=2 * c["k"], arl0=c["L0"])
    assert d.limit == pytest.approx(c["h"], abs=1e-7)
    assert d.arl0 == pytest.approx(c["L0"], rel=1e-8)
    assert d.arl1 == pytest.approx(c["arl1"], rel=1e-7)


def test_normal_cusum_chart_uses_the_design() -> None:
    x = np.array([0.80, 0.79, 0.81, 0.74, 0.73, 0.72])
    r = vs.normal_cusum(x, mean=0.8, sd=0.02, shift=-0.04, arl0=370)
    d = vs.normal_cusum_design(shift=2.0, arl0=370)
    assert r.limit == pytest.approx(d.limit) and r.k == 1.0 and r.direction == "decrease"
    s, want = 0.0, []
    for v in x:  # the recursion by hand on the standardised drop
        s = max(0.0, s - (v - 0.8) / 0.02 - 1.0)
        want.append(s)
    np.testing.assert_allclose(r.statistic, want, atol=1e-12)
    assert r.first_signal == int(np.argmax(np.array(want) >= d.limit))


@pytest.mark.parametrize("key", sorted(R["cusum_monte_carlo"]))
def test_markov_chain_arl_matches_a_long_simulation(key: str) -> None:
    c = R["cusum_monte_carlo"][key]
    if c["n"] == 1:
        a = vs.cusum_arl(c["h"], p0=c["p0"], p1=c["p1"], p=c["p"])
    else:
        a = vs.binomial_cusum_arl(c["h"], p0=c["p0"], p1=c["p1"], p=c["p"], n=c["n"])
    tol = 4 * c["se"] + 0.005 * c["mean_rl"]
    assert abs(a.arl - c["mean_rl"]) <= tol
    lo, hi = a.arl_bounds
    assert lo - 4 * c["se"] <= c["mean_rl"] <= hi + 4 * c["se"]


def _dense_oracle(A: int, B: int, H: int, p: float) -> float:
    """ARL of S' = max(0, S + A) w.p. p, max(0, S - B) otherwise, signal at S' >= H."""
    q = np.zeros((H, H))
    for i in range(H):
        if i + A < H:
            q[i, i + A] += p
        q[i, max(0, i - B)] += 1 - p
    return float(np.linalg.solve(np.eye(H) - q, np.ones(H))[0])


def test_chain_is_exact_when_the_weights_sit_on_the_grid() -> None:
    # p1 such that log(p1/p0) = 3 |log((1-p1)/(1-p0))| exactly: weights 3u and -u
    from scipy.optimize import brentq

    p0 = 0.2
    p1 = brentq(lambda q: math.log(q / p0) - 3 * math.log((1 - p0) / (1 - q)), 0.21, 0.99)
    w1, w0 = llr_weights(p0, p1)
    assert w1 == pytest.approx(-3 * w0, rel=1e-12)
    u = -w0
    # resolution 10 -> grid m = 10/u: weights 30 and -10 units; limit 4.05 u -> states 41
    for p in (p0, p1, 0.3):
        a = vs.cusum_arl(4.05 * u, p0=p0, p1=p1, p=p, resolution=10)
        assert a.states == 41
        assert a.arl == pytest.approx(_dense_oracle(30, 10, 41, p), rel=1e-9)
        assert a.arl_bounds[0] == pytest.approx(a.arl_bounds[1], rel=1e-9)


def test_bernoulli_statistic_matches_the_recursion() -> None:
    rng = np.random.default_rng(3)
    y = rng.binomial(1, 0.15, 3000)
    r = vs.bernoulli_cusum(y, p0=0.1, p1=0.2, limit=4.0)
    w1, w0 = math.log(2.0), math.log(0.8 / 0.9)
    s, want = 0.0, []
    for v in y:
        s = max(0.0, s + (w1 if v else w0))
        want.append(s)
    np.testing.assert_allclose(r.statistic, want, atol=1e-9)
    sig = np.array(want) >= 4.0
    np.testing.assert_array_equal(r.signals, sig)
    assert r.first_signal == (int(np.argmax(sig)) if sig.any() else None)


def test_binomial_statistic_matches_the_recursion() -> None:
    x, n = [3, 0, 7, 5, 9], [40, 20, 40, 35, 30]
    r = vs.binomial_cusum(x, n, p0=0.1, p1=0.2, limit=2.0)
    w1, w0 = math.log(2.0), math.log(0.8 / 0.9)
    s, want = 0.0, []
    for xi, ni in zip(x, n, strict=True):
        s = max(0.0, s + xi * w1 + (ni - xi) * w0)
        want.append(s)
    np.testing.assert_allclose(r.statistic, want, atol=1e-12)


def test_limit_reaches_the_target_and_reports_arl1() -> None:
    lim = vs.cusum_limit(p0=0.1, p1=0.2, arl0=1000)
    assert lim.arl0 >= 1000
    below = vs.cusum_arl(lim.limit - 1.0 / lim.grid, p0=0.1, p1=0.2, p=0.1)
    assert below.arl < 1000  # one grid step lower misses the target
    again = vs.cusum_arl(lim.limit, p0=0.1, p1=0.2, p=0.1)
    assert again.arl == lim.arl0
    assert lim.arl1 == vs.cusum_arl(lim.limit, p0=0.1, p1=0.2, p=0.2).arl
    assert lim.arl1 < lim.arl0


def test_resolution_convergence_is_within_the_stated_accuracy() -> None:
    """The default grid (100 units for the smaller weight) against a 10x finer one: 0.5%."""
    for p0, p1, h in ((0.1, 0.2, 3.4), (0.02, 0.05, 3.0)):
        for p in (p0, p1):
            a = vs.cusum_arl(h, p0=p0, p1=p1, p=p).arl
            b = vs.cusum_arl(h, p0=p0, p1=p1, p=p, resolution=1000).arl
            assert a == pytest.approx(b, rel=0.005)


def test_ewma_matches_the_formula_in_r() -> None:
    c = R["ewma"]
    r = vs.ewma_proportion(c["successes"], c["trials"], target=c["target"], lam=c["lam"],
                           width=c["width"])
    np.testing.assert_allclose(r.statistic, c["statistic"], atol=1e-12)
    np.testing.assert_allclose(r.lower, c["lower"], atol=1e-12)
    np.testing.assert_allclose(r.upper, c["upper"], atol=1e-12)
    outside = (np.array(c["statistic"]) < c["lower"]) | (np.array(c["statistic"]) > c["upper"])
    assert r.first_signal == (int(np.argmax(outside)) if outside.any() else None)


def test_ewma_equal_sizes_reduce_to_lucas_saccucci() -> None:
    lam, n, p, L = 0.1, 50, 0.9, 3.0
    r = vs.ewma_proportion([45] * 30, [n] * 30, target=p, lam=lam, width=L)
    t = np.arange(1, 31)
    sd = np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)) * p * (1 - p) / n)
    np.testing.assert_allclose(r.sd, sd, rtol=1e-12)
