"""The protocol's ``risk`` section: calibration and prognostic endpoints of a risk output.

A device that outputs a probability (``score_is_probability: true``) is checked for
calibration; a risk score with a time to event (``outcomes``: a table of ``case_id, time,
event`` checked against ``data_specs/time_to_event.yaml``) for prognostic separation. The
endpoints themselves are ordinary ``endpoints`` entries of the kinds in
:data:`~validation.protocol.vocabulary.RISK_KINDS`; their acceptance rules are ``risk.rules``:

* ``interval_inside``: the whole interval lies inside ``bounds`` (e.g. a calibration slope
  interval inside [0.8, 1.2]);
* ``lower_bound_above``: the lower interval bound exceeds ``goal`` (e.g. a C-index);
* ``upper_bound_below``: the upper bound stays below ``goal`` (e.g. a Brier score).

Each rule is judged on its endpoint's reported interval (level ``1 - ci_alpha``) and stands
outside the ``multiplicity`` family of the ``hypotheses``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from validation.protocol.sections import Identifier, Number, RelPath, Sha256, Text, Whole, _Model, _no_duplicates
from validation.protocol.vocabulary import RISK_KINDS, Loc

CALIBRATION_KINDS = ("calibration_slope", "calibration_intercept", "brier", "ece")
"""Risk kinds that read the score as a probability of the binary ``truth``."""
TIME_KINDS = ("c_index", "time_auc", "hazard_ratio")
"""Risk kinds that need the time-to-event outcomes."""
RULES = ("interval_inside", "lower_bound_above", "upper_bound_below")


class Outcomes(_Model):
    """The time-to-event table, locked by its SHA-256."""

    file: RelPath = Field(description="CSV/Parquet with case_id, time, event (data_specs/time_to_event.yaml).")
    sha256: Sha256
    time_unit: Text = Field(default="months", description="Unit of 'time', for tables and figures.")


class RiskGroups(_Model):
    """Risk groups cut from the score: ``[-inf, c1), [c1, c2), ..., [ck, inf)``."""

    cuts: list[Number] = Field(min_length=1)
    labels: list[Identifier]

    @field_validator("cuts")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        if not all(math.isfinite(c) for c in v) or any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError(f"'cuts' must be finite and strictly increasing; got {v!r}")
        return v

    @model_validator(mode="after")
    def _one_label_per_group(self) -> RiskGroups:
        if len(self.labels) != len(self.cuts) + 1:
            raise ValueError(
                f"'labels' must name each of the {len(self.cuts) + 1} groups the {len(self.cuts)} "
                f"cut(s) make, lowest risk first; got {len(self.labels)}"
            )
        _no_duplicates(self.labels, "labels")
        return self


class CalibrationSettings(_Model):
    """Binning of the ECE and reliability diagram, and the smoother of the calibration curve."""

    bins: Whole = Field(default=10, ge=2, le=100)
    strategy: Literal["uniform", "quantile"] = "uniform"
    smoother_span: Number = Field(default=2.0 / 3.0, gt=0.0, le=1.0)
    band_replicates: Whole = Field(default=200, ge=20, le=100_000)


class AcceptanceRule(_Model):
    """An acceptance rule on a risk endpoint's interval (module docstring)."""

    id: Identifier
    endpoint: Identifier
    rule: Literal["interval_inside", "lower_bound_above", "upper_bound_below"]
    bounds: list[Number] | None = Field(default=None, description="interval_inside: [low, high].")
    goal: Number | None = Field(default=None, description="lower_bound_above / upper_bound_below.")
    description: str | None = None

    @model_validator(mode="after")
    def _fields_for_rule(self) -> AcceptanceRule:
        if self.rule == "interval_inside":
            if self.bounds is None or len(self.bounds) != 2 or not self.bounds[0] < self.bounds[1]:
                raise ValueError(
                    f"an interval_inside rule needs 'bounds: [low, high]' with low < high; got {self.bounds!r}"
                )
            if self.goal is not None:
                raise ValueError("'goal' does not apply to an interval_inside rule; give 'bounds'")
        else:
            if self.goal is None:
                raise ValueError(f"a {self.rule} rule needs 'goal'; it is missing")
            if self.bounds is not None:
                raise ValueError(f"'bounds' does not apply to a {self.rule} rule; give 'goal'")
        return self


class Recalibration(_Model):
    """Logistic recalibration ``expit(a + b logit(p))`` fitted on a tuning split of the test set.

    The cases whose manifest ``column`` equals ``tuning`` fit ``a`` and ``b``; the other cases
    evaluate the recalibrated probabilities beside the locked model's. Reported apart from the
    locked model's endpoints and rules, which use every case.
    """

    column: Text = Field(description="Manifest column that names each case's split.")
    tuning: Text = Field(description="The value of 'column' that marks the tuning cases.")


class Risk(_Model):
    """Calibration and prognostic analysis of a risk output (module docstring)."""

    score_is_probability: bool = Field(
        default=False, description="The score is a probability of the binary truth (calibration endpoints)."
    )
    outcomes: Outcomes | None = None
    horizons: list[Number] = Field(default_factory=list, description="Horizons of time_auc (time_unit).")
    risk_groups: RiskGroups | None = None
    hazard_ratio_per: Number = Field(
        default=1.0, gt=0.0, description="Score units per hazard ratio (e.g. 0.1: HR per 0.1 increase)."
    )
    calibration: CalibrationSettings = Field(default_factory=CalibrationSettings)
    rules: list[AcceptanceRule] = Field(default_factory=list)
    recalibration: Recalibration | None = None

    @field_validator("horizons")
    @classmethod
    def _positive(cls, v: list[float]) -> list[float]:
        if any(not (math.isfinite(h) and h > 0) for h in v):
            raise ValueError(f"'horizons' must be times > 0; got {v!r}")
        return v


def risk_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Cross-field problems of the risk section and the risk endpoints (plain data)."""
    out: list[tuple[Loc, str]] = []
    risk = data.get("risk")
    eps = [(i, e) for i, e in enumerate(data.get("endpoints") or []) if isinstance(e, Mapping)]
    kinds = {e.get("id"): e.get("kind") for _, e in eps}
    risk_map = risk if isinstance(risk, Mapping) else None
    for i, e in eps:
        kind = e.get("kind")
        if kind not in RISK_KINDS:
            continue
        if risk_map is None:
            out.append(
                (
                    (("endpoints", i, "kind")),
                    f"kind {kind!r} needs a 'risk' section (the score's meaning, the outcomes file, horizons)",
                )
            )
            continue
        if kind in CALIBRATION_KINDS and risk_map.get("score_is_probability") is not True:
            out.append(
                (
                    ("endpoints", i, "kind"),
                    f"kind {kind!r} reads the score as a probability; set "
                    "'risk.score_is_probability: true' (only if the locked model outputs one)",
                )
            )
        if kind in TIME_KINDS and not isinstance(risk_map.get("outcomes"), Mapping):
            out.append(
                (
                    ("endpoints", i, "kind"),
                    f"kind {kind!r} needs the time-to-event table 'risk.outcomes' (file, sha256)",
                )
            )
        if kind == "time_auc" and not risk_map.get("horizons"):
            out.append((("endpoints", i, "kind"), "kind 'time_auc' needs 'risk.horizons' (e.g. [12, 24])"))
    for i, h in enumerate(data.get("hypotheses") or []):
        if isinstance(h, Mapping) and kinds.get(h.get("endpoint")) in RISK_KINDS:
            out.append(
                (
                    ("hypotheses", i, "endpoint"),
                    f"endpoint {h.get('endpoint')!r} is a risk endpoint; "
                    "state its acceptance criterion under 'risk.rules' (interval_inside, "
                    "lower_bound_above, upper_bound_below)",
                )
            )
    if risk_map is None:
        return out
    if isinstance(risk_map.get("recalibration"), Mapping) and risk_map.get("score_is_probability") is not True:
        out.append((("risk", "recalibration"), "recalibration reads the score as a probability; set "
                    "'risk.score_is_probability: true' (only if the locked model outputs one)"))
    seen: dict[str, int] = {}
    for j, r in enumerate(risk_map.get("rules") or []):
        if not isinstance(r, Mapping):
            continue
        rid, ep = r.get("id"), r.get("endpoint")
        if isinstance(rid, str):
            if rid in seen:
                out.append((("risk", "rules", j, "id"), f"duplicate id {rid!r} (also risk.rules[{seen[rid]}])"))
            seen.setdefault(rid, j)
        if ep not in kinds:
            known = ", ".join(str(k) for k, v in kinds.items() if v in RISK_KINDS) or "none"
            out.append(
                (
                    ("risk", "rules", j, "endpoint"),
                    f"names endpoint {ep!r}, which is not defined; risk endpoints: {known}",
                )
            )
        elif kinds[ep] not in RISK_KINDS:
            out.append(
                (
                    ("risk", "rules", j, "endpoint"),
                    f"endpoint {ep!r} is of kind {kinds[ep]!r}; rules "
                    "apply to risk endpoints only (state other claims under 'hypotheses')",
                )
            )
        elif kinds[ep] == "time_auc" and len(risk_map.get("horizons") or []) != 1:
            out.append(
                (
                    ("risk", "rules", j, "endpoint"),
                    "a rule on 'time_auc' needs exactly one horizon in 'risk.horizons' (which AUC it judges)",
                )
            )
    return out
