"""Electronic approval records of a locked protocol, kept in the registry.

Each record says who (name, e-mail), when (UTC), the meaning of the signature (authored,
reviewed or approved; 21 CFR 11.50) and what was signed (the protocol's SHA-256). The
protocol layer writes them into ``<protocol>.lock.json``; :func:`record_approval` copies a
lock record and its approvals into the registry, each with its audit entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validation.errors import InputError, ProvenanceError
from validation.provenance.registry import MEANINGS, Registry, open_registry

_ADDRESS = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>\s*$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


def load_lock(lock: Any) -> dict[str, Any]:
    """A lock record from a mapping, a lock object with ``to_dict()`` or a ``.lock.json`` file."""
    if isinstance(lock, Mapping):
        return dict(lock)
    if hasattr(lock, "to_dict"):
        return dict(lock.to_dict())
    path = Path(lock)
    if not path.is_file():
        raise InputError(
            f"'protocol_lock' must be a lock record or a lock file; got {str(path)!r}."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ProvenanceError(f"lock file {str(path)!r} is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise ProvenanceError(f"lock file {str(path)!r} must hold a JSON object.")
    return data


def _first(mapping: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = mapping.get(key)
        if value not in (None, ""):
            return value
    return None


def lock_fields(lock: Mapping[str, Any]) -> dict[str, Any]:
    """Study id, version, protocol hash, YAML hash and lock time from a lock record.

    Accepts the flat form (``study_id``, ``protocol_sha256``) and the nested one
    (``study: {id, version}``, ``sha256``), and a ``protocol`` object holding ``study``.
    """
    def mapping(value: Any) -> Mapping[str, Any]:
        return value if isinstance(value, Mapping) else {}

    study = mapping(lock.get("study"))
    pstudy = mapping(mapping(lock.get("protocol")).get("study"))
    sha = _first(lock, "protocol_sha256", "sha256", "canonical_sha256")
    if not isinstance(sha, str) or not _HASH.match(sha):
        raise ProvenanceError(
            f"lock record must hold the protocol's sha256 ('protocol_sha256' or 'sha256'); "
            f"got {sha!r}."
        )
    study_id = _first(lock, "study_id") or _first(study, "id") or _first(pstudy, "id")
    if not isinstance(study_id, str):
        raise ProvenanceError("lock record must name the study ('study_id' or study.id).")
    yaml_sha = _first(lock, "yaml_sha256", "source_sha256")
    return {
        "study_id": study_id,
        "version": (_first(lock, "study_version", "version") or _first(study, "version")
                    or _first(pstudy, "version")),
        "protocol_sha256": sha,
        "yaml_sha256": yaml_sha if isinstance(yaml_sha, str) and _HASH.match(yaml_sha) else None,
        "locked_utc": _first(lock, "locked_utc", "locked_at", "when_utc", "timestamp"),
    }


def parse_approval(item: Mapping[str, Any], default_sha256: str) -> dict[str, Any]:
    """One approval of a lock record as registry fields (name, email, meaning, ...).

    The signer may be given as ``name`` and ``email`` or as ``approver: "Name <email>"``;
    the meaning as one of ``authored``, ``reviewed``, ``approved`` or a statement starting
    with one of them (``"approved SAP"``).
    """
    name, email = item.get("name"), item.get("email")
    who = _first(item, "approver", "who", "signer")
    if isinstance(who, Mapping):
        name, email = name or who.get("name"), email or who.get("email")
    elif isinstance(who, str) and (name is None or email is None):
        m = _ADDRESS.match(who)
        if m is None:
            raise ProvenanceError(
                f"approval signer must be written 'Name <email>'; got {who!r}."
            )
        name, email = m["name"], m["email"]
    if not isinstance(name, str) or not isinstance(email, str):
        raise ProvenanceError(f"approval must name the signer and an e-mail; got {dict(item)!r}.")
    statement = _first(item, "meaning", "statement")
    if not isinstance(statement, str):
        raise ProvenanceError(
            f"approval must state its meaning {list(MEANINGS)}; got {statement!r}."
        )
    words = statement.strip().split()
    meaning = words[0].lower() if words else ""
    if meaning not in MEANINGS:
        raise ProvenanceError(
            f"approval meaning must be one of {list(MEANINGS)} (optionally followed by what, "
            f"e.g. 'approved SAP'); got {statement!r}."
        )
    when = _first(item, "time_utc", "signed_utc", "when_utc", "when", "timestamp", "utc")
    if not isinstance(when, str):
        raise ProvenanceError(f"approval must carry its UTC time; got {dict(item)!r}.")
    what = _first(item, "sha256", "what", "protocol_sha256") or default_sha256
    return {"name": name, "email": email, "meaning": meaning,
            "statement": statement if statement != meaning else None,
            "signed_utc": when, "sha256": what}


def approvals_of(lock: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every approval of a lock record (``approvals`` list or a single ``approval``)."""
    fields = lock_fields(lock)
    raw = lock.get("approvals")
    if raw is None and isinstance(lock.get("approval"), Mapping):
        raw = [lock["approval"]]
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(a, Mapping) for a in raw):
        raise ProvenanceError(f"lock record 'approvals' must be a list of objects; got {raw!r}.")
    return [parse_approval(a, fields["protocol_sha256"]) for a in raw]


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
