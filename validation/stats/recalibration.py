"""Logistic recalibration of a locked model's probabilities, fitted on a tuning split.

The recalibration model [1]_, [2]_ is the calibration-slope regression

    logit P(Y = 1) = a + b logit(p),

fitted by maximum likelihood on a *tuning* split. The recalibrated probability of a new case is
``expit(a + b logit(p))``. On the data it was fitted on it is calibrated by construction (its
calibration intercept is 0 and its slope 1: the score equations of the fit), so it must be
judged on cases it was not fitted on; the locked model's own calibration is a separate result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._checks import check_alpha
from validation.stats._result import Result
from validation.stats.calibration import (
    COX_1958,
    VAN_CALSTER_2016,
    CalibrationCoefficient,
    _coefficient,
    _logit_fit,
    binary_inputs,
    check_probability,
)

STEYERBERG_2004 = (
    "Steyerberg EW, Borsboom GJJM, van Houwelingen HC, Eijkemans MJC, Habbema JDF. Validation and "
    "updating of predictive logistic regression models: a study on sample size and shrinkage. Stat "
    "Med 2004;23:2567-2586. doi:10.1002/sim.1844"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecalibrationModel(Result):
    """``a`` (``intercept``, null 0) and ``b`` (``slope``, null 1) of the recalibration fit."""

    intercept: CalibrationCoefficient
    slope: CalibrationCoefficient
    n: int
    n_events: int
    method: str
    references: tuple[str, ...]

    def recalibrate(self, probability: Any) -> NDArray[np.float64]:
        """``expit(a + b logit(p))`` of each probability (strictly inside (0, 1))."""
        p = check_probability(probability, open_interval=True)
        return 1.0 / (1.0 + np.exp(-(self.intercept.estimate + self.slope.estimate * (np.log(p) - np.log1p(-p)))))


def fit_recalibration(truth: Any, probability: Any, *, alpha: float = 0.05) -> RecalibrationModel:
    """Fit ``logit P(Y = 1) = a + b logit(p)`` on a tuning split (Wald intervals).

    Parameters
    ----------
    truth : array_like of shape (n,)
        Outcome of the tuning cases, 0 or 1; both must occur.
    probability : array_like of shape (n,)
        The locked model's probabilities of those cases, strictly inside (0, 1), not all equal.
    alpha : float
        Two-sided level of the coefficients' intervals.

    Returns
    -------
    RecalibrationModel
        ``intercept`` (``a``) and ``slope`` (``b``) with ``estimate``, ``se`` and ``ci``;
        :meth:`RecalibrationModel.recalibrate` applies them to other cases.

    Notes
    -----
    ``b`` equals the calibration slope of ``calibration_summary`` on the same cases and ``a`` is
    that model's constant (not the calibration intercept, whose model fixes ``b = 1``). With
    few tuning events (under about 10 per coefficient) the fit is unstable and shrinks or
    inflates the predictions by chance [3]_; perfect separation is an ``InputError``.

    References
    ----------
    .. [1] Cox DR. Biometrika 1958;45:562-565. doi:10.1093/biomet/45.3-4.562
    .. [2] Van Calster B et al. J Clin Epidemiol 2016;74:167-176. doi:10.1016/j.jclinepi.2015.12.005
    .. [3] Steyerberg EW et al. Stat Med 2004;23:2567-2586. doi:10.1002/sim.1844

    Examples
    --------
    >>> m = fit_recalibration([0, 1, 0, 1, 1, 0, 1, 0], [.2, .7, .3, .6, .9, .4, .1, .5])
    >>> m.recalibrate([0.5]).shape
    (1,)
    """
    a = check_alpha(alpha)
    y, p = binary_inputs(truth, probability, open_interval=True)
    lp = np.log(p) - np.log1p(-p)
    if np.ptp(lp) == 0.0:
        raise InputError(
            f"'probability' must vary across the tuning cases for a recalibration slope; every case "
            f"has {float(p[0])!r}. Recalibrate the intercept only, or use a larger tuning split."
        )
    coef, se = _logit_fit(y, np.column_stack([np.ones(y.size), lp]), None)
    return RecalibrationModel(
        intercept=_coefficient(float(coef[0]), float(se[0]), 0.0, a, "constant of the logistic regression "
                               "of the outcome on logit(p) (Wald interval)"),
        slope=_coefficient(float(coef[1]), float(se[1]), 1.0, a, "coefficient of logit(p) (Wald interval)"),
        n=int(y.size),
        n_events=int(y.sum()),
        method="logistic recalibration expit(a + b logit(p)) fitted on the tuning split (Cox 1958)",
        references=(COX_1958, VAN_CALSTER_2016, STEYERBERG_2004),
    )
