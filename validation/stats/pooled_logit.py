"""Proportions and AUCs pooled across sites on the logit scale (random effects).

:func:`pooled_proportion` pools per-site proportions (sensitivity, specificity) on the logit
scale with :func:`validation.stats.meta_analysis.random_effects`, optionally on Rao-Scott
effective counts when findings are clustered within patients; :func:`pooled_auc` pools
per-site AUCs on the logit scale with delta-method variances (:func:`auc_logit_scale`). The
estimate, its interval and the prediction interval are back-transformed.

References
----------
1. Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. Journal of
   Statistical Software 36(3):1-48. doi:10.18637/jss.v036.i03
2. Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of random-effects
   meta-analysis. JRSS A 172(1):137-159. doi:10.1111/j.1467-985X.2008.00552.x
3. Rao JNK, Scott AJ (1992). A simple method for the analysis of clustered binary data.
   Biometrics 48(2):577-585. doi:10.2307/2532311
4. Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating
   characteristic (ROC) curve. Radiology 143(1):29-36. doi:10.1148/radiology.143.1.7063747
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, logit

from validation.errors import InputError
from validation.stats._result import Result
from validation.stats.clustered import RAO_SCOTT_1992
from validation.stats.meta_analysis import RandomEffectsResult, _vector, random_effects


@dataclass(frozen=True, slots=True, kw_only=True)
class PooledProportionResult(Result):
    """A proportion (or AUC) pooled on the logit scale and back-transformed.

    ``estimate``, ``ci`` and ``prediction_interval`` are on the probability scale; ``se``,
    ``tau2`` and ``tau2_ci`` on the logit scale; ``logit`` holds the full logit-scale
    :class:`RandomEffectsResult`. ``site_estimates`` are the per-site values that entered
    (after any continuity correction, back on the probability scale) and ``corrected_sites``
    the zero-based positions of sites that received the 0.5 correction.
    """

    estimate: float
    se: float
    ci: tuple[float, float]
    prediction_interval: tuple[float, float] | None
    tau2: float
    tau2_ci: tuple[float, float]
    i2: float
    h2: float
    q: float
    q_p_value: float
    df: int
    k: int
    site_estimates: tuple[float, ...]
    corrected_sites: tuple[int, ...]
    logit: RandomEffectsResult
    alpha: float
    method: str
    references: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LogitAUCInputs(Result):
    """Per-site AUCs on the logit scale with delta-method variances."""

    estimates: tuple[float, ...]
    variances: tuple[float, ...]
    method: str
    references: tuple[str, ...]



def _counts(value: Any, name: str) -> NDArray[np.float64]:
    arr = _vector(value, name)
    bad = (arr < 0) | (arr != np.round(arr))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"'{name}' must hold whole numbers >= 0; got {arr[i].item()!r} at site {i}.")
    return arr


def _back(re: RandomEffectsResult, *, site_estimates: NDArray[np.float64],
          corrected: tuple[int, ...], notes: tuple[str, ...], method: str,
          references: tuple[str, ...]) -> PooledProportionResult:
    pi = re.prediction_interval
    return PooledProportionResult(
        estimate=float(expit(re.estimate)),
        se=re.se,
        ci=(float(expit(re.ci[0])), float(expit(re.ci[1]))),
        prediction_interval=None if pi is None else (float(expit(pi[0])), float(expit(pi[1]))),
        tau2=re.tau2,
        tau2_ci=re.tau2_ci,
        i2=re.i2,
        h2=re.h2,
        q=re.q,
        q_p_value=re.q_p_value,
        df=re.df,
        k=re.k,
        site_estimates=tuple(float(x) for x in site_estimates),
        corrected_sites=corrected,
        logit=re,
        alpha=re.alpha,
        method=method,
        references=references,
        notes=(*notes, *re.notes),
    )


def pooled_proportion(
    successes: Any,
    totals: Any,
    *,
    method: str = "reml",
    knha: bool = False,
    alpha: float = 0.05,
    design_effect: Any = None,
) -> PooledProportionResult:
    """Pool a proportion (e.g. sensitivity) across sites on the logit scale.

    Each site contributes :math:`\\mathrm{logit}(x_i / n_i)` with variance
    :math:`1/x_i + 1/(n_i - x_i)`; a site with ``x_i = 0`` or ``x_i = n_i`` gets 0.5 added to
    both cells (successes and failures) first, and only such sites (metafor's
    ``escalc(measure="PLO")`` default, ``add=1/2, to="only0"``). The logit-scale fit is that
    of :func:`random_effects`; the estimate, interval and prediction interval are
    back-transformed with the inverse logit.

    Parameters
    ----------
    successes : array of shape (k,), whole numbers
        Per-site numerators (e.g. true positives).
    totals : array of shape (k,), whole numbers >= 1 and >= successes
        Per-site denominators (e.g. positives). A site with a total of 0 (no positives) has
        no proportion: an error says which.
    method, knha, alpha : as in :func:`random_effects`
    design_effect : array of shape (k,), each >= 1, optional
        Per-site design effect of clustered units (e.g. findings within patients, from
        :func:`validation.stats.proportions.clustered_proportion_ci`). A site's cells are
        replaced by the Rao-Scott effective counts :math:`x_i/d_i` and
        :math:`(n_i - x_i)/d_i` (Rao and Scott 1992), so its logit is unchanged and its
        variance is :math:`d_i (1/x_i + 1/(n_i - x_i))`; the 0.5 of a zero-cell site is added
        to the effective counts. ``None`` (default): the units are independent (:math:`d_i = 1`).

    Returns
    -------
    PooledProportionResult

    Notes
    -----
    The logit-normal approximation is poor for sites with fewer than about 10 cases in the
    smaller cell; the continuity correction then biases the site towards 0.5.

    References
    ----------
    1. Rao JNK, Scott AJ (1992). A simple method for the analysis of clustered binary data.
       Biometrics 48(2):577-585. doi:10.2307/2532311
    """
    x = _counts(successes, "successes")
    n = _counts(totals, "totals")
    if n.size != x.size:
        raise InputError(f"'totals' must have one value per site ({x.size}); got {n.size}.")
    if (n == 0).any():
        i = int(np.flatnonzero(n == 0)[0])
        raise InputError(
            f"'totals' must be >= 1 at every site; got 0 at site {i} (e.g. a site with no "
            "positive cases has no sensitivity). Leave that site out of this endpoint and say so."
        )
    if (x > n).any():
        i = int(np.flatnonzero(x > n)[0])
        raise InputError(f"'successes' must not exceed 'totals'; got {x[i]:g} > {n[i]:g} at site {i}.")
    zero = (x == 0) | (x == n)
    xs, fs = x, n - x
    if design_effect is not None:
        d = np.asarray(design_effect, dtype=np.float64)
        if d.shape != x.shape or not np.all(np.isfinite(d)) or np.any(d < 1.0):
            raise InputError(
                f"'design_effect' must be one finite value >= 1 per site ({x.size}); got {design_effect!r}. "
                "Pass the per-site design effects of clustered_proportion_ci, or None for independent units."
            )
        xs, fs = x / d, (n - x) / d
    xc = np.where(zero, xs + 0.5, xs)
    fc = np.where(zero, fs + 0.5, fs)
    yi = np.log(xc / fc)
    vi = 1.0 / xc + 1.0 / fc
    re = random_effects(yi, vi, method=method, knha=knha, alpha=alpha)
    corrected = tuple(int(i) for i in np.flatnonzero(zero))
    notes = (
        (f"0.5 added to both cells of site(s) {list(corrected)} (a zero cell).",) if corrected else ()
    )
    adjusted = design_effect is not None
    return _back(re, site_estimates=expit(yi), corrected=corrected, notes=notes,
                 method=f"pooled-proportion-logit-{re.method}{'-rao-scott' if adjusted else ''}",
                 references=(*re.references, RAO_SCOTT_1992) if adjusted else re.references)


def auc_logit_scale(aucs: Any, variances: Any) -> LogitAUCInputs:
    """Per-site AUCs and their (DeLong) variances on the logit scale (delta method).

    :math:`\\mathrm{logit}(A)` with variance :math:`\\mathrm{Var}(A) / (A(1 - A))^2`
    (Pepe 2003, section 5.2), ready for :func:`random_effects`.

    Parameters
    ----------
    aucs : array of shape (k,), each strictly inside (0, 1)
    variances : array of shape (k,), each > 0 (e.g. ``AUCResult.se ** 2`` from DeLong)

    Returns
    -------
    LogitAUCInputs
    """
    a = _vector(aucs, "aucs")
    v = _vector(variances, "variances")
    if v.size != a.size:
        raise InputError(f"'variances' must have one value per site ({a.size}); got {v.size}.")
    bad = (a <= 0.0) | (a >= 1.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"'aucs' must be strictly between 0 and 1 for the logit scale; got {a[i].item()!r} "
            f"at site {i}. A site with perfect separation has no logit-scale variance: report "
            "it separately or pool on the AUC scale."
        )
    if (v <= 0.0).any():
        i = int(np.flatnonzero(v <= 0.0)[0])
        raise InputError(f"'variances' must be > 0 at every site; got {v[i].item()!r} at site {i}.")
    return LogitAUCInputs(
        estimates=tuple(float(x) for x in logit(a)),
        variances=tuple(float(x) for x in v / (a * (1.0 - a)) ** 2),
        method="logit-delta",
        references=(
            "Pepe MS (2003). The Statistical Evaluation of Medical Tests for Classification and "
            "Prediction. Oxford University Press. ISBN 978-0-19-850984-4",
        ),
    )


def pooled_auc(
    aucs: Any,
    variances: Any,
    *,
    method: str = "reml",
    knha: bool = False,
    alpha: float = 0.05,
) -> PooledProportionResult:
    """Pool per-site AUCs on the logit scale (delta-method variances) and back-transform.

    Parameters and returns as :func:`pooled_proportion`, with ``aucs`` and their
    ``variances`` (DeLong) in place of the counts; see :func:`auc_logit_scale`.
    """
    inputs = auc_logit_scale(aucs, variances)
    re = random_effects(inputs.estimates, inputs.variances, method=method, knha=knha, alpha=alpha)
    return _back(re, site_estimates=np.asarray(aucs, dtype=np.float64), corrected=(), notes=(),
                 method=f"pooled-auc-logit-{re.method}", references=(*re.references, *inputs.references))
