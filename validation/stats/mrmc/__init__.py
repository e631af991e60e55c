"""Multi-reader multi-case (MRMC) reader-study analysis.

* :func:`mrmc_analysis` - the entry point: long-format reader study in, :class:`MRMCResult`
  out (Obuchowski-Rockette or DBM, three generalisations, non-inferiority).
* :func:`or_analysis`, :func:`dbm_analysis`, :func:`fom_covariance` - the building blocks.
"""

from validation.stats.mrmc.analysis import Difference, MRMCResult, mrmc_analysis
from validation.stats.mrmc.covariance import FomCovariance, fom_covariance
from validation.stats.mrmc.dbm import DBMAnalysis, DBMComponents, dbm_analysis, pseudovalues
from validation.stats.mrmc.or_analysis import (
    MRMCTest,
    NonInferiority,
    ORAnalysis,
    SingleModality,
    VarianceComponents,
    noninferiority_test,
    or_analysis,
)

__all__ = [
    "DBMAnalysis",
    "DBMComponents",
    "Difference",
    "FomCovariance",
    "MRMCResult",
    "MRMCTest",
    "NonInferiority",
    "ORAnalysis",
    "SingleModality",
    "VarianceComponents",
    "dbm_analysis",
    "fom_covariance",
    "mrmc_analysis",
    "noninferiority_test",
    "or_analysis",
    "pseudovalues",
]
