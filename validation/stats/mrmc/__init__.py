"""Multi-reader multi-case (MRMC) reader-study analysis.

* :func:`mrmc_analysis` - the entry point: long-format reader study in, :class:`MRMCResult`
  out (Obuchowski-Rockette or DBM, three generalisations, non-inferiority).
* :func:`or_analysis`, :func:`dbm_analysis`, :func:`fom_covariance` - the building blocks.
* :func:`binormal_auc` - binormal ROC by maximum likelihood (Dorfman-Alf).
* :func:`study_conduct` - crossed design, washout and truther checks.
* :func:`reading_time_ratio` - ratio of geometric mean reading times (mixed model).
* :func:`mrmc_power`, :func:`mrmc_sample_size` - planning from pilot OR components.
* :func:`or_to_rm`, :func:`rm_to_or` - pilot OR parameters to Roe-Metz (Hillis 2012)
  simulation parameters and back (Hillis 2018, 2020).
* :func:`reading_design`, :func:`ustat_analysis` - the design a table holds (fully crossed,
  split-plot, partially missing) and the U-statistic analysis valid for all of them.
* :func:`or_split_plot`, :func:`split_plot_mrmc`, :func:`split_plot_design` - the
  Obuchowski-Rockette split-plot form (Hillis 2014): reader groups, each with its own cases.
"""

from validation.stats.mrmc.analysis import Difference, MRMCResult, mrmc_analysis
from validation.stats.mrmc.binormal import BinormalROC, binormal_auc
from validation.stats.mrmc.conduct import ConductCheck, ConductResult, study_conduct
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
from validation.stats.mrmc.or_split_plot import (
    SplitPlotOR,
    block_covariance,
    jackknife_block_covariance,
    or_split_plot,
)
from validation.stats.mrmc.or_to_rm import ORParameters, RMParameters, or_to_rm, rm_to_or
from validation.stats.mrmc.reading_time import ReadingTimeResult, reading_time_ratio
from validation.stats.mrmc.sample_size import (
    MRMCPower,
    MRMCSampleSize,
    mrmc_power,
    mrmc_sample_size,
)
from validation.stats.mrmc.split_plot import SplitPlotDesign, split_plot_design, split_plot_mrmc
from validation.stats.mrmc.unbalanced import ReadingDesign, reading_design, ustat_analysis
from validation.stats.mrmc.ustat import UStatEstimate, UStatMRMC, ustat_binary_mrmc, ustat_mrmc

__all__ = [
    "BinormalROC",
    "ConductCheck",
    "ConductResult",
    "MRMCPower",
    "MRMCSampleSize",
    "ReadingTimeResult",
    "binormal_auc",
    "mrmc_power",
    "mrmc_sample_size",
    "reading_time_ratio",
    "study_conduct",
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
    "ReadingDesign",
    "UStatEstimate",
    "UStatMRMC",
    "reading_design",
    "ustat_analysis",
    "ustat_mrmc",
    "ustat_binary_mrmc",
    "SplitPlotDesign",
    "SplitPlotOR",
    "block_covariance",
    "jackknife_block_covariance",
    "or_split_plot",
    "split_plot_design",
    "split_plot_mrmc",
    "ORParameters",
    "RMParameters",
    "or_to_rm",
    "rm_to_or",
]
