"""The protocol as a pydantic v2 model.

A protocol fixes, before the test set is unblinded, everything the analysis does: the locked
model and its operating point, the test set and its exclusions, the endpoints with their unit
of analysis and interval method, the hypotheses with goals and margins, alpha, sidedness, the
multiplicity procedure, subgroups, populations, the sample-size justification and the seed.

Every model forbids unknown keys (``extra="forbid"``). Checks that concern one section sit on
that section's model (so their error points at the field); checks that relate sections to one
another (a hypothesis naming an endpoint, a reader endpoint needing a reader study, the
multiplicity family naming hypotheses) are in :func:`cross_field_problems`, which works on plain
data as well, so that ``validation protocol check`` can report them together with type errors.

The allowed interval methods per endpoint kind and unit of analysis are in :data:`CI_METHODS`;
the analysis engine maps each name to a function of :mod:`validation.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from validation.errors import did_you_mean
from validation.protocol.consistency import Consistency
from validation.protocol.localization import Localization
from validation.protocol.risk import Risk
from validation.protocol.robustness import Robustness
from validation.protocol.sections import (  # noqa: F401  (the sections are part of the model)
    Device,
    Exclusion,
    Identifier,
    Indeterminate,
    LockedModel,
    Number,
    ReaderStudy,
    RelPath,
    Sha256,
    Study,
    TestSet,
    Text,
    Truthers,
    Whole,
    _Model,
    _no_duplicates,
)
from validation.protocol.segmentation import SegmentationPlan
from validation.protocol.vocabulary import (
    DEFAULT_CI,
    MRMC_KINDS,
    RISK_KINDS,
    SUPERIORITY_MARGIN_WITH_COMPARATOR,
    EndpointKind,
    allowed_ci_methods,
    ci_alpha,
    format_loc,
    format_number,
    kind_family,
    null_value,
    one_sided_level,
)

# --------------------------------------------------------------------------------------------
# endpoints and hypotheses


class Endpoint(_Model):
    """A quantity to estimate, with its unit of analysis and interval method."""

    id: Identifier
    kind: EndpointKind
    unit: Literal["patient", "finding"] = Field(
        default="patient",
        description="'patient': one case per patient; 'finding': several per patient (clustered).",
    )
    ci: str | None = Field(
        default=None,
        description="Interval method; allowed values depend on kind and unit (see CI_METHODS).",
    )
    covariance: Literal["jackknife", "delong", "bootstrap"] | None = Field(
        default=None, description="MRMC endpoints only: case-sampling covariance estimator."
    )
    role: Literal["primary", "secondary", "exploratory"] = "exploratory"
    population: Identifier | None = Field(
        default=None, description="Analysis population (default: the first one listed)."
    )
    description: str | None = None

    @field_validator("unit")
    @classmethod
    def _unit_for_kind(cls, v: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind in MRMC_KINDS and v != "patient":
            raise ValueError(
                f"'unit' must be 'patient' for {kind} (the MRMC analysis uses one rating per "
                f"reader and case); got {v!r}"
            )
        if kind in RISK_KINDS and v != "patient":
            raise ValueError(f"'unit' must be 'patient' for {kind} (one outcome per patient); got {v!r}")
        return v

    @field_validator("ci")
    @classmethod
    def _ci_for_kind(cls, v: str | None, info: ValidationInfo) -> str | None:
        kind, unit = info.data.get("kind"), info.data.get("unit")
        if v is None or kind is None or unit is None:
            return v
        allowed = allowed_ci_methods(kind, unit)
        if v not in allowed:
            hint = did_you_mean(v, allowed)
            raise ValueError(
                f"'ci' must be one of {', '.join(allowed)} for kind {kind!r} with unit "
                f"{unit!r}; got {v!r}.{hint}"
            )
        return v

    @model_validator(mode="after")
    def _defaults(self) -> Endpoint:
        family = kind_family(self.kind)
        if self.ci is None:
            object.__setattr__(self, "ci", DEFAULT_CI[family][self.unit])
        if family == "mrmc":
            if self.covariance is None:
                object.__setattr__(self, "covariance", "jackknife")
        elif self.covariance is not None:
            raise ValueError(
                f"'covariance' applies only to MRMC endpoints; got it with kind {self.kind!r}"
            )
        return self


class Hypothesis(_Model):
    """A confirmatory claim about an endpoint.

    * ``performance_goal``: the endpoint exceeds ``goal`` (H0: theta <= goal); decided on the
      lower confidence bound.
    * ``noninferiority``: H0: theta - theta_ref <= -margin.
    * ``superiority``: H0: theta - theta_ref <= margin (margin 0 unless given).
    * ``equivalence``: H0: |theta - theta_ref| >= margin (two one-sided tests).

    For MRMC endpoints ``theta - theta_ref`` is the difference between reader-study modalities:
    the second listed minus ``comparator`` (default: the first). For standalone endpoints the
    reference ``theta_ref`` is either the fixed value ``goal`` (e.g. the predicate device's
    published performance) or a comparator read on the same cases, named by
    ``comparator_column``: a manifest column holding the comparator's call (0/1, for sensitivity
    and specificity) or score (for the AUC) on every analysed case. Then the test is paired:
    Tango's score test for proportions, the paired DeLong test for the AUC (Obuchowski's
    clustered versions when the unit is ``finding``).
    """

    id: Identifier
    endpoint: Identifier
    type: Literal["performance_goal", "noninferiority", "superiority", "equivalence"]
    goal: Number | None = Field(
        default=None, description="Performance goal, or the reference value of a standalone test."
    )
    margin: Number | None = Field(default=None, description="Positive margin on the endpoint scale.")
    comparator: Identifier | None = Field(
        default=None, description="MRMC endpoints: the reference modality (default: the first)."
    )
    comparator_column: Text | None = Field(
        default=None,
        description=(
            "Standalone endpoints: manifest column with the comparator's reading of the same "
            "cases (0/1 call for sensitivity/specificity, score for the AUC); a paired test "
            "replaces the fixed reference 'goal'."
        ),
    )
    description: str | None = None

    @field_validator("margin")
    @classmethod
    def _positive_margin(cls, v: float | None) -> float | None:
        if v is not None and not (0.0 < v < 1.0):
            raise ValueError(
                f"'margin' must be positive and below 1 (a difference on the endpoint's scale, "
                f"e.g. 0.05); got {v!r}. Write the margin as a positive number: the direction "
                f"follows from the hypothesis type"
            )
        return v

    @field_validator("goal")
    @classmethod
    def _goal_in_unit(cls, v: float | None) -> float | None:
        if v is not None and not (0.0 < v < 1.0):
            hint = f" (a proportion: write {v / 100:g} for {v:g}%)" if 1.0 < v < 100.0 else ""
            raise ValueError(f"'goal' must be strictly between 0 and 1; got {v!r}{hint}")
        return v

    @model_validator(mode="after")
    def _fields_for_type(self) -> Hypothesis:
        if self.type == "performance_goal":
            if self.goal is None:
                raise ValueError(
                    "a performance_goal hypothesis needs 'goal' (e.g. goal: 0.80); it is missing"
                )
            if self.margin is not None:
                raise ValueError(
                    "'margin' does not apply to a performance_goal hypothesis; put the threshold "
                    "in 'goal' or use type noninferiority"
                )
            if self.comparator is not None:
                raise ValueError("'comparator' does not apply to a performance_goal hypothesis")
            if self.comparator_column is not None:
                raise ValueError(
                    "'comparator_column' does not apply to a performance_goal hypothesis (it is "
                    "tested against the fixed 'goal'); use type noninferiority or superiority to "
                    "compare with a comparator read on the same cases"
                )
        elif self.type in ("noninferiority", "equivalence") and self.margin is None:
            raise ValueError(f"a {self.type} hypothesis needs a positive 'margin'; it is missing")
        if self.comparator_column is not None:
            if self.goal is not None:
                raise ValueError(
                    "give either 'goal' (a fixed reference value) or 'comparator_column' (a "
                    "comparator read on the same cases), not both"
                )
            if self.comparator is not None:
                raise ValueError(
                    "'comparator' names a reader-study modality (MRMC endpoints) and "
                    "'comparator_column' a manifest column (standalone endpoints); give one"
                )
            if self.type == "superiority" and self.margin is not None:
                raise ValueError(SUPERIORITY_MARGIN_WITH_COMPARATOR)
        return self

    def null_value(self, reference: float | None = None) -> float:
        """The null value: ``reference`` (the goal by default) minus the margin
        (non-inferiority), plus the margin (superiority), or the reference itself
        (performance goal; the centre of an equivalence region)."""
        ref = self.goal if reference is None else reference
        if ref is None:
            raise ValueError(f"hypothesis {self.id!r} has no goal; pass the reference value")
        return null_value(self.type, float(ref), self.margin)


# --------------------------------------------------------------------------------------------
# multiplicity, subgroups, sample size, analysis


class Multiplicity(_Model):
    """How the family-wise error rate is controlled across hypotheses.

    * ``fixed_sequence``: ``order`` lists the hypotheses; each is tested at full alpha only if
      all before it were rejected.
    * ``holm`` / ``hochberg``: over ``hypotheses``.
    * ``coprimary``: all of ``hypotheses`` must be rejected, each at full alpha.
    * ``graphical`` (Bretz et al. 2009): initial ``weights`` (sum <= 1) and ``transitions``
      (rows sum <= 1, zero diagonal).
    * ``none``: at most one confirmatory hypothesis.
    """

    procedure: Literal["fixed_sequence", "holm", "hochberg", "graphical", "coprimary", "none"]
    order: list[Identifier] | None = None
    hypotheses: list[Identifier] | None = None
    weights: dict[Identifier, float] | None = None
    transitions: dict[Identifier, dict[Identifier, float]] | None = None

    @model_validator(mode="after")
    def _fields_for_procedure(self) -> Multiplicity:
        p = self.procedure
        need = {
            "fixed_sequence": "order",
            "holm": "hypotheses",
            "hochberg": "hypotheses",
            "coprimary": "hypotheses",
            "graphical": "weights",
        }.get(p)
        allowed = {need} if need else set()
        if p == "graphical":
            allowed.add("transitions")
        for name in ("order", "hypotheses", "weights", "transitions"):
            value = getattr(self, name)
            if name == need and not value:
                raise ValueError(f"procedure {p!r} needs a non-empty '{name}'")
            if value is not None and name not in allowed:
                what = f"'{need}'" if need else "nothing else"
                raise ValueError(f"'{name}' does not apply to procedure {p!r} (it takes {what})")
        for name in ("order", "hypotheses"):
            value = getattr(self, name)
            if value:
                _no_duplicates(value, name)
        # a graphical procedure's weights and transitions are checked with the protocol's
        # cross-field checks (graph_problem_locations), each problem at its own field
        return self

    def family(self) -> list[str]:
        """The hypothesis ids under this procedure, in the order given."""
        if self.order:
            return list(self.order)
        if self.hypotheses:
            return list(self.hypotheses)
        if self.weights:
            return list(self.weights)
        return []

    def graph(self, family: list[str]) -> tuple[list[float], list[list[float]]]:
        """Initial weights and transition matrix of a graphical procedure over ``family``
        (absent entries are 0), in the family's order."""
        w = [float((self.weights or {}).get(hid, 0.0)) for hid in family]
        rows = self.transitions or {}
        g = [[float((rows.get(a) or {}).get(b, 0.0)) for b in family] for a in family]
        return w, g


class Subgroup(_Model):
    """A subgroup table: one row per level of a manifest column (or per bin of a number).

    With ``bins`` ``[b0, b1, ..., bk]`` the levels are ``[b0, b1)``, ..., ``[b(k-1), bk]``
    (left-closed, the last also right-closed); ``labels`` name them (default ``"b0-b1"``).
    """

    id: Identifier
    column: Text
    bins: list[float] | None = Field(default=None, min_length=2)
    labels: list[Text] | None = None
    description: str | None = None

    @field_validator("bins")
    @classmethod
    def _increasing(cls, v: list[float] | None) -> list[float] | None:
        if v is not None:
            if not all(math.isfinite(b) for b in v):
                raise ValueError(f"'bins' must be finite numbers; got {v!r}")
            if any(b >= a_next for b, a_next in zip(v, v[1:], strict=False)):
                raise ValueError(f"'bins' must be strictly increasing; got {v!r}")
        return v

    @model_validator(mode="after")
    def _labels(self) -> Subgroup:
        if self.labels is not None:
            if self.bins is None:
                raise ValueError("'labels' need 'bins' (they name the bins)")
            if len(self.labels) != len(self.bins) - 1:
                raise ValueError(
                    f"'labels' must have one name per bin ({len(self.bins) - 1}); "
                    f"got {len(self.labels)}"
                )
            _no_duplicates(self.labels, "labels")
        elif self.bins is not None:
            pairs = zip(self.bins[:-1], self.bins[1:], strict=True)
            object.__setattr__(self, "labels", [f"{format_number(a)}-{format_number(b)}" for a, b in pairs])
        return self


class SampleSizeAssumption(_Model):
    """Planning assumptions behind the sample size for one hypothesis."""

    hypothesis: Identifier
    expected: Number = Field(description="Anticipated value of the endpoint (test modality).")
    comparator_expected: Number | None = Field(
        default=None,
        description="Anticipated value of the comparator (MRMC modality or comparator_column).",
    )
    correlation: Number | None = Field(
        default=None, ge=-1.0, le=1.0,
        description=("Paired comparisons: correlation of the two readings (binary calls), or of "
                     "the two AUC estimates."),
    )
    cluster_size: Number | None = Field(default=None, ge=1.0, description="Findings per patient.")
    icc: Number | None = Field(default=None, ge=0.0, le=1.0)
    n_readers: Whole | None = Field(default=None, ge=2)
    variance_components: dict[str, Number] | None = Field(
        default=None, description="MRMC pilot variance components (e.g. var_r, var_tr, cov1..3)."
    )

    @field_validator("expected", "comparator_expected")
    @classmethod
    def _in_unit(cls, v: float | None, info: ValidationInfo) -> float | None:
        if v is not None and not (0.0 < v < 1.0):
            hint = f" (a proportion: write {v / 100:g} for {v:g}%)" if 1.0 < v < 100.0 else ""
            raise ValueError(
                f"'{info.field_name}' is the anticipated value of a proportion or AUC and must "
                f"lie strictly between 0 and 1; got {v!r}{hint}"
            )
        return v



class SampleSize(_Model):
    """The sample-size justification: inputs a reviewer can recompute."""

    power: Number = Field(gt=0.0, lt=1.0)
    prevalence: Number | None = Field(default=None, gt=0.0, lt=1.0)
    dropout: Number = Field(default=0.0, ge=0.0, lt=1.0, description="Fraction not evaluable.")
    planned_cases: Whole | None = Field(default=None, ge=1)
    planned_positive: Whole | None = Field(default=None, ge=1)
    planned_negative: Whole | None = Field(default=None, ge=1)
    method: str | None = Field(default=None, description="e.g. 'exact binomial'.")
    assumptions: list[SampleSizeAssumption] = Field(default_factory=list)
    notes: str | None = None


class Analysis(_Model):
    """Settings that make the analysis reproducible."""

    seed: Whole = Field(ge=0, lt=2**32)
    bootstrap_replicates: Whole = Field(default=2000, ge=200, le=1_000_000)
    bootstrap_interval: Literal["percentile", "bca"] = Field(
        default="percentile", description="Bootstrap interval type (bootstrap CI methods only)."
    )


Population = Literal["all_eligible", "per_protocol"]


def _default_populations() -> list[Population]:
    return ["all_eligible"]


class Protocol(_Model):
    """A study protocol / statistical analysis plan, as code.

    Load one with :func:`validation.protocol.load_protocol`, which also reports YAML line
    numbers and checks referenced files.
    """

    schema_version: Literal["1.0"] = "1.0"
    study: Study
    device: Device
    model: LockedModel
    test_set: TestSet
    reader_study: ReaderStudy | None = None
    localization: Localization | None = Field(
        default=None, exclude_if=lambda v: v is None,
        description="Free-response (marks) reader study and algorithm marks (optional).")
    endpoints: list[Endpoint] = Field(min_length=1)
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    alpha: Number = Field(gt=0.0, le=0.5, description="Family-wise significance level.")
    sidedness: Literal["one-sided", "two-sided"]
    multiplicity: Multiplicity = Field(default_factory=lambda: Multiplicity(procedure="none"))
    subgroups: list[Subgroup] = Field(default_factory=list)
    populations: list[Population] = Field(default_factory=_default_populations, min_length=1)
    sample_size: SampleSize | None = None
    analysis: Analysis
    robustness: Robustness | None = Field(
        default=None, exclude_if=lambda v: v is None,
        description="Perturbation (stress) analysis of an image model (optional).")
    segmentation: SegmentationPlan | None = Field(
        default=None, exclude_if=lambda v: v is None,
        description="Segmentation and measurement endpoints (optional).")
    consistency: Consistency | None = Field(
        default=None, exclude_if=lambda v: v is None,
        description="Pre-specified subgroup-consistency and multi-site heterogeneity assessments.")
    risk: Risk | None = Field(
        default=None, exclude_if=lambda v: v is None,
        description="Calibration and prognostic analysis of a risk output (risk endpoints; optional).")

    @model_validator(mode="after")
    def _cross_fields(self, info: ValidationInfo) -> Protocol:
        if isinstance(info.context, Mapping) and info.context.get("skip_cross_checks"):
            return self
        from validation.protocol.checks import cross_field_problems

        problems = cross_field_problems(self.model_dump(mode="python"))
        if problems:
            raise ValueError(
                "; ".join(f"{format_loc(loc)}: {msg}" for loc, msg in problems)
            )
        return self

    # convenient look-ups for the analysis engine ------------------------------------------
    def endpoint(self, endpoint_id: str) -> Endpoint:
        """The endpoint with this id (``KeyError`` if none)."""
        for e in self.endpoints:
            if e.id == endpoint_id:
                return e
        raise KeyError(endpoint_id)

    def hypothesis(self, hypothesis_id: str) -> Hypothesis:
        """The hypothesis with this id (``KeyError`` if none)."""
        for h in self.hypotheses:
            if h.id == hypothesis_id:
                return h
        raise KeyError(hypothesis_id)

    def endpoint_population(self, endpoint: Endpoint) -> str:
        """The analysis population of an endpoint (its own, else the first listed)."""
        return endpoint.population or self.populations[0]

    @property
    def one_sided_level(self) -> float:
        """The one-sided test level: ``alpha`` (one-sided protocol) or ``alpha / 2``."""
        return one_sided_level(float(self.alpha), self.sidedness)

    @property
    def ci_alpha(self) -> float:
        """Two-sided alpha of the reported intervals (``2 x`` the one-sided level)."""
        return ci_alpha(float(self.alpha), self.sidedness)

    @property
    def ci_level(self) -> float:
        """Confidence level of the reported intervals (``1 - ci_alpha``)."""
        return 1.0 - self.ci_alpha
