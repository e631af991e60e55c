"""The change-control plan (a predetermined change control plan, PCCP): model, loading with
file:line problems, locking.

A plan is a YAML file (``protocols/change_control_example.yaml``) beside the pivotal protocol.
It names that locked protocol (by its ``protocol_sha256``), whose test set is the sequestered
test set and whose pipeline every new version goes through; the family-wise one-sided
``alpha`` and the multiplicity rule across a modification's criteria; the test set's access
budget and who may open it; and, per planned modification type (``retraining``,
``threshold_change``, ``new_input_source``), the acceptance criteria:

- ``sensitivity`` / ``specificity``: paired non-inferiority of the new version to the
  ``original`` (the locked pivotal model) or the ``previous`` accepted version, with a margin;
- ``auc``: paired (DeLong) non-inferiority, the AUC not below the comparator's by more than
  the margin;
- ``consistency``: a re-check, per site, that the new version's sensitivity and specificity
  are not below the original's by more than ``margin`` at any site with at least ``min_cases``
  cases in the denominator (a rule decided on point estimates; not in the multiplicity family).

Loading reuses the protocol loader's YAML-with-marks machinery, so a problem reads
``plan.yaml:23:9: modifications[0].criteria[1].margin: ...``. Locking writes
``<plan>.lock.json`` in the protocol lock format (the surveillance plan does the same), which
``validation sign`` can then sign.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from validation._atomic import canonical_json
from validation.errors import LockError, ProtocolError
from validation.protocol import load as _pload
from validation.protocol.lock import (
    ProtocolLock,
    lock_path_for,
    read_lock,
)

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                                              max_length=100)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

MODIFICATION_TYPES = ("retraining", "threshold_change", "new_input_source")
CRITERION_ENDPOINTS = ("sensitivity", "specificity", "auc")
COMPARATORS = ("original", "previous")
PROCEDURES = ("coprimary", "holm", "hochberg", "fixed_sequence")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanInfo(_Model):
    id: Identifier = Field(description="Plan identifier; names the lineage in the registry.")
    title: Text
    version: Text
    owner: Text | None = None


class TestSetAccess(_Model):
    """The sequestered test set's governance."""

    budget: int = Field(ge=1, description=(
        "Most recorded accesses of the test set in all (runs, reproductions, changes); an "
        "access beyond it is refused."))
    authorised: list[Text] = Field(min_length=1, description=(
        "Who may open it: e-mails or operator names as recorded in the audit log."))


class Criterion(_Model):
    id: Identifier
    endpoint: Literal["sensitivity", "specificity", "auc"]
    versus: Literal["original", "previous"] = Field(description=(
        "original: the locked pivotal model; previous: the last accepted version."))
    margin: float = Field(gt=0.0, lt=0.5, description="Non-inferiority margin (positive).")


ConsistencyEndpoint = Literal["sensitivity", "specificity"]


def _both() -> list[ConsistencyEndpoint]:
    return ["sensitivity", "specificity"]


class Consistency(_Model):
    by: Literal["site"] = "site"
    endpoints: list[ConsistencyEndpoint] = Field(default_factory=_both)
    margin: float = Field(gt=0.0, lt=1.0)
    min_cases: int = Field(default=20, ge=1)


class Modification(_Model):
    type: Literal["retraining", "threshold_change", "new_input_source"]
    description: Text
    criteria: list[Criterion] = Field(min_length=1)
    consistency: Consistency | None = None


class ChangePlan(_Model):
    """A change-control plan (see the module docstring)."""

    schema_version: Literal["1.0"]
    plan: PlanInfo
    protocol: Text = Field(description="The locked pivotal protocol (relative to the plan).")
    protocol_sha256: Sha256
    alpha: float = Field(gt=0.0, le=0.25, description="Family-wise one-sided level.")
    multiplicity: Literal["coprimary", "holm", "hochberg", "fixed_sequence"] = "coprimary"
    test_set_access: TestSetAccess
    modifications: list[Modification] = Field(min_length=1)

    @property
    def id(self) -> str:
        return self.plan.id

    def modification(self, kind: str) -> Modification | None:
        return next((m for m in self.modifications if m.type == kind), None)


def plan_cross_problems(data: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems relating parts of the plan (on plain data, tolerant of bad parts)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    mods = data.get("modifications") if isinstance(data, dict) else None
    if not isinstance(mods, list):
        return out
    seen: dict[str, int] = {}
    for i, m in enumerate(mods):
        if not isinstance(m, dict):
            continue
        t = m.get("type")
        if isinstance(t, str):
            if t in seen:
                out.append((("modifications", i, "type"),
                            f"modification type {t!r} is planned twice (also modifications"
                            f"[{seen[t]}]); one entry per type"))
            seen.setdefault(t, i)
        crit = m.get("criteria")
        ids: dict[str, int] = {}
        if isinstance(crit, list):
            for j, c in enumerate(crit):
                cid = c.get("id") if isinstance(c, dict) else None
                if isinstance(cid, str):
                    if cid in ids:
                        out.append((("modifications", i, "criteria", j, "id"),
                                    f"duplicate criterion id {cid!r} (also criteria[{ids[cid]}])"))
                    ids.setdefault(cid, j)
            if not any(isinstance(c, dict) and c.get("versus") == "original" for c in crit):
                out.append((("modifications", i, "criteria"),
                            "every modification needs at least one criterion versus the "
                            "original model"))
    return out


def check_change_plan(path: str | os.PathLike[str], *, check_files: bool = True
                      ) -> tuple[ChangePlan | None, list[_pload.Problem]]:
    """Validate the plan file ``path``; return it (or ``None``) and every problem found."""
    from validation.protocol.plan_file import check_plan_file

    def files(data: dict[str, Any], folder: Path) -> list[tuple[tuple[str | int, ...], str]]:
        value = data.get("protocol")
        if isinstance(value, str) and value.strip() and not (folder / value).is_file():
            return [(("protocol",), f"'protocol' {value!r} does not exist (looked for it "
                                    "relative to the plan's folder).")]
        return []

    return check_plan_file(path, ChangePlan, top_level="schema_version, plan, protocol, ...",
                           cross=plan_cross_problems, files=files if check_files else None)


def load_change_plan(path: str | os.PathLike[str], *, check_files: bool = True) -> ChangePlan:
    """Load and validate a change-control plan (:class:`ProtocolError` listing every problem)."""
    plan, problems = check_change_plan(path, check_files=check_files)
    if plan is None or problems:
        n = len(problems)
        raise ProtocolError(f"change-control plan {os.fspath(path)} has {n} problem"
                            f"{'s' if n != 1 else ''}:", [str(x) for x in problems])
    return plan


def change_plan_sha256(plan: ChangePlan) -> str:
    """SHA-256 of the plan's canonical JSON (defaults filled in)."""
    return hashlib.sha256(canonical_json(plan.model_dump(mode="json")).encode()).hexdigest()


def lock_change_plan(path: str | os.PathLike[str], *, approver: str, meaning: str,
                     replace: bool = False, now: str | None = None) -> ProtocolLock:
    """Validate the plan and write ``<plan>.lock.json`` (protocol lock format, typed approval).

    The same content again adds a typed approval; a plan changed since locking is refused
    unless ``replace``. Electronic signatures are added with ``validation sign`` on the lock.
    """
    from validation.protocol.plan_file import lock_plan_file

    p = Path(path)
    plan = load_change_plan(p)
    return lock_plan_file(p, plan, change_plan_sha256(plan), study_id=plan.id, study_version=plan.plan.version,
                          approver=approver, meaning=meaning, replace=replace, now=now,
                          record="approval", amend_command="validation change lock --replace")


def verify_change_plan_lock(path: str | os.PathLike[str]) -> ProtocolLock:
    """The plan's lock, checked against the YAML bytes (:class:`LockError` if it changed)."""
    p = Path(path)
    target = lock_path_for(p)
    if not target.is_file():
        raise LockError(f"the change-control plan {p} is not locked: {target} does not exist. "
                        f"Lock it first: validation change lock {p} --approver \"Name <email>\" "
                        "--meaning \"approved change-control plan\".")
    lock = read_lock(target)
    now = hashlib.sha256(p.read_bytes()).hexdigest()
    if now != lock.yaml_sha256:
        raise LockError(f"the change-control plan {p} changed after it was locked: the file's "
                        f"sha256 is now {now}, the lock {target} records {lock.yaml_sha256}. "
                        "Restore the approved file, or lock the amendment (validation change "
                        "lock --replace).")
    return lock
