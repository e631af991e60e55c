"""Binormal ROC curve fitted to ordinal ratings by maximum likelihood (Dorfman and Alf 1969).

Model: a latent decision variable is N(0, 1) for non-diseased cases and N(a/b, 1/b^2) for
diseased cases; a rating falls in category ``k`` when the latent value lies between the
thresholds ``z_{k-1} < z_k``. So ``P(category <= k | non-diseased) = Phi(z_k)`` and
``P(category <= k | diseased) = Phi(b z_k - a)``, the ROC curve is
``TPF = Phi(a + b Phi^{-1}(FPF))`` and its area ``AUC = Phi(a / sqrt(1 + b^2))``.
The ``K - 1`` thresholds, ``a`` and ``b`` are estimated by maximising the multinomial
likelihood (thresholds kept ordered through log-increments, ``b`` through its log); the
standard error of the AUC follows by the delta method from the inverse observed information
(numerical Hessian of the log-likelihood in ``(a, b, z)``).

The fit is degenerate when the data separate perfectly or leave the ROC curve unidentified
(e.g. no non-diseased case above the lowest category): ``a`` then runs to infinity. Such fits
are flagged (``degenerate=True``), the AUC reported is the limit reached and its SE is
``None``, instead of a number that looks precise.

References
----------
1. Dorfman DD, Alf E (1969). Maximum-likelihood estimation of parameters of signal-detection
   theory and determination of confidence intervals - rating-method data. J Math Psychol
   6(3):487-496. doi:10.1016/0022-2496(69)90019-4
2. Metz CE, Herman BA, Shen JH (1998). Maximum likelihood estimation of receiver operating
   characteristic (ROC) curves from continuously-distributed data. Stat Med 17(9):1033-1053.
   doi:10.1002/(SICI)1097-0258(19980515)17:9<1033::AID-SIM784>3.0.CO;2-Z
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats
from statsmodels.tools.numdiff import approx_hess3

from validation.errors import InputError
from validation.stats._checks import (
    check_alpha,
    check_binary_truth,
    check_scores,
    check_two_classes,
)
from validation.stats._result import Result

BINORMAL_REFERENCES = (
    "Dorfman DD, Alf E (1969). J Math Psychol 6(3):487-496. doi:10.1016/0022-2496(69)90019-4",
)
_A_DEGENERATE = 5.0  # a/sqrt(1+b^2) beyond this: AUC > 1 - 3e-7, a at infinity


@dataclass(frozen=True, slots=True, kw_only=True)
class BinormalROC(Result):
    """Binormal ML fit: parameters, AUC with delta-method SE and Wald CI."""

    a: float
    b: float
    thresholds: tuple[float, ...]
    estimate: float
    se: float | None
    ci: tuple[float, float] | None
    log_likelihood: float
    n_categories: int
    n_positive: int
    n_negative: int
    degenerate: bool
    method: str = "binormal ROC, maximum likelihood (Dorfman-Alf); AUC SE by delta method"
    references: tuple[str, ...] = BINORMAL_REFERENCES


def _counts(truth: NDArray[np.int8], score: NDArray[np.float64]
            ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    levels, cat = np.unique(score, return_inverse=True)
    k = levels.size
    n1 = np.bincount(cat[truth == 1], minlength=k).astype(np.float64)
    n0 = np.bincount(cat[truth == 0], minlength=k).astype(np.float64)
    return n0, n1


def _cell_probs(a: float, b: float, z: NDArray[np.float64]
                ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    c0 = np.concatenate(([0.0], stats.norm.cdf(z), [1.0]))
    c1 = np.concatenate(([0.0], stats.norm.cdf(b * z - a), [1.0]))
    return np.diff(c0), np.diff(c1)


def _loglik(a: float, b: float, z: NDArray[np.float64], n0: NDArray[np.float64],
            n1: NDArray[np.float64]) -> float:
    if b <= 0 or np.any(np.diff(z) <= 0):
        return -np.inf
    p0, p1 = _cell_probs(a, b, z)
    with np.errstate(divide="ignore"):
        l0 = np.where(n0 > 0, n0 * np.log(np.maximum(p0, 1e-300)), 0.0)
        l1 = np.where(n1 > 0, n1 * np.log(np.maximum(p1, 1e-300)), 0.0)
    return float(l0.sum() + l1.sum())


def _unpack(theta: NDArray[np.float64]) -> tuple[float, float, NDArray[np.float64]]:
    a = float(theta[0])
    b = float(np.exp(theta[1]))
    z = theta[2] + np.concatenate(([0.0], np.cumsum(np.exp(theta[3:]))))
    return a, b, z


def _start(n0: NDArray[np.float64], n1: NDArray[np.float64]) -> NDArray[np.float64]:
    """Start values: thresholds from the non-diseased cumulative proportions, (a, b) from a
    least-squares line through the probit-transformed empirical ROC points."""
    eps = 0.5
    c0 = (np.cumsum(n0)[:-1] + eps) / (n0.sum() + 2 * eps)
    c1 = (np.cumsum(n1)[:-1] + eps) / (n1.sum() + 2 * eps)
    z = np.sort(stats.norm.ppf(c0)) + np.arange(c0.size) * 1e-3
    x, y = -z, -stats.norm.ppf(c1)  # probit(FPF), probit(TPF)
    if x.size >= 2 and np.ptp(x) > 0:
        b, a = np.polyfit(x, y, 1)
    else:
        a, b = float(y.mean() - x.mean()), 1.0
    b = float(np.clip(b, 0.2, 5.0))
    return np.concatenate(([a, np.log(b), z[0]], np.log(np.maximum(np.diff(z), 1e-3))))


def binormal_auc(
    truth: NDArray[np.integer] | list[int],
    rating: NDArray[np.floating] | list[float],
    *,
    alpha: float = 0.05,
) -> BinormalROC:
    """Binormal ROC curve by maximum likelihood, with the AUC and its delta-method SE.

    Parameters
    ----------
    truth : array (n,), 1 = diseased, 0 = non-diseased.
    rating : array (n,), ordinal ratings (at least 3 distinct values); higher = more
        suspicious. Each distinct value is a category.
    alpha : level of the Wald interval ``AUC +- z SE`` (truncated to [0, 1]).

    Returns
    -------
    BinormalROC

    Examples
    --------
    >>> truth = [0] * 6 + [1] * 6
    >>> rating = [1, 1, 2, 2, 3, 4, 2, 3, 4, 5, 5, 5]
    >>> fit = binormal_auc(truth, rating)
    >>> 0.5 < fit.estimate < 1.0
    True
    """
    t = check_binary_truth(truth)
    s = check_scores(rating, t.size, name="rating")
    n_pos, n_neg = check_two_classes(t)
    alpha = check_alpha(alpha)
    n0, n1 = _counts(t, s)
    k = n0.size
    if k < 3:
        raise InputError(
            f"'rating' must have at least 3 distinct values for a binormal fit; got {k}. "
            "A binary decision does not identify the curve: report sensitivity and "
            "specificity instead."
        )

    def nll(theta: NDArray[np.float64]) -> float:
        a, b, z = _unpack(theta)
        value = -_loglik(a, b, z, n0, n1)
        return value if np.isfinite(value) else 1e300

    best = optimize.minimize(nll, _start(n0, n1), method="BFGS",
                             options={"maxiter": 2000, "gtol": 1e-9})
    a0, b0, _ = _unpack(best.x)
    running_off = a0 / np.sqrt(1.0 + b0 * b0) > _A_DEGENERATE
    if not best.success and not running_off:  # polish a stalled quasi-Newton run
        polished = optimize.minimize(nll, best.x, method="Nelder-Mead",
                                     options={"maxiter": 4000, "xatol": 1e-9, "fatol": 1e-12})
        if polished.fun <= best.fun:
            best = polished
    a, b, z = _unpack(best.x)
    loglik = -float(best.fun)
    delta = a / np.sqrt(1.0 + b * b)
    auc = float(stats.norm.cdf(delta))
    degenerate = bool(delta > _A_DEGENERATE or b > 1e3 or b < 1e-3 or not np.isfinite(loglik))
    se = ci = None
    if not degenerate:
        params = np.concatenate(([a, b], z))

        def ll_natural(p: NDArray[np.float64]) -> float:
            return _loglik(float(p[0]), float(p[1]), p[2:], n0, n1)

        hess = approx_hess3(params, ll_natural)
        cov = None
        if np.all(np.isfinite(hess)) and np.linalg.cond(hess) < 1e12:
            try:
                cov = np.linalg.inv(-hess)
            except np.linalg.LinAlgError:
                cov = None
        if cov is not None and np.all(np.isfinite(cov)):
            dens = stats.norm.pdf(delta)
            grad = np.zeros(params.size)
            grad[0] = dens / np.sqrt(1 + b * b)
            grad[1] = -dens * a * b / (1 + b * b) ** 1.5
            var = float(grad @ cov @ grad)
            if var > 0:
                se = float(np.sqrt(var))
                q = float(stats.norm.ppf(1 - alpha / 2))
                ci = (max(auc - q * se, 0.0), min(auc + q * se, 1.0))
        if se is None:
            degenerate = True
    return BinormalROC(a=a, b=b, thresholds=tuple(float(x) for x in z), estimate=auc, se=se,
                       ci=ci, log_likelihood=loglik, n_categories=k, n_positive=n_pos,
                       n_negative=n_neg, degenerate=degenerate)
