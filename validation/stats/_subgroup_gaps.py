"""Vectorised bootstrap of the largest gap between levels (private to subgroup consistency).

A resample is represented by how many copies of each case it holds, so every replicate's
per-level rates (and AUCs, from the counts of each (level, score) tie group) are weighted sums
computed for all replicates at once. The draws are those of
:func:`validation.stats.bootstrap.bootstrap_statistic` with the same seed, in the same order,
and the counts are whole numbers, so the replicates equal the per-replicate loop's exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from validation.stats.bootstrap import BootstrapResult


class _TieGroups:
    """The (level, score) tie groups of the full sample, in (level, score) order.

    A resample holds copies of the same cases, so its within-level ranks follow from how many
    copies of each group it holds: :meth:`auc` gives every level's Mann-Whitney AUC of a
    resample from counts alone (equal to :func:`_auc_levels` on the resampled arrays).
    """

    def __init__(self, codes: NDArray[np.intp], score: NDArray[np.float64], k: int) -> None:
        order = np.lexsort((score, codes))
        c, sc = codes[order], score[order]
        new = np.ones(c.size, dtype=bool)
        new[1:] = (c[1:] != c[:-1]) | (sc[1:] != sc[:-1])
        self.ids = np.empty(c.size, dtype=np.intp)
        self.ids[order] = np.cumsum(new) - 1
        self.level = c[new]  # level of each group, non-decreasing
        self.n_groups = int(new.sum())
        self.k = k
        self.first = np.searchsorted(self.level, np.arange(k))  # first group of each level

    def auc(self, truth: NDArray[np.int8], ids: NDArray[np.intp]) -> NDArray[np.float64]:
        g = self.n_groups
        size = np.bincount(ids, minlength=g).astype(np.float64)
        pos = np.bincount(ids, weights=truth.astype(np.float64), minlength=g).astype(np.float64)
        return self.auc_counts(size[None, :], pos[None, :])[0]

    def auc_counts(self, size: NDArray[np.float64], pos: NDArray[np.float64]) -> NDArray[np.float64]:
        """AUC of every level for each row of group counts (rows: resamples; cases, positives)."""
        before = np.cumsum(size, axis=1) - size
        total = before[:, -1:] + size[:, -1:]
        start = np.concatenate([before, total], axis=1)[:, np.minimum(self.first, self.n_groups)]
        rank = before - start[:, self.level] + (size + 1.0) / 2.0
        onehot = np.zeros((self.n_groups, self.k))
        onehot[np.arange(self.n_groups), self.level] = 1.0
        n1 = pos @ onehot
        n0 = size @ onehot - n1
        r1 = (pos * rank) @ onehot
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((n1 > 0) & (n0 > 0), (r1 - n1 * (n1 + 1) / 2.0) / (n1 * n0), np.nan)


@dataclass(frozen=True, slots=True)
class _RawGap:
    """Every replicate of one gap, undefined ones (NaN) kept, in draw order."""

    estimate: float
    reps: NDArray[np.float64]
    resampling: str
    n_clusters: int | None
    seed: int
    alpha: float


def _finish_gap(raw: _RawGap) -> BootstrapResult:
    """The percentile interval of a gap's replicates (undefined replicates dropped, warned)."""
    from validation.stats.bootstrap import _finish

    return _finish(raw.reps, raw.estimate, alpha=raw.alpha, interval="percentile",
                   resampling=raw.resampling, seed=raw.seed, jackknife=None, references=(),
                   n_clusters=raw.n_clusters)


def _larger_of(a: _RawGap, b: _RawGap) -> _RawGap:
    """The replicate-wise larger of two gaps drawn from the same resamples (same seed, same
    strata or clusters): the equalized-odds difference of every replicate. A replicate in which
    either gap is undefined is undefined."""
    if a.reps.shape != b.reps.shape or a.seed != b.seed or a.resampling != b.resampling:
        raise TypeError("internal: the two gaps must come from the same resamples")
    reps = np.where(np.isfinite(a.reps) & np.isfinite(b.reps), np.maximum(a.reps, b.reps), np.nan)
    return _RawGap(estimate=max(a.estimate, b.estimate), reps=reps, resampling=a.resampling,
                   n_clusters=a.n_clusters, seed=a.seed, alpha=a.alpha)


def _gap_replicates(
    endpoint: str, oka: NDArray[np.intp], y: NDArray[np.int8], c: NDArray[np.int8],
    codes: NDArray[np.intp], k: int, ties: _TieGroups | None, *, cluster: NDArray[np.intp] | None,
    strata: NDArray[np.intp] | None, n_boot: int, seed: int | None, alpha: float,
) -> _RawGap:
    """Every replicate of the max-minus-min gap, computed at once.

    The resamples are those of :func:`~validation.stats.bootstrap.bootstrap_statistic` with the
    same seed (the same draws, in the same order); a replicate is the resampled cases' counts,
    so each level's rate (or AUC, from tie-group counts) is a weighted sum of the cases. Counts
    are whole numbers, so the replicates equal those of the per-replicate loop exactly.
    """
    from validation.stats.bootstrap import _clusters, _common, _counts, _draws, _groups

    nb, sd, a = _common(n_boot, seed, alpha, "percentile")
    n = y.size
    if endpoint == "auc":
        if ties is None:
            raise TypeError("internal: the AUC gap needs the tie groups")
        order = np.argsort(ties.ids, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(ties.ids[order]) != 0])
        yo = y[order].astype(np.float64)
    else:
        cls = 1 if endpoint == "sensitivity" else 0
        sel = y == cls
        den = np.zeros((n, k))
        den[np.flatnonzero(sel), codes[sel]] = 1.0
        num = den * (c == cls)[:, None]

    def gaps(w: NDArray[np.float64]) -> NDArray[np.float64]:
        if endpoint == "auc":
            wo = w[:, order]
            vals = ties.auc_counts(np.add.reduceat(wo, starts, axis=1),  # type: ignore[union-attr]
                                   np.add.reduceat(wo * yo, starts, axis=1))
        else:
            d = w @ den
            with np.errstate(divide="ignore", invalid="ignore"):
                vals = np.where(d > 0, (w @ num) / np.where(d > 0, d, 1.0), np.nan)
        v = vals[:, oka]
        out = v.max(axis=1) - v.min(axis=1)
        return np.where(np.all(np.isfinite(v), axis=1), out, np.nan)

    rng = np.random.default_rng(sd)
    reps: list[NDArray[np.float64]] = []
    if cluster is None:
        groups = _groups(strata, n)
        for block in _draws(rng, [g.size for g in groups], nb):
            w = np.zeros((block[0].shape[0], n))
            for g, d in zip(groups, block, strict=True):
                w[:, g] = _counts(d, g.size)
            reps.append(gaps(w))
        resampling, n_clusters = ("stratified" if strata is not None else "simple"), None
    else:
        cc, n_clusters = _clusters(cluster, n)
        for (draw,) in _draws(rng, (n_clusters,), nb):
            reps.append(gaps(_counts(draw, n_clusters)[:, cc]))
        resampling = "cluster"
    est = float(gaps(np.ones((1, n)))[0])
    return _RawGap(estimate=est, reps=np.concatenate(reps), resampling=resampling,
                   n_clusters=n_clusters, seed=sd, alpha=a)
