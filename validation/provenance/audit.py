"""Check the registry's audit chain and every record against its audit entry.

What is checked:

1. sequence numbers run 1, 2, 3, ... without gaps (a deleted entry leaves a gap);
2. each entry's ``prev_hash`` is the previous entry's hash (the first: 64 zeros);
3. each entry's stored hash equals the hash recomputed from its fields (an edited entry
   fails here);
4. each record row (run, lock, approval, batch, test-set access) points at an entry of the
   matching action whose payload equals the row (an edited row fails here), and each such
   entry has its row (a deleted row fails here);
5. optionally, the head equals a hash noted earlier (``expect_head``), which catches a log
   whose newest entries were removed together with their records.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from validation.provenance.registry import (
    GENESIS_HASH,
    RECORD_TABLES,
    AuditEntry,
    Registry,
    entry_hash,
    record_payload,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """Outcome of :func:`check_chain`.

    ``problems`` holds one line per fault found (all of them, not just the first); ``ok`` is
    true when there are none.
    """

    n_entries: int
    head_seq: int | None
    head_hash: str | None
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems


_HEAD = re.compile(r"(\d+:)?[0-9a-f]{64}")


def check_expect_head(expect_head: str) -> str:
    """``expect_head`` if it reads ``SEQ:HASH`` or ``HASH`` (64 hex digits); else InputError."""
    if not _HEAD.fullmatch(expect_head.strip().lower()):
        from validation.errors import InputError

        raise InputError(
            f"'--expect-head' must be SEQ:HASH or HASH as printed by an earlier `validation "
            f"audit` (HASH: 64 hexadecimal digits); got {expect_head!r}. Copy the head line of "
            "that audit."
        )
    return expect_head


def check_chain(registry: Registry, *, expect_head: str | None = None) -> ChainReport:
    """Check the whole audit log and every record table of ``registry``.

    Parameters
    ----------
    registry
        An open :class:`~validation.provenance.registry.Registry`.
    expect_head
        ``"SEQ:HASH"`` or ``"HASH"`` noted from an earlier ``validation audit``; the log must
        still contain that entry unchanged.

    Raises
    ------
    InputError
        ``expect_head`` is not of that form (a typo is not a broken chain).
    """
    if expect_head is not None:
        check_expect_head(expect_head)
    problems: list[str] = []

    def load(session):  # type: ignore[no-untyped-def]
        entries = [
            (e.seq, e.recorded_utc, e.actor, e.action, e.subject, e.payload, e.prev_hash,
             e.entry_hash)
            for e in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
        ]
        tables = {
            action: [(getattr(r, "audit_seq"), record_payload(r), r.id)  # noqa: B009
                     for r in session.execute(select(t).order_by(t.id)).scalars()]  # type: ignore[attr-defined]
            for action, t in RECORD_TABLES.items()
        }
        return entries, tables

    entries, tables = registry.read(load)

    by_seq: dict[int, tuple] = {}
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for seq, when, actor, action, subject, payload, prev, stored in entries:
        by_seq[seq] = (action, payload)
        if seq != expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else \
                f"{expected_seq}..{seq - 1}"
            problems.append(f"audit entry {missing} missing (sequence jumps to {seq})")
        if prev != expected_prev:
            problems.append(
                f"audit entry {seq}: prev_hash {prev[:12]}... does not match the hash of the "
                f"entry before it ({expected_prev[:12]}...)"
            )
        recomputed = entry_hash(seq=seq, recorded_utc=when, actor=actor, action=action,
                                subject=subject, payload=payload, prev_hash=prev)
        if recomputed != stored:
            problems.append(
                f"audit entry {seq} ({action} {subject}) was altered: stored hash "
                f"{stored[:12]}..., recomputed {recomputed[:12]}..."
            )
        expected_prev = stored
        expected_seq = seq + 1

    for action, rows in tables.items():
        table = RECORD_TABLES[action].__tablename__  # type: ignore[attr-defined]
        seen: set[int] = set()
        for audit_seq, row_payload, row_id in rows:
            seen.add(audit_seq)
            found = by_seq.get(audit_seq)
            if found is None:
                problems.append(f"{table} row {row_id}: its audit entry {audit_seq} is missing")
                continue
            if found[0] != action:
                problems.append(
                    f"{table} row {row_id}: audit entry {audit_seq} is a {found[0]!r} entry, "
                    f"not {action!r}"
                )
                continue
            try:
                logged = json.loads(found[1])
            except json.JSONDecodeError:
                logged = None
            if logged != row_payload:
                changed = sorted(
                    k for k in set(row_payload) | set(logged or {})
                    if (logged or {}).get(k) != row_payload.get(k)
                )
                problems.append(
                    f"{table} row {row_id} differs from its audit entry {audit_seq} in "
                    f"{', '.join(changed) or 'payload'}"
                )
        for seq, (entry_action, _) in by_seq.items():
            if entry_action == action and seq not in seen:
                problems.append(f"audit entry {seq} ({action}) has no {table} row: deleted")

    if expect_head is not None:
        want_seq, _, want_hash = expect_head.rpartition(":")
        hit = [e for e in entries if e[7] == want_hash.strip().lower()]
        if not hit:
            problems.append(
                f"expected head {expect_head!r} is not in the log: entries were removed or "
                "altered since it was noted"
            )
        elif want_seq and str(hit[0][0]) != want_seq.strip():
            problems.append(f"expected head {expect_head!r} is now at sequence {hit[0][0]}")

    last = entries[-1] if entries else None
    return ChainReport(
        n_entries=len(entries),
        head_seq=None if last is None else last[0],
        head_hash=None if last is None else last[7],
        problems=tuple(problems),
    )
