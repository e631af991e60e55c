"""The protocol's vocabulary: endpoint kinds, interval methods, hypothesis types and the few
derived meanings (a one-sided level, a null value) that every layer reads from here.

Nothing here imports the rest of the suite: the protocol model, its checks, the analysis
engine and sample-size planning all name kinds and methods through this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

SCHEMA_VERSION = "1.0"

Loc = tuple[str | int, ...]
"""A location inside a protocol: keys and list indices."""

EndpointKind = Literal[
    "sensitivity",
    "specificity",
    "ppv",
    "npv",
    "accuracy",
    "auc",
    "mrmc_auc",
    "mrmc_sensitivity",
    "mrmc_specificity",
    # risk outputs: calibration and prognostic endpoints (issue 18)
    "calibration_slope",
    "calibration_intercept",
    "brier",
    "ece",
    "c_index",
    "time_auc",
    "hazard_ratio",
    "mrmc_wafroc",
    "wafroc",
    "froc_llf",
]
PROPORTION_KINDS = ("sensitivity", "specificity", "ppv", "npv", "accuracy")
MRMC_KINDS = ("mrmc_auc", "mrmc_sensitivity", "mrmc_specificity")
READER_KINDS = MRMC_KINDS
"""Endpoint kinds that need a reader study."""
RISK_KINDS = (
    "calibration_slope", "calibration_intercept", "brier", "ece", "c_index", "time_auc", "hazard_ratio",
)
"""Risk-output endpoints (the ``risk`` section): calibration of a probability and prognostic
separation of a time to event. Their acceptance rules are ``risk.rules``, not ``hypotheses``."""
PAIRED_COMPARATOR_KINDS = ("sensitivity", "specificity", "auc")
"""Standalone kinds that a hypothesis can compare with a comparator read on the same cases."""
LOCALIZATION_KINDS = ("mrmc_wafroc", "wafroc", "froc_llf")
"""Endpoint kinds computed from marks (the ``localization`` section): the readers' wAFROC
(JAFROC, OR/DBM), the algorithm's wAFROC and its lesion-localization fraction at the operating
threshold (patient-cluster bootstrap)."""
RESERVED_CASE_COLUMNS = (
    "case_id", "patient_id", "site", "truth", "image", "score", "indeterminate",
    "exclusion_reason",
)
"""Columns the analysis reads or adds itself; none of them can be a comparator's reading."""

CI_METHODS: dict[str, dict[str, tuple[str, ...]]] = {
    "proportion": {
        "patient": ("wilson", "exact", "jeffreys", "agresti-coull", "bootstrap"),
        "finding": ("wilson", "exact", "jeffreys", "agresti-coull", "cluster_bootstrap"),
    },
    "auc": {
        "patient": ("delong", "logit", "bootstrap"),
        "finding": ("obuchowski", "cluster_bootstrap"),
    },
    "mrmc": {
        "patient": ("obuchowski_rockette", "or_split_plot"),
    },
    "risk_wald": {"patient": ("wald",)},
    "risk_bootstrap": {"patient": ("bootstrap",)},
    "localization": {
        "patient": ("obuchowski_rockette", "dbm", "cluster_bootstrap"),
    },
}
"""Interval methods allowed per endpoint family and unit of analysis.

Names follow :mod:`validation.stats` (``proportion_ci``'s methods: ``exact`` is
Clopper-Pearson). ``bootstrap`` resamples cases within truth class, ``cluster_bootstrap``
resamples patients. With ``unit: finding`` a patient may contribute several findings, so only
methods that account for the clustering are allowed: for proportions the binomial interval is
computed with the Rao-Scott effective sample size (``clustered_proportion_ci``), for the AUC
Obuchowski's clustered variance, or the cluster bootstrap.
``or_split_plot`` (reader endpoints of a ``split_plot`` reader study) asks for the
Obuchowski-Rockette split-plot form (Hillis 2014) for the AUC, whose split-plot default is the
U-statistic analysis; sensitivity and specificity of a split plot get that form either way.
"""

DEFAULT_CI: dict[str, dict[str, str]] = {
    "proportion": {"patient": "wilson", "finding": "wilson"},
    "auc": {"patient": "delong", "finding": "obuchowski"},
    "mrmc": {"patient": "obuchowski_rockette"},
    "risk_wald": {"patient": "wald"},
    "risk_bootstrap": {"patient": "bootstrap"},
    "localization": {"patient": "obuchowski_rockette"},
}
MRMC_COVARIANCES = ("jackknife", "delong", "bootstrap")

# segmentation and measurement agreement (the protocol's ``segmentation`` section)
SEGMENTATION_KINDS = (
    "dice", "iou", "hausdorff95", "hausdorff", "assd", "surface_dice",
    "bland_altman", "ccc", "icc", "kappa",
)
"""Kinds of the ``segmentation`` section's endpoints (mask metrics, then measurement agreement)."""
MASK_KINDS = SEGMENTATION_KINDS[:6]
MEASUREMENT_KINDS = SEGMENTATION_KINDS[6:]
SEGMENTATION_HYPOTHESIS_TYPES: dict[str, tuple[str, ...]] = {
    **{k: ("mean_above", "proportion_above") for k in ("dice", "iou", "surface_dice")},
    **{k: ("mean_below", "proportion_above") for k in ("hausdorff95", "hausdorff", "assd")},
    "bland_altman": ("limits_within",),
    **{k: ("estimate_above",) for k in ("ccc", "icc", "kappa")},
}
"""Hypothesis types allowed per segmentation endpoint kind (``proportion_above``: the share of
cases meeting the endpoint's clinical threshold)."""


def kind_family(kind: str) -> str:
    """``proportion``, ``auc``, ``mrmc``, ``risk_wald``, ``risk_bootstrap`` or ``localization``
    for an endpoint kind."""
    if kind in LOCALIZATION_KINDS:
        return "localization"
    if kind in MRMC_KINDS:
        return "mrmc"
    if kind in RISK_KINDS:  # Wald: slope, intercept, C-index (IJ se), Cox HR; else bootstrap
        return "risk_bootstrap" if kind in ("brier", "ece", "time_auc") else "risk_wald"
    if kind == "auc":
        return "auc"
    return "proportion"


def allowed_ci_methods(kind: str, unit: str) -> tuple[str, ...]:
    """The interval methods a protocol may name for ``kind`` with ``unit`` of analysis."""
    return CI_METHODS[kind_family(kind)].get(unit, ())



HYPOTHESIS_TYPES = ("performance_goal", "noninferiority", "superiority", "equivalence")
SUPERIORITY_MARGIN_WITH_COMPARATOR = (
    "a superiority margin against a comparator read on the same cases is not supported (the "
    "paired score test is for H0: difference <= 0); omit 'margin'"
)
"""The one rule for a paired comparator: superiority is tested with margin 0 only."""


def null_value(hypothesis_type: str, reference: float, margin: float | None) -> float:
    """The null value of a hypothesis: ``reference - margin`` (non-inferiority),
    ``reference + margin`` (superiority), else ``reference`` (performance goal; the centre of
    an equivalence region)."""
    m = float(margin) if margin is not None else 0.0
    if hypothesis_type == "noninferiority":
        return float(reference) - m
    if hypothesis_type == "superiority":
        return float(reference) + m
    return float(reference)


def null_bounds(hypothesis_type: str, reference: float, margin: float | None
                ) -> tuple[float | None, float | None]:
    """The lower and upper null boundaries a hypothesis tests against (``None`` where the
    alternative is open): both for equivalence, ``reference -/+ margin`` for non-inferiority
    and superiority, the reference itself for a performance goal."""
    m = float(margin) if margin is not None else 0.0
    ref = float(reference)
    if hypothesis_type == "equivalence":
        return ref - m, ref + m
    if hypothesis_type == "superiority":
        return None, ref + m
    if hypothesis_type == "noninferiority":
        return ref - m, None
    return ref, None


def one_sided_level(alpha: float, sidedness: str) -> float:
    """The one-sided test level (``alpha`` one-sided, ``alpha / 2`` two-sided).

    Delegates to :func:`validation.stats.hypotheses.one_sided_alpha` (the tested definition).
    """
    from validation.stats.hypotheses import one_sided_alpha

    return one_sided_alpha(alpha, sidedness)


def ci_alpha(alpha: float, sidedness: str) -> float:
    """Two-sided alpha of the reported intervals: ``2 x`` the one-sided level."""
    return 2.0 * one_sided_level(alpha, sidedness)


def endpoint_kinds() -> tuple[str, ...]:
    """Every endpoint kind, in the schema's order."""
    return tuple(EndpointKind.__args__)  # type: ignore[attr-defined]


def format_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))



def format_loc(loc: Iterable[str | int]) -> str:
    """``('endpoints', 0, 'ci')`` -> ``endpoints[0].ci``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out or "(top level)"
