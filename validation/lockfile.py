"""The protocol lock file (``<protocol>.lock.json``): its layout and its one reader.

Ground floor (standard library only, like :mod:`validation.errors` and
:mod:`validation.constants`): the protocol layer writes locks, and the protocol, provenance and
report layers all read them through :func:`read_lock_file` / :meth:`ProtocolLock.from_dict`,
which accept exactly the keys the writer writes (``lock_version``, ``protocol_file``,
``study_id``, ``study_version``, ``yaml_sha256``, ``protocol_sha256``, ``locked_utc``,
``protocol``, ``approvals``) and check that the embedded protocol hashes to
``protocol_sha256`` and that every signature is for that hash.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validation._atomic import canonical_json
from validation.errors import LockError

LOCK_VERSION = "1.0"
LOCK_SUFFIX = ".lock.json"
MEANINGS = ("authored", "reviewed", "approved")
"""First word of a signature's meaning (21 CFR 11.50(a)(3): review, approval, authorship...)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    """One signature on a protocol."""

    name: str
    email: str
    meaning: str
    time_utc: str
    protocol_sha256: str

    @property
    def role(self) -> str:
        """The meaning's first word (``approved``, ``reviewed``, ...)."""
        return self.meaning.split()[0].lower()

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "email": self.email,
            "meaning": self.meaning,
            "role": self.role,
            "time_utc": self.time_utc,
            "protocol_sha256": self.protocol_sha256,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolLock:
    """The content of a ``.lock.json`` file."""

    protocol_file: str
    study_id: str
    study_version: str
    yaml_sha256: str
    protocol_sha256: str
    protocol: dict[str, Any]
    locked_utc: str
    approvals: tuple[Approval, ...] = field(default_factory=tuple)
    lock_version: str = LOCK_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "lock_version": self.lock_version,
            "protocol_file": self.protocol_file,
            "study_id": self.study_id,
            "study_version": self.study_version,
            "yaml_sha256": self.yaml_sha256,
            "protocol_sha256": self.protocol_sha256,
            "locked_utc": self.locked_utc,
            "protocol": self.protocol,
            "approvals": [a.to_dict() for a in self.approvals],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "lock") -> ProtocolLock:
        try:
            approvals = tuple(
                Approval(
                    name=str(a["name"]),
                    email=str(a["email"]),
                    meaning=str(a["meaning"]),
                    time_utc=str(a["time_utc"]),
                    protocol_sha256=str(a["protocol_sha256"]),
                )
                for a in data["approvals"]
            )
            return cls(
                lock_version=str(data["lock_version"]),
                protocol_file=str(data["protocol_file"]),
                study_id=str(data["study_id"]),
                study_version=str(data["study_version"]),
                yaml_sha256=str(data["yaml_sha256"]),
                protocol_sha256=str(data["protocol_sha256"]),
                protocol=dict(data["protocol"]),
                locked_utc=str(data["locked_utc"]),
                approvals=approvals,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LockError(
                f"lock file {source} is not a valid protocol lock (missing or bad entry "
                f"{exc}); lock the protocol again with `validation protocol lock`."
            ) from None


def read_lock_file(path: str | os.PathLike[str]) -> ProtocolLock:
    """Read and check the lock file ``path``: the one reader of every layer.

    Raises
    ------
    LockError
        The file is missing, unreadable, not a lock, altered (its protocol no longer hashes to
        ``protocol_sha256``), signed for another hash, or unsigned.
    """
    lock_file = Path(path)
    if not lock_file.is_file():
        raise LockError(f"the protocol is not locked: {lock_file} does not exist.")
    try:
        data = json.loads(lock_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LockError(f"lock file {lock_file} cannot be read ({exc}).") from None
    if not isinstance(data, dict):
        raise LockError(f"lock file {lock_file} is not a JSON object.")
    return lock_from_mapping(data, source=str(lock_file))


def lock_from_mapping(data: Mapping[str, Any], *, source: str = "lock") -> ProtocolLock:
    """A lock record as written to a ``.lock.json`` file (a mapping), parsed and checked as
    :func:`read_lock_file` checks a file."""
    lock = ProtocolLock.from_dict(data, source=source)
    inner = hashlib.sha256(canonical_json(lock.protocol).encode("utf-8")).hexdigest()
    if inner != lock.protocol_sha256:
        raise LockError(
            f"lock file {source} was altered: its protocol hashes to {inner}, but it "
            f"records protocol_sha256 {lock.protocol_sha256}."
        )
    for a in lock.approvals:
        if a.protocol_sha256 != lock.protocol_sha256:
            raise LockError(
                f"lock file {source}: the signature of {a.email} is for protocol sha256 "
                f"{a.protocol_sha256}, not the locked {lock.protocol_sha256}."
            )
    if not lock.approvals:
        raise LockError(f"lock file {source} holds no approval.")
    return lock
