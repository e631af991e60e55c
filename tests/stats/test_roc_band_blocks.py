"""The ROC band's level-count bootstrap has the case-resampling distribution, block by block.

The band draws, per replicate, only the resampling counts its grid reads, as conditional
binomials down a tree over the distinct score levels (``band_block``). Checked here against the
former implementation (case-level multinomials cumulated in replicate x level matrices), kept
as an oracle: the point estimate is bit-identical; on small data the whole joint distribution of
a replicate's sensitivities over the grid is enumerated exactly and the drawn replicates fit it
(chi-square); on larger data both bands agree within Monte-Carlo error. Blocks are independent
streams: their split between workers, and their order, never change the band.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from validation.stats.roc_band import BAND_BLOCK, _prepare, band_block, roc_sensitivity_band


def _curve_tpr(t: np.ndarray, s: np.ndarray, grid: np.ndarray, cn: np.ndarray, cp: np.ndarray) -> np.ndarray:
    """Former code: sensitivity at ``grid`` for case-level count rows ``cn`` (negatives), ``cp``."""
    n_pos, n_neg = int(t.sum()), int(t.size - t.sum())
    levels, inv = np.unique(-s, return_inverse=True)
    nl = levels.size
    lp, ln = np.sort(inv[t == 1]), np.sort(inv[t == 0])

    def cum(counts, lv):
        agg = np.zeros((counts.shape[0], nl + 1))
        np.add.at(agg.T, lv + 1, counts.T)
        return np.cumsum(agg, axis=1)

    fp, tp = cum(cn, ln), cum(cp, lp)
    rows, k = fp.shape
    x = grid * n_neg
    xr = np.round(x)
    x = np.where(np.abs(x - xr) < 1e-9, xr, x)
    off = (np.arange(rows, dtype=np.float64) * (n_neg + 1.0))[:, None]
    j = np.searchsorted((fp + off).ravel(), (x[None, :] + off).ravel(), side="right") - 1
    j = j.reshape(rows, grid.size) - (np.arange(rows) * k)[:, None]
    r = np.arange(rows)[:, None]
    j1 = np.minimum(j + 1, k - 1)
    f0, f1, t0, t1 = fp[r, j], fp[r, j1], tp[r, j], tp[r, j1]
    w = np.where(f1 > f0, (x[None, :] - f0) / np.where(f1 > f0, f1 - f0, 1.0), 0.0)
    return (t0 + w * (t1 - t0)) / n_pos


def _oracle_band(t, s, grid, alpha, b, seed):
    n_pos, n_neg = int(t.sum()), int(t.size - t.sum())
    rng = np.random.default_rng(seed)
    cp = rng.multinomial(n_pos, np.full(n_pos, 1.0 / n_pos), size=b)
    cn = rng.multinomial(n_neg, np.full(n_neg, 1.0 / n_neg), size=b)
    boot = _curve_tpr(t, s, grid, cn, cp)
    return np.quantile(boot, [alpha / 2, 1 - alpha / 2], axis=0)


def _data(n: int, seed: int, decimals: int | None):
    rng = np.random.default_rng(seed)
    t = (rng.random(n) < 0.3).astype(np.int64)
    t[:2] = (0, 1)
    s = rng.normal(size=n) + 1.2 * t
    return t, (s if decimals is None else np.round(s, decimals))


GRIDS = {
    "default": np.linspace(0.0, 1.0, 51),
    "fine": np.linspace(0.0, 1.0, 137),
    "edges": np.array([0.0, 1.0, 1 / 3, 0.333333333, 0.5]),
}


@pytest.mark.parametrize(("n", "seed", "decimals"), [
    (12, 1, None), (57, 2, 1), (500, 3, 2), (4000, 4, None), (20_000, 5, 3)])
@pytest.mark.parametrize("grid", sorted(GRIDS))
def test_point_estimate_equals_former_code(n: int, seed: int, decimals: int | None, grid: str) -> None:
    t, s = _data(n, seed, decimals)
    g = GRIDS[grid]
    ones = _curve_tpr(t, s, g, np.ones((1, int((t == 0).sum()))), np.ones((1, int(t.sum()))))[0]
    r = roc_sensitivity_band(t, s, fpr_grid=g, n_boot=3, seed=seed)
    assert np.array_equal(r.tpr, ones)


def _compositions(n: int, k: int):
    for bars in itertools.combinations(range(n + k - 1), k - 1):
        edges = (-1, *bars, n + k - 1)
        yield np.array([edges[i + 1] - edges[i] - 1 for i in range(k)])


def _pmf(counts: np.ndarray) -> float:
    n, k = int(counts.sum()), counts.size
    return math.factorial(n) / math.prod(math.factorial(int(c)) for c in counts) / k**n


@pytest.mark.parametrize(("t", "s", "grid"), [
    # ties across classes, a positive-only level above, a negative-only level below
    (np.array([0, 0, 0, 1, 1, 1]), np.array([0.1, 0.5, 0.5, 0.5, 0.9, 0.2]), np.array([0.0, 0.2, 0.5, 0.8])),
    (np.array([0, 0, 0, 0, 1, 1]), np.array([1.0, 2.0, 3.0, 3.0, 2.0, 4.0]), np.array([0.1, 0.25, 0.6, 1.0])),
])
def test_replicate_distribution_is_exactly_case_resampling(t, s, grid) -> None:
    # Exact law of one replicate's sensitivity vector over the grid under stratified case
    # resampling (every pair of count compositions, weighted by its multinomial probability),
    # against 40,000 drawn replicates: chi-square goodness of fit over the distinct vectors.
    neg = list(_compositions(int((t == 0).sum()), int((t == 0).sum())))
    pos = list(_compositions(int(t.sum()), int(t.sum())))
    cn = np.array([c for c in neg for _ in pos])
    cp = np.array([c for _ in neg for c in pos])
    prob = np.array([_pmf(a) * _pmf(b) for a in neg for b in pos])
    vec = np.round(_curve_tpr(t, s, grid, cn, cp), 12)
    law: dict[tuple[float, ...], float] = {}
    for v, p in zip(map(tuple, vec), prob, strict=True):
        law[v] = law.get(v, 0.0) + p
    assert abs(sum(law.values()) - 1) < 1e-12
    d = _prepare(t.astype(np.int8), s.astype(float), grid)
    draws = np.round(np.concatenate([band_block(d, 11, i, 2000) for i in range(20)]), 12)
    keys = sorted(law)
    seen: dict[tuple[float, ...], int] = {}
    for v in map(tuple, draws):
        seen[v] = seen.get(v, 0) + 1
    assert set(seen) <= set(law)  # every drawn replicate is a possible resample's curve
    obs = np.array([seen.get(k, 0) for k in keys], dtype=float)
    exp = np.array([law[k] for k in keys]) * draws.shape[0]
    # pool cells expected below 5 (chi-square validity)
    small = exp < 5
    obs = np.r_[obs[~small], obs[small].sum()] if small.any() else obs
    exp = np.r_[exp[~small], exp[small].sum()] if small.any() else exp
    p = sps.chisquare(obs, exp).pvalue
    assert len(keys) >= 8 and p > 1e-3


@pytest.mark.parametrize(("n", "decimals"), [(400, 2), (3000, None)])
def test_band_agrees_with_case_resampling_within_monte_carlo_error(n: int, decimals: int | None) -> None:
    # Two independent 4,000-replicate bands of the same statistic: the 2.5% and 97.5% quantiles
    # of sensitivity differ by Monte-Carlo error, about 0.02 at these sizes (a few 1/n1 steps).
    t, s = _data(n, 7, decimals)
    g = GRIDS["default"]
    low, high = _oracle_band(t, s, g, 0.05, 4000, 3)
    r = roc_sensitivity_band(t, s, fpr_grid=g, n_boot=4000, seed=3)
    assert np.max(np.abs(r.tpr_low - low)) < 0.04 and np.max(np.abs(r.tpr_high - high)) < 0.04
    assert np.mean(np.abs(r.tpr_low - low)) < 0.012 and np.mean(np.abs(r.tpr_high - high)) < 0.012


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 300), st.integers(1, 3))
def test_each_replicate_is_one_resampled_curve(seed: int, n: int, decimals: int) -> None:
    # Grid points of one replicate share the tree's draws: sensitivity never falls as the
    # false-positive rate grows, lies in [0, 1], and is 1 at fpr 1.
    t, s = _data(n, seed, decimals)
    g = np.sort(np.r_[GRIDS["fine"], np.random.default_rng(seed).random(20)])
    d = _prepare(t.astype(np.int8), s, g)
    rep = band_block(d, seed, 0, 60)
    assert np.all(np.diff(rep, axis=1) >= -1e-12)
    assert np.all((rep >= 0) & (rep <= 1)) and np.all(rep[:, -1] == 1.0)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 80), st.integers(1, 3), st.integers(1, 900))
def test_where_blocks_run_never_changes_the_band(seed: int, n: int, decimals: int, n_boot: int) -> None:
    t, s = _data(n, seed, decimals)
    a = roc_sensitivity_band(t, s, n_boot=n_boot, seed=seed)

    def backwards(fn, data, sd, blocks):  # a scheduler that runs the blocks in reverse order
        return [fn(data, sd, i, c) for i, c in reversed(blocks)][::-1]

    b = roc_sensitivity_band(t, s, n_boot=n_boot, seed=seed, map_blocks=backwards)
    assert np.array_equal(a.tpr_low, b.tpr_low) and np.array_equal(a.tpr_high, b.tpr_high)


def test_progress_is_told_each_block() -> None:
    t, s = _data(300, 1, 2)
    seen: list[tuple[int, int]] = []
    roc_sensitivity_band(t, s, n_boot=2 * BAND_BLOCK + 7, seed=1, progress=lambda d, n: seen.append((d, n)))
    assert seen == [(BAND_BLOCK, 2 * BAND_BLOCK + 7), (2 * BAND_BLOCK, 2 * BAND_BLOCK + 7),
                    (2 * BAND_BLOCK + 7, 2 * BAND_BLOCK + 7)]


def test_a_million_cases_in_bounded_memory() -> None:
    # 1e6 cases, 500 replicates: the blocks hold (replicates, grid) arrays, never cases x replicates
    import tracemalloc

    rng = np.random.default_rng(0)
    t = (rng.random(1_000_000) < 0.3).astype(np.int8)
    s = np.round(rng.normal(size=t.size) + t, 6)
    tracemalloc.start()
    r = roc_sensitivity_band(t, s, n_boot=500, seed=2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200e6  # inputs and the level sort are about 8n bytes each
    assert np.all(r.tpr_low <= r.tpr) and np.all(r.tpr <= r.tpr_high)
