"""Field types and the descriptive sections of a protocol: study, device, locked model, test
set and reader study (pydantic v2; every model forbids unknown keys).

:mod:`validation.protocol.model` composes them with the analysis sections (endpoints,
hypotheses, multiplicity, subgroups, sample size) into :class:`~validation.protocol.model.Protocol`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    field_validator,
    model_validator,
)

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
    design: Literal["fully_crossed", "split_plot"] = Field(
        default="fully_crossed",
        description="fully_crossed: OR/DBM; split_plot: reader groups read their own blocks of "
                    "cases, analysed by the OR split-plot form (Hillis 2014; the AUC with "
                    "ci: or_split_plot) or by U-statistics (Gallas 2006, 2009; the AUC's "
                    "default), by the design the ratings show.")
    washout_days_min: int | None = Field(
        default=None, ge=0, description="Least days between a reader's two readings of a case."
    )
    truthers: Truthers | None = None

    @field_validator("modalities")
    @classmethod
    def _unique_modalities(cls, v: list[str]) -> list[str]:
        _no_duplicates(v, "modalities")
        return v


def _no_duplicates(values: list[Any], name: str) -> None:
    seen: set[Any] = set()
    dup = []
    for v in values:
        if v in seen and v not in dup:
            dup.append(v)
        seen.add(v)
    if dup:
        raise ValueError(f"'{name}' must not repeat values; got {', '.join(map(repr, dup))} twice")

