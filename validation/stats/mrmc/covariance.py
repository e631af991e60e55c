"""Reader figures of merit and the covariance of their estimates across cases.

For a fully crossed study, ``fom[i, j]`` is reader ``j``'s figure of merit in modality ``i``,
and the ``(t*r, t*r)`` covariance matrix (row ``i*r + j``) describes the case-sampling
variability that the Obuchowski-Rockette model needs. Three estimators:

* ``jackknife`` (default): leave one case out. For the empirical AUC each leave-one-out AUC
  follows in O(1) from DeLong placement values: removing positive ``i`` gives
  ``(m*AUC - V10_i)/(m-1)``, removing negative ``j`` gives ``(n*AUC - V01_j)/(n-1)``, so the
  whole jackknife costs one sort per reader-modality.
* ``delong``: ``S10/m + S01/n`` from the placement values (DeLong et al. 1988).
* ``bootstrap``: cases resampled within truth class, seeded; covariance of the replicate
  figures of merit.

For binary endpoints (sensitivity, specificity from an explicit decision column) only the cases
that define the figure of merit enter the jackknife and the bootstrap (diseased cases for
sensitivity, non-diseased for specificity), as in MRMCaov.

References
----------
1. Efron B (1981). Nonparametric estimates of standard error: the jackknife, the bootstrap
   and other methods. Biometrika 68(3):589-599. doi:10.1093/biomet/68.3.589
2. DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
   correlated ROC curves: a nonparametric approach. Biometrics 44(3):837-845.
   doi:10.2307/2531595
3. Hillis SL, Obuchowski NA, Schartz KM, Berbaum KS (2005). A comparison of the
   Dorfman-Berbaum-Metz and Obuchowski-Rockette methods for receiver operating characteristic
   (ROC) data. Stat Med 24(10):1579-1607. doi:10.1002/sim.2024
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from validation.constants import DEFAULT_SEED
from validation.errors import InputError
from validation.stats._checks import check_choice, check_count
from validation.stats.placements import placement_values

ENDPOINTS = ("auc", "sensitivity", "specificity")
COVARIANCES = ("jackknife", "delong", "bootstrap")

FigureOfMerit = Callable[[NDArray[np.int8], NDArray[np.float64]], float]


@dataclass(frozen=True, slots=True)
class FomCovariance:
    """Figures of merit, their covariance and the leave-one-case-out values behind it.

    ``fom`` has shape (t, r); ``cov`` (t*r, t*r); ``jackknife`` (t*r, n_used) holds the
    leave-one-out figures of merit over the ``n_used`` cases that define the figure of merit
    (``None`` for DeLong and bootstrap, whose covariance does not come from them).
    """

    fom: NDArray[np.float64]
    cov: NDArray[np.float64]
    jackknife: NDArray[np.float64] | None
    n_cases_used: int


def _auc_rows(truth: NDArray[np.int8], ratings: NDArray[np.float64]) -> NDArray[np.float64]:
    """Empirical AUC (ties one half) of each row of ``ratings`` (shape (..., c))."""
    pos = truth == 1
    m = int(pos.sum())
    n = truth.size - m
    ranks = rankdata(ratings, axis=-1, method="average")
    return (ranks[..., pos].sum(axis=-1) - m * (m + 1) / 2.0) / (m * n)


def _check_decisions(flat: NDArray[np.float64]) -> None:
    if not np.isin(flat, (0.0, 1.0)).all():
        bad = flat[~np.isin(flat, (0.0, 1.0))][0]
        raise InputError(
            f"'rating' must be a binary decision (0 or 1) for sensitivity and specificity; "
            f"got {bad!r}. Pass the readers' explicit decision column, not thresholded "
            "confidence ratings."
        )


def fom_covariance(
    ratings: NDArray[np.float64],
    truth: NDArray[np.int8],
    *,
    endpoint: str | FigureOfMerit = "auc",
    covariance: str = "jackknife",
    n_bootstrap: int = 2000,
    seed: int | None = DEFAULT_SEED,
) -> FomCovariance:
    """Reader figures of merit and their case-sampling covariance.

    Parameters
    ----------
    ratings : array of shape (t, r, c); higher means more likely diseased (for sensitivity and
        specificity: the 0/1 decision).
    truth : array of shape (c,), 1 = diseased.
    endpoint : "auc" (empirical, trapezoidal), "sensitivity", "specificity", or a callable
        ``fom(truth, rating) -> float`` (jackknife and bootstrap then recompute it per case
        left out or per replicate).
    covariance : "jackknife", "delong" (AUC only) or "bootstrap".
    n_bootstrap, seed : bootstrap replicates and seed.

    Returns
    -------
    FomCovariance
    """
    ratings = np.asarray(ratings, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.int8)
    if ratings.ndim != 3 or ratings.shape[2] != truth.size:
        raise InputError(f"'ratings' must have shape (t, r, {truth.size}); got {ratings.shape}.")
    check_choice(covariance, "covariance", COVARIANCES)
    if not callable(endpoint):
        check_choice(endpoint, "endpoint", ENDPOINTS)
    t, r, c = ratings.shape
    flat = ratings.reshape(t * r, c)
    pos = truth == 1

    if endpoint == "auc":
        v10 = np.empty((t * r, int(pos.sum())))
        v01 = np.empty((t * r, int((~pos).sum())))
        for row in range(t * r):
            v10[row], v01[row] = placement_values(truth, flat[row])
        m, n = v10.shape[1], v01.shape[1]
        if covariance != "bootstrap" and min(m, n) < 2:
            raise InputError(
                f"'truth' must hold at least 2 diseased and 2 non-diseased cases for the "
                f"{covariance} covariance of the AUC; got {m} and {n}. Use more cases."
            )
        fom = v10.mean(axis=1)
        if covariance == "delong":
            cov = _cross(v10) / (m - 1) + _cross(v01) / (n - 1)
            return FomCovariance(fom.reshape(t, r), np.atleast_2d(cov), None, c)
        if covariance == "jackknife":
            jk = np.empty((t * r, c))
            jk[:, pos] = (m * fom[:, None] - v10) / (m - 1)
            jk[:, ~pos] = (n * fom[:, None] - v01) / (n - 1)
            return FomCovariance(fom.reshape(t, r), _jackknife_cov(jk), jk, c)
        return FomCovariance(
            fom.reshape(t, r), _bootstrap_cov(flat, truth, _auc_rows, n_bootstrap, seed),
            None, c,
        )

    if endpoint in ("sensitivity", "specificity"):
        _check_decisions(flat)
        if covariance == "delong":
            raise InputError(
                "'covariance' must be jackknife or bootstrap for sensitivity and specificity; "
                "got 'delong' (DeLong's estimator is for the AUC)."
            )
        keep = pos if endpoint == "sensitivity" else ~pos
        x = flat[:, keep] if endpoint == "sensitivity" else 1.0 - flat[:, keep]
        k = x.shape[1]
        if k < 2:
            raise InputError(f"'{endpoint}' needs at least 2 cases that define it; got {k}.")
        fom = x.mean(axis=1)
        if covariance == "jackknife":
            jk = (k * fom[:, None] - x) / (k - 1)
            return FomCovariance(fom.reshape(t, r), _jackknife_cov(jk), jk, k)
        rng_cov = _bootstrap_mean_cov(x, n_bootstrap, seed)
        return FomCovariance(fom.reshape(t, r), rng_cov, None, k)

    # a user-supplied figure of merit: recompute it (naive, O(c) evaluations per reader)
    fom_fn: FigureOfMerit = endpoint  # type: ignore[assignment]
    fom = np.array([float(fom_fn(truth, flat[row])) for row in range(t * r)])
    if covariance == "delong":
        raise InputError("'covariance' must be jackknife or bootstrap for a custom figure of "
                         "merit; got 'delong'.")
    if covariance == "jackknife":
        jk = np.empty((t * r, c))
        idx = np.arange(c)
        for k in range(c):
            keep = idx != k
            for row in range(t * r):
                jk[row, k] = fom_fn(truth[keep], flat[row, keep])
        return FomCovariance(fom.reshape(t, r), _jackknife_cov(jk), jk, c)

    def _rows(tr: NDArray[np.int8], rt: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.array([[float(fom_fn(tr, rt[b, row])) for row in range(rt.shape[1])]
                         for b in range(rt.shape[0])])

    return FomCovariance(fom.reshape(t, r),
                         _bootstrap_cov(flat, truth, _rows, n_bootstrap, seed, chunk=1), None, c)


def _jackknife_cov(jk: NDArray[np.float64]) -> NDArray[np.float64]:
    """Jackknife covariance ``(c-1)/c * sum_k (J_k - mean)(J_k - mean)^T`` of row estimates."""
    c = jk.shape[1]
    return (c - 1) * _cross(jk)


def _cross(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sum_k (x_k - mean)(x_k - mean)^T / c`` for rows of ``x`` (shape (p, c)).

    Written with ``einsum``: for these thin matrices it is as fast as BLAS and, unlike a
    multithreaded BLAS call on a busy machine, its time does not depend on the thread pool.
    """
    dev = x - x.mean(axis=1, keepdims=True)
    return np.einsum("ik,jk->ij", dev, dev) / x.shape[1]


def _bootstrap_indices(
    truth: NDArray[np.int8], n_boot: int, rng: np.random.Generator
) -> NDArray[np.intp]:
    """Stratified (within truth class) bootstrap case indices, shape (n_boot, c)."""
    pos_idx = np.flatnonzero(truth == 1)
    neg_idx = np.flatnonzero(truth == 0)
    a = pos_idx[rng.integers(0, pos_idx.size, size=(n_boot, pos_idx.size))]
    b = neg_idx[rng.integers(0, neg_idx.size, size=(n_boot, neg_idx.size))]
    return np.concatenate([a, b], axis=1)


def _bootstrap_cov(
    flat: NDArray[np.float64],
    truth: NDArray[np.int8],
    rows_fn: Callable[[NDArray[np.int8], NDArray[np.float64]], NDArray[np.float64]],
    n_boot: int,
    seed: int | None,
    chunk: int = 64,
) -> NDArray[np.float64]:
    n_boot = check_count(n_boot, "n_bootstrap", minimum=2)
    rng = np.random.default_rng(seed)
    idx = _bootstrap_indices(truth, n_boot, rng)
    boot_truth = np.concatenate([np.ones(int((truth == 1).sum()), np.int8),
                                 np.zeros(int((truth == 0).sum()), np.int8)])
    reps = np.empty((n_boot, flat.shape[0]))
    for start in range(0, n_boot, chunk):
        sl = idx[start:start + chunk]                     # (b, c)
        sample = flat[:, sl].transpose(1, 0, 2)           # (b, t*r, c)
        reps[start:start + chunk] = rows_fn(boot_truth, sample)
    return np.atleast_2d(np.cov(reps, rowvar=False))


def _bootstrap_mean_cov(x: NDArray[np.float64], n_boot: int, seed: int | None
                        ) -> NDArray[np.float64]:
    n_boot = check_count(n_boot, "n_bootstrap", minimum=2)
    rng = np.random.default_rng(seed)
    k = x.shape[1]
    reps = np.empty((n_boot, x.shape[0]))
    for start in range(0, n_boot, 256):
        b = min(256, n_boot - start)
        sl = rng.integers(0, k, size=(b, k))
        reps[start:start + b] = x[:, sl].mean(axis=-1).T
    return np.atleast_2d(np.cov(reps, rowvar=False))
