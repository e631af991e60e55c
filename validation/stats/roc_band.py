"""Pointwise bootstrap confidence band of sensitivity at fixed false-positive rates.

For every false-positive rate ``f`` of a grid (specificity ``1 - f``) the band is the stratified
(cases resampled within each truth class) bootstrap percentile interval of the sensitivity,
as pROC's ``ci.se`` does (Robin et al. 2011). Sensitivity at a false-positive rate ``f`` is read
from the empirical ROC curve (Fawcett 2006) joined by straight segments: where the curve has a
vertical segment at ``f`` the highest sensitivity there is taken; between two curve points the
value is interpolated linearly. The band is pointwise, not simultaneous (Macskassy & Provost 2005).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


#: Working memory (bytes) of one block of bootstrap replicates; blocks are sized to it.
ROC_BAND_MEMORY_BYTES = 256 * 2**20


def _block_size(n: int, budget: int) -> int:
    """Replicates per block: about three int64 arrays of (block, n + 1) fit in ``budget``."""
    return max(1, budget // (24 * (n + 2)))


class _Side:
    """One truth class: case levels sorted, and where each level's run of cases starts."""

    def __init__(self, levels: NDArray[np.intp], nl: int) -> None:
        self.n = levels.size
        self.p = np.full(self.n, 1.0 / self.n)  # the probabilities numpy's multinomial was given
        # cases (in level order) before level k, for k = 0..nl
        self.before = np.searchsorted(levels, np.arange(nl + 1), side="left")
        self.level_after = np.append(levels, nl)  # the level reached once m cases are counted

    def cumulative(self, counts: NDArray[np.int64]) -> NDArray[np.int64]:
        """Counts cumulated along the cases in place: column m holds cases 0..m."""
        return np.cumsum(counts, axis=1, out=counts)

    def at(self, cum: NDArray[np.int64], rows: NDArray[np.intp], k: NDArray[np.intp]) -> NDArray[np.float64]:
        """Cumulative count up to (not including) level ``k`` in each row, as float64."""
        m = self.before[k]
        out = cum[rows, np.maximum(m - 1, 0)].astype(np.float64)
        out[m == 0] = 0.0
        return out


def _block_tpr(cn: NDArray[np.int64], cp: NDArray[np.int64], neg: _Side, pos: _Side, nl: int,
               x: NDArray[np.float64], first: int) -> NDArray[np.float64]:
    """Sensitivity at the grid counts ``x`` for one block of replicates (rows ``first``...).

    Reads the same curve points as interpolating on the full (rows, levels) cumulative count
    matrices would, without building them: the last level whose false-positive count is at most
    ``x`` is the level of the first negative case past the count. The search value of row ``r``
    is ``(x + r (n0 + 1)) - r (n0 + 1)``, exactly what the former single search over all rows,
    offset by ``r (n0 + 1)``, compared against, so results are bit-identical to it.
    """
    rows = cn.shape[0]
    n0 = neg.n
    r = np.arange(rows)[:, None]
    off = (np.arange(first, first + rows, dtype=np.float64) * (n0 + 1.0))[:, None]
    q = np.floor((x[None, :] + off) - off).astype(np.int64)  # counts are integers: fp <= x iff fp <= q
    fcum = neg.cumulative(cn)
    loc = (np.arange(rows, dtype=np.int64) * (n0 + 1))[:, None]
    fcum += loc  # rows laid end to end, one search for the block
    m = np.searchsorted(fcum.ravel(), (q + loc).ravel(), side="right").reshape(rows, x.size)
    fcum -= loc
    m -= (np.arange(rows) * n0)[:, None]  # negatives counted in each row's cumulative at x
    j = neg.level_after[m]  # last level with fp <= x
    j1 = np.minimum(j + 1, nl)
    tcum = pos.cumulative(cp)
    f0, f1 = neg.at(fcum, r, j), neg.at(fcum, r, j1)
    t0, t1 = pos.at(tcum, r, j), pos.at(tcum, r, j1)
    w = np.where(f1 > f0, (x[None, :] - f0) / np.where(f1 > f0, f1 - f0, 1.0), 0.0)
    return np.asarray((t0 + w * (t1 - t0)) / pos.n, dtype=np.float64)


def _blocks(b: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(size, b - s)) for s in range(0, b, size)]


def roc_sensitivity_band(truth: Any, score: Any, *, fpr_grid: Any = None, alpha: float = 0.05,
                         n_boot: int = 2000, seed: int = 0, memory_bytes: int | None = None,
                         progress: Callable[[int, int], None] | None = None) -> ROCBand:
    """Stratified bootstrap percentile band of sensitivity at fixed specificities.

    Parameters
    ----------
    truth : array of shape (n,), 0/1, both classes present
    score : array of shape (n,), finite; higher means more likely positive
    fpr_grid : array of false-positive rates in [0, 1]; default 0, 0.02, ..., 1
    alpha : float; the band has level ``1 - alpha``
    n_boot : int >= 1, bootstrap replicates
    seed : int, seed of ``numpy.random.default_rng``
    memory_bytes : int, optional; working memory of one block of replicates (default
        :data:`ROC_BAND_MEMORY_BYTES`). It changes speed and memory, never the result.
    progress : callable ``(done, total)``, optional; told after each block of each of the two
        passes over the replicates (``total = 2 n_boot``).

    Returns
    -------
    ROCBand

    Notes
    -----
    Replicate ``i`` resamples the positives with row ``i`` of
    ``rng.multinomial(n1, [1/n1] * n1, size=n_boot)`` and then the negatives with row ``i`` of
    the same call for ``n0``, ``rng = numpy.random.default_rng(seed)``. The replicates are
    processed in blocks whose working memory is about ``memory_bytes`` (never replicates x cases):
    the positives' draws of a block are kept (one byte a count) when all of them fit in the
    budget, otherwise drawn again from the generator state recorded at the block's start, so the
    random stream, and every number, is the same for any block size. Time is O(n_boot n) for the
    draws and cumulative counts plus O(n_boot g log n) for the grid of ``g`` points.

    References
    ----------
    Robin X et al. (2011) doi:10.1186/1471-2105-12-77 (``ci.se``); Fawcett T (2006)
    doi:10.1016/j.patrec.2005.10.010; Macskassy SA, Provost F (2005) doi:10.1145/1102351.1102419.
    """
    t = check_binary_truth(truth)
    s = check_scores(score, t.size)
    n_pos, n_neg = check_two_classes(t)
    a = check_alpha(alpha)
    b = check_count(n_boot, "n_boot", minimum=1)
    sd = check_count(seed, "seed")
    budget = ROC_BAND_MEMORY_BYTES if memory_bytes is None else check_count(
        memory_bytes, "memory_bytes", minimum=1)
    if fpr_grid is None:
        grid = np.linspace(0.0, 1.0, 51)
    else:
        try:
            grid = np.asarray(fpr_grid, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise InputError(f"'fpr_grid' must be numbers in [0, 1]; got {fpr_grid!r}.") from None
        if grid.size == 0 or not np.all(np.isfinite(grid)) or grid.min() < 0 or grid.max() > 1:
            raise InputError(f"'fpr_grid' must be numbers in [0, 1]; got {fpr_grid!r}.")
    levels, inv = np.unique(-s, return_inverse=True)  # level 0 = highest score
    nl = levels.size
    is_pos = t == 1
    # canonical order: the result ignores case order
    pos, neg = _Side(np.sort(inv[is_pos]), nl), _Side(np.sort(inv[~is_pos]), nl)
    del levels, inv
    x = grid * n_neg
    xr = np.round(x)
    x = np.where(np.abs(x - xr) < 1e-9, xr, x)  # exact count matches despite float grid
    tpr = _block_tpr(np.ones((1, n_neg), np.int64), np.ones((1, n_pos), np.int64), neg, pos, nl, x, 0)[0]

    blocks = _blocks(b, _block_size(t.size, budget))
    rng = np.random.default_rng(sd)
    # Pass over the positives' draws (they come first in the stream): record each block's
    # generator state, and keep the draws as bytes while all of them fit in the budget.
    keep = b * n_pos <= budget // 2
    states: list[Mapping[str, Any]] = []
    kept: list[NDArray[np.uint8]] = []
    tell = progress or (lambda done, total: None)
    for first, c in blocks:
        states.append(rng.bit_generator.state)
        cp = rng.multinomial(n_pos, pos.p, size=c)
        if keep and int(cp.max()) <= 255:
            kept.append(cp.astype(np.uint8))
        else:
            keep, kept = False, []
        tell(first + c, 2 * b)
    boot = np.empty((b, grid.size))
    replay = np.random.Generator(type(rng.bit_generator)())
    for i, (first, c) in enumerate(blocks):
        cn = rng.multinomial(n_neg, neg.p, size=c)
        if keep:
            cp = kept[i].astype(np.int64)
            kept[i] = np.empty(0, np.uint8)
        else:
            replay.bit_generator.state = states[i]
            cp = replay.multinomial(n_pos, pos.p, size=c)
        boot[first:first + c] = _block_tpr(cn, cp, neg, pos, nl, x, first)
        del cn, cp
        tell(b + first + c, 2 * b)
    low, high = np.quantile(boot, [a / 2, 1 - a / 2], axis=0)
    return ROCBand(fpr=grid, tpr=tpr, tpr_low=low, tpr_high=high, level=1 - a, n_boot=b, seed=sd,
                   method="stratified-bootstrap-percentile-se-at-sp",
                   references=(ROBIN_2011, FAWCETT_2006, MACSKASSY_2005))
