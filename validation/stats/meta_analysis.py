"""Random-effects meta-analysis of per-site estimates (univariate).

The model for ``k`` sites with estimates :math:`y_i` and known within-site variances
:math:`v_i` is

.. math:: y_i = \\mu + u_i + e_i,\\quad u_i \\sim N(0, \\tau^2),\\quad e_i \\sim N(0, v_i).

The between-site variance :math:`\\tau^2` is estimated by DerSimonian-Laird (``"dl"``),
Paule-Mandel (``"pm"``) or restricted maximum likelihood (``"reml"``); the pooled estimate is
the inverse-variance weighted mean with weights :math:`1/(v_i + \\hat\\tau^2)`.

Reported with it: Cochran's Q (fixed-effect weights) and its chi-square p-value on ``k - 1``
df (the test of :math:`H_0: \\tau^2 = 0`, i.e. poolability), :math:`I^2` and :math:`H^2` in
metafor's general form (from :math:`\\hat\\tau^2` and the "typical" within-site variance, so
that they follow the chosen estimator), a Q-profile interval for :math:`\\tau^2` (Viechtbauer
2007) and the prediction interval for the true effect in a new site (Higgins, Thompson and
Spiegelhalter 2009): :math:`\\hat\\mu \\pm t_{k-2} \\sqrt{\\hat\\tau^2 + SE^2}`.

Proportions and AUCs are pooled on the logit scale by :mod:`validation.stats.pooled_logit`.

References
----------
1. DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled Clinical
   Trials 7(3):177-188. doi:10.1016/0197-2456(86)90046-2
2. Paule RC, Mandel J (1982). Consensus values and weighting factors. Journal of Research of
   the National Bureau of Standards 87(5):377-385. doi:10.6028/jres.087.022
3. Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the
   random-effects model. Journal of Educational and Behavioral Statistics 30(3):261-293.
   doi:10.3102/10769986030003261
4. Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in
   meta-analysis. Statistics in Medicine 26(1):37-52. doi:10.1002/sim.2514
5. Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Statistics
   in Medicine 21(11):1539-1558. doi:10.1002/sim.1186
6. Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of random-effects
   meta-analysis. JRSS A 172(1):137-159. doi:10.1111/j.1467-985X.2008.00552.x
7. Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a single
   covariate. Statistics in Medicine 22(17):2693-2710. doi:10.1002/sim.1482
8. Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. Journal of
   Statistical Software 36(3):1-48. doi:10.18637/jss.v036.i03
9. Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating
   characteristic (ROC) curve. Radiology 143(1):29-36. doi:10.1148/radiology.143.1.7063747
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats._result import Result

DERSIMONIAN_LAIRD_1986 = (
    "DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled Clinical Trials "
    "7(3):177-188. doi:10.1016/0197-2456(86)90046-2"
)
PAULE_MANDEL_1982 = (
    "Paule RC, Mandel J (1982). Consensus values and weighting factors. Journal of Research of "
    "the National Bureau of Standards 87(5):377-385. doi:10.6028/jres.087.022"
)
VIECHTBAUER_2005 = (
    "Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the "
    "random-effects model. Journal of Educational and Behavioral Statistics 30(3):261-293. "
    "doi:10.3102/10769986030003261"
)
VIECHTBAUER_2007 = (
    "Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in "
    "meta-analysis. Statistics in Medicine 26(1):37-52. doi:10.1002/sim.2514"
)
HIGGINS_THOMPSON_2002 = (
    "Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Statistics "
    "in Medicine 21(11):1539-1558. doi:10.1002/sim.1186"
)
HIGGINS_2009 = (
    "Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of random-effects "
    "meta-analysis. JRSS A 172(1):137-159. doi:10.1111/j.1467-985X.2008.00552.x"
)
KNAPP_HARTUNG_2003 = (
    "Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a "
    "single covariate. Statistics in Medicine 22(17):2693-2710. doi:10.1002/sim.1482"
)
VIECHTBAUER_2010 = (
    "Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. Journal of "
    "Statistical Software 36(3):1-48. doi:10.18637/jss.v036.i03"
)

METHODS = ("reml", "dl", "pm")
_METHOD_REFS = {"dl": DERSIMONIAN_LAIRD_1986, "pm": PAULE_MANDEL_1982, "reml": VIECHTBAUER_2005}
_TOL = 1e-12


@dataclass(frozen=True, slots=True, kw_only=True)
class RandomEffectsResult(Result):
    """A random-effects pooled estimate with its heterogeneity statistics.

    ``estimate``, ``se``, ``ci``: the pooled mean, its standard error (Knapp-Hartung scaled
    when ``knha``) and its ``1 - alpha`` interval (normal, or t on ``k - 1`` df with
    ``knha``); ``statistic`` and ``p_value`` test a mean of 0 (z, or t with ``knha``).
    ``tau2`` and ``tau2_ci`` (Q-profile); ``i2`` (a fraction in [0, 1]) and ``h2``; ``q`` and
    ``q_p_value`` (Cochran's Q on ``df = k - 1``); ``prediction_interval``: Higgins et al.
    (2009), ``estimate +/- t_{k-2} sqrt(tau2 + se^2)``, ``None`` for two sites (no df left;
    the reason is in ``notes``). ``weights``: the random-effects weights in percent, in
    the input order. ``notes`` says what fell back and why.
    """

    estimate: float
    se: float
    ci: tuple[float, float]
    statistic: float
    p_value: float
    tau2: float
    tau2_ci: tuple[float, float]
    i2: float
    h2: float
    q: float
    q_p_value: float
    df: int
    k: int
    prediction_interval: tuple[float, float] | None
    weights: tuple[float, ...]
    knha: bool
    alpha: float
    method: str
    references: tuple[str, ...]
    notes: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------


def _vector(value: Any, name: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be a sequence of numbers; got {value!r}.") from None
    if arr.ndim != 1:
        raise InputError(f"'{name}' must be one-dimensional (one value per site); got shape {arr.shape}.")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"'{name}' must be finite; got {arr[i].item()!r} at site {i}.")
    return arr


def _check_sites(estimates: Any, variances: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    y = _vector(estimates, "estimates")
    v = _vector(variances, "variances")
    if v.size != y.size:
        raise InputError(
            f"'variances' must have one value per site ({y.size}); got {v.size}."
        )
    if y.size < 2:
        raise InputError(
            f"'estimates' must hold at least two sites to pool; got {y.size}. With one site, "
            "report that site's own estimate and interval; there is no heterogeneity to assess."
        )
    bad = v <= 0.0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"'variances' must be > 0 at every site; got {v[i].item()!r} at site {i}. A zero "
            "within-site variance (e.g. a proportion of 0 or 1) has infinite weight: apply a "
            "continuity correction (pooled_proportion does) or drop the site, stating why."
        )
    return y, v


# ---------------------------------------------------------------------------------------------
# tau^2 estimators
# ---------------------------------------------------------------------------------------------


def _wmean(y: NDArray[np.float64], w: NDArray[np.float64]) -> float:
    return float(np.sum(w * y) / np.sum(w))


def _q_gen(t2: float, y: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    """Generalised Q: sum w (y - mu_w)^2 with w = 1/(v + tau2); decreasing in tau2."""
    w = 1.0 / (v + t2)
    return float(np.sum(w * (y - _wmean(y, w)) ** 2))


def _upper_bracket(f: Any, start: float) -> float:
    hi = max(start, 1.0)
    for _ in range(200):
        if f(hi) < 0.0:
            return hi
        hi *= 2.0
    raise InputError("the between-site variance could not be bracketed; check the variances' scale.")


def _tau2_dl(y: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    w = 1.0 / v
    q = _q_gen(0.0, y, v)
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return max(0.0, (q - (y.size - 1)) / c)


def _tau2_pm(y: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    k = y.size
    def f(t: float) -> float:
        return _q_gen(t, y, v) - (k - 1)

    if f(0.0) <= 0.0:
        return 0.0
    hi = _upper_bracket(f, float(np.var(y, ddof=1)))
    return float(optimize.brentq(f, 0.0, hi, xtol=_TOL, rtol=4 * np.finfo(float).eps, maxiter=500))


def _reml_score(t: float, y: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    """Derivative of the restricted log-likelihood in tau2 (times 2)."""
    w = 1.0 / (v + t)
    sw = float(np.sum(w))
    r = y - _wmean(y, w)
    return float(np.sum(w**2 * r**2) - sw + np.sum(w**2) / sw)


def _tau2_reml(y: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    def f(t: float) -> float:
        return _reml_score(t, y, v)

    if f(0.0) <= 0.0:
        return 0.0
    hi = _upper_bracket(f, float(np.var(y, ddof=1)))
    return float(optimize.brentq(f, 0.0, hi, xtol=_TOL, rtol=4 * np.finfo(float).eps, maxiter=500))


def _tau2_qprofile(
    y: NDArray[np.float64], v: NDArray[np.float64], alpha: float
) -> tuple[float, float]:
    """Q-profile interval (Viechtbauer 2007): Q_gen(tau2) = chi2 quantiles on k - 1 df."""
    df = y.size - 1
    q0 = _q_gen(0.0, y, v)
    bounds = []
    for target in (sps.chi2.ppf(1.0 - alpha / 2.0, df), sps.chi2.ppf(alpha / 2.0, df)):
        if q0 <= target:
            bounds.append(0.0)
            continue

        def f(t: float, target: float = float(target)) -> float:
            return _q_gen(t, y, v) - target

        hi = _upper_bracket(f, float(np.var(y, ddof=1)))
        bounds.append(float(optimize.brentq(f, 0.0, hi, xtol=_TOL, rtol=4 * np.finfo(float).eps)))
    return bounds[0], bounds[1]


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------


def random_effects(
    estimates: Any,
    variances: Any,
    *,
    method: str = "reml",
    knha: bool = False,
    alpha: float = 0.05,
) -> RandomEffectsResult:
    """Random-effects meta-analysis of per-site estimates.

    Tests :math:`H_0: \\mu = 0` (``statistic``, ``p_value``) and, through Cochran's Q,
    :math:`H_0: \\tau^2 = 0` (homogeneity across sites).

    Parameters
    ----------
    estimates : array of shape (k,), k >= 2
        Per-site estimates on a scale where they are roughly normal (log ratio, logit).
    variances : array of shape (k,), each > 0
        Their within-site sampling variances (treated as known).
    method : {"reml", "dl", "pm"}
        Estimator of :math:`\\tau^2`: restricted maximum likelihood (Viechtbauer 2005),
        DerSimonian-Laird (1986) moment estimator, or Paule-Mandel (1982), all truncated at 0.
    knha : bool
        Knapp-Hartung (2003) adjustment: the standard error is multiplied by
        :math:`\\sqrt{q_{KH}}`, :math:`q_{KH} = \\sum w_i (y_i - \\hat\\mu)^2 / (k - 1)`, and the
        interval and test use t on ``k - 1`` df. The factor is *not* truncated at 1 (as in
        metafor's ``test="knha"``; the truncated variant is metafor's ``test="adhoc"``), so
        the adjusted interval can be narrower than the unadjusted one when the sites agree
        more than their variances imply.
    alpha : float
        Two-sided level of every interval.

    Returns
    -------
    RandomEffectsResult

    Notes
    -----
    With few sites (k < 5) every tau2 estimator is imprecise and the normal interval is too
    narrow; Knapp-Hartung is advised. The prediction interval needs ``k >= 3``; with two sites
    it is ``None`` (stated in ``notes``). metafor 3.8's ``predict()`` uses ``z`` (or ``t`` on
    ``k - 1`` df with ``test="knha"``) instead of Higgins' ``t_{k-2}``, and so gives a
    narrower interval; ours is the Higgins form throughout.

    References
    ----------
    The module docstring's list: 1 (DL), 2 (PM), 3 (REML), 4 (Q-profile), 5 (I2, H2),
    6 (prediction interval), 7 (Knapp-Hartung), 8 (metafor, the reference implementation).

    Examples
    --------
    >>> r = random_effects([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.015, 0.03], method="dl")
    >>> round(r.estimate, 4) > 0
    True
    """
    y, v = _check_sites(estimates, variances)
    m = check_choice(method, "method", METHODS)
    a = check_alpha(alpha)
    if not isinstance(knha, (bool, np.bool_)):
        raise InputError(f"'knha' must be True or False; got {knha!r}.")
    k = y.size
    df = k - 1
    tau2 = {"dl": _tau2_dl, "pm": _tau2_pm, "reml": _tau2_reml}[m](y, v)
    w = 1.0 / (v + tau2)
    mu = _wmean(y, w)
    se = float(np.sqrt(1.0 / np.sum(w)))
    notes: list[str] = []
    if knha:
        s2 = float(np.sum(w * (y - mu) ** 2) / df)
        se = se * float(np.sqrt(s2))
        if se <= 0.0:
            raise InputError(
                "'estimates' are identical at every site, so the Knapp-Hartung standard error is 0; "
                "use knha=False."
            )
        crit = float(sps.t.ppf(1.0 - a / 2.0, df))
        stat = mu / se
        p = float(2.0 * sps.t.sf(abs(stat), df))
    else:
        crit = float(sps.norm.ppf(1.0 - a / 2.0))
        stat = mu / se
        p = float(2.0 * sps.norm.sf(abs(stat)))
    wf = 1.0 / v
    q = _q_gen(0.0, y, v)
    q_p = float(sps.chi2.sf(q, df))
    s2_typ = float(df * np.sum(wf) / (np.sum(wf) ** 2 - np.sum(wf**2)))
    i2 = tau2 / (tau2 + s2_typ)
    h2 = (tau2 + s2_typ) / s2_typ
    if k >= 3:
        h = float(sps.t.ppf(1.0 - a / 2.0, k - 2)) * float(np.sqrt(tau2 + se**2))
        pi: tuple[float, float] | None = (mu - h, mu + h)
    else:
        pi = None
        notes.append(
            "prediction interval not computed: it needs at least three sites (t on k - 2 df)."
        )
    if tau2 == 0.0:
        notes.append("tau2 estimated as 0: the random-effects fit equals the fixed-effect fit.")
    refs = [_METHOD_REFS[m], VIECHTBAUER_2007, HIGGINS_THOMPSON_2002, HIGGINS_2009]
    if knha:
        refs.append(KNAPP_HARTUNG_2003)
    refs.append(VIECHTBAUER_2010)
    return RandomEffectsResult(
        estimate=mu,
        se=se,
        ci=(mu - crit * se, mu + crit * se),
        statistic=float(stat),
        p_value=p,
        tau2=float(tau2),
        tau2_ci=_tau2_qprofile(y, v, a),
        i2=float(i2),
        h2=float(h2),
        q=q,
        q_p_value=q_p,
        df=df,
        k=k,
        prediction_interval=pi,
        weights=tuple(float(x) for x in 100.0 * w / np.sum(w)),
        knha=bool(knha),
        alpha=a,
        method=f"random-effects-{m}" + ("-knha" if knha else ""),
        references=tuple(refs),
        notes=tuple(notes),
    )
