"""Calibration of predicted probabilities: intercept, slope and calibration-in-the-large.

A model is calibrated when, among cases given probability ``p``, the proportion of events is
``p``. The logistic recalibration framework (Cox 1958 [1]_; Van Calster et al. 2016 [2]_)
summarises it with two numbers fitted on the validation set:

* the calibration **intercept** ``a`` of ``logit P(Y = 1) = a + logit(p)`` (the logit of the
  prediction as offset): 0 when predictions are right on average ("calibration-in-the-large");
* the calibration **slope** ``b`` of ``logit P(Y = 1) = a' + b logit(p)``: 1 when predictions
  are neither too extreme (``b < 1``, over-fitting) nor too modest (``b > 1``).

Both are maximum-likelihood logistic regressions (statsmodels GLM, binomial family, logit
link); their intervals are Wald intervals ``estimate +/- z_{1-alpha/2} se``, as R's
``confint.default`` gives for ``glm``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_binary_truth
from validation.stats._result import Result

COX_1958 = (
    "Cox DR. Two further applications of a model for binary regression. Biometrika "
    "1958;45:562-565. doi:10.1093/biomet/45.3-4.562"
)
VAN_CALSTER_2016 = (
    "Van Calster B, Nieboer D, Vergouwe Y, De Cock B, Pencina MJ, Steyerberg EW. A calibration "
    "hierarchy for risk models was defined: from utopia to empirical data. J Clin Epidemiol "
    "2016;74:167-176. doi:10.1016/j.jclinepi.2015.12.005"
)
BRIER_1950 = (
    "Brier GW. Verification of forecasts expressed in terms of probability. Mon Weather Rev "
    "1950;78:1-3. doi:10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2"
)


def check_probability(
    probability: Any, n: int | None = None, *, name: str = "probability", open_interval: bool = False
) -> NDArray[np.float64]:
    """Return ``probability`` as a finite float64 1-D array in [0, 1] (``(0, 1)`` when
    ``open_interval``: a logit must exist)."""
    try:
        arr = np.asarray(probability, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be numeric probabilities in [0, 1].") from None
    if arr.ndim != 1:
        raise InputError(f"'{name}' must be one-dimensional; got shape {arr.shape}.")
    if arr.size == 0:
        raise InputError(f"'{name}' must not be empty.")
    if n is not None and arr.size != n:
        raise InputError(f"'{name}' must have the same length as truth ({n}); got {arr.size}.")
    bad = ~np.isfinite(arr) | (arr < 0.0) | (arr > 1.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"'{name}' must be a probability in [0, 1]; got {arr[i].item()!r} at position {i}. "
            "Declare a raw score as 'score', not as a probability, or map it to [0, 1] first."
        )
    if open_interval:
        edge = (arr == 0.0) | (arr == 1.0)
        if edge.any():
            i = int(np.flatnonzero(edge)[0])
            raise InputError(
                f"'{name}' must be strictly between 0 and 1 for a logistic calibration model "
                f"(its logit must be finite); got {arr[i].item()!r} at position {i}. Clip the "
                "model's output to [1e-6, 1 - 1e-6] in the locked post-processing, or report "
                "only the Brier score and the calibration curve."
            )
    return arr


def binary_inputs(
    truth: Any, probability: Any, *, open_interval: bool = False
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """``truth`` (0/1, both classes present) and ``probability`` checked together."""
    t = check_binary_truth(truth)
    p = check_probability(probability, t.size, open_interval=open_interval)
    n_pos = int(t.sum())
    if n_pos == 0 or n_pos == t.size:
        cls = "event (1)" if n_pos == 0 else "non-event (0)"
        raise InputError(
            f"'truth' has no {cls} cases; calibration needs both outcomes (got {n_pos} events in {t.size} cases)."
        )
    return t, p


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationCoefficient(Result):
    """One coefficient of a logistic recalibration model with its Wald interval and the Wald
    test of ``H0: coefficient = null`` (0 for the intercept, 1 for the slope)."""

    estimate: float
    se: float
    ci: tuple[float, float]
    null: float
    statistic: float
    p_value: float
    method: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationInTheLarge(Result):
    """Mean prediction against the observed event rate."""

    mean_predicted: float
    observed_rate: float
    difference: float
    """observed rate - mean prediction (negative: the model over-predicts)."""
    oe_ratio: float
    """observed events / expected events (sum of the predictions)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationSummary(Result):
    """Calibration intercept, slope, Brier score and calibration-in-the-large of one sample."""

    n: int
    n_events: int
    intercept: CalibrationCoefficient
    slope: CalibrationCoefficient
    brier: float
    calibration_in_the_large: CalibrationInTheLarge
    alpha: float
    method: str
    references: tuple[str, ...]


def _logit_fit(
    y: NDArray[np.int8], exog: NDArray[np.float64], offset: NDArray[np.float64] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coefficients and standard errors of a binomial GLM (logit link) by statsmodels."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    model = sm.GLM(y.astype(np.float64), exog, family=sm.families.Binomial(), offset=offset)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model.fit()
    for w in caught:
        if issubclass(w.category, (PerfectSeparationWarning, ConvergenceWarning)):
            raise InputError(
                "The logistic calibration model did not converge: the outcome is perfectly "
                "separated by logit(probability) (every event above every non-event). The "
                "slope is not estimable; report the Brier score and the calibration curve."
            )
    params = np.asarray(fit.params, dtype=np.float64)
    bse = np.asarray(fit.bse, dtype=np.float64)
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(bse))):
        raise InputError("The logistic calibration model has no finite estimate for these data.")
    return params, bse


def _coefficient(estimate: float, se: float, null: float, alpha: float, method: str) -> CalibrationCoefficient:
    z = float(sps.norm.ppf(1.0 - alpha / 2.0))
    stat = (estimate - null) / se
    return CalibrationCoefficient(
        estimate=estimate,
        se=se,
        ci=(estimate - z * se, estimate + z * se),
        null=null,
        statistic=stat,
        p_value=float(2.0 * sps.norm.sf(abs(stat))),
        method=method,
    )


def calibration_summary(truth: Any, probability: Any, *, alpha: float = 0.05) -> CalibrationSummary:
    """Calibration intercept and slope (Wald intervals), Brier score and calibration-in-the-large.

    The intercept ``a`` is the constant of ``logit P(Y_i = 1) = a + logit(p_i)`` (``logit(p_i)``
    an offset); ``H0: a = 0``. The slope ``b`` is the coefficient of
    ``logit P(Y_i = 1) = a' + b logit(p_i)``; ``H0: b = 1``. Both by maximum likelihood; the
    intervals are Wald, ``estimate +/- z_{1 - alpha/2} se`` (R: ``confint.default`` of ``glm``).
    The Brier score is ``mean((p_i - y_i)^2)``.

    Parameters
    ----------
    truth : array_like of shape (n,)
        Observed outcome, 0 or 1; both must occur.
    probability : array_like of shape (n,)
        Predicted probability of the event, strictly inside (0, 1) (its logit must exist).
    alpha : float
        Two-sided level of the intervals.

    Returns
    -------
    CalibrationSummary

    Notes
    -----
    Wald intervals of logistic coefficients are accurate with about ten events per parameter or
    more; with fewer events the slope's interval is too narrow and profile-likelihood or
    bootstrap intervals are preferable. Perfect separation (every event above every non-event)
    makes the slope infinite: an ``InputError``. The intercept's model assumes the slope is 1;
    the slope model's own constant is not the calibration intercept [2]_.

    References
    ----------
    .. [1] Cox DR. Biometrika 1958;45:562-565. doi:10.1093/biomet/45.3-4.562
    .. [2] Van Calster B et al. J Clin Epidemiol 2016;74:167-176. doi:10.1016/j.jclinepi.2015.12.005
    .. [3] Brier GW. Mon Weather Rev 1950;78:1-3. doi:10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2

    Examples
    --------
    >>> r = calibration_summary([0, 1, 0, 1, 1, 0, 0, 1], [.2, .7, .3, .6, .9, .4, .1, .5])
    >>> round(r.brier, 4)
    0.1062
    """
    a = check_alpha(alpha)
    y, p = binary_inputs(truth, probability, open_interval=True)
    lp = np.log(p) - np.log1p(-p)
    n = y.size
    if np.ptp(lp) == 0.0:
        raise InputError(
            f"'probability' must vary across cases for a calibration slope; every case has "
            f"{float(p[0])!r}. Report calibration-in-the-large and the Brier score instead."
        )
    ones = np.ones((n, 1))
    (a_hat,), (a_se,) = _logit_fit(y, ones, lp)
    coef, se = _logit_fit(y, np.column_stack([ones, lp]), None)
    intercept = _coefficient(
        float(a_hat), float(a_se), 0.0, a, "logistic regression with logit(p) as offset (Wald interval)"
    )
    slope = _coefficient(
        float(coef[1]), float(se[1]), 1.0, a, "logistic regression of the outcome on logit(p) (Wald interval)"
    )
    mean_p = float(p.mean())
    rate = float(y.mean())
    citl = CalibrationInTheLarge(
        mean_predicted=mean_p, observed_rate=rate, difference=rate - mean_p, oe_ratio=float(y.sum() / p.sum())
    )
    return CalibrationSummary(
        n=n,
        n_events=int(y.sum()),
        intercept=intercept,
        slope=slope,
        brier=float(np.mean((p - y) ** 2)),
        calibration_in_the_large=citl,
        alpha=a,
        method="logistic recalibration (Cox 1958): intercept with logit(p) offset, slope on logit(p)",
        references=(COX_1958, VAN_CALSTER_2016, BRIER_1950),
    )
