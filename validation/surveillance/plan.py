"""The surveillance plan: its model, loading with file:line problems, locking and approval.

A plan is a YAML file (``protocols/surveillance_example.yaml``) naming the locked pivotal
protocol it monitors and that run's ``results.json`` as the baseline (both by SHA-256), the
metrics and input-mix factors to watch, the period (week or month), the minimum number of
cases for a decision, the sites expected, the severities and one entry per rule (chart kind,
target in-control ARL0 or false-alarm rate, shift to detect, severity).

Loading reuses the protocol loader's YAML-with-marks machinery
(:mod:`validation.protocol.load`), so a problem reads exactly like a protocol problem::

    plan.yaml:23:9: rules[0].chart: 'chart' must be one of bernoulli_cusum, ...; got 'cusm'.

Locking writes ``<plan>.lock.json`` in the protocol lock format
(:class:`~validation.protocol.lock.ProtocolLock`, ``study_id`` holding the plan id), with the
same approver and meaning checks, so ``validation protocol verify``-style checks and the
approval records are one code path for both documents.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from validation._atomic import canonical_json
from validation.errors import LockError, ProtocolError, did_you_mean
from validation.protocol import load as _pload
from validation.protocol.lock import (
    ProtocolLock,
    lock_path_for,
    read_lock,
)

PLAN_SCHEMA_VERSION = "1.0"

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=200)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

METRICS = ("sensitivity", "specificity", "ppv", "positive_call_rate", "auc",
           "score_distribution", "input_mix")
"""What a rule may watch. ``input_mix`` is the case mix over the plan's factors."""

FACTORS = ("site", "manufacturer", "scanner_model", "age_band", "sex")
"""Input-mix factors a plan may name (``age_band`` is cut from ``age`` by ``age_bands``)."""

CHARTS = ("bernoulli_cusum", "binomial_cusum", "normal_cusum", "ewma", "psi", "ks", "chi2")
SCOPES = ("pooled", "site", "subgroup")

# which charts suit which metric
_CHARTS_FOR: dict[str, tuple[str, ...]] = {
    "sensitivity": ("bernoulli_cusum", "binomial_cusum", "ewma"),
    "specificity": ("bernoulli_cusum", "binomial_cusum", "ewma"),
    "ppv": ("binomial_cusum", "ewma"),
    "positive_call_rate": ("bernoulli_cusum", "binomial_cusum", "ewma"),
    "auc": ("normal_cusum",),
    "score_distribution": ("psi", "ks"),
    "input_mix": ("chi2",),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanInfo(_Model):
    """Identification of the plan."""

    id: Identifier = Field(description="Plan identifier; names its store folder.")
    title: Text
    version: Text = Field(description="Version of this plan, e.g. '1.0'.")
    owner: Text = Field(description="Who runs the surveillance (team or role).")


class Monitors(_Model):
    """The locked pivotal study this plan monitors and its results as the baseline."""

    protocol: Text = Field(description="The locked pivotal protocol YAML (its .lock.json beside "
                                       "it), relative to the plan's folder.")
    protocol_sha256: Sha256 = Field(description="protocol_sha256 of that lock.")
    results: Text = Field(description="results.json of the pivotal run (the baseline), "
                                      "relative to the plan's folder.")
    results_sha256: Sha256 = Field(description="sha256 of that results.json file.")


class AgeBands(_Model):
    """How ``age`` is cut into bands: ``[b0, b1)``, ..., the last also right-closed."""

    bins: list[float] = Field(min_length=2)
    labels: list[Text] | None = None

    @model_validator(mode="after")
    def _check(self) -> AgeBands:
        if any(b >= a for b, a in zip(self.bins, self.bins[1:], strict=False)):
            raise ValueError(f"'bins' must be strictly increasing; got {self.bins!r}")
        if self.labels is not None and len(self.labels) != len(self.bins) - 1:
            raise ValueError(f"'labels' must name each of the {len(self.bins) - 1} bands; got "
                             f"{len(self.labels)} labels")
        return self

    def band_labels(self) -> list[str]:
        if self.labels is not None:
            return list(self.labels)
        return [f"{_num(a)}-{_num(b)}" for a, b in zip(self.bins, self.bins[1:], strict=False)]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class Severity(_Model):
    """A severity level and what it obliges the team to do."""

    id: Identifier
    action: Text = Field(description="What happens when an alarm of this severity fires.")


class Rule(_Model):
    """One monitoring rule: a chart (or drift check) of one metric in the given scopes.

    Give exactly one of ``arl0`` (target in-control average run length, in the chart's
    observations: cases for a Bernoulli CUSUM, periods otherwise) and ``false_alarm_rate``
    (per observation; ARL0 = 1 / rate; for drift checks the level of each adjusted test).
    ``shift`` is the change to detect, in the metric's units, as a drop (positive number) for
    sensitivity, specificity, PPV and AUC and as a rise for the positive-call rate.
    """

    id: Identifier
    metric: Literal[METRICS]  # type: ignore[valid-type]
    chart: Literal[CHARTS]  # type: ignore[valid-type]
    scopes: list[Literal[SCOPES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["pooled", "site"], min_length=1)
    arl0: float | None = Field(default=None, gt=1)
    false_alarm_rate: float | None = Field(default=None, gt=0, lt=0.5)
    shift: float | None = Field(default=None, gt=0, lt=1)
    baseline: float | None = Field(default=None, gt=0, lt=1, description=(
        "In-control value of the metric; default: the pivotal run's pooled figure."))
    lam: float = Field(default=0.2, gt=0, le=1, description="EWMA smoothing weight.")
    threshold: float | None = Field(default=None, gt=0, description=(
        "PSI above which a period is flagged (psi rule; default 0.25)."))
    severity: Identifier

    @model_validator(mode="after")
    def _check(self) -> Rule:
        allowed = _CHARTS_FOR[self.metric]
        if self.chart not in allowed:
            raise ValueError(f"'chart' {self.chart!r} does not suit metric {self.metric!r}; "
                             f"use one of {', '.join(allowed)}")
        if self.chart != "psi":
            if (self.arl0 is None) == (self.false_alarm_rate is None):
                raise ValueError("give exactly one of 'arl0' and 'false_alarm_rate'")
        if self.chart in ("bernoulli_cusum", "binomial_cusum", "normal_cusum", "ewma") \
                and self.shift is None and self.chart != "ewma":
            raise ValueError(f"'shift' (the change to detect) is required for a {self.chart}")
        return self

    @property
    def target_arl0(self) -> float | None:
        """ARL0 from ``arl0`` or ``1 / false_alarm_rate``."""
        if self.arl0 is not None:
            return float(self.arl0)
        if self.false_alarm_rate is not None:
            return 1.0 / float(self.false_alarm_rate)
        return None


class SurveillancePlan(_Model):
    """A post-market surveillance plan (see the module docstring)."""

    schema_version: Literal["1.0"]
    plan: PlanInfo
    monitors: Monitors
    period: Literal["week", "month"]
    start: date = Field(description="First day monitored; earlier acquisitions are refused.")
    end: date | None = Field(default=None, description="Last day monitored (optional).")
    minimum_cases: int = Field(ge=1, description=(
        "Fewest cases (labelled cases for accuracy metrics) a period needs before a rule "
        "decides on it; below it the point is shown but not judged."))
    sites: list[Identifier] = Field(min_length=1, description="Sites expected to send batches.")
    factors: list[Literal[FACTORS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["site", "manufacturer", "age_band", "sex"],
        description="Subgroup and input-mix factors.")
    age_bands: AgeBands | None = None
    severities: list[Severity] = Field(min_length=1)
    model_mismatch_severity: Identifier = Field(default="critical", description=(
        "Severity of the alarm raised when a batch was scored by another model."))
    rules: list[Rule] = Field(min_length=1)

    @property
    def id(self) -> str:
        return self.plan.id

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def plan_cross_problems(data: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems that relate parts of the plan (run on plain data, tolerant of bad parts)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    if not isinstance(data, dict):
        return out
    sev = data.get("severities")
    names: list[str] = []
    if isinstance(sev, list):
        for i, s in enumerate(sev):
            if isinstance(s, dict) and isinstance(s.get("id"), str):
                if s["id"] in names:
                    out.append((("severities", i, "id"), f"duplicate severity {s['id']!r}"))
                names.append(s["id"])
    rules = data.get("rules")
    seen: dict[str, int] = {}
    if isinstance(rules, list):
        for i, r in enumerate(rules):
            if not isinstance(r, dict):
                continue
            rid = r.get("id")
            if isinstance(rid, str):
                if rid in seen:
                    out.append((("rules", i, "id"), f"duplicate rule id {rid!r} (also "
                                                    f"rules[{seen[rid]}])"))
                seen.setdefault(rid, i)
            s = r.get("severity")
            if names and isinstance(s, str) and s not in names:
                out.append((("rules", i, "severity"),
                            f"'severity' must be one of the plan's severities "
                            f"({', '.join(names)}); got {s!r}.{did_you_mean(s, names)}"))
            scopes = r.get("scopes")
            factors = data.get("factors", ["site", "manufacturer", "age_band", "sex"])
            if isinstance(scopes, list) and "subgroup" in scopes and isinstance(factors, list) \
                    and not [f for f in factors if f != "site"]:
                out.append((("rules", i, "scopes"),
                            "scope 'subgroup' needs a factor other than 'site' in 'factors'"))
    mm = data.get("model_mismatch_severity", "critical")
    if names and isinstance(mm, str) and mm not in names:
        out.append((("model_mismatch_severity",) if "model_mismatch_severity" in data
                    else ("severities",),
                    f"'model_mismatch_severity' must be one of the plan's severities "
                    f"({', '.join(names)}); got {mm!r}. Add a severity {mm!r} or name another."))
    factors = data.get("factors")
    if isinstance(factors, list) and "age_band" in factors and data.get("age_bands") is None:
        out.append((("factors",), "factor 'age_band' needs 'age_bands' (bins of age)"))
    sites = data.get("sites")
    if isinstance(sites, list):
        dup = sorted({s for s in sites if isinstance(s, str) and sites.count(s) > 1})
        if dup:
            out.append((("sites",), f"'sites' must not repeat a site; got {', '.join(dup)} twice"))
    start, end = data.get("start"), data.get("end")
    if isinstance(start, str) and isinstance(end, str) and end < start:
        out.append((("end",), f"'end' must not be before 'start' ({start}); got {end!r}."))
    return out


# --------------------------------------------------------------------------------------------
# loading


def check_plan(path: str | os.PathLike[str], *, check_files: bool = True
               ) -> tuple[SurveillancePlan | None, list[_pload.Problem]]:
    """Validate the plan file ``path``; return it (or ``None``) and every problem found."""
    from validation.protocol.plan_file import check_plan_file

    def files(data: dict[str, Any], folder: Path) -> list[tuple[tuple[str | int, ...], str]]:
        monitors = data.get("monitors")
        if not isinstance(monitors, dict):
            return []
        return [(("monitors", key), f"'{key}' {value!r} does not exist (looked for it relative "
                                    "to the plan's folder).")
                for key in ("protocol", "results")
                if isinstance(value := monitors.get(key), str) and value.strip()
                and not (folder / value).is_file()]

    return check_plan_file(path, SurveillancePlan, top_level="schema_version, plan, monitors, ...",
                           cross=plan_cross_problems, files=files if check_files else None)


def load_plan(path: str | os.PathLike[str], *, check_files: bool = True) -> SurveillancePlan:
    """Load and validate a surveillance plan.

    Raises
    ------
    ProtocolError
        With ``problems`` listing every problem, each with file, line, column and field.
    """
    plan, problems = check_plan(path, check_files=check_files)
    if plan is None or problems:
        n = len(problems)
        raise ProtocolError(f"surveillance plan {os.fspath(path)} has {n} problem"
                            f"{'s' if n != 1 else ''}:", [str(x) for x in problems])
    return plan


# --------------------------------------------------------------------------------------------
# locking and approval (the protocol lock format and its checks)


def plan_sha256(plan: SurveillancePlan) -> str:
    """SHA-256 of the plan's canonical JSON (defaults filled in)."""
    return hashlib.sha256(canonical_json(plan.model_dump(mode="json")).encode()).hexdigest()


def lock_plan(path: str | os.PathLike[str], *, approver: str, meaning: str,
              replace: bool = False, now: str | None = None) -> ProtocolLock:
    """Validate the plan, sign it and write ``<plan>.lock.json`` (protocol lock format).

    Signing the same content again adds a signature (authored, reviewed, approved); a plan
    changed since locking is refused unless ``replace`` (an amendment: new signature list).
    """
    from validation.protocol.plan_file import lock_plan_file

    p = Path(path)
    plan = load_plan(p)
    return lock_plan_file(p, plan, plan_sha256(plan), study_id=plan.plan.id, study_version=plan.plan.version,
                          approver=approver, meaning=meaning, replace=replace, now=now,
                          record="signature", amend_command="validation surveil lock --replace")


def verify_plan_lock(path: str | os.PathLike[str], *, require_role: str | None = None
                     ) -> ProtocolLock:
    """The plan's lock, checked against the YAML bytes (:class:`LockError` if it differs)."""
    p = Path(path)
    target = lock_path_for(p)
    if not target.is_file():
        raise LockError(
            f"the surveillance plan {p} is not locked: {target} does not exist. Lock it first: "
            f"validation surveil lock {p} --approver \"Name <email>\" --meaning \"approved "
            f"surveillance plan\".")
    lock = read_lock(target)
    now = hashlib.sha256(p.read_bytes()).hexdigest()
    if now != lock.yaml_sha256:
        raise LockError(
            f"the surveillance plan {p} changed after it was locked: the file's sha256 is now "
            f"{now}, the lock {target} records {lock.yaml_sha256}. Restore the approved file, "
            f"or lock the amendment (validation surveil lock --replace).")
    if require_role is not None and not any(a.role == require_role for a in lock.approvals):
        roles = ", ".join(sorted({a.role for a in lock.approvals}))
        raise LockError(f"the plan lock {target} has no {require_role!r} signature (it has: "
                        f"{roles}).")
    return lock


def period_label(day: date, period: str) -> str:
    """``2027-03`` (month) or ISO week ``2027-W09`` (week) of a date."""
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    y, w, _ = day.isocalendar()
    return f"{y:04d}-W{w:02d}"


def period_labels(stamps: Any, period: str) -> Any:
    """:func:`period_label` of a pandas datetime Series, vectorised (a string Series)."""
    import pandas as pd

    s = pd.Series(stamps)
    # label each distinct day once, then spread the labels over the rows
    days = s.dt.normalize()
    codes, uniq = pd.factorize(days, use_na_sentinel=True)
    u = pd.Series(uniq)
    if period == "month":
        labels = u.dt.strftime("%Y-%m").astype("string")
    else:
        iso = u.dt.isocalendar()
        labels = (iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
                  ).astype("string")
    out = pd.Series(pd.array(labels.to_numpy(dtype=object)[codes], dtype="string"), index=s.index)
    out[codes == -1] = pd.NA
    return out
