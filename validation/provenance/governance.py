"""Governance of a sequestered test set: an access budget and the people who may open it.

:func:`authorise_access` is called before any case of the test set is read. It counts the
accesses the registry records for the test set (every run, reproduction and change, by the
test set's content hash) and refuses, with an audit entry ``test_set.refused``, an operator
who is not authorised or an access beyond the budget. The caller then records the access
itself (``record_test_set_access``) before reading the data.

Limit: the check and the access record are two transactions; two authorised accesses started
in the same instant can both pass when one unit of budget is left (the log shows both).
"""

from __future__ import annotations

import re
from typing import Any

from validation.errors import InputError
from validation.provenance.registry import Registry

_EMAIL_IN = re.compile(r"<([^<>\s]+)>")


def _identities(operator: str) -> set[str]:
    ids = {operator.strip().lower()}
    m = _EMAIL_IN.search(operator)
    if m:
        ids.add(m.group(1).lower())
    return ids


def authorise_access(registry: Registry, *, test_set_sha256: str, test_set_id: str,
                     operator: str, budget: int, authorised: list[str], purpose: str,
                     subject: str) -> dict[str, Any]:
    """Refuse (audited, :class:`InputError`) or return the budget status before an access."""
    used = len(registry.test_set_accesses(test_set_sha256))
    allowed = {a.strip().lower() for a in authorised}
    reason = None
    if not (_identities(operator) & allowed):
        reason = (f"{operator!r} is not authorised to open the sequestered test set "
                  f"{test_set_id!r} (authorised: {', '.join(sorted(authorised))})")
    elif used >= budget:
        reason = (f"the sequestered test set {test_set_id!r} has used its access budget: "
                  f"{used} recorded accesses of {budget} allowed")
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
