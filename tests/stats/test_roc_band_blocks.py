"""The block-wise ROC band equals the former full-matrix computation, number for number.

The oracle below is the former implementation of ``roc_sensitivity_band`` (replicate x level
count matrices filled with ``np.add.at`` and cumulated): kept here, not in the package, to show
that processing replicates in memory-bounded blocks changed neither the random stream nor any
arithmetic. Equality is exact (``np.array_equal``), at several sizes, seeds, grids, tie patterns
and memory budgets (1 byte forces one replicate per block and re-drawing the positives).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.stats.roc_band import roc_sensitivity_band


def _oracle(t: np.ndarray, s: np.ndarray, grid: np.ndarray, alpha: float, b: int, seed: int):
    n_pos, n_neg = int(t.sum()), int(t.size - t.sum())
    levels, inv = np.unique(-s, return_inverse=True)
    nl = levels.size
    lp, ln = np.sort(inv[t == 1]), np.sort(inv[t == 0])
    rng = np.random.default_rng(seed)
    cp = rng.multinomial(n_pos, np.full(n_pos, 1.0 / n_pos), size=b)
    cn = rng.multinomial(n_neg, np.full(n_neg, 1.0 / n_neg), size=b)

    def cum(counts, lv):
        agg = np.zeros((counts.shape[0], nl + 1))
        np.add.at(agg.T, lv + 1, counts.T)
        return np.cumsum(agg, axis=1)

    def tpr_at(fp, tp):
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

    tpr = tpr_at(cum(np.ones((1, n_neg), np.int64), ln), cum(np.ones((1, n_pos), np.int64), lp))[0]
    boot = tpr_at(cum(cn, ln), cum(cp, lp))
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2], axis=0)
    return tpr, low, high


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


@pytest.mark.parametrize(("n", "seed", "n_boot", "decimals"), [
    (12, 1, 40, None), (57, 2, 300, 1), (500, 3, 200, 2), (4000, 4, 60, None), (20_000, 5, 30, 3),
])
@pytest.mark.parametrize("grid", sorted(GRIDS))
@pytest.mark.parametrize("memory_bytes", [None, 1, 50_000])
def test_equals_full_matrix_oracle(n: int, seed: int, n_boot: int, decimals: int | None, grid: str,
                                   memory_bytes: int | None) -> None:
    t, s = _data(n, seed, decimals)
    g = GRIDS[grid]
    tpr, low, high = _oracle(t, s, g, 0.05, n_boot, seed)
    r = roc_sensitivity_band(t, s, fpr_grid=g, n_boot=n_boot, seed=seed, memory_bytes=memory_bytes)
    assert np.array_equal(r.tpr, tpr)
    assert np.array_equal(r.tpr_low, low)
    assert np.array_equal(r.tpr_high, high)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 80), st.integers(1, 400), st.integers(1, 3))
def test_block_size_never_changes_the_band(seed: int, n: int, budget: int, decimals: int) -> None:
    t, s = _data(n, seed, decimals)
    a = roc_sensitivity_band(t, s, n_boot=37, seed=seed)
    b = roc_sensitivity_band(t, s, n_boot=37, seed=seed, memory_bytes=budget * 100)
    assert np.array_equal(a.tpr_low, b.tpr_low) and np.array_equal(a.tpr_high, b.tpr_high)


def test_memory_budget_is_checked() -> None:
    from validation.errors import InputError

    t, s = _data(20, 0, None)
    with pytest.raises(InputError, match="memory_bytes"):
        roc_sensitivity_band(t, s, n_boot=5, memory_bytes=0)


def test_progress_is_told_each_block_up_to_both_passes() -> None:
    t, s = _data(300, 1, 2)
    seen: list[tuple[int, int]] = []
    a = roc_sensitivity_band(t, s, n_boot=50, seed=1, memory_bytes=24 * 302 * 7,
                             progress=lambda d, n: seen.append((d, n)))
    b = roc_sensitivity_band(t, s, n_boot=50, seed=1)
    assert np.array_equal(a.tpr_low, b.tpr_low) and np.array_equal(a.tpr_high, b.tpr_high)
    done = [d for d, _ in seen]
    assert all(n == 100 for _, n in seen) and done == sorted(done) and done[-1] == 100
    assert len(seen) == 2 * 8  # blocks of 7 replicates: 8 blocks, two passes
