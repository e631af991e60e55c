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
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

SCHEMA_VERSION = "1.0"

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        max_length=64,
        description="Letters, digits, '.', '_' or '-', starting with a letter or digit.",
    ),
]
Text = Annotated[str, Field(min_length=1)]
RelPath = Annotated[
    str,
    Field(min_length=1, description="A path relative to the protocol file's folder."),
]
Sha256 = Annotated[
    str,
    Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 as 64 lowercase hexadecimal digits."),
]

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
]
PROPORTION_KINDS = ("sensitivity", "specificity", "ppv", "npv", "accuracy")
MRMC_KINDS = ("mrmc_auc", "mrmc_sensitivity", "mrmc_specificity")
READER_KINDS = MRMC_KINDS
"""Endpoint kinds that need a reader study."""
PAIRED_COMPARATOR_KINDS = ("sensitivity", "specificity", "auc")
"""Standalone kinds that a hypothesis can compare with a comparator read on the same cases."""
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
        "patient": ("obuchowski_rockette",),
    },
}
"""Interval methods allowed per endpoint family and unit of analysis.

Names follow :mod:`validation.stats` (``proportion_ci``'s methods: ``exact`` is
Clopper-Pearson). ``bootstrap`` resamples cases within truth class, ``cluster_bootstrap``
resamples patients. With ``unit: finding`` a patient may contribute several findings, so only
methods that account for the clustering are allowed: for proportions the binomial interval is
computed with the Rao-Scott effective sample size (``clustered_proportion_ci``), for the AUC
Obuchowski's clustered variance, or the cluster bootstrap.
"""

DEFAULT_CI: dict[str, dict[str, str]] = {
    "proportion": {"patient": "wilson", "finding": "wilson"},
    "auc": {"patient": "delong", "finding": "obuchowski"},
    "mrmc": {"patient": "obuchowski_rockette"},
}
MRMC_COVARIANCES = ("jackknife", "delong", "bootstrap")


def kind_family(kind: str) -> str:
    """``proportion``, ``auc`` or ``mrmc`` for an endpoint kind."""
    if kind in MRMC_KINDS:
        return "mrmc"
    if kind == "auc":
        return "auc"
    return "proportion"


def allowed_ci_methods(kind: str, unit: str) -> tuple[str, ...]:
    """The interval methods a protocol may name for ``kind`` with ``unit`` of analysis."""
    return CI_METHODS[kind_family(kind)].get(unit, ())


Number = Annotated[float, Strict()]
"""A YAML number: an integer or a float, never a boolean or a quoted string."""
Whole = Annotated[int, Strict()]
"""A YAML integer: never a float (800.0), a boolean or a quoted string."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --------------------------------------------------------------------------------------------
# study, device, model


class Study(_Model):
    """Identification of the study."""

    id: Identifier = Field(description="Study identifier; names the run folder.")
    title: Text
    version: Text = Field(description="Version of this protocol / SAP, e.g. '1.0'.")
    sponsor: Text
    registration: str | None = Field(
        default=None, description="Trial registry number, e.g. NCT01234567 (optional)."
    )


class Device(_Model):
    """The device under evaluation."""

    name: Text
    version: Text
    intended_use: Text
    risk_class: Literal["I", "II", "IIa", "IIb", "III"]
    manufacturer: str | None = None


class LockedModel(_Model):
    """The locked model: an artifact (or precomputed predictions) fixed by its SHA-256."""

    kind: Literal["torchscript", "torch_export", "onnx", "precomputed"]
    artifact: RelPath = Field(
        description="The locked file; for kind 'precomputed' the predictions file (CSV/Parquet)."
    )
    sha256: Sha256
    card: RelPath | None = Field(default=None, description="Model card (YAML), optional.")
    training_sites: list[Text] = Field(
        default_factory=list,
        description="Sites whose data trained or tuned the model; the test set must not use them.",
    )
    operating_point: Number = Field(
        description="Locked threshold: a score >= operating_point is a positive call."
    )
    score_column: str | None = Field(
        default=None, description="Score column of precomputed predictions (default 'score')."
    )

    @field_validator("operating_point")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError(f"'operating_point' must be a finite number; got {v!r}")
        return v

    @field_validator("training_sites")
    @classmethod
    def _unique_sites(cls, v: list[str]) -> list[str]:
        _no_duplicates(v, "training_sites")
        return v

    @model_validator(mode="after")
    def _score_column(self) -> LockedModel:
        if self.kind == "precomputed":
            if self.score_column is None:
                object.__setattr__(self, "score_column", "score")
        elif self.score_column is not None:
            raise ValueError(
                f"'score_column' applies only to kind 'precomputed'; got it with kind "
                f"{self.kind!r}. Remove it (the model itself produces the score)."
            )
        return self


# --------------------------------------------------------------------------------------------
# test set and reader study


class Exclusion(_Model):
    """An exclusion rule: cases whose ``column`` holds one of ``values`` are excluded."""

    reason: Identifier = Field(description="Reason code, counted in the STARD flow.")
    column: Text = Field(description="Manifest column.")
    values: list[bool | int | float | str] = Field(min_length=1)
    description: str | None = None


class Indeterminate(_Model):
    """How non-diagnostic or indeterminate index-test results are handled.

    They are always counted and, following the FDA 2007 statistical guidance on diagnostic
    tests, every endpoint is also reported with them as positive and as negative. ``primary``
    says which of those is the primary analysis: ``worst_case`` counts each as an error
    (positive truth as a negative call, negative truth as a positive call).
    """

    column: Text = "non_diagnostic"
    primary: Literal["worst_case", "as_positive", "as_negative"] = "worst_case"


class TestSet(_Model):
    """The external test set."""

    __test__ = False  # not a pytest test class

    manifest: RelPath = Field(description="Manifest table (one row per case), CSV or Parquet.")
    data_spec: Text = Field(
        default="test_set_manifest",
        description="Name of a table specification in data_specs/ (without .yaml).",
    )
    images_root: RelPath | None = Field(default=None, description="Image folder (image models).")
    reference_standard: Text = Field(description="How the reference standard was established.")
    identifier_columns: list[Text] = Field(
        default_factory=list,
        description="Columns with direct identifiers; never copied into outputs.",
    )
    exclusions: list[Exclusion] = Field(default_factory=list)
    indeterminate: Indeterminate = Field(default_factory=Indeterminate)

    @field_validator("exclusions")
    @classmethod
    def _unique_reasons(cls, v: list[Exclusion]) -> list[Exclusion]:
        _no_duplicates([e.reason for e in v], "exclusions reason")
        return v


class Truthers(_Model):
    """Who established the reference standard for the reader study."""

    count: int = Field(ge=1)
    rule: Text = Field(description="e.g. 'majority of three thoracic radiologists'.")
    qualification: str | None = None


class ReaderStudy(_Model):
    """A multi-reader multi-case (MRMC) study."""

    ratings: RelPath = Field(description="Ratings table, one row per reader x case x modality.")
    data_spec: Text = "reader_ratings"
    modalities: list[Identifier] = Field(
        min_length=2,
        description="Reading conditions; a difference is the second minus the first.",
    )
    design: Literal["fully_crossed"] = "fully_crossed"
    washout_days_min: int | None = Field(
        default=None, ge=0, description="Least days between a reader's two readings of a case."
    )
    truthers: Truthers | None = None

    @field_validator("modalities")
    @classmethod
    def _unique_modalities(cls, v: list[str]) -> list[str]:
        _no_duplicates(v, "modalities")
        return v


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
        return v

    @field_validator("ci")
    @classmethod
    def _ci_for_kind(cls, v: str | None, info: ValidationInfo) -> str | None:
        kind, unit = info.data.get("kind"), info.data.get("unit")
        if v is None or kind is None or unit is None:
            return v
        allowed = allowed_ci_methods(kind, unit)
        if v not in allowed:
            hint = _did_you_mean(v, allowed)
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
                raise ValueError(
                    "a superiority margin against a comparator read on the same cases is not "
                    "supported (the paired score test is for H0: difference <= 0); omit 'margin'"
                )
        return self


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


def graph_problems(weights: Mapping[str, Any], transitions: Mapping[str, Any]) -> list[str]:
    """Problems of a graphical procedure's weights and transition matrix (empty if valid)."""
    return [msg for _, msg in graph_problem_locations(weights, transitions)]


def graph_problem_locations(
    weights: Mapping[str, Any], transitions: Mapping[str, Any]
) -> list[tuple[tuple[str, ...], str]]:
    """Like :func:`graph_problems`, each with its location under ``multiplicity``."""
    problems: list[tuple[tuple[str, ...], str]] = []
    tol = 1e-9
    total = 0.0
    for h, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not (0.0 <= w <= 1.0):
            problems.append((("weights", str(h)), f"weight of {h!r} must be in [0, 1]; got {w!r}"))
        else:
            total += float(w)
    if total > 1.0 + tol:
        problems.append((("weights",), f"'weights' must sum to at most 1 (the alpha is split); "
                                       f"they sum to {total:g}"))
    for h, row in transitions.items():
        if h not in weights:
            problems.append((("transitions", str(h)),
                             f"transitions row {h!r} is not a hypothesis in 'weights'"))
        if not isinstance(row, Mapping):
            continue
        row_sum = 0.0
        for k, g in row.items():
            at = ("transitions", str(h), str(k))
            if k not in weights:
                problems.append((at, f"transitions[{h!r}] names {k!r}, which is not in "
                                     f"'weights'"))
            if isinstance(g, bool) or not isinstance(g, (int, float)) or not (0.0 <= g <= 1.0):
                problems.append((at, f"transition {h!r} -> {k!r} must be in [0, 1]; got {g!r}"))
                continue
            if k == h and g != 0:
                problems.append((at, f"transition {h!r} -> {h!r} must be 0 (zero diagonal); "
                                     f"got {g!r}"))
            row_sum += float(g)
        if row_sum > 1.0 + tol:
            problems.append((("transitions", str(h)),
                             f"transitions row {h!r} must sum to at most 1; it sums to "
                             f"{row_sum:g}"))
    return problems


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
            object.__setattr__(self, "labels", [f"{_num(a)}-{_num(b)}" for a, b in pairs])
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
    endpoints: list[Endpoint] = Field(min_length=1)
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    alpha: Number = Field(gt=0.0, le=0.5, description="Family-wise significance level.")
    sidedness: Literal["one-sided", "two-sided"]
    multiplicity: Multiplicity = Field(default_factory=lambda: Multiplicity(procedure="none"))
    subgroups: list[Subgroup] = Field(default_factory=list)
    populations: list[Population] = Field(default_factory=_default_populations, min_length=1)
    sample_size: SampleSize | None = None
    analysis: Analysis

    @model_validator(mode="after")
    def _cross_fields(self, info: ValidationInfo) -> Protocol:
        if isinstance(info.context, Mapping) and info.context.get("skip_cross_checks"):
            return self
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


# --------------------------------------------------------------------------------------------
# cross-field checks (plain data in, so they also run when other parts failed to validate)

Loc = tuple[str | int, ...]


def cross_field_problems(data: Any) -> list[tuple[Loc, str]]:
    """Problems that relate sections of a protocol to one another.

    Works on the plain (YAML-loaded) mapping and tolerates sections that are missing or
    malformed (those are reported by the model itself). Returns ``(location, message)`` pairs.
    """
    out: list[tuple[Loc, str]] = []
    if not isinstance(data, Mapping):
        return out

    def items(key: str) -> list[tuple[int, Mapping[str, Any]]]:
        seq = data.get(key)
        if not isinstance(seq, list):
            return []
        return [(i, x) for i, x in enumerate(seq) if isinstance(x, Mapping)]

    # duplicate ids
    for section in ("endpoints", "hypotheses", "subgroups"):
        seen: dict[Any, int] = {}
        for i, x in items(section):
            key = x.get("id")
            if not isinstance(key, str):
                continue
            if key in seen:
                out.append(
                    ((section, i, "id"), f"duplicate id {key!r} (also {section}[{seen[key]}])")
                )
            else:
                seen[key] = i
    pops = data.get("populations")
    if isinstance(pops, list):
        seen_p: set[Any] = set()
        for i, p in enumerate(pops):
            if isinstance(p, str) and p in seen_p:
                out.append((("populations", i), f"duplicate population {p!r}"))
            seen_p.add(p)
    else:
        pops = ["all_eligible"] if pops is None else []

    endpoints = {x.get("id"): x for _, x in items("endpoints") if isinstance(x.get("id"), str)}
    hyps = {x.get("id"): x for _, x in items("hypotheses") if isinstance(x.get("id"), str)}
    reader = data.get("reader_study")
    modalities: list[Any] = []
    if isinstance(reader, Mapping) and isinstance(reader.get("modalities"), list):
        modalities = list(reader["modalities"])

    # endpoints needing a reader study; populations
    for i, e in items("endpoints"):
        kind = e.get("kind")
        if kind in READER_KINDS and not isinstance(reader, Mapping):
            out.append(
                (
                    ("endpoints", i, "kind"),
                    f"endpoint {e.get('id')!r} of kind {kind!r} needs a 'reader_study' section "
                    f"(ratings, modalities); the protocol has none. Add one, or use a standalone "
                    f"kind ({', '.join(k for k in _kinds() if k not in READER_KINDS)})",
                )
            )
        pop = e.get("population")
        if isinstance(pop, str) and isinstance(pops, list) and pop not in pops:
            out.append(
                (
                    ("endpoints", i, "population"),
                    f"population {pop!r} is not listed in 'populations' "
                    f"({', '.join(map(str, pops)) or 'none'}).{_did_you_mean(pop, pops)}",
                )
            )

    # hypotheses against endpoints
    for i, h in items("hypotheses"):
        ep_id = h.get("endpoint")
        if not isinstance(ep_id, str):
            continue
        if ep_id not in endpoints:
            out.append(
                (
                    ("hypotheses", i, "endpoint"),
                    f"hypothesis {_hid(h, i)} names endpoint {ep_id!r}, which is not defined; "
                    f"defined endpoints: {', '.join(map(str, endpoints)) or 'none'}."
                    f"{_did_you_mean(ep_id, list(endpoints))}",
                )
            )
            continue
        kind = endpoints[ep_id].get("kind")
        htype = h.get("type")
        comparative = htype in ("noninferiority", "superiority", "equivalence")
        if kind in MRMC_KINDS:
            if comparative and h.get("goal") is not None:
                out.append(
                    (
                        ("hypotheses", i, "goal"),
                        f"a {htype} hypothesis on MRMC endpoint {ep_id!r} compares the "
                        f"reader-study modalities; 'goal' does not apply (remove it)",
                    )
                )
            comp = h.get("comparator")
            if comp is not None and modalities and comp not in modalities:
                out.append(
                    (
                        ("hypotheses", i, "comparator"),
                        f"'comparator' must be one of the reader-study modalities "
                        f"({', '.join(map(str, modalities))}); got {comp!r}."
                        f"{_did_you_mean(str(comp), modalities)}",
                    )
                )
            if comp is not None and len(modalities) == 2 and comp == modalities[1]:
                out.append(
                    (
                        ("hypotheses", i, "comparator"),
                        f"'comparator' {comp!r} is the test modality itself; the reference "
                        f"must be {modalities[0]!r}",
                    )
                )
            if h.get("comparator_column") is not None:
                out.append(
                    (
                        ("hypotheses", i, "comparator_column"),
                        f"'comparator_column' applies only to standalone endpoints; endpoint "
                        f"{ep_id!r} is {kind!r}, whose comparison is between reader-study "
                        f"modalities (use 'comparator')",
                    )
                )
        else:
            if h.get("comparator") is not None:
                out.append(
                    (
                        ("hypotheses", i, "comparator"),
                        f"'comparator' applies only to MRMC endpoints; endpoint {ep_id!r} is "
                        f"{kind!r}. For a standalone comparison give the reference value in "
                        f"'goal', or the manifest column of a comparator read on the same cases "
                        f"in 'comparator_column'",
                    )
                )
            col = h.get("comparator_column")
            if col is not None and kind not in PAIRED_COMPARATOR_KINDS:
                out.append(
                    (
                        ("hypotheses", i, "comparator_column"),
                        f"a comparator read on the same cases can be compared for "
                        f"{', '.join(PAIRED_COMPARATOR_KINDS)}; endpoint {ep_id!r} is {kind!r}. "
                        f"Give a fixed reference value in 'goal' instead",
                    )
                )
            if comparative and h.get("goal") is None and col is None:
                out.append(
                    (
                        ("hypotheses", i, "goal"),
                        f"a {htype} hypothesis on standalone endpoint {ep_id!r} needs a "
                        f"reference: a fixed value in 'goal' (e.g. the predicate's performance) "
                        f"or the manifest column of a comparator read on the same cases in "
                        f"'comparator_column'",
                    )
                )

    # multiplicity family
    mult = data.get("multiplicity")
    family: list[str] = []
    if isinstance(mult, Mapping):
        for name in ("order", "hypotheses"):
            seq = mult.get(name)
            if isinstance(seq, list):
                for j, hid in enumerate(seq):
                    if isinstance(hid, str) and hid not in hyps:
                        out.append(
                            (
                                ("multiplicity", name, j),
                                f"{name} names hypothesis {hid!r}, which is not defined; "
                                f"defined: {', '.join(map(str, hyps)) or 'none'}."
                                f"{_did_you_mean(hid, list(hyps))}",
                            )
                        )
                    elif isinstance(hid, str):
                        family.append(hid)
        for name in ("weights", "transitions"):
            m = mult.get(name)
            if isinstance(m, Mapping):
                for hid in m:
                    if isinstance(hid, str) and hid not in hyps:
                        out.append(
                            (
                                ("multiplicity", name, hid),
                                f"{name} names hypothesis {hid!r}, which is not defined."
                                f"{_did_you_mean(hid, list(hyps))}",
                            )
                        )
                    elif name == "weights" and isinstance(hid, str):
                        family.append(hid)
        procedure = mult.get("procedure")
        weights, transitions = mult.get("weights"), mult.get("transitions")
        if procedure == "graphical" and isinstance(weights, Mapping):
            graph = graph_problem_locations(
                weights, transitions if isinstance(transitions, Mapping) else {})
            out.extend((("multiplicity", *loc), msg) for loc, msg in graph)
    else:
        procedure = "none" if mult is None else None

    confirmatory = [
        (i, h)
        for i, h in items("hypotheses")
        if isinstance(h.get("endpoint"), str)
        and isinstance(endpoints.get(h["endpoint"]), Mapping)
        and endpoints[h["endpoint"]].get("role", "exploratory") in ("primary", "secondary")
    ]
    if procedure == "none" and len(confirmatory) > 1:
        out.append(
            (
                ("multiplicity", "procedure"),
                f"{len(confirmatory)} hypotheses test primary or secondary endpoints "
                f"({', '.join(_hid(h, i).strip(chr(39)) for i, h in confirmatory)}); choose "
                f"a procedure "
                f"(fixed_sequence, holm, hochberg, graphical or coprimary) to control the "
                f"family-wise error rate",
            )
        )
    elif procedure not in (None, "none"):
        for i, h in confirmatory:
            if h.get("id") not in family and isinstance(h.get("id"), str):
                out.append(
                    (
                        ("hypotheses", i, "id"),
                        f"hypothesis {_hid(h, i)} tests a {endpoints[h['endpoint']].get('role')}"
                        f" endpoint but is not in the multiplicity procedure's family; add it, "
                        f"or make its endpoint exploratory",
                    )
                )

    # sample-size assumptions name hypotheses
    ss = data.get("sample_size")
    if isinstance(ss, Mapping) and isinstance(ss.get("assumptions"), list):
        for j, a in enumerate(ss["assumptions"]):
            if isinstance(a, Mapping) and isinstance(a.get("hypothesis"), str):
                hid = a["hypothesis"]
                if hid not in hyps:
                    out.append(
                        (
                            ("sample_size", "assumptions", j, "hypothesis"),
                            f"names hypothesis {hid!r}, which is not defined."
                            f"{_did_you_mean(hid, list(hyps))}",
                        )
                    )
                    continue
                clustered = [k for k in ("cluster_size", "icc") if a.get(k) is not None]
                if not clustered:
                    continue
                ep = endpoints.get(hyps[hid].get("endpoint"), {})
                if ep.get("unit", "patient") != "finding":
                    out.append(
                        (
                            ("sample_size", "assumptions", j, clustered[0]),
                            f"'cluster_size' and 'icc' inflate a sample size counted in "
                            f"findings; hypothesis {hid!r} tests endpoint "
                            f"{hyps[hid].get('endpoint')!r}, which is counted per patient",
                        )
                    )
                elif len(clustered) == 1:
                    other = "icc" if clustered[0] == "cluster_size" else "cluster_size"
                    out.append(
                        (
                            ("sample_size", "assumptions", j, other),
                            f"'{clustered[0]}' is given without '{other}'; the design effect "
                            f"1 + (cluster_size - 1) x icc needs both",
                        )
                    )

    out.extend(_null_value_problems(data, items, endpoints))
    out.extend(_planning_problems(data, hyps, endpoints))

    # exclusions and indeterminate columns should not be the identifier columns
    ts = data.get("test_set")
    if isinstance(ts, Mapping) and isinstance(ts.get("identifier_columns"), list):
        ids = set(c for c in ts["identifier_columns"] if isinstance(c, str))
        for i, sg in items("subgroups"):
            if sg.get("column") in ids:
                out.append(
                    (
                        ("subgroups", i, "column"),
                        f"subgroup column {sg.get('column')!r} is an identifier column; "
                        f"identifiers never appear in outputs",
                    )
                )
    # a comparator's reading is data of its own, not a column the engine already uses
    ids = set()
    flags: dict[str, str] = {}
    if isinstance(ts, Mapping):
        if isinstance(ts.get("identifier_columns"), list):
            ids = set(c for c in ts["identifier_columns"] if isinstance(c, str))
        ind = ts.get("indeterminate")
        ind_col = ind.get("column") if isinstance(ind, Mapping) else None
        flags["non_diagnostic" if ind_col is None else str(ind_col)] = "indeterminate flag"
        if isinstance(ts.get("exclusions"), list):
            for e in ts["exclusions"]:
                if isinstance(e, Mapping) and isinstance(e.get("column"), str):
                    flags.setdefault(e["column"], f"exclusion column (reason {e.get('reason')!r})")
    for i, h in items("hypotheses"):
        col = h.get("comparator_column")
        if not isinstance(col, str):
            continue
        if col in RESERVED_CASE_COLUMNS:
            out.append(
                (
                    ("hypotheses", i, "comparator_column"),
                    f"{col!r} is a column the analysis already uses "
                    f"({', '.join(RESERVED_CASE_COLUMNS)}); name the manifest column that holds "
                    f"the comparator's reading",
                )
            )
        elif col in ids:
            out.append(
                (
                    ("hypotheses", i, "comparator_column"),
                    f"comparator column {col!r} is an identifier column; identifiers are never "
                    f"analysed",
                )
            )
        elif col in flags:
            out.append(
                (
                    ("hypotheses", i, "comparator_column"),
                    f"comparator column {col!r} is the test set's {flags[col]}; name the "
                    f"manifest column that holds the comparator's reading",
                )
            )
    return out


def _hid(h: Mapping[str, Any], i: int) -> str:
    """How a message names a hypothesis: its id, or its position when the id is missing."""
    hid = h.get("id")
    return repr(hid) if isinstance(hid, str) else f"hypotheses[{i}] (no id)"


_PLANNING_TOL = 1e-6
"""Smallest distance between a planning assumption and its null boundary (closer values
need an unbounded sample; this also absorbs rounding such as 0.90 - 0.95 > -0.05)."""


def _component_problems(v: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """MRMC pilot variance components: pilot cases a whole number, var > 0, |cov| <= var."""
    out: list[tuple[tuple[str, ...], str]] = []
    for key in ("n_cases", "pilot_cases"):
        x = _number(v.get(key))
        if key in v and x is not None and not (2 <= x <= 1_000_000 and x.is_integer()):
            out.append(((key,), f"'{key}' is the number of pilot cases behind the components, "
                                f"a whole number from 2 to 1,000,000; got {_num(x)}"))
    if "n_cases" in v and "pilot_cases" in v:
        out.append((("pilot_cases",), "give the number of pilot cases once, as 'n_cases' (the "
                                      "name `validation mrmc --json` uses), not also as "
                                      "'pilot_cases'"))
    var = _number(v.get("var"))
    if "var" in v and var is not None:
        if not var > 0:
            out.append((("var",), f"'var' (the error variance of a reader's AUC) must be "
                                  f"positive; got {_num(var)}"))
        else:
            for key in ("cov1", "cov2", "cov3"):
                c = _number(v.get(key))
                if c is not None and abs(c) > var:
                    out.append(((key,), f"'{key}' = {_num(c)} exceeds 'var' = {_num(var)} in "
                                        f"size; a covariance of two AUC estimates cannot exceed "
                                        f"their variance (copy var_tr, var, cov1, cov2, cov3 and "
                                        f"n_cases from the variance_components of `validation "
                                        f"mrmc --json` unchanged)"))
    return out


def _valid_hypothesis_numbers(h: Mapping[str, Any]) -> bool:
    """A known type, goal and margin (when given) valid numbers, and a null value in (0, 1)."""
    if h.get("type") not in ("performance_goal", "noninferiority", "superiority", "equivalence"):
        return False
    values = {}
    for key in ("goal", "margin"):
        if h.get(key) is not None:
            x = _number(h.get(key))
            if x is None or not 0 < x < 1:
                return False
            values[key] = x
    goal, margin = values.get("goal"), values.get("margin", 0.0)
    if goal is not None and h.get("comparator_column") is None:
        low = goal - margin if h["type"] in ("noninferiority", "equivalence") else goal
        high = goal + margin if h["type"] in ("superiority", "equivalence") else goal
        return 0 < low and high < 1
    return True


def _number(x: Any) -> float | None:
    """A YAML number (not a boolean), else ``None``."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(float(x)) else None


def _null_value_problems(
    data: Mapping[str, Any], items: Any, endpoints: Mapping[Any, Any]
) -> list[tuple[Loc, str]]:
    """A one-sided level below 0.5, and null values inside (0, 1) for a fixed reference."""
    out: list[tuple[Loc, str]] = []
    alpha = _number(data.get("alpha"))
    if data.get("sidedness") == "one-sided" and alpha is not None and alpha >= 0.5:
        out.append((("alpha",), f"a one-sided level must be below 0.5 (e.g. 0.025) so that the "
                                f"1 - 2 x alpha interval exists; got {alpha:g}"))
    for i, h in items("hypotheses"):
        goal, margin = _number(h.get("goal")), _number(h.get("margin"))
        htype = h.get("type")
        if goal is None or h.get("endpoint") not in endpoints or margin is None:
            continue
        if not 0 < margin < 1:  # reported by the field itself
            continue
        if endpoints[h["endpoint"]].get("kind") in MRMC_KINDS or not 0 < goal < 1:
            continue
        low = goal - margin if htype in ("noninferiority", "equivalence") else None
        high = goal + margin if htype in ("superiority", "equivalence") else None
        if (low is not None and low <= 0) or (high is not None and high >= 1):
            bound = f"goal - margin = {low:.6g}" if low is not None and low <= 0 else \
                f"goal + margin = {high:.6g}"  # type: ignore[str-format]
            out.append((("hypotheses", i, "margin"),
                        f"hypothesis {_hid(h, i)} ({htype}): the null value {bound} lies "
                        f"outside (0, 1), where a proportion or AUC cannot be; no data could "
                        f"reject it. Check the goal {_num(goal)} and the margin {_num(margin)}"))
    return out


def _planning_problems(
    data: Mapping[str, Any], hyps: Mapping[Any, Any], endpoints: Mapping[Any, Any]
) -> list[tuple[Loc, str]]:
    """Sample-size assumptions: one per hypothesis, and each inside its hypothesis's alternative
    (an anticipated value on the null side has no sample size with the planned power)."""
    out: list[tuple[Loc, str]] = []
    ss = data.get("sample_size")
    if not isinstance(ss, Mapping):
        return out
    pos, neg, total = (_number(ss.get(k)) for k in ("planned_positive", "planned_negative",
                                                    "planned_cases"))
    if (pos is None) != (neg is None) and (ss.get("planned_positive") is not None
                                           or ss.get("planned_negative") is not None):
        given, other = (("planned_positive", "planned_negative") if pos is not None
                        else ("planned_negative", "planned_positive"))
        out.append((("sample_size", given),
                    f"'{given}' is given without '{other}'; an enriched design needs both "
                    f"counts (or neither, to use the prevalence)"))
    elif pos is not None and neg is not None and total is not None and pos + neg != total:
        out.append((("sample_size", "planned_cases"),
                    f"planned_positive + planned_negative = {_num(pos + neg)} differs from "
                    f"planned_cases = {_num(total)}"))
    if not isinstance(ss.get("assumptions"), list):
        return out
    seen: dict[str, int] = {}
    for j, a in enumerate(ss["assumptions"]):
        if not isinstance(a, Mapping) or not isinstance(a.get("hypothesis"), str):
            continue
        hid = a["hypothesis"]
        if hid in seen:
            out.append((("sample_size", "assumptions", j, "hypothesis"),
                        f"hypothesis {hid!r} already has an assumption "
                        f"(sample_size.assumptions[{seen[hid]}]); give one per hypothesis"))
            continue
        seen[hid] = j
        h = hyps.get(hid)
        if isinstance(h, Mapping):
            kind = (endpoints.get(h.get("endpoint")) or {}).get("kind")
            paired = h.get("comparator_column") is not None
            mrmc = kind in MRMC_KINDS
            unused = [k for k, applies in (("comparator_expected", paired or mrmc),
                                           ("correlation", paired), ("n_readers", mrmc),
                                           ("variance_components", mrmc))
                      if a.get(k) is not None and not applies]
            for k in unused:
                out.append((("sample_size", "assumptions", j, k),
                            f"'{k}' does not apply to hypothesis {hid!r}, "
                            + ("a reader-study (MRMC) comparison" if mrmc else
                               "tested against the fixed goal" if not paired else
                               "a paired comparison with its comparator column")
                            + "; remove it"))
        vc = a.get("variance_components")
        if isinstance(vc, Mapping):
            out.extend((("sample_size", "assumptions", j, "variance_components", *loc), msg)
                       for loc, msg in _component_problems(vc))
        expected = _number(a.get("expected"))
        if not isinstance(h, Mapping) or expected is None or not 0 < expected < 1:
            continue
        htype = h.get("type")
        if not _valid_hypothesis_numbers(h):
            continue  # the hypothesis's own fields are reported; no second, derived error
        margin = _number(h.get("margin")) or 0.0
        goal, comp = _number(h.get("goal")), _number(a.get("comparator_expected"))
        kind = (endpoints.get(h.get("endpoint")) or {}).get("kind")
        comparative = kind in MRMC_KINDS or h.get("comparator_column") is not None
        ref = comp if comparative else goal
        if ref is None or (comp is not None and not 0 < comp < 1):
            continue
        what = (f"the comparator's {_num(ref)} (comparator_expected)" if comparative
                else f"the goal {_num(ref)}")
        diff = expected - ref
        tol = _PLANNING_TOL  # a value on the boundary, up to rounding, is on the null side
        if htype == "performance_goal":
            ok, alt = diff > tol, f"above {what}"
        elif htype == "noninferiority":
            ok, alt = diff + margin > tol, f"above {what} minus the margin {_num(margin)}"
        elif htype == "superiority":
            ok, alt = diff - margin > tol, (f"above {what} plus the margin {_num(margin)}"
                                            if margin else f"above {what}")
        else:
            ok, alt = margin - abs(diff) > tol, f"within the margin {_num(margin)} of {what}"
        if not ok:
            out.append((("sample_size", "assumptions", j, "expected"),
                        f"hypothesis {hid!r} ({htype}): the anticipated value {_num(expected)} "
                        f"must lie {alt}; on the null side no number of cases gives the "
                        f"planned power"))
            continue
        corr = _number(a.get("correlation"))
        if (h.get("comparator_column") is not None and kind in PROPORTION_KINDS
                and comp is not None and corr is not None and -1 <= corr <= 1):
            from validation.errors import InputError
            from validation.stats.sample_size import discordant_probabilities

            try:
                discordant_probabilities(expected, comp, corr)
            except InputError as exc:
                out.append((("sample_size", "assumptions", j, "correlation"),
                            str(exc).rstrip(".").replace("'correlation' ", "the correlation ")))
    return out


# --------------------------------------------------------------------------------------------
# small helpers


def _kinds() -> tuple[str, ...]:
    return tuple(EndpointKind.__args__)  # type: ignore[attr-defined]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _did_you_mean(value: str, choices: Iterable[Any]) -> str:
    import difflib

    names = [str(c) for c in choices]
    close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _no_duplicates(values: list[Any], name: str) -> None:
    seen: set[Any] = set()
    dup = []
    for v in values:
        if v in seen and v not in dup:
            dup.append(v)
        seen.add(v)
    if dup:
        raise ValueError(f"'{name}' must not repeat values; got {', '.join(map(repr, dup))} twice")


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
