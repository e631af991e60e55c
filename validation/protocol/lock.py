"""Locking a protocol: canonical JSON, its SHA-256 and an approval record.

``lock_protocol("protocols/x.yaml", approver="Ada Lovelace <ada@example.org>",
meaning="approved SAP")`` validates the protocol and writes ``protocols/x.yaml.lock.json``
atomically. The lock holds

* ``protocol``: the validated protocol as plain data (defaults filled in),
* ``protocol_sha256``: the SHA-256 of its canonical JSON (:func:`canonical_protocol_json`),
  the hash that ``results.json`` and the report quote,
* ``yaml_sha256``: the SHA-256 of the YAML file's bytes, so that any later edit of the file
  (even of a comment) is detected,
* ``approvals``: one record per signature -- name, email, meaning (whose first word is one of
  :data:`MEANINGS`, the "meaning of the signature" of 21 CFR 11.50), UTC time and the hash
  signed.

Locking again with the same content adds a signature (e.g. ``authored`` then ``approved``);
a protocol whose content changed after locking is refused unless ``replace=True`` (an
explicit amendment, which starts a new signature list).

:func:`verify_lock` is what ``validation run`` calls first: it returns the lock or raises
:class:`~validation.errors.LockError` showing both hashes when the YAML changed after locking,
or when the lock is missing or was edited by hand.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from validation._atomic import canonical_json, write_text_atomic
from validation.errors import InputError, LockError
from validation.lockfile import (  # noqa: F401  (the lock layout is part of this API)
    LOCK_SUFFIX,
    LOCK_VERSION,
    MEANINGS,
    Approval,
    ProtocolLock,
    read_lock_file,
)
from validation.protocol.load import load_protocol
from validation.protocol.model import Protocol

_APPROVER = re.compile(r"^\s*(?P<name>[^<>@]*[^\s<>@])\s*<(?P<email>[^<>\s]+)>\s*$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+$")


def canonical_protocol_json(protocol: Protocol) -> str:
    """The protocol as canonical JSON (sorted keys, defaults filled in, final newline)."""
    return canonical_json(protocol.model_dump(mode="json"))


def protocol_sha256(protocol: Protocol) -> str:
    """SHA-256 (hex) of :func:`canonical_protocol_json` encoded as UTF-8."""
    return hashlib.sha256(canonical_protocol_json(protocol).encode("utf-8")).hexdigest()


def lock_path_for(path: str | os.PathLike[str]) -> Path:
    """``protocols/x.yaml`` -> ``protocols/x.yaml.lock.json``."""
    p = Path(path)
    return p.with_name(p.name + LOCK_SUFFIX)


def parse_approver(approver: str) -> tuple[str, str]:
    """``"Name <email>"`` -> ``(name, email)``; raise :class:`InputError` otherwise."""
    from validation.preflight import check_person_text

    check_person_text(approver, "approver")
    m = _APPROVER.match(approver or "")
    if m is None:
        raise InputError(
            f"'approver' must be written \"Full Name <email@domain>\", e.g. "
            f"\"Ada Lovelace <ada@example.org>\"; got {approver!r}."
        )
    name, email = m.group("name").strip(), m.group("email")
    if not _EMAIL.match(email):
        raise InputError(
            f"'approver' email must look like name@domain.tld; got {email!r} in {approver!r}."
        )
    return name, email


def check_meaning(meaning: str) -> str:
    """Return ``meaning`` stripped if its first word is one of :data:`MEANINGS`."""
    text = " ".join((meaning or "").split())
    first = text.split(" ")[0].lower() if text else ""
    if first not in MEANINGS:
        raise InputError(
            f"'meaning' must start with one of {', '.join(MEANINGS)} (what the signature "
            f"means, e.g. \"approved SAP\"); got {meaning!r}."
        )
    return text


def _utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def lock_protocol(
    path: str | os.PathLike[str],
    *,
    approver: str,
    meaning: str,
    replace: bool = False,
    check_files: bool = True,
    now: str | None = None,
) -> ProtocolLock:
    """Validate the protocol at ``path``, sign it and write ``<path>.lock.json`` atomically.

    Parameters
    ----------
    path : path-like
        The protocol YAML.
    approver : str
        ``"Full Name <email>"``.
    meaning : str
        What the signature means; starts with one of :data:`MEANINGS` (``"approved SAP"``).
    replace : bool, default False
        Allow replacing a lock whose protocol content differs (an amendment). Without it a
        changed protocol is refused with both hashes.
    check_files : bool, default True
        Check that referenced files exist (see :func:`load_protocol`).
    now : str, optional
        UTC time to record (ISO 8601 with ``Z``); default: the current time.

    Returns
    -------
    ProtocolLock
        What was written.

    Raises
    ------
    ProtocolError
        The protocol is invalid (every problem listed).
    InputError
        The approver or meaning is malformed.
    LockError
        A lock exists for different content and ``replace`` is false.
    """
    name, email = parse_approver(approver)
    meaning = check_meaning(meaning)
    p = Path(path)
    protocol = load_protocol(p, check_files=check_files)
    yaml_sha = hashlib.sha256(p.read_bytes()).hexdigest()
    proto_sha = protocol_sha256(protocol)
    approval = Approval(
        name=name, email=email, meaning=meaning, time_utc=now or _utc_now(),
        protocol_sha256=proto_sha,
    )
    approvals: tuple[Approval, ...] = (approval,)
    locked_utc = approval.time_utc
    target = lock_path_for(p)
    if target.exists():
        try:
            old = read_lock_file(target)
        except LockError:
            if not replace:
                raise
            old = None
        if old is not None and old.protocol_sha256 == proto_sha:
            if any(
                (a.email, a.meaning) == (email, meaning) for a in old.approvals
            ):
                raise LockError(
                    f"{target} already holds the signature of {email} with meaning "
                    f"{meaning!r} for this protocol (sha256 {proto_sha})."
                )
            approvals = (*old.approvals, approval)
            locked_utc = old.locked_utc
        elif old is not None and not replace:
            raise LockError(
                f"{p} changed since it was locked: the lock {target} is for protocol sha256 "
                f"{old.protocol_sha256}, the file now gives {proto_sha}. An amendment must be "
                f"locked explicitly (`validation protocol lock --replace`)."
            )
    lock = ProtocolLock(
        protocol_file=p.name,
        study_id=protocol.study.id,
        study_version=protocol.study.version,
        yaml_sha256=yaml_sha,
        protocol_sha256=proto_sha,
        protocol=protocol.model_dump(mode="json"),
        locked_utc=locked_utc,
        approvals=approvals,
    )
    write_text_atomic(target, canonical_json(lock.to_dict()))
    return lock


def read_lock(path: str | os.PathLike[str]) -> ProtocolLock:
    """Read and check the lock of the protocol at ``path`` (or a ``.lock.json`` path itself).

    Unlike :func:`verify_lock` it does not compare with the YAML file (which may be absent,
    e.g. inside a dossier).
    """
    p = Path(path)
    lock_file = p if p.name.endswith(LOCK_SUFFIX) else lock_path_for(p)
    if not lock_file.is_file():
        raise LockError(f"the protocol is not locked: {lock_file} does not exist.")
    return read_lock_file(lock_file)


def verify_lock(path: str | os.PathLike[str], *, require_role: str | None = None) -> ProtocolLock:
    """Check that the protocol at ``path`` is exactly what was locked; return the lock.

    Parameters
    ----------
    path : path-like
        The protocol YAML (its lock is ``<path>.lock.json``).
    require_role : str, optional
        Also require a signature with this role (e.g. ``"approved"``).

    Raises
    ------
    LockError
        The lock is missing, unreadable or altered; the YAML changed after locking (both
        hashes shown); or the required signature is absent.
    """
    p = Path(path)
    lock_file = lock_path_for(p)
    if not lock_file.is_file():
        raise LockError(
            f"the protocol {p} is not locked: {lock_file} does not exist. Lock it first: "
            f"validation protocol lock {p} --approver \"Name <email>\" --meaning \"approved SAP\"."
        )
    lock = read_lock_file(lock_file)
    if not p.is_file():
        raise LockError(f"the locked protocol file {p} does not exist.")
    yaml_sha = hashlib.sha256(p.read_bytes()).hexdigest()
    if yaml_sha != lock.yaml_sha256:
        raise LockError(
            f"the protocol {p} changed after it was locked: the file's sha256 is now "
            f"{yaml_sha}, the lock {lock_file} records {lock.yaml_sha256}. Restore the "
            f"approved file, or lock the amendment (validation protocol lock --replace)."
        )
    if require_role is not None and not any(a.role == require_role for a in lock.approvals):
        roles = ", ".join(sorted({a.role for a in lock.approvals}))
        raise LockError(
            f"the protocol lock {lock_file} has no {require_role!r} signature (it has: {roles})."
        )
    return lock
