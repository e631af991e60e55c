"""Governance of a sequestered test set: an access budget and the people who may open it.

A change-control plan declares them (``test_set_access``); :func:`declare_governance` records
the declaration in the registry (audit entry ``test_set.governed``, subject the test set's
content hash), so every later access of that test set -- ``validation run``, ``reproduce``
(through :func:`check_governed_access`) and ``change`` -- is held to it.

:func:`authorise_access` is called before any case of the test set is read. It counts the
accesses the registry records for the test set (every run, reproduction and change, by the
test set's content hash) and refuses, with an audit entry ``test_set.refused``, an operator
who is not authorised or an access beyond the budget. The caller then records the access
itself (``record_test_set_access``) before reading the data.

That first check refuses early, before anything is read. The decisive one is made again
when the access is recorded (:func:`access_check`, passed to
``Registry.record_test_set_access_entry``): check and record are one transaction under a
per-test-set lock, so two simultaneous accesses cannot both take the last unit of budget;
the one that comes second is refused (``test_set.refused``) and reads nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from validation.errors import InputError
from validation.provenance.registry import Registry, open_registry
from validation.provenance.registry_tables import AuditEntry

GOVERNED = "test_set.governed"

_EMAIL_IN = re.compile(r"<([^<>\s]+)>")


def _identities(operator: str) -> set[str]:
    ids = {operator.strip().lower()}
    m = _EMAIL_IN.search(operator)
    if m:
        ids.add(m.group(1).lower())
    return ids


def _refusal(*, operator: str, authorised: list[str], used: int, budget: int,
             test_set_id: str) -> str | None:
    """Why this access is refused, or ``None`` when it is allowed."""
    allowed = {a.strip().lower() for a in authorised}
    if not (_identities(operator) & allowed):
        return (f"{operator!r} is not authorised to open the sequestered test set "
                f"{test_set_id!r} (authorised: {', '.join(sorted(authorised))})")
    if used >= budget:
        return (f"the sequestered test set {test_set_id!r} has used its access budget: "
                f"{used} recorded accesses of {budget} allowed")
    return None


def access_check(*, test_set_sha256: str, operator: str,
                 purpose: str) -> Callable[[Session, int], dict[str, Any] | None]:
    """The decisive check, run inside the transaction that records the access.

    ``check(session, used)`` reads the test set's latest governance declaration in that
    transaction; ``None`` (allowed) when there is none or the access is within it, else the
    ``test_set.refused`` payload.
    """

    def check(session: Session, used: int) -> dict[str, Any] | None:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == GOVERNED)
            .where(AuditEntry.subject == test_set_sha256)
            .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
        if entry is None:
            return None
        rule = json.loads(entry.payload)
        budget = int(rule["budget"])
        reason = _refusal(operator=operator, authorised=list(rule["authorised"]), used=used,
                          budget=budget, test_set_id=rule["test_set_id"])
        if reason is None:
            return None
        return {"test_set_id": rule["test_set_id"], "test_set_sha256": test_set_sha256,
                "budget": budget, "used_before": used, "operator": operator,
                "purpose": purpose, "reason": reason}

    return check


def authorise_access(registry: Registry, *, test_set_sha256: str, test_set_id: str,
                     operator: str, budget: int, authorised: list[str], purpose: str,
                     subject: str) -> dict[str, Any]:
    """Refuse (audited, :class:`InputError`) or return the budget status before an access."""
    used = len(registry.test_set_accesses(test_set_sha256))
    reason = _refusal(operator=operator, authorised=authorised, used=used, budget=budget,
                      test_set_id=test_set_id)
    status = {"test_set_id": test_set_id, "test_set_sha256": test_set_sha256,
              "budget": budget, "used_before": used, "operator": operator,
              "purpose": purpose}
    if reason is not None:
        registry.log(actor=operator, action="test_set.refused", subject=subject,
                     payload=status | {"reason": reason})
        raise InputError(f"access refused: {reason}. Nothing was read; the refusal is in "
                         "the audit log.")
    return status | {"remaining_after": budget - used - 1}


def refusals(registry: Registry, test_set_sha256: str) -> list[dict[str, Any]]:
    """Refused accesses of one test set (audit entries), oldest first."""
    return [e.payload | {"seq": e.seq, "recorded_utc": e.recorded_utc}
            for e in registry.entries_for("test_set.refused", "")
            if e.payload.get("test_set_sha256") == test_set_sha256]


def governance_for(registry: Registry, test_set_sha256: str) -> dict[str, Any] | None:
    """The latest governance declared for the test set, or ``None``."""
    found = registry.entries_for(GOVERNED, test_set_sha256)
    return found[-1].payload if found else None


def declare_governance(registry: Registry, *, test_set_sha256: str, test_set_id: str,
                       budget: int, authorised: list[str], source: str,
                       actor: str) -> dict[str, Any]:
    """Record the test set's budget and authorised people (a new entry only when changed)."""
    payload = {"test_set_sha256": test_set_sha256, "test_set_id": test_set_id,
               "budget": int(budget), "authorised": sorted(a.strip() for a in authorised),
               "source": source}
    if governance_for(registry, test_set_sha256) != payload:
        registry.log(actor=actor, action=GOVERNED, subject=test_set_sha256, payload=payload)
    return payload


def check_governed_access(registry: Any, inputs: dict[str, Any], *, operator: str,
                          purpose: str, subject: str) -> dict[str, Any] | None:
    """Before a run reads its test set: if the registry holds a governance declaration for
    it, authorise the access (refusals audited, :class:`InputError`); ``None`` when the test
    set is not governed. ``inputs`` are the run's input paths by role."""
    from validation.provenance.inputs import describe_inputs, hash_of_test_set

    reg = open_registry(registry)
    try:
        if not reg.entries_for(GOVERNED, ""):
            return None
        roles: dict[str, Any] = {r: inputs[r] for r in ("manifest", "images") if r in inputs}
        sha = hash_of_test_set(describe_inputs(roles))
        rule = governance_for(reg, sha)
        if rule is None:
            return None
        return authorise_access(reg, test_set_sha256=sha, test_set_id=rule["test_set_id"],
                                operator=operator, budget=int(rule["budget"]),
                                authorised=list(rule["authorised"]), purpose=purpose,
                                subject=subject)
    finally:
        if reg is not registry:
            reg.close()
