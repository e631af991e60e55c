"""The statistics layer: pure functions, arrays in, frozen result dataclasses out.

Each family has its own module; the public names are re-exported here.
"""

from validation.stats.roc import (
    AUCComparison,
    AUCResult,
    OperatingPoint,
    ROCCurve,
    auc_ci,
    compare_auc,
    compare_auc_unpaired,
    operating_point,
    placement_values,
    roc_curve_points,
)

__all__ = [
    "AUCComparison",
    "AUCResult",
    "OperatingPoint",
    "ROCCurve",
    "auc_ci",
    "compare_auc",
    "compare_auc_unpaired",
    "operating_point",
    "placement_values",
    "roc_curve_points",
]
