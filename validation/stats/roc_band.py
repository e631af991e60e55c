"""Pointwise bootstrap confidence band of sensitivity at fixed false-positive rates.

For every false-positive rate ``f`` of a grid (specificity ``1 - f``) the band is the stratified
(cases resampled within each truth class) bootstrap percentile interval of the sensitivity,
as pROC's ``ci.se`` does (Robin et al. 2011). Sensitivity at a false-positive rate ``f`` is read
from the empirical ROC curve (Fawcett 2006) joined by straight segments: where the curve has a
vertical segment at ``f`` the highest sensitivity there is taken; between two curve points the
value is interpolated linearly. The band is pointwise, not simultaneous (Macskassy & Provost 2005).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_binary_truth, check_count, check_scores, check_two_classes
from validation.stats._result import Result

ROBIN_2011 = "Robin X et al. pROC. BMC Bioinformatics 2011;12:77. doi:10.1186/1471-2105-12-77"
FAWCETT_2006 = (
    "Fawcett T. An introduction to ROC analysis. Pattern Recognit Lett 2006;27:861-874. "
    "doi:10.1016/j.patrec.2005.10.010"
)
MACSKASSY_2005 = (
    "Macskassy SA, Provost F, Rosset S. ROC confidence bands: an empirical evaluation. ICML 2005. "
    "doi:10.1145/1102351.1102419"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ROCBand(Result):
    """Pointwise bootstrap band of sensitivity (``tpr``) over a false-positive-rate grid."""

    fpr: NDArray[np.float64]
    tpr: NDArray[np.float64]
    tpr_low: NDArray[np.float64]
    tpr_high: NDArray[np.float64]
    level: float
    n_boot: int
    seed: int
    method: str
    references: tuple[str, ...]


#: Replicates per random stream: block ``i`` (replicates ``i * BAND_BLOCK`` onwards) draws from
#: ``numpy.random.default_rng(numpy.random.SeedSequence(seed, spawn_key=(i,)))``. Part of the
#: definition of the random stream (changing it changes the numbers); the split of the blocks
#: between processes or Dask workers does not.
BAND_BLOCK = 250


@dataclass(frozen=True, slots=True)
class BandData:
    """What a replicate block needs: class counts cumulated over the distinct score levels.

    ``c0[k]`` and ``c1[k]`` are the negatives and positives with level below ``k`` (level 0 is
    the highest score), ``k = 0..nl``; ``x`` the grid as false-positive counts, ``q`` its floor.
    """

    c0: NDArray[np.int64]
    c1: NDArray[np.int64]
    x: NDArray[np.float64]
    q: NDArray[np.int64]
    n0: int
    n1: int


def _prepare(t: NDArray[np.int8], s: NDArray[np.float64], grid: NDArray[np.float64]) -> BandData:
    levels, inv = np.unique(-s, return_inverse=True)  # level 0 = highest score
    nl = levels.size
    is_pos = t == 1
    c0 = np.zeros(nl + 1, np.int64)
    c1 = np.zeros(nl + 1, np.int64)
    np.cumsum(np.bincount(inv[~is_pos], minlength=nl), out=c0[1:])
    np.cumsum(np.bincount(inv[is_pos], minlength=nl), out=c1[1:])
    n0, n1 = int(c0[-1]), int(c1[-1])
    x = grid * n0
    xr = np.round(x)
    x = np.where(np.abs(x - xr) < 1e-9, xr, x)  # exact count matches despite float grid
    return BandData(c0=c0, c1=c1, x=x, q=np.floor(x).astype(np.int64), n0=n0, n1=n1)


def _tpr(x: NDArray[np.float64], f0: Any, f1: Any, t0: Any, t1: Any, n1: int) -> NDArray[np.float64]:
    """Sensitivity on the segment from ``(f0, t0)`` to ``(f1, t1)`` (counts) at ``x``."""
    f0, f1, t0, t1 = (np.asarray(v, dtype=np.float64) for v in (f0, f1, t0, t1))
    w = np.where(f1 > f0, (x - f0) / np.where(f1 > f0, f1 - f0, 1.0), 0.0)
    return np.asarray((t0 + w * (t1 - t0)) / n1, dtype=np.float64)


def _point(d: BandData) -> NDArray[np.float64]:
    """The sample curve's sensitivity at the grid: ``j`` is the last level with fp <= x."""
    nl = d.c0.size - 1
    j = np.searchsorted(d.c0, d.q, side="right") - 1  # last k with c0[k] <= q
    j = np.where(d.q >= d.n0, nl, np.minimum(j, nl))
    j1 = np.minimum(j + 1, nl)
    return _tpr(d.x, d.c0[j], d.c0[j1], d.c1[j], d.c1[j1], d.n1)


def band_block(d: BandData, seed: int, index: int, count: int) -> NDArray[np.float64]:
    """Sensitivity at the grid for ``count`` replicates of block ``index``: shape (count, g).

    Each replicate's negatives and positives are resampled (multinomial counts over the distinct
    levels, stratified by class), but only the counts the grid reads are drawn: the level ``j``
    holding the ``(q + 1)``-th resampled negative, the negatives and positives above it, and
    those at it. They are found by descending a balanced binary tree over the levels, drawing
    at each node the count of its left half given the node's count, ``Binomial(N, c_left /
    c_node)``, once per replicate and node (grid points of a replicate that pass through the
    same node share its draw, so every replicate is one resampled curve). A multinomial is the
    product of these conditional binomials, so the counts have exactly the distribution of
    resampling the cases; the cost is O(g log nl) draws a replicate instead of O(n).

    The block's generator is ``default_rng(SeedSequence(seed, spawn_key=(index,)))``; its draws
    are interleaved over the block's replicates, so a block's replicates depend on ``count``
    (blocks hold :data:`BAND_BLOCK` replicates, the last one the rest).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
    nl = d.c0.size - 1
    g = d.x.size
    out = np.ones((count, g))  # x >= n0: the whole curve, sensitivity 1
    live = np.flatnonzero(d.q < d.n0)
    rep = np.repeat(np.arange(count, dtype=np.int64), live.size)
    col = np.tile(live, count)
    m = rep.size
    lo = np.zeros(m, np.int64)
    hi = np.full(m, nl, np.int64)
    neg = np.full(m, d.n0, np.int64)  # resampled negatives and positives in [lo, hi)
    pos = np.full(m, d.n1, np.int64)
    fp = np.zeros(m, np.int64)  # resampled negatives and positives above lo
    tp = np.zeros(m, np.int64)
    qr = d.q[col].copy()  # rank still to find inside [lo, hi)
    while True:
        act = np.flatnonzero(hi - lo > 1)
        if act.size == 0:
            break
        a_lo, a_hi = lo[act], hi[act]
        _, first, inv = np.unique(rep[act] * (nl + 1) + a_lo, return_index=True, return_inverse=True)
        u_lo, u_hi = a_lo[first], a_hi[first]
        u_mid = (u_lo + u_hi) // 2
        left = []
        for c, n in ((d.c0, neg), (d.c1, pos)):
            whole = c[u_hi] - c[u_lo]
            p = np.where(whole > 0, (c[u_mid] - c[u_lo]) / np.maximum(whole, 1), 0.0)
            left.append(rng.binomial(n[act][first], p)[inv])
        l0, l1 = left
        go_left = qr[act] < l0
        mid = u_mid[inv]
        r_act = act[~go_left]
        hi[act[go_left]] = mid[go_left]
        neg[act[go_left]] = l0[go_left]
        pos[act[go_left]] = l1[go_left]
        lo[r_act] = mid[~go_left]
        qr[r_act] -= l0[~go_left]
        fp[r_act] += l0[~go_left]
        tp[r_act] += l1[~go_left]
        neg[r_act] -= l0[~go_left]
        pos[r_act] -= l1[~go_left]
    out[rep, col] = _tpr(d.x[col], fp, fp + neg, tp, tp + pos, d.n1)
    return out


def _blocks(b: int) -> list[tuple[int, int]]:
    """(index, replicates) of each stream block."""
    return [(i, min(BAND_BLOCK, b - s)) for i, s in enumerate(range(0, b, BAND_BLOCK))]


def roc_sensitivity_band(truth: Any, score: Any, *, fpr_grid: Any = None, alpha: float = 0.05,
                         n_boot: int = 2000, seed: int = 0,
                         progress: Callable[[int, int], None] | None = None,
                         map_blocks: Callable[..., list[NDArray[np.float64]]] | None = None) -> ROCBand:
    """Stratified bootstrap percentile band of sensitivity at fixed specificities.

    Parameters
    ----------
    truth : array of shape (n,), 0/1, both classes present
    score : array of shape (n,), finite; higher means more likely positive
    fpr_grid : array of false-positive rates in [0, 1]; default 0, 0.02, ..., 1
    alpha : float; the band has level ``1 - alpha``
    n_boot : int >= 1, bootstrap replicates
    seed : int, root of the ``numpy.random.SeedSequence`` of the replicate blocks
    progress : callable ``(done, total)``, optional; told after each block of replicates
        (``total = n_boot``).
    map_blocks : callable, optional; ``map_blocks(band_block, data, seed, blocks)`` must return
        ``[band_block(data, seed, i, c) for i, c in blocks]`` in that order, wherever it runs
        them (e.g. on Dask). The result does not depend on it.

    Returns
    -------
    ROCBand

    Notes
    -----
    Replicate ``r`` resamples the ``n1`` positives and the ``n0`` negatives with replacement
    (stratified, as pROC's ``boot.stratified = TRUE``), computes the empirical ROC curve of the
    resample and reads its sensitivity at each grid point; the band is the ``alpha / 2`` and
    ``1 - alpha / 2`` quantiles (numpy's default, linear) over the replicates.

    The resampling counts are drawn per distinct score level, not per case, and only where the
    grid reads them (:func:`band_block`): O(g log nl) binomial draws a replicate for ``g`` grid
    points and ``nl`` distinct scores, memory O(``BAND_BLOCK`` g), whatever the number of
    cases. Replicates come in blocks of :data:`BAND_BLOCK`, each with its own generator spawned
    from ``SeedSequence(seed)`` by block number, so the numbers do not depend on where or in
    which order the blocks run. (Before December 2026 the band drew case-level multinomials
    from ``default_rng(seed)``: same distribution, other random numbers.)

    Small samples: the percentile band of a discrete statistic moves in steps of ``1 / n1``; with
    few positives it is conservative and ragged, as pROC's.

    References
    ----------
    Robin X et al. (2011) doi:10.1186/1471-2105-12-77 (``ci.se``); Fawcett T (2006)
    doi:10.1016/j.patrec.2005.10.010; Macskassy SA, Provost F (2005) doi:10.1145/1102351.1102419.
    """
    t = check_binary_truth(truth)
    s = check_scores(score, t.size)
    check_two_classes(t)
    a = check_alpha(alpha)
    b = check_count(n_boot, "n_boot", minimum=1)
    sd = check_count(seed, "seed")
    if fpr_grid is None:
        grid = np.linspace(0.0, 1.0, 51)
    else:
        try:
            grid = np.asarray(fpr_grid, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise InputError(f"'fpr_grid' must be numbers in [0, 1]; got {fpr_grid!r}.") from None
        if grid.size == 0 or not np.all(np.isfinite(grid)) or grid.min() < 0 or grid.max() > 1:
            raise InputError(f"'fpr_grid' must be numbers in [0, 1]; got {fpr_grid!r}.")
    d = _prepare(t, s, grid)
    blocks = _blocks(b)
    if map_blocks is None:
        parts = []
        done = 0
        for i, c in blocks:
            parts.append(band_block(d, sd, i, c))
            done += c
            if progress is not None:
                progress(done, b)
    else:
        parts = list(map_blocks(band_block, d, sd, blocks))
    boot = np.concatenate(parts, axis=0)
    low, high = np.quantile(boot, [a / 2, 1 - a / 2], axis=0)
    return ROCBand(fpr=grid, tpr=_point(d), tpr_low=low, tpr_high=high, level=1 - a, n_boot=b, seed=sd,
                   method="stratified-bootstrap-percentile-se-at-sp",
                   references=(ROBIN_2011, FAWCETT_2006, MACSKASSY_2005))
