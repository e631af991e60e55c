"""Empirical ROC curve points and the operating point at one threshold.

A case is called positive when ``score >= threshold``; higher scores mean more likely positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._checks import check_roc_inputs
from validation.stats._result import Result

HANLEY_MCNEIL_1982 = (
    "Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating "
    "characteristic (ROC) curve. Radiology 143(1):29-36. doi:10.1148/radiology.143.1.7063747"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ROCCurve(Result):
    """Empirical ROC curve points; a case is called positive when ``score >= threshold``.

    The first point is (0, 0) with threshold ``+inf`` (written ``null`` by ``to_dict()``).
    """

    fpr: NDArray[np.float64]
    tpr: NDArray[np.float64]
    thresholds: NDArray[np.float64]
    n_positive: int
    n_negative: int
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatingPoint(Result):
    """Sensitivity and specificity at one threshold (``score >= threshold`` is positive)."""

    threshold: float
    sensitivity: float
    specificity: float
    tp: int
    fp: int
    fn: int
    tn: int
    method: str
    references: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# curve and operating point
# ---------------------------------------------------------------------------------------------


def roc_curve_points(truth: Any, score: Any, *, drop_intermediate: bool = False) -> ROCCurve:
    """Empirical ROC curve: false- and true-positive rates at every distinct threshold.

    A case is called positive when ``score >= threshold``. Points run from (0, 0) (threshold
    ``+inf``) to (1, 1) (the lowest score). Computed by :func:`sklearn.metrics.roc_curve`.

    Parameters
    ----------
    truth : array of shape (n,), 0/1
    score : array of shape (n,), finite
    drop_intermediate : bool
        Drop collinear points that do not change the curve's shape (sklearn's option).

    Returns
    -------
    ROCCurve
    """
    from sklearn.metrics import roc_curve

    pos, s, n_pos, n_neg = check_roc_inputs(truth, score)
    fpr, tpr, thr = roc_curve(pos, s, drop_intermediate=bool(drop_intermediate))
    return ROCCurve(
        fpr=np.asarray(fpr, dtype=np.float64),
        tpr=np.asarray(tpr, dtype=np.float64),
        thresholds=np.asarray(thr, dtype=np.float64),
        n_positive=n_pos,
        n_negative=n_neg,
        method="empirical",
        references=(HANLEY_MCNEIL_1982,),
    )


def operating_point(truth: Any, score: Any, threshold: float) -> OperatingPoint:
    """Sensitivity and specificity at ``threshold`` (``score >= threshold`` is positive).

    Parameters
    ----------
    truth : array of shape (n,), 0/1, both classes present
    score : array of shape (n,), finite
    threshold : float, finite

    Returns
    -------
    OperatingPoint
        For intervals use :func:`validation.stats.diagnostic_accuracy`.
    """
    pos, s, n_pos, n_neg = check_roc_inputs(truth, score)
    try:
        thr = float(threshold)
    except (TypeError, ValueError):
        raise InputError(f"'threshold' must be a finite number; got {threshold!r}.") from None
    if not np.isfinite(thr):
        raise InputError(f"'threshold' must be a finite number; got {threshold!r}.")
    called = s >= thr
    tp = int(np.count_nonzero(called & pos))
    fp = int(np.count_nonzero(called & ~pos))
    return OperatingPoint(
        threshold=thr,
        sensitivity=tp / n_pos,
        specificity=(n_neg - fp) / n_neg,
        tp=tp,
        fp=fp,
        fn=n_pos - tp,
        tn=n_neg - fp,
        method="empirical",
        references=(HANLEY_MCNEIL_1982,),
    )
