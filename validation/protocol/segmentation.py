"""The protocol's ``segmentation`` section: mask and measurement endpoints and their hypotheses.

A segmentation (or quantitative-measurement) device is validated by per-case overlap and
boundary-distance metrics against a reference mask, summarised over the study, and by the
agreement of its measurements with reference measurements. The section names the mask index
(``data_specs/segmentation_masks_index.yaml``), the optional measurements table, the endpoints
and the hypotheses on them::

    segmentation:
      masks_index: data/masks_index.csv     # relative to the protocol's folder
      masks_root: data                      # mask paths are relative to it (default: the index's folder)
      mask_format: labelled                 # labelled (voxel value = label) | binary (0/1 only)
      tolerance_mm: 2.0                     # surface-Dice tolerance
      unreadable: refuse                    # refuse (default: exit 2) | exclude (STARD exclusion)
      measurements: data/measurements.csv   # optional: case_id + numeric / categorical columns
      endpoints:
        - {id: dice, kind: dice, label: 1, threshold: 0.8, role: primary}
        - {id: hd95, kind: hausdorff95, threshold: 5.0}
        - {id: volume_ba, kind: bland_altman, device: volume_device, reference: volume_reference}
        - {id: volume_ccc, kind: ccc, device: volume_device, reference: volume_reference}
        - {id: grade, kind: kappa, columns: [grade_r1, grade_r2], weights: quadratic}
      hypotheses:
        - {id: S1, endpoint: dice, type: mean_above, goal: 0.80}
        - {id: S2, endpoint: volume_ba, type: limits_within, lower: -10, upper: 10}
        - {id: S3, endpoint: volume_ccc, type: estimate_above, goal: 0.90}

Hypothesis types (each judged on the protocol's one-sided level, ``1 - 2 alpha`` two-sided
interval when one-sided):

* ``mean_above`` / ``mean_below``: the bound of the mean (patient-clustered bootstrap) beats
  ``goal`` (e.g. H0: mean Dice <= 0.80; H0: mean HD95 >= 5 mm);
* ``proportion_above``: the lower bound of the proportion of cases meeting the endpoint's
  ``threshold`` exceeds ``goal``;
* ``limits_within``: both limits of agreement, including their confidence bounds (exact
  Carkeet intervals by default), lie inside ``[lower, upper]``;
* ``estimate_above``: the lower bound of a CCC, ICC or kappa exceeds ``goal``.

``unreadable``: a mask file that cannot be read or is not a valid mask (not 2-D or 3-D, not
mask values, non-binary where binary is declared) stops the run with the case named
(``refuse``, the default), or, with ``exclude``, removes the case from the mask endpoints as
a STARD exclusion, counted with its reason in ``results.json['segmentation']['flow']`` and in
the report. A missing file, or a shape or spacing mismatch, always stops the run.

These hypotheses are not part of the ``multiplicity`` family of the main endpoints; each is
tested at the one-sided level (the SAP says so).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from validation.protocol.sections import Identifier, Number, RelPath, Text, _Model, _no_duplicates
from validation.protocol.vocabulary import (
    MASK_KINDS,
    MEASUREMENT_KINDS,
    SEGMENTATION_HYPOTHESIS_TYPES,
)

SegmentationKind = Literal[
    "dice", "iou", "hausdorff95", "hausdorff", "assd", "surface_dice",
    "bland_altman", "ccc", "icc", "kappa",
]
_HIGHER_IS_BETTER = {"dice": True, "iou": True, "surface_dice": True, "hausdorff95": False,
                     "hausdorff": False, "assd": False}


class SegmentationEndpoint(_Model):
    """One segmentation or measurement-agreement endpoint."""

    id: Identifier
    kind: SegmentationKind
    role: Literal["primary", "secondary", "exploratory"] = "exploratory"
    label: int | None = Field(default=None, ge=1, description="Mask endpoints: the label (default: every label).")
    threshold: Number | None = Field(
        default=None,
        description=("Mask endpoints: a clinical threshold; the proportion of cases at or above it "
                     "(overlap) or at or below it (distances, mm) is reported."),
    )
    device: Text | None = Field(default=None, description="bland_altman/ccc/icc: the device's column.")
    reference: Text | None = Field(default=None, description="bland_altman/ccc/icc: the reference column.")
    columns: list[Text] | None = Field(default=None, description="kappa: 2 raters (Cohen) or more (Fleiss).")
    weights: Literal["linear", "quadratic"] | None = Field(default=None, description="kappa (2 raters) only.")
    form: Literal["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"] | None = Field(
        default=None, description="icc only (default ICC2: two-way random, absolute agreement).")
    limits_ci: Literal["exact", "approximate"] | None = Field(
        default=None, description="bland_altman: Carkeet exact (default) or Bland-Altman 1999 intervals.")
    description: str | None = None

    @model_validator(mode="after")
    def _fields_for_kind(self) -> SegmentationEndpoint:
        k = self.kind
        mask = k in MASK_KINDS
        for name in ("label", "threshold"):
            if getattr(self, name) is not None and not mask:
                raise ValueError(f"'{name}' applies to mask endpoints ({', '.join(MASK_KINDS)}); got kind {k!r}")
        if mask and self.threshold is not None and _HIGHER_IS_BETTER[k] and not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"'threshold' of a {k} endpoint must be in (0, 1]; got {self.threshold!r}")
        if mask and self.threshold is not None and not _HIGHER_IS_BETTER[k] and not self.threshold > 0.0:
            raise ValueError(f"'threshold' of a {k} endpoint is a distance in mm and must be > 0; got "
                             f"{self.threshold!r}")
        paired = k in ("bland_altman", "ccc", "icc")
        for name in ("device", "reference"):
            if paired and getattr(self, name) is None:
                raise ValueError(f"a {k} endpoint needs '{name}' (a column of the measurements table)")
            if not paired and getattr(self, name) is not None:
                raise ValueError(f"'{name}' applies to bland_altman, ccc and icc endpoints; got kind {k!r}")
        if k == "kappa":
            if not self.columns or len(self.columns) < 2:
                raise ValueError("a kappa endpoint needs 'columns': at least 2 raters' columns")
            _no_duplicates(self.columns, "columns")
            if self.weights is not None and len(self.columns) != 2:
                raise ValueError("'weights' apply to Cohen's kappa (2 columns); Fleiss' kappa is unweighted")
        elif self.columns is not None or self.weights is not None:
            raise ValueError(f"'columns' and 'weights' apply to kappa endpoints; got kind {k!r}")
        if self.form is not None and k != "icc":
            raise ValueError(f"'form' applies to icc endpoints; got kind {k!r}")
        if self.limits_ci is not None and k != "bland_altman":
            raise ValueError(f"'limits_ci' applies to bland_altman endpoints; got kind {k!r}")
        if k == "icc" and self.form is None:
            object.__setattr__(self, "form", "ICC2")
        if k == "bland_altman" and self.limits_ci is None:
            object.__setattr__(self, "limits_ci", "exact")
        return self

    @property
    def higher_is_better(self) -> bool:
        return _HIGHER_IS_BETTER.get(self.kind, True)


class SegmentationHypothesis(_Model):
    """A claim about a segmentation endpoint (see the module docstring for the types)."""

    id: Identifier
    endpoint: Identifier
    type: Literal["mean_above", "mean_below", "proportion_above", "limits_within", "estimate_above"]
    goal: Number | None = None
    lower: Number | None = Field(default=None, description="limits_within: the clinical range's lower end.")
    upper: Number | None = Field(default=None, description="limits_within: the clinical range's upper end.")
    description: str | None = None

    @model_validator(mode="after")
    def _fields_for_type(self) -> SegmentationHypothesis:
        if self.type == "limits_within":
            if self.lower is None or self.upper is None or not self.lower < self.upper:
                raise ValueError("a limits_within hypothesis needs 'lower' < 'upper' (the clinical range)")
            if self.goal is not None:
                raise ValueError("'goal' does not apply to limits_within; give 'lower' and 'upper'")
        else:
            if self.goal is None:
                raise ValueError(f"a {self.type} hypothesis needs 'goal'")
            if self.lower is not None or self.upper is not None:
                raise ValueError(f"'lower' and 'upper' apply to limits_within; got them with {self.type}")
            if self.type in ("proportion_above", "estimate_above") and not -1.0 < self.goal < 1.0:
                raise ValueError(f"'goal' of a {self.type} hypothesis must be in (-1, 1); got {self.goal!r}")
        return self


class SegmentationPlan(_Model):
    """The ``segmentation`` section of a protocol."""

    masks_index: RelPath | None = Field(default=None, description="Index of reference and predicted masks.")
    data_spec: Text = "segmentation_masks_index"
    masks_root: RelPath | None = Field(default=None, description="Folder the mask paths are relative to.")
    mask_format: Literal["labelled", "binary"] = "labelled"
    reference_annotator: Identifier | None = Field(
        default=None, description="The annotator whose masks are the reference (needed if the index has several).")
    tolerance_mm: Number = Field(default=2.0, ge=0.0, description="Surface-Dice tolerance (mm).")
    unreadable: Literal["refuse", "exclude"] = Field(
        default="refuse",
        description=("An unreadable or invalid mask file: stop the run (refuse) or exclude the case from "
                     "the mask endpoints, counted in the STARD flow with its reason (exclude)."),
    )
    measurements: RelPath | None = Field(default=None, description="Table: case_id and measurement columns.")
    endpoints: list[SegmentationEndpoint] = Field(min_length=1)
    hypotheses: list[SegmentationHypothesis] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross(self) -> SegmentationPlan:
        _no_duplicates([e.id for e in self.endpoints], "endpoints ids")
        _no_duplicates([h.id for h in self.hypotheses], "hypotheses ids")
        kinds = {e.id: e.kind for e in self.endpoints}
        if any(k in MASK_KINDS for k in kinds.values()) and self.masks_index is None:
            raise ValueError("mask endpoints need 'masks_index' (the index of reference and predicted masks)")
        if any(k in MEASUREMENT_KINDS for k in kinds.values()) and self.measurements is None:
            raise ValueError("bland_altman, ccc, icc and kappa endpoints need 'measurements' (a table)")
        for h in self.hypotheses:
            if h.endpoint not in kinds:
                raise ValueError(f"hypothesis {h.id!r} names endpoint {h.endpoint!r}, which is not a "
                                 f"segmentation endpoint ({', '.join(kinds)})")
            allowed = SEGMENTATION_HYPOTHESIS_TYPES[kinds[h.endpoint]]
            if h.type not in allowed:
                raise ValueError(f"hypothesis {h.id!r}: type {h.type!r} does not apply to a "
                                 f"{kinds[h.endpoint]} endpoint; use {', '.join(allowed)}")
            ep = next(e for e in self.endpoints if e.id == h.endpoint)
            if h.type == "proportion_above" and ep.threshold is None:
                raise ValueError(f"hypothesis {h.id!r} (proportion_above) needs a 'threshold' on endpoint "
                                 f"{ep.id!r}")
        return self
