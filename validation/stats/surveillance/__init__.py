"""Post-market surveillance statistics: control charts, drift and label-free estimation.

* :mod:`.cusum`: Bernoulli CUSUM of case outcomes and binomial CUSUM of period counts, with
  ARLs by the Markov-chain method and the limit from a target ARL0.
* :mod:`.normal_cusum`: normal-theory CUSUM of a periodic metric (AIM-CU set-up).
* :mod:`.ewma`: EWMA of a proportion with exact limits for unequal period sizes.
* :mod:`.drift`: population stability index, KS, chi-square on the mix, drift multiplicity.
* :mod:`.estimation`: confidence-based performance estimation and the baseline calibrator.
"""

from validation.stats.surveillance.cusum import (
    CusumARL,
    CusumLimit,
    CusumResult,
    bernoulli_cusum,
    binomial_cusum,
    binomial_cusum_arl,
    binomial_cusum_limit,
    cusum_arl,
    cusum_limit,
    llr_weights,
)
from validation.stats.surveillance.drift import (
    DriftAdjustment,
    DriftTest,
    PSIResult,
    adjust_drift_pvalues,
    chi2_mix,
    ks_drift,
    population_stability_index,
)
from validation.stats.surveillance.estimation import (
    Calibrator,
    EstimatedFigure,
    EstimatedPerformance,
    estimated_performance,
    fit_calibrator,
)
from validation.stats.surveillance.ewma import EwmaResult, ewma_proportion
from validation.stats.surveillance.normal_cusum import (
    NormalCusumARL,
    NormalCusumDesign,
    NormalCusumResult,
    normal_cusum,
    normal_cusum_arl,
    normal_cusum_design,
)

__all__ = [
    "CusumARL",
    "CusumLimit",
    "CusumResult",
    "bernoulli_cusum",
    "binomial_cusum",
    "binomial_cusum_arl",
    "binomial_cusum_limit",
    "cusum_arl",
    "cusum_limit",
    "llr_weights",
    "DriftAdjustment",
    "DriftTest",
    "PSIResult",
    "adjust_drift_pvalues",
    "chi2_mix",
    "ks_drift",
    "population_stability_index",
    "Calibrator",
    "EstimatedFigure",
    "EstimatedPerformance",
    "estimated_performance",
    "fit_calibrator",
    "EwmaResult",
    "ewma_proportion",
    "NormalCusumARL",
    "NormalCusumDesign",
    "NormalCusumResult",
    "normal_cusum",
    "normal_cusum_arl",
    "normal_cusum_design",
]
