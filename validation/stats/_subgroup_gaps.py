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
        # case-level view, for weights given in (level, score) order: each case's group's first
        # and one-past-last position, each level's first position
        self.order = order
        gfirst = np.flatnonzero(new)
        gid = np.cumsum(new) - 1
        self.case_first = gfirst[gid]
        self.case_end = np.r_[gfirst[1:], c.size][gid]
        self.tied = np.flatnonzero(self.case_end - self.case_first > 1)
        self.level_start = np.searchsorted(c, np.arange(k))
        self.every_level = bool(np.all(np.diff(np.r_[self.level_start, c.size]) > 0))

    def _by_level(self, a: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each row's sums over each level's groups (halves and whole numbers: exact)."""
        first = self.first
        if first.size and first[0] == 0 and np.all(np.diff(first) > 0) and first[-1] < self.n_groups:
            return np.add.reduceat(a, first, axis=1)
        onehot = np.zeros((self.n_groups, self.k))
        onehot[np.arange(self.n_groups), self.level] = 1.0
        return a @ onehot

    def auc_weights(self, w: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        r"""AUC of every level for each row of case weights ``w`` (rows: resamples), the cases
        in (level, score) order (``self.order``) and ``y`` their truth in that order.

        With :math:`C` the running sum of the negatives' weights (:math:`C_0 = 0`), a positive
        in a tie group spanning positions :math:`[a, b)` of a level starting at :math:`l` has
        :math:`C_a - C_l` negatives below it and :math:`C_b - C_a` tied, so it adds
        :math:`w\,\{(C_a + C_b)/2 - C_l\}` to the Mann-Whitney sum. One running sum and a few
        gathers, every term a whole number or a half (exact in any order). Every level must have
        cases (``every_level``).
        """
        wp = w * y
        wn = w - wp
        cx = np.zeros((w.shape[0], w.shape[1] + 1))
        np.cumsum(wn, axis=1, out=cx[:, 1:])
        # an untied case at position i is [i, i + 1): C_i = C_{i+1} for a positive, so it adds
        # w C_{i+1}; only the cases in tie groups need the gathers
        contrib = wp * cx[:, 1:]
        t = self.tied
        if t.size:
            contrib[:, t] = wp[:, t] * ((cx[:, self.case_first[t]] + cx[:, self.case_end[t]]) / 2.0)
        ls = self.level_start
        n1 = np.add.reduceat(wp, ls, axis=1)
        n0 = np.add.reduceat(wn, ls, axis=1)
        num = np.add.reduceat(contrib, ls, axis=1) - n1 * cx[:, ls]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((n1 > 0) & (n0 > 0), num / (n1 * n0), np.nan)

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
        n1 = self._by_level(pos)
        n0 = self._by_level(size) - n1
        r1 = self._by_level(pos * rank)
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
    specs: dict[str, NDArray[np.intp]], y: NDArray[np.int8], c: NDArray[np.int8],
    codes: NDArray[np.intp], k: int, ties: _TieGroups | None, *, cluster: NDArray[np.intp] | None,
    strata: NDArray[np.intp] | None, n_boot: int, seed: int | None, alpha: float,
) -> dict[str, _RawGap]:
    """Every replicate of the max-minus-min gap of each endpoint in ``specs`` (endpoint: the
    compared levels), computed at once from the same resamples.

    The resamples are those of :func:`~validation.stats.bootstrap.bootstrap_statistic` with the
    same seed (the same draws, in the same order); a replicate is the resampled cases' counts,
    so each level's rate (or AUC, from tie-group counts) is a weighted sum of the cases. The
    draws are made once for all endpoints, and a cluster bootstrap's rates are summed per
    cluster first (a sparse cluster-by-level map), so the cost per replicate is that of the
    clusters, not of cases times levels. Counts are whole numbers and ranks halves, so every sum
    is exact in any order and the replicates equal those of the per-replicate loop exactly.
    """
    from scipy import sparse

    from validation.stats.bootstrap import _clusters, _common, _counts, _draws, _groups

    nb, sd, a = _common(n_boot, seed, alpha, "percentile")
    n = y.size
    if "auc" in specs and ties is None:
        raise TypeError("internal: the AUC gap needs the tie groups")
    if cluster is None:
        groups = _groups(strata, n)
        unit = np.arange(n)
        n_units, n_clusters = n, None
    else:
        unit, n_clusters = _clusters(cluster, n)
        n_units = n_clusters
    rates: dict[str, tuple[sparse.csr_matrix, sparse.csr_matrix]] = {}
    for endpoint in specs:
        if endpoint == "auc":
            continue
        cls = 1 if endpoint == "sensitivity" else 0
        sel = np.flatnonzero(y == cls)
        hit = (c[sel] == cls).astype(np.float64)
        den = sparse.csr_matrix((np.ones(sel.size), (unit[sel], codes[sel])), shape=(n_units, k))
        num = sparse.csr_matrix((hit, (unit[sel], codes[sel])), shape=(n_units, k))
        den.sum_duplicates()
        num.sum_duplicates()
        rates[endpoint] = (den.T.tocsr(), num.T.tocsr())
    if ties is not None and "auc" in specs:
        y_o = y[ties.order].astype(np.float64)
        unit_o = unit[ties.order]
        if not ties.every_level:
            raise TypeError("internal: every level of the factor must hold cases")

    def gaps(w: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
        """``w``: (replicates, units) resampling counts of the cases or clusters."""
        out: dict[str, NDArray[np.float64]] = {}
        for endpoint, oka in specs.items():
            if endpoint == "auc":
                vals = ties.auc_weights(np.take(w, unit_o, axis=1), y_o)  # type: ignore[union-attr]
            else:
                den_t, num_t = rates[endpoint]
                d = (den_t @ w.T).T
                with np.errstate(divide="ignore", invalid="ignore"):
                    vals = np.where(d > 0, (num_t @ w.T).T / np.where(d > 0, d, 1.0), np.nan)
            v = vals[:, oka]
            gap = v.max(axis=1) - v.min(axis=1)
            out[endpoint] = np.where(np.all(np.isfinite(v), axis=1), gap, np.nan)
        return out

    rng = np.random.default_rng(sd)
    reps: dict[str, list[NDArray[np.float64]]] = {e: [] for e in specs}
    if cluster is None:
        for block in _draws(rng, [g.size for g in groups], nb):
            w = np.zeros((block[0].shape[0], n))
            for g, d in zip(groups, block, strict=True):
                w[:, g] = _counts(d, g.size)
            for e, r in gaps(w).items():
                reps[e].append(r)
        resampling = "stratified" if strata is not None else "simple"
    else:
        for (draw,) in _draws(rng, (n_units,), nb):
            for e, r in gaps(_counts(draw, n_units)).items():
                reps[e].append(r)
        resampling = "cluster"
    est = gaps(np.ones((1, n_units)))
    return {e: _RawGap(estimate=float(est[e][0]), reps=np.concatenate(reps[e]),
                       resampling=resampling, n_clusters=n_clusters, seed=sd, alpha=a)
            for e in specs}
