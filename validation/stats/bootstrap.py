"""Seeded stratified and cluster bootstrap with percentile and BCa intervals.

Three entry points share one resampling scheme, so that the same seed draws the same
resamples whichever path computes the statistic:

* :func:`bootstrap_auc` -- empirical AUC, vectorised: the scores are sorted once; each
  replicate turns the draws of the smaller class into resampling counts (weights),
  accumulates them along the sorted scores and, for each drawn case of the other class, reads
  off how many drawn cases lie below it (ties one half) at a precomputed position. No
  replicate sorts or searches; the cost is O(n) per replicate.
* :func:`bootstrap_proportion` -- a proportion (sensitivity, specificity, ...), vectorised.
* :func:`bootstrap_statistic` -- any statistic of one or more aligned arrays; this generic
  path calls the statistic once per replicate in a Python loop (and once per left-out case or
  cluster for BCa), so it is slower.

Resampling schemes: ``stratified`` (cases are drawn with replacement within each stratum, e.g.
within positives and within negatives, keeping the class sizes fixed, as pROC's default),
``cluster`` (whole clusters -- patients or sites -- are drawn with replacement, with all their
findings), and ``simple`` (cases drawn with replacement from all cases).

Intervals: ``percentile`` (quantiles of the replicates, linear interpolation, R's type 7 as
pROC uses) and ``bca`` (bias-corrected and accelerated, Efron 1987; acceleration from the
jackknife, DiCiccio and Efron 1996).

References
----------
1. Efron B (1987). Better bootstrap confidence intervals. Journal of the American Statistical
   Association 82(397):171-185. doi:10.1080/01621459.1987.10478410
2. DiCiccio TJ, Efron B (1996). Bootstrap confidence intervals. Statistical Science
   11(3):189-228. doi:10.1214/ss/1032280214
3. Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall.
   doi:10.1007/978-1-4899-4541-9
4. Carpenter J, Bithell J (2000). Bootstrap confidence intervals: when, which, what? A
   practical guide for medical statisticians. Statistics in Medicine 19(9):1141-1164.
   doi:10.1002/(SICI)1097-0258(20000515)19:9<1141::AID-SIM479>3.0.CO;2-F
5. Field CA, Welsh AH (2007). Bootstrapping clustered data. Journal of the Royal Statistical
   Society B 69(3):369-390. doi:10.1111/j.1467-9868.2007.00593.x
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from validation.errors import InputError, SmallSampleWarning
from validation.stats._checks import (
    check_alpha,
    check_binary_truth,
    check_choice,
    check_count,
    check_scores,
    check_two_classes,
)
from validation.stats._result import Result, to_plain
from validation.stats.clustered import cluster_codes
from validation.stats.jackknife import auc_jackknife_cases, auc_jackknife_clusters
from validation.stats.placements import case_placements

EFRON_1987 = (
    "Efron B (1987). Better bootstrap confidence intervals. Journal of the American "
    "Statistical Association 82(397):171-185. doi:10.1080/01621459.1987.10478410"
)
DICICCIO_EFRON_1996 = (
    "DiCiccio TJ, Efron B (1996). Bootstrap confidence intervals. Statistical Science "
    "11(3):189-228. doi:10.1214/ss/1032280214"
)
EFRON_TIBSHIRANI_1993 = (
    "Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall. "
    "doi:10.1007/978-1-4899-4541-9"
)
FIELD_WELSH_2007 = (
    "Field CA, Welsh AH (2007). Bootstrapping clustered data. Journal of the Royal "
    "Statistical Society B 69(3):369-390. doi:10.1111/j.1467-9868.2007.00593.x"
)

INTERVALS = ("percentile", "bca")
_CELLS_PER_CHUNK = 2_000_000  # draws held in memory at once (int64: 16 MB)


@dataclass(frozen=True, slots=True, kw_only=True)
class BootstrapResult(Result):
    """A bootstrap estimate with its standard error and interval.

    ``estimate`` is the statistic on the original data; ``se`` the standard deviation of the
    replicates (ddof 1); ``n_boot`` the number of replicates used (replicates in which the
    statistic is undefined, e.g. a cluster resample without a positive case, are dropped and
    counted in ``n_dropped``). ``method`` is ``bootstrap-{resampling}-{interval}``.
    ``replicates`` holds the replicate values; it is left out of ``to_dict()``.
    """

    estimate: float
    se: float
    ci: tuple[float, float]
    n_boot: int
    seed: int
    alpha: float
    interval: str
    resampling: str
    method: str
    references: tuple[str, ...]
    n_dropped: int = 0
    n_clusters: int | None = None
    bias_correction: float | None = None
    acceleration: float | None = None
    replicates: NDArray[np.float64] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            f: to_plain(getattr(self, f))
            for f in self.__dataclass_fields__  # type: ignore[attr-defined]
            if f != "replicates"
        }


# ---------------------------------------------------------------------------------------------
# resampling (shared by all paths)
# ---------------------------------------------------------------------------------------------


def _seed(seed: int | None) -> int:
    if seed is None:
        entropy = np.random.SeedSequence().entropy
        return int(entropy) % (2**63)  # type: ignore[arg-type]
    return check_count(seed, "seed", minimum=0)


def _draws(
    rng: np.random.Generator, sizes: Sequence[int], n_boot: int
) -> Iterator[list[NDArray[np.int64]]]:
    """Yield blocks of draws: per block, one (chunk, size_s) array of positions per group."""
    total = max(1, sum(sizes))
    chunk = max(1, min(n_boot, _CELLS_PER_CHUNK // total))
    done = 0
    while done < n_boot:
        c = min(chunk, n_boot - done)
        # int64 (= intp) draws: they index arrays without a conversion copy
        yield [rng.integers(0, size, size=(c, size), dtype=np.int64) for size in sizes]
        done += c


def _counts(draws: NDArray[np.int64], size: int) -> NDArray[np.float64]:
    """Resampling counts (chunk, size) from draws (chunk, k) of positions in 0..size-1."""
    c = draws.shape[0]
    offset = (np.arange(c, dtype=np.int64) * size)[:, None]
    flat = np.bincount((draws + offset).ravel(), minlength=c * size)
    return flat.reshape(c, size).astype(np.float64)


def _clusters(cluster: Any, n: int) -> tuple[NDArray[np.intp], int]:
    codes, k = cluster_codes(cluster, n)
    if k < 2:
        raise InputError(
            f"'cluster' must contain at least two clusters to resample; got {k}. "
            "Without clustering, leave 'cluster' out."
        )
    return codes, k


def _groups(strata: Any, n: int) -> list[NDArray[np.intp]]:
    if strata is None:
        return [np.arange(n)]
    codes, k = cluster_codes(strata, n, name="strata")
    return [np.flatnonzero(codes == g) for g in range(k)]


# ---------------------------------------------------------------------------------------------
# intervals
# ---------------------------------------------------------------------------------------------


def _interval(
    reps: NDArray[np.float64],
    estimate: float,
    alpha: float,
    interval: str,
    jackknife: NDArray[np.float64] | None,
) -> tuple[tuple[float, float], float | None, float | None]:
    probs = np.array([alpha / 2.0, 1.0 - alpha / 2.0])
    if interval == "percentile":
        lo, hi = np.quantile(reps, probs)
        return (float(lo), float(hi)), None, None
    if jackknife is None:
        raise RuntimeError("BCa needs the jackknife values")
    # replicates within round-off of the estimate count as ties (one half each)
    eps = 1e-12 * max(1.0, abs(estimate))
    frac = (np.count_nonzero(reps < estimate - eps) + np.count_nonzero(reps <= estimate + eps)) / (
        2.0 * reps.size
    )
    if frac <= 0.0 or frac >= 1.0:
        raise InputError(
            "the BCa interval is undefined: every bootstrap replicate lies on one side of the "
            "estimate. Use interval='percentile'."
        )
    z0 = float(ndtri(frac))
    d = jackknife.mean() - jackknife
    denom = float(np.sum(d**2))
    acc = float(np.sum(d**3) / (6.0 * denom**1.5)) if denom > 0 else 0.0
    zq = ndtri(probs)
    adj = ndtr(z0 + (z0 + zq) / (1.0 - acc * (z0 + zq)))
    lo, hi = np.quantile(reps, adj)
    return (float(lo), float(hi)), z0, acc


def _finish(
    reps: NDArray[np.float64],
    estimate: float,
    *,
    alpha: float,
    interval: str,
    resampling: str,
    seed: int,
    jackknife: Callable[[], NDArray[np.float64]] | None,
    references: tuple[str, ...],
    n_clusters: int | None,
) -> BootstrapResult:
    ok = np.isfinite(reps)
    n_dropped = int(reps.size - np.count_nonzero(ok))
    if n_dropped:
        reps = reps[ok]
        if reps.size < 2:
            raise InputError(
                "the statistic is undefined in almost every bootstrap replicate "
                f"({n_dropped} of {n_dropped + reps.size}); there are too few clusters."
            )
        warnings.warn(
            f"{n_dropped} bootstrap replicates had an undefined statistic (e.g. no positive "
            "case in the resample) and were dropped.",
            SmallSampleWarning,
            stacklevel=3,
        )
    jk = jackknife() if interval == "bca" and jackknife is not None else None
    ci, z0, acc = _interval(reps, estimate, alpha, interval, jk)
    refs: tuple[str, ...] = (EFRON_1987, DICICCIO_EFRON_1996, EFRON_TIBSHIRANI_1993)
    if resampling == "cluster":
        refs = (*refs, FIELD_WELSH_2007)
    return BootstrapResult(
        estimate=float(estimate),
        se=float(reps.std(ddof=1)),
        ci=ci,
        n_boot=int(reps.size),
        seed=seed,
        alpha=alpha,
        interval=interval,
        resampling=resampling,
        method=f"bootstrap-{resampling}-{interval}",
        references=(*references, *refs),
        n_dropped=n_dropped,
        n_clusters=n_clusters,
        bias_correction=z0,
        acceleration=acc,
        replicates=reps,
    )


def _common(n_boot: int, seed: int | None, alpha: float, interval: str) -> tuple[int, int, float]:
    nb = check_count(n_boot, "n_boot", minimum=2)
    check_choice(interval, "interval", INTERVALS)
    return nb, _seed(seed), check_alpha(alpha)


# ---------------------------------------------------------------------------------------------
# AUC (vectorised)
# ---------------------------------------------------------------------------------------------


def bootstrap_auc(
    truth: Any,
    score: Any,
    *,
    cluster: Any = None,
    n_boot: int = 2000,
    seed: int | None = None,
    alpha: float = 0.05,
    interval: str = "percentile",
) -> BootstrapResult:
    """Bootstrap interval of the empirical AUC (stratified by truth, or by cluster).

    Without ``cluster``, positives and negatives are resampled separately (stratified
    bootstrap, class sizes fixed). With ``cluster``, whole clusters are resampled; replicates
    that lack a class are dropped (with a :class:`SmallSampleWarning`).

    Parameters
    ----------
    truth : array of shape (n,), 0/1
    score : array of shape (n,), finite; higher means more likely positive
    cluster : array of shape (n,), optional; patient or site id of each finding
    n_boot : int, replicates (>= 2)
    seed : int, optional; a fresh seed is drawn and recorded when omitted
    alpha : float, the interval has coverage ``1 - alpha``
    interval : {"percentile", "bca"}

    Returns
    -------
    BootstrapResult

    Notes
    -----
    Each replicate costs O(n): the resampling counts of the smaller class are accumulated
    along its sorted scores, and each drawn case of the other class reads its count of cases
    below (ties one half) at a position found once before the replicates. Within each class a
    draw picks a rank of the stably sorted scores uniformly, which is the ordinary bootstrap
    (the labelling of cases does not change the distribution). BCa uses the closed-form
    jackknife of the AUC (leave one case, or one cluster, out).

    References
    ----------
    Efron (1987) doi:10.1080/01621459.1987.10478410; DiCiccio and Efron (1996)
    doi:10.1214/ss/1032280214; Field and Welsh (2007) doi:10.1111/j.1467-9868.2007.00593.x.
    """
    nb, sd, a = _common(n_boot, seed, alpha, interval)
    t = check_binary_truth(truth)
    s = check_scores(score, t.size)
    n1, n0 = check_two_classes(t)
    pos = t.astype(bool)
    pl, auc = case_placements(pos, s, n1, n0)
    rng = np.random.default_rng(sd)

    neg_idx = np.flatnonzero(~pos)
    pos_idx = np.flatnonzero(pos)
    # the negatives in score order (stable), and each positive's run of tied negatives
    neg_order = np.argsort(s[neg_idx], kind="stable")
    neg_sorted = s[neg_idx][neg_order]
    lo = np.searchsorted(neg_sorted, s[pos_idx], side="left")
    hi = np.searchsorted(neg_sorted, s[pos_idx], side="right")
    ties = bool(np.any(lo != hi))

    reps = np.empty(nb)
    done = 0
    if cluster is None:
        # Each class's cases are indexed by the rank of their score (stable order); a draw
        # picks a rank uniformly within its class. The smaller class ("counted") is turned into
        # counts and accumulated along its sorted scores; for each drawn case of the other
        # class, the number of drawn counted cases below it (ties one half) is read off at its
        # precomputed position. No sort, no search per replicate.
        pos_sorted = np.sort(s[pos_idx], kind="stable")
        count_pos = n1 <= n0
        counted, other = (pos_sorted, neg_sorted) if count_pos else (neg_sorted, pos_sorted)
        n_count = counted.size
        lt = np.searchsorted(counted, other, side="left")
        le = np.searchsorted(counted, other, side="right")
        tied = bool(np.any(lt != le))
        cum = np.zeros(n_count + 1, dtype=np.int64)
        scale = (0.5 if tied else 1.0) / (n1 * n0)
        # preallocated buffers: np.take into them avoids two large allocations per replicate
        at = np.empty(other.size, dtype=np.int64)
        below = np.empty(other.size, dtype=np.int64)
        for neg_draw, pos_draw in _draws(rng, (n0, n1), nb):
            c_draw, o_draw = (pos_draw, neg_draw) if count_pos else (neg_draw, pos_draw)
            for r in range(c_draw.shape[0]):
                np.cumsum(np.bincount(c_draw[r], minlength=n_count), out=cum[1:])
                np.take(lt, o_draw[r], out=at)
                total = int(np.take(cum, at, out=below).sum())
                if tied:
                    np.take(le, o_draw[r], out=at)
                    total += int(np.take(cum, at, out=below).sum())
                reps[done] = total * scale
                done += 1
        if count_pos:  # 'below' counted positives under negatives: 1 - AUC
            reps = 1.0 - reps
        jack: Callable[[], NDArray[np.float64]] = lambda: auc_jackknife_cases(pos, pl, auc)  # noqa: E731
        n_clusters = None
        resampling = "stratified"
    else:
        codes, n_clusters = _clusters(cluster, t.size)
        neg_codes_sorted = codes[neg_idx][neg_order]
        pos_codes = codes[pos_idx]
        m_c = np.bincount(pos_codes, minlength=n_clusters).astype(np.float64)
        n_c = np.bincount(codes[neg_idx], minlength=n_clusters).astype(np.float64)
        half = 0.5 if ties else 1.0
        # Case weights are the resampling counts of their clusters (integers held exactly in
        # float64); buffers are reused across replicates.
        fz = np.zeros(n0 + 1)
        wneg = np.empty(n0)
        wpos = np.empty(n1)
        g = np.empty(n1)
        g2 = np.empty(n1)
        for (draw,) in _draws(rng, (n_clusters,), nb):
            for r in range(draw.shape[0]):
                cc = np.bincount(draw[r], minlength=n_clusters).astype(np.float64)
                np.cumsum(np.take(cc, neg_codes_sorted, out=wneg), out=fz[1:])
                np.take(fz, lo, out=g)
                if ties:
                    g += np.take(fz, hi, out=g2)
                den = float(cc @ m_c) * float(cc @ n_c)
                num = float(g @ np.take(cc, pos_codes, out=wpos))
                reps[done] = half * num / den if den > 0 else np.nan
                done += 1
        jack = lambda: auc_jackknife_clusters(pos, s, pl, codes, n_clusters, auc)  # noqa: E731
        resampling = "cluster"
    return _finish(
        reps, auc, alpha=a, interval=interval, resampling=resampling, seed=sd,
        jackknife=jack, references=(), n_clusters=n_clusters,
    )


# ---------------------------------------------------------------------------------------------
# proportion (vectorised)
# ---------------------------------------------------------------------------------------------


def bootstrap_proportion(
    outcome: Any,
    *,
    cluster: Any = None,
    n_boot: int = 2000,
    seed: int | None = None,
    alpha: float = 0.05,
    interval: str = "percentile",
) -> BootstrapResult:
    """Bootstrap interval of a proportion, by case or by cluster.

    Parameters
    ----------
    outcome : array of shape (n,), 0/1
        One entry per case in the proportion's denominator (e.g. for sensitivity: 1 if a
        positive case was called positive).
    cluster : array of shape (n,), optional
        Patient or site id; whole clusters are resampled (the ratio estimator
        ``sum(x_c) / sum(n_c)`` is computed in each replicate).
    n_boot, seed, alpha, interval : as in :func:`bootstrap_auc`

    Returns
    -------
    BootstrapResult
    """
    nb, sd, a = _common(n_boot, seed, alpha, interval)
    y = check_binary_truth(outcome, name="outcome").astype(np.float64)
    n = y.size
    est = float(y.mean())
    rng = np.random.default_rng(sd)
    reps = np.empty(nb)
    done = 0
    if cluster is None:
        for (draw,) in _draws(rng, (n,), nb):
            c = draw.shape[0]
            reps[done : done + c] = y[draw].mean(axis=1)
            done += c
        total = y.sum()
        jack: Callable[[], NDArray[np.float64]] = lambda: (total - y) / (n - 1)  # noqa: E731
        n_clusters = None
        resampling = "simple"
    else:
        codes, n_clusters = _clusters(cluster, n)
        x_c = np.bincount(codes, weights=y, minlength=n_clusters)
        n_c = np.bincount(codes, minlength=n_clusters).astype(np.float64)
        for (draw,) in _draws(rng, (n_clusters,), nb):
            c = draw.shape[0]
            cc = _counts(draw, n_clusters)
            reps[done : done + c] = (cc @ x_c) / (cc @ n_c)
            done += c
        jack = lambda: (x_c.sum() - x_c) / (n - n_c)  # noqa: E731
        resampling = "cluster"
    return _finish(
        reps, est, alpha=a, interval=interval, resampling=resampling, seed=sd,
        jackknife=jack, references=(), n_clusters=n_clusters,
    )


# ---------------------------------------------------------------------------------------------
# generic statistic (loops)
# ---------------------------------------------------------------------------------------------


def bootstrap_statistic(
    statistic: Callable[..., float],
    *arrays: Any,
    strata: Any = None,
    cluster: Any = None,
    n_boot: int = 2000,
    seed: int | None = None,
    alpha: float = 0.05,
    interval: str = "percentile",
) -> BootstrapResult:
    """Bootstrap interval of any statistic of one or more aligned arrays.

    ``statistic(*resampled_arrays) -> float`` is called once per replicate (a Python loop;
    use :func:`bootstrap_auc` or :func:`bootstrap_proportion` for the vectorised paths) and,
    for BCa, once per left-out case or cluster (jackknife).

    Parameters
    ----------
    statistic : callable
        Takes the arrays (each indexed by the resampled case positions) and returns a number;
        it may return NaN for an undefined replicate (dropped and counted).
    *arrays : arrays of shape (n, ...), aligned by case
    strata : array of shape (n,), optional
        Resample within each stratum (e.g. the truth, to keep class sizes fixed).
    cluster : array of shape (n,), optional
        Resample whole clusters (patients, sites). Not combined with ``strata``.
    n_boot, seed, alpha, interval : as in :func:`bootstrap_auc`

    Returns
    -------
    BootstrapResult

    Notes
    -----
    With ``cluster`` and the same seed, the resamples are those of :func:`bootstrap_auc` and
    :func:`bootstrap_proportion` (the cluster draws are shared).
    """
    if not callable(statistic):
        raise InputError(f"'statistic' must be a callable; got {statistic!r}.")
    if not arrays:
        raise InputError("'arrays' must hold at least one array to resample; got none.")
    nb, sd, a = _common(n_boot, seed, alpha, interval)
    data = [np.asarray(x) for x in arrays]
    n = data[0].shape[0] if data[0].ndim else 0
    if n < 2:
        raise InputError(f"'arrays' must hold at least two cases; got {n}.")
    for i, x in enumerate(data):
        if x.ndim == 0 or x.shape[0] != n:
            raise InputError(
                f"'arrays[{i}]' must have the same number of cases as arrays[0] ({n}); "
                f"got shape {x.shape}."
            )
    if strata is not None and cluster is not None:
        raise InputError("'strata' and 'cluster' cannot both be given; choose one scheme.")

    def call(idx: NDArray[np.intp]) -> float:
        return float(statistic(*(x[idx] for x in data)))

    est = call(np.arange(n))
    rng = np.random.default_rng(sd)
    reps = np.empty(nb)
    k = 0
    if cluster is None:
        groups = _groups(strata, n)
        for block in _draws(rng, [g.size for g in groups], nb):
            for r in range(block[0].shape[0]):
                idx = np.concatenate([g[d[r]] for g, d in zip(groups, block, strict=True)])
                reps[k] = call(idx)
                k += 1

        def jack() -> NDArray[np.float64]:
            keep = np.ones(n, dtype=bool)
            out = np.empty(n)
            for i in range(n):
                keep[i] = False
                out[i] = call(np.flatnonzero(keep))
                keep[i] = True
            return out

        n_clusters = None
        resampling = "stratified" if strata is not None else "simple"
    else:
        codes, n_clusters = _clusters(cluster, n)
        members = [np.flatnonzero(codes == c) for c in range(n_clusters)]
        for (draw,) in _draws(rng, (n_clusters,), nb):
            for r in range(draw.shape[0]):
                reps[k] = call(np.concatenate([members[c] for c in draw[r]]))
                k += 1

        def jack() -> NDArray[np.float64]:
            return np.array([call(np.flatnonzero(codes != c)) for c in range(n_clusters)])

        resampling = "cluster"
    return _finish(
        reps, est, alpha=a, interval=interval, resampling=resampling, seed=sd,
        jackknife=jack, references=(), n_clusters=n_clusters,
    )
