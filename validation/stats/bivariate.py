"""Bivariate random-effects meta-analysis of sensitivity and specificity (Reitsma et al. 2005).

For site ``i`` let :math:`y_i = (\\mathrm{logit}\\,\\widehat{Se}_i, \\mathrm{logit}\\,\\widehat{Sp}_i)'`
with within-site covariance :math:`S_i = \\mathrm{diag}(1/TP_i + 1/FN_i,\\; 1/TN_i + 1/FP_i)`
(treated as known). The normal-normal model is

.. math:: y_i \\sim N_2(\\mu, S_i + T),\\qquad
          T = \\begin{pmatrix}\\tau_{Se}^2 & \\rho\\tau_{Se}\\tau_{Sp}\\\\
          \\rho\\tau_{Se}\\tau_{Sp} & \\tau_{Sp}^2\\end{pmatrix}.

``T`` is estimated by restricted maximum likelihood (written out in :func:`_neg2_reml`,
optimised with scipy over a Cholesky factor of ``T``, so that ``T`` stays positive
semi-definite); ``mu`` is the generalised least-squares mean. This is the model of
metafor's ``rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | study, struct = "UN",
method = "REML")`` and of mada's ``reitsma()``.

Also returned, as data for plots: the confidence region of the summary point (ellipse with
covariance :math:`\\mathrm{Var}(\\hat\\mu)`) and the prediction region for a new site's true
logits (covariance :math:`\\mathrm{Var}(\\hat\\mu) + \\hat T`), both with radius
:math:`\\sqrt{\\chi^2_{2, 1-\\alpha}}` in logit space; and the summary ROC curve in the
Rutter-Gatsonis (HSROC) parameterisation derived from the bivariate estimates (Harbord et al.
2007): :math:`\\mathrm{logit}\\,Se = \\Lambda e^{-\\beta/2} + e^{-\\beta}\\,\\mathrm{logit}\\,FPR`,
with :math:`\\beta = \\log(\\tau_{Sp}/\\tau_{Se})` and
:math:`\\Lambda = (\\tau_{Sp}/\\tau_{Se})^{1/2}\\mu_{Se} + (\\tau_{Se}/\\tau_{Sp})^{1/2}\\mu_{Sp}`
(the curve passes through the summary point).

References
----------
1. Reitsma JB, Glas AS, Rutjes AWS, Scholten RJPM, Bossuyt PM, Zwinderman AH (2005).
   Bivariate analysis of sensitivity and specificity produces informative summary measures in
   diagnostic reviews. Journal of Clinical Epidemiology 58(10):982-990.
   doi:10.1016/j.jclinepi.2005.02.022
2. Harbord RM, Deeks JJ, Egger M, Whiting P, Sterne JAC (2007). A unification of models for
   meta-analysis of diagnostic accuracy studies. Biostatistics 8(2):239-251.
   doi:10.1093/biostatistics/kxl004
3. Rutter CM, Gatsonis CA (2001). A hierarchical regression approach to meta-analysis of
   diagnostic test accuracy evaluations. Statistics in Medicine 20(19):2865-2884.
   doi:10.1002/sim.942
4. Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. Journal of
   Statistical Software 36(3):1-48. doi:10.18637/jss.v036.i03
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize
from scipy import stats as sps
from scipy.special import expit, logit

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_count
from validation.stats._result import Result
from validation.stats.meta_analysis import VIECHTBAUER_2010
from validation.stats.pooled_logit import _counts

REITSMA_2005 = (
    "Reitsma JB, Glas AS, Rutjes AWS, Scholten RJPM, Bossuyt PM, Zwinderman AH (2005). Bivariate "
    "analysis of sensitivity and specificity produces informative summary measures in diagnostic "
    "reviews. Journal of Clinical Epidemiology 58(10):982-990. doi:10.1016/j.jclinepi.2005.02.022"
)
HARBORD_2007 = (
    "Harbord RM, Deeks JJ, Egger M, Whiting P, Sterne JAC (2007). A unification of models for "
    "meta-analysis of diagnostic accuracy studies. Biostatistics 8(2):239-251. "
    "doi:10.1093/biostatistics/kxl004"
)
RUTTER_GATSONIS_2001 = (
    "Rutter CM, Gatsonis CA (2001). A hierarchical regression approach to meta-analysis of "
    "diagnostic test accuracy evaluations. Statistics in Medicine 20(19):2865-2884. "
    "doi:10.1002/sim.942"
)
_BOUNDARY = 1e-8


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryProportion(Result):
    """A summary sensitivity or specificity: ``estimate`` and ``ci`` on the probability scale,
    ``logit_estimate`` and ``logit_se`` on the logit scale (Wald interval there)."""

    estimate: float
    ci: tuple[float, float]
    logit_estimate: float
    logit_se: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Region(Result):
    """An elliptical region as a closed polygon of ``n_points`` points (first = last).

    ``logit_sensitivity`` and ``logit_specificity`` are the ellipse in logit space;
    ``sensitivity`` and ``false_positive_rate`` the same points in ROC space.
    """

    logit_sensitivity: tuple[float, ...]
    logit_specificity: tuple[float, ...]
    sensitivity: tuple[float, ...]
    false_positive_rate: tuple[float, ...]
    level: float
    method: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SROCCurve(Result):
    """Summary ROC curve (Rutter-Gatsonis parameterisation from the bivariate fit).

    ``lambda_``, ``beta`` and ``theta`` are the HSROC accuracy, shape and threshold
    parameters (Harbord et al. 2007); ``false_positive_rate`` and ``sensitivity`` the curve's
    points; ``observed_fpr_range`` the range of the sites' false-positive rates (the curve is
    an extrapolation outside it).
    """

    lambda_: float
    beta: float
    theta: float
    false_positive_rate: tuple[float, ...]
    sensitivity: tuple[float, ...]
    observed_fpr_range: tuple[float, float]
    method: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BivariateResult(Result):
    """The bivariate random-effects summary of sensitivity and specificity.

    ``tau2_sensitivity`` and ``tau2_specificity`` (logit scale) and ``rho`` make up ``T``;
    ``covariance`` is :math:`\\mathrm{Var}(\\hat\\mu)` as ((se_se, cov), (cov, sp_sp));
    ``loglik_reml`` the restricted log-likelihood with metafor's constants;
    ``corrected_sites`` the zero-based sites that received 0.5 in all four cells.
    """

    sensitivity: SummaryProportion
    specificity: SummaryProportion
    tau2_sensitivity: float
    tau2_specificity: float
    rho: float
    covariance: tuple[tuple[float, float], tuple[float, float]]
    loglik_reml: float
    confidence_region: Region
    prediction_region: Region
    sroc: SROCCurve
    k: int
    corrected_sites: tuple[int, ...]
    converged: bool
    alpha: float
    method: str
    references: tuple[str, ...]
    notes: tuple[str, ...] = ()


def _inv2(a: NDArray[np.float64], b: NDArray[np.float64], d: NDArray[np.float64]) -> tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]
]:
    det = a * d - b * b
    return d / det, -b / det, a / det, det


def _t_matrix(p: NDArray[np.float64]) -> tuple[float, float, float]:
    l11, l21, l22 = np.exp(p[0]), p[1], np.exp(p[2])
    return float(l11**2), float(l11 * l21), float(l21**2 + l22**2)


def _gls(y: NDArray[np.float64], v: NDArray[np.float64], t: tuple[float, float, float]) -> tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]
]:
    """GLS mean, its covariance (2x2) and the per-site inverse blocks (k, 3)."""
    ia, ib, idd, det = _inv2(v[:, 0] + t[0], np.full(y.shape[0], t[1]), v[:, 1] + t[2])
    sa, sb, sd = ia.sum(), ib.sum(), idd.sum()
    rhs = np.array([np.sum(ia * y[:, 0] + ib * y[:, 1]), np.sum(ib * y[:, 0] + idd * y[:, 1])])
    ca, cb, cd, _ = _inv2(np.array(sa), np.array(sb), np.array(sd))
    cov = np.array([[ca, cb], [cb, cd]], dtype=np.float64)
    return cov @ rhs, cov, np.column_stack([ia, ib, idd, det])


def _neg2_reml(p: NDArray[np.float64], y: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    """-2 x restricted log-likelihood without constants:
    sum log|S_i + T| + log|sum (S_i + T)^-1| + sum r_i' (S_i + T)^-1 r_i."""
    t = _t_matrix(p)
    mu, cov, blocks = _gls(y, v, t)
    ia, ib, idd, det = blocks.T
    if np.any(det <= 0.0):
        return float("inf")
    r = y - mu
    quad = np.sum(ia * r[:, 0] ** 2 + 2.0 * ib * r[:, 0] * r[:, 1] + idd * r[:, 1] ** 2)
    logdet_info = -float(np.log(np.linalg.det(cov)))
    return float(np.sum(np.log(det)) + logdet_info + quad)


def _ellipse(center: NDArray[np.float64], cov: NDArray[np.float64], radius: float, n: int,
             level: float, method: str) -> Region:
    w, u = np.linalg.eigh(cov)
    a = np.linspace(0.0, 2.0 * np.pi, n)
    a[-1] = 0.0
    circle = np.vstack([np.cos(a), np.sin(a)])
    pts = center[:, None] + radius * (u @ (np.sqrt(np.clip(w, 0.0, None))[:, None] * circle))
    return Region(
        logit_sensitivity=tuple(float(x) for x in pts[0]),
        logit_specificity=tuple(float(x) for x in pts[1]),
        sensitivity=tuple(float(x) for x in expit(pts[0])),
        false_positive_rate=tuple(float(x) for x in 1.0 - expit(pts[1])),
        level=level,
        method=method,
    )


def bivariate_accuracy(
    tp: Any,
    fn: Any,
    tn: Any,
    fp: Any,
    *,
    alpha: float = 0.05,
    n_points: int = 100,
) -> BivariateResult:
    """Bivariate random-effects summary of sensitivity and specificity (Reitsma et al. 2005).

    Parameters
    ----------
    tp, fn, tn, fp : arrays of shape (k,), whole numbers, k >= 3
        Per-site 2x2 counts. A site with any zero cell gets 0.5 added to all four cells (and
        only such sites). Every site needs positives (tp + fn > 0) and negatives
        (tn + fp > 0).
    alpha : float
        Level of the Wald intervals and of both regions (``1 - alpha`` coverage).
    n_points : int
        Points on each region's closed polygon and on the SROC curve's FPR grid
        (``0.01 .. 0.99``, evenly spaced).

    Returns
    -------
    BivariateResult

    Notes
    -----
    With fewer than about 10 sites the between-site covariance is poorly estimated: ``rho``
    often lands on -1 or +1 and a variance on 0 (stated in ``notes``); the summary point is
    still valid, the regions less so. Intervals are Wald on the logit scale with z (as
    metafor's default); the regions use :math:`\\sqrt{\\chi^2_{2}}` (as mada's ``reitsma``).
    """
    a = check_alpha(alpha)
    npts = check_count(n_points, "n_points", minimum=4)
    cells = [_counts(x, name) for x, name in ((tp, "tp"), (fn, "fn"), (tn, "tn"), (fp, "fp"))]
    k = cells[0].size
    for c, name in zip(cells[1:], ("fn", "tn", "fp"), strict=True):
        if c.size != k:
            raise InputError(f"'{name}' must have one value per site ({k}); got {c.size}.")
    if k < 3:
        raise InputError(
            f"'tp' must hold at least three sites for the bivariate model (five parameters); got "
            f"{k}. Pool sensitivity and specificity separately with pooled_proportion, or report "
            "the sites one by one."
        )
    x_tp, x_fn, x_tn, x_fp = cells
    for tot, what in ((x_tp + x_fn, "tp + fn"), (x_tn + x_fp, "tn + fp")):
        if (tot == 0).any():
            i = int(np.flatnonzero(tot == 0)[0])
            raise InputError(
                f"'{what}' must be > 0 at every site (a site needs positives and negatives); got 0 "
                f"at site {i}. Leave that site out of the bivariate analysis and say so."
            )
    zero = (x_tp == 0) | (x_fn == 0) | (x_tn == 0) | (x_fp == 0)
    x_tp, x_fn, x_tn, x_fp = (np.where(zero, c + 0.5, c) for c in (x_tp, x_fn, x_tn, x_fp))
    y = np.column_stack([np.log(x_tp / x_fn), np.log(x_tn / x_fp)])
    v = np.column_stack([1.0 / x_tp + 1.0 / x_fn, 1.0 / x_tn + 1.0 / x_fp])

    t0 = np.maximum(np.var(y, axis=0, ddof=1) - v.mean(axis=0), 0.01)
    start = np.array([0.5 * np.log(t0[0]), 0.0, 0.5 * np.log(t0[1])])
    fit = optimize.minimize(_neg2_reml, start, args=(y, v), method="BFGS", options={"gtol": 1e-10})
    polish = optimize.minimize(_neg2_reml, fit.x, args=(y, v), method="Nelder-Mead",
                               options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 20000,
                                        # at a boundary (a variance -> 0 on the log scale) the
                                        # simplex drifts without end; its value is flat there
                                        "maxfev": 4000})
    best = polish if polish.fun <= fit.fun else fit
    t = _t_matrix(best.x)
    mu, cov, _ = _gls(y, v, t)
    neg2 = float(best.fun)
    # metafor's constants: n - p = 2k - 2 residual dims, log|X'X| = 2 log k
    loglik = -0.5 * ((2 * k - 2) * np.log(2.0 * np.pi) - 2.0 * np.log(k) + neg2)
    rho = t[1] / np.sqrt(t[0] * t[2]) if t[0] > 0 and t[2] > 0 else 0.0
    notes: list[str] = []
    if zero.any():
        notes.append(f"0.5 added to all four cells of site(s) {np.flatnonzero(zero).tolist()} (a zero cell).")
    if min(t[0], t[2]) < _BOUNDARY or abs(rho) > 1.0 - 1e-6:
        notes.append(
            "the between-site covariance is at the boundary (a variance near 0 or |rho| near 1); "
            "the summary point is valid, the prediction region and SROC shape are not well "
            "determined."
        )
    z = float(sps.norm.ppf(1.0 - a / 2.0))
    se = np.sqrt(np.diag(cov))

    def summary(j: int) -> SummaryProportion:
        return SummaryProportion(
            estimate=float(expit(mu[j])),
            ci=(float(expit(mu[j] - z * se[j])), float(expit(mu[j] + z * se[j]))),
            logit_estimate=float(mu[j]),
            logit_se=float(se[j]),
        )

    radius = float(np.sqrt(sps.chi2.ppf(1.0 - a, 2)))
    tmat = np.array([[t[0], t[1]], [t[1], t[2]]])
    conf = _ellipse(mu, cov, radius, npts, 1.0 - a, "confidence-region-chi2-2df")
    pred = _ellipse(mu, cov + tmat, radius, npts, 1.0 - a, "prediction-region-chi2-2df")
    ta, tb = np.sqrt(t[0]), np.sqrt(t[2])
    if min(ta, tb) > 0:
        beta = float(np.log(tb / ta))
        lam = float(np.sqrt(tb / ta) * mu[0] + np.sqrt(ta / tb) * mu[1])
        theta = float(0.5 * (np.sqrt(tb / ta) * mu[0] - np.sqrt(ta / tb) * mu[1]))
    else:
        beta, lam, theta = 0.0, float(mu[0] + mu[1]), float(0.5 * (mu[0] - mu[1]))
        notes.append("a between-site variance is 0: the SROC curve is drawn with beta = 0 (symmetric).")
    fpr = np.linspace(0.01, 0.99, npts)
    sens = expit(lam * np.exp(-beta / 2.0) + np.exp(-beta) * logit(fpr))
    obs_fpr = x_fp / (x_fp + x_tn)
    return BivariateResult(
        sensitivity=summary(0),
        specificity=summary(1),
        tau2_sensitivity=t[0],
        tau2_specificity=t[2],
        rho=float(rho),
        covariance=((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))),
        loglik_reml=float(loglik),
        confidence_region=conf,
        prediction_region=pred,
        sroc=SROCCurve(
            lambda_=lam, beta=beta, theta=theta,
            false_positive_rate=tuple(float(x) for x in fpr),
            sensitivity=tuple(float(x) for x in sens),
            observed_fpr_range=(float(obs_fpr.min()), float(obs_fpr.max())),
            method="rutter-gatsonis-from-bivariate",
        ),
        k=k,
        corrected_sites=tuple(int(i) for i in np.flatnonzero(zero)),
        converged=bool(fit.success or polish.success),
        alpha=a,
        method="bivariate-reitsma-reml",
        references=(REITSMA_2005, HARBORD_2007, RUTTER_GATSONIS_2001, VIECHTBAUER_2010),
        notes=tuple(notes),
    )
