"""The statistics layer: pure functions, arrays in, frozen result dataclasses out.

Each family has its own module; the public names are re-exported here.
"""

# helpers other layers use (argument checks of the CLI, results as plain data): public, not
# statistics, so outside __all__
from validation.stats._checks import check_alpha as check_alpha
from validation.stats._checks import check_choice as check_choice
from validation.stats._result import to_plain as to_plain
from validation.stats.bivariate import BivariateResult, Region, SROCCurve, SummaryProportion, bivariate_accuracy
from validation.stats.bootstrap import (
    BootstrapResult,
    bootstrap_auc,
    bootstrap_proportion,
    bootstrap_statistic,
)
from validation.stats.differences import (
    DifferenceResult,
    McNemarTest,
    ScoreTest,
    paired_difference,
    unpaired_difference,
)
from validation.stats.hypotheses import HypothesisTest
from validation.stats.meta_analysis import (
    LogitAUCInputs,
    PooledProportionResult,
    RandomEffectsResult,
    auc_logit_scale,
    pooled_auc,
    pooled_proportion,
    random_effects,
)
from validation.stats.mrmc import (
    MRMCResult,
    binormal_auc,
    mrmc_analysis,
    mrmc_power,
    mrmc_sample_size,
    reading_time_ratio,
    study_conduct,
)
from validation.stats.multiplicity import MultiplicityResult
from validation.stats.placements import placement_values
from validation.stats.proportions import (
    ConfusionMatrix,
    DiagnosticAccuracy,
    ProportionResult,
    clustered_proportion_ci,
    confusion_matrix,
    diagnostic_accuracy,
    proportion_ci,
)
from validation.stats.roc import (
    AUCComparison,
    AUCResult,
    OperatingPoint,
    ROCCurve,
    auc_ci,
    compare_auc,
    compare_auc_unpaired,
    operating_point,
    roc_curve_points,
)
from validation.stats.roc_band import ROCBand, roc_sensitivity_band
from validation.stats.subgroup_consistency import (
    InteractionTest,
    LevelGap,
    LevelSummary,
    SubgroupConsistencyResult,
    subgroup_consistency,
)

__all__ = [
    "BivariateResult",
    "Region",
    "SROCCurve",
    "SummaryProportion",
    "bivariate_accuracy",
    "LogitAUCInputs",
    "PooledProportionResult",
    "RandomEffectsResult",
    "auc_logit_scale",
    "pooled_auc",
    "pooled_proportion",
    "random_effects",
    "InteractionTest",
    "LevelGap",
    "LevelSummary",
    "SubgroupConsistencyResult",
    "subgroup_consistency",
    "BootstrapResult",
    "bootstrap_auc",
    "bootstrap_proportion",
    "bootstrap_statistic",
    "DifferenceResult",
    "McNemarTest",
    "ScoreTest",
    "paired_difference",
    "unpaired_difference",
    "HypothesisTest",
    "MRMCResult",
    "binormal_auc",
    "mrmc_analysis",
    "mrmc_power",
    "mrmc_sample_size",
    "reading_time_ratio",
    "study_conduct",
    "MultiplicityResult",
    "ConfusionMatrix",
    "DiagnosticAccuracy",
    "ProportionResult",
    "clustered_proportion_ci",
    "confusion_matrix",
    "diagnostic_accuracy",
    "proportion_ci",
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
    "roc_sensitivity_band",
    "ROCBand",
]
