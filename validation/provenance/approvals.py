"""Electronic approval records of a locked protocol, kept in the registry.

Each record says who (name, e-mail), when (UTC), the meaning of the signature (authored,
reviewed or approved; 21 CFR 11.50) and what was signed (the protocol's SHA-256). The
protocol layer writes them into ``<protocol>.lock.json``; :func:`record_approval` copies a
lock record and its approvals into the registry, each with its audit entry. Locks are read by
the one lock reader of :mod:`validation.lockfile`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from validation.lockfile import ProtocolLock, lock_from_mapping, read_lock_file
from validation.provenance.registry import Registry, open_registry


def load_lock(lock: ProtocolLock | Mapping[str, Any] | str | os.PathLike[str]) -> ProtocolLock:
    """A checked lock from a :class:`~validation.lockfile.ProtocolLock`, the mapping written to
    a ``.lock.json`` file, or the path of that file."""
    if isinstance(lock, ProtocolLock):
        return lock
    if isinstance(lock, Mapping):
        return lock_from_mapping(lock)
    return read_lock_file(lock)


def lock_fields(lock: ProtocolLock) -> dict[str, Any]:
    """Study id, version, protocol hash, YAML hash and lock time, as the registry records them."""
    return {
        "study_id": lock.study_id,
        "version": lock.study_version,
        "protocol_sha256": lock.protocol_sha256,
        "yaml_sha256": lock.yaml_sha256,
        "locked_utc": lock.locked_utc,
    }


def approvals_of(lock: ProtocolLock) -> list[dict[str, Any]]:
    """Every signature of the lock as registry fields (name, email, meaning, statement, ...)."""
    return [
        {"name": a.name, "email": a.email, "meaning": a.role,
         "statement": a.meaning if a.meaning != a.role else None,
         "signed_utc": a.time_utc, "sha256": a.protocol_sha256}
        for a in lock.approvals
    ]


def record_approval(
    registry: Registry | str | None, lock_record: Any
) -> list[dict[str, Any]]:
    """Store a protocol lock and its approvals in the registry (each once; idempotent).

    Parameters
    ----------
    registry
        Registry, URL or ``None`` for the default registry.
    lock_record
        The lock record (as written to ``<protocol>.lock.json``, or the protocol layer's
        ``ProtocolLock``) or the path of that file.

    Returns
    -------
    list of dict
        The stored approval records.
    """
    lock = load_lock(lock_record)
    fields = lock_fields(lock)
    approvals = approvals_of(lock)
    reg = open_registry(registry)
    try:
        actor = (f"{approvals[0]['name']} <{approvals[0]['email']}>" if approvals
                 else "protocol lock")
        reg.record_protocol_lock(actor=actor, **fields)
        return [reg.record_approval_entry(study_id=fields["study_id"], **a) for a in approvals]
    finally:
        if reg is not registry:
            reg.close()
