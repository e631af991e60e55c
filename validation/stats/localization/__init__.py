"""Lesion localization: free-response (FROC/AFROC/wAFROC) and LROC figures of merit.

* :func:`match_marks`, :func:`localization_arrays` - marks to lesions by the stated rule and
  the per-reader arrays.
* :func:`localization_fom`, :func:`fom_kernel` - AFROC, wAFROC, AFROC1, wAFROC1 figures of
  merit and their closed-form jackknife.
* :func:`froc_curve`, :func:`afroc_curve`, :func:`lesion_localization_fraction`, :func:`lroc`.
* :func:`localization_mrmc` - JAFROC MRMC analysis (OR or DBM; RRRC, FRRC, RRFC).
* :func:`standalone_localization` - one algorithm's FOM with a patient-cluster bootstrap CI.
"""

from validation.stats.localization.analysis import localization_mrmc, standalone_localization
from validation.stats.localization.fom import (
    FOMS,
    FomKernel,
    LROCResult,
    OperatingCurve,
    OperatingPoint,
    afroc_curve,
    fom_kernel,
    froc_curve,
    lesion_localization_fraction,
    localization_fom,
    lroc,
)
from validation.stats.localization.marks import (
    LocalizationData,
    MarkMatch,
    localization_arrays,
    match_marks,
)

__all__ = [
    "FOMS",
    "FomKernel",
    "LROCResult",
    "LocalizationData",
    "MarkMatch",
    "OperatingCurve",
    "OperatingPoint",
    "afroc_curve",
    "fom_kernel",
    "froc_curve",
    "lesion_localization_fraction",
    "localization_arrays",
    "localization_fom",
    "localization_mrmc",
    "lroc",
    "match_marks",
    "standalone_localization",
]
