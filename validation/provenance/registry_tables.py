"""The registry's tables (SQLAlchemy 2 ORM) and the audit chain's hash.

Every record is written in the same transaction as its audit entry (:mod:`registry`); the
entry's hash covers its sequence number, time, actor, action, subject, payload and the previous
entry's hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from validation._atomic import canonical_json
from validation.provenance.hashing import sha256_bytes

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first audit entry."""


def utc_now() -> str:
    """Current UTC time as ISO 8601 with microseconds and ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class AuditEntry(Base):
    """One entry of the hash-chained audit log. Never updated, never deleted."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_utc: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(512))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class RunRecord(Base):
    """A finalized run: its manifest hash is what ``verify`` looks for."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(200), unique=True)
    study_id: Mapped[str] = mapped_column(String(200))
    protocol_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    manifest_sha256: Mapped[str] = mapped_column(String(64), index=True)
    n_files: Mapped[int] = mapped_column(Integer)
    operator: Mapped[str] = mapped_column(String(320))
    finalized_utc: Mapped[str] = mapped_column(String(32))
    audit_seq: Mapped[int] = mapped_column(Integer, unique=True)


class ProtocolLockRecord(Base):
    """A locked protocol (hash of its canonical JSON and of its YAML bytes)."""

    __tablename__ = "protocol_locks"
    __table_args__ = (UniqueConstraint("study_id", "protocol_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    protocol_sha256: Mapped[str] = mapped_column(String(64))
    yaml_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locked_utc: Mapped[str | None] = mapped_column(String(40), nullable=True)
    audit_seq: Mapped[int] = mapped_column(Integer, unique=True)


class ApprovalRecord(Base):
    """An electronic approval: who (name, email), when (UTC), meaning, what (hash)."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("sha256", "email", "meaning", "signed_utc"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    meaning: Mapped[str] = mapped_column(String(32))
    statement: Mapped[str | None] = mapped_column(String(500), nullable=True)
    signed_utc: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    audit_seq: Mapped[int] = mapped_column(Integer, unique=True)


class SurveillanceBatchRecord(Base):
    """One post-market surveillance batch."""

    __tablename__ = "surveillance_batches"
    __table_args__ = (UniqueConstraint("plan_id", "batch_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(200))
    batch_id: Mapped[str] = mapped_column(String(200))
    batch_sha256: Mapped[str] = mapped_column(String(64))
    n_cases: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    operator: Mapped[str] = mapped_column(String(320))
    received_utc: Mapped[str] = mapped_column(String(32))
    audit_seq: Mapped[int] = mapped_column(Integer, unique=True)


class SurveillanceDataRecord(Base):
    """Case-level data of a surveillance plan: a batch's rows or a labels file, kept as Parquet
    beside the registry (``parquet_sha256`` names the file) with its per-period aggregates."""

    __tablename__ = "surveillance_data"
    __table_args__ = (UniqueConstraint("plan_id", "kind", "source_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(200))
    plan_sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(200))
    source_sha256: Mapped[str] = mapped_column(String(64))
    parquet_sha256: Mapped[str] = mapped_column(String(64))
    n_rows: Mapped[int] = mapped_column(Integer)
    periods: Mapped[str] = mapped_column(Text)
    aggregates: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(320))
    received_utc: Mapped[str] = mapped_column(String(32))
    audit_seq: Mapped[int] = mapped_column(Integer, unique=True)


class AccessRecord(Base):
    """One run touching the sequestered test set."""

    __tablename__ = "test_set_access"
    __table_args__ = (UniqueConstraint("test_set_sha256", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_set_id: Mapped[str] = mapped_column(String(200))
    test_set_sha256: Mapped[str] = mapped_column(String(64), index=True)
    run_id: Mapped[str] = mapped_column(String(200))
    study_id: Mapped[str] = mapped_column(String(200))
    protocol_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model_sha256: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str] = mapped_column(String(320))
    accessed_utc: Mapped[str] = mapped_column(String(32))
    audit_seq: Mapped[int] = mapped_column(Integer, unique=True)


class SigningKeyRecord(Base):
    """A signer's registered Ed25519 public key: who (name, e-mail), which role on the
    device's value chain (manufacturer author, reviewer, approver; a deploying institution's
    acceptance at a site) and when it was registered."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), index=True)
    party: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))
    site: Mapped[str | None] = mapped_column(String(200), nullable=True)
    public_key: Mapped[str] = mapped_column(String(64))
    registered_utc: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(320))
    audit_seq: Mapped[int] = mapped_column(Integer, unique=True)


class KeyRevocationRecord(Base):
    """The revocation of a signing key: signatures recorded after it do not verify."""

    __tablename__ = "key_revocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(500))
    revoked_utc: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(320))
    audit_seq: Mapped[int] = mapped_column(Integer, unique=True)


class SignatureRecord(Base):
    """An electronic signature: key, meaning, UTC time and the SHA-256 of the signed document."""

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signature: Mapped[str] = mapped_column(String(128), unique=True)
    key_id: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(320))
    meaning: Mapped[str] = mapped_column(String(32))
    document: Mapped[str] = mapped_column(String(500))
    document_sha256: Mapped[str] = mapped_column(String(64), index=True)
    signed_utc: Mapped[str] = mapped_column(String(32))
    audit_seq: Mapped[int] = mapped_column(Integer, unique=True)


class ModelVersionRecord(Base):
    """A model version under a change-control plan: the original, or a modification accepted
    or rejected against the plan's criteria (its parent, dossier and decision signature)."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(200))
    plan_sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(100))
    model_sha256: Mapped[str] = mapped_column(String(64))
    operating_point: Mapped[str] = mapped_column(String(40))
    artifact: Mapped[str] = mapped_column(String(1000))
    parent_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    modification: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(16))
    criteria: Mapped[str] = mapped_column(Text)
    dossier_run_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signature: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_by: Mapped[str] = mapped_column(String(320))
    decided_utc: Mapped[str] = mapped_column(String(32))
    audit_seq: Mapped[int] = mapped_column(Integer, unique=True)


RECORD_TABLES: dict[str, type[Base]] = {
    "run.finalized": RunRecord,
    "protocol.locked": ProtocolLockRecord,
    "approval.recorded": ApprovalRecord,
    "surveillance.batch": SurveillanceBatchRecord,
    "surveillance.data": SurveillanceDataRecord,
    "test_set.accessed": AccessRecord,
    "key.registered": SigningKeyRecord,
    "key.revoked": KeyRevocationRecord,
    "signature.recorded": SignatureRecord,
    "model_version.decided": ModelVersionRecord,
}
"""Audit action -> the table whose rows it creates (one row per entry)."""


def record_payload(row: Base) -> dict[str, Any]:
    """The audit payload of a record row: every column except ``id`` and ``audit_seq``."""
    return {
        c.key: getattr(row, c.key)
        for c in row.__table__.columns  # type: ignore[attr-defined]
        if c.key not in ("id", "audit_seq")
    }


def entry_hash(
    *, seq: int, recorded_utc: str, actor: str, action: str, subject: str, payload: str,
    prev_hash: str,
) -> str:
    """SHA-256 of an audit entry's canonical JSON (all fields but its own hash)."""
    body = {
        "seq": seq, "recorded_utc": recorded_utc, "actor": actor, "action": action,
        "subject": subject, "payload": payload, "prev_hash": prev_hash,
    }
    return sha256_bytes(canonical_json(body).encode("utf-8"))


# --------------------------------------------------------------------------------------------
# an audit entry as plain data


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditView:
    """An audit entry as plain data."""

    seq: int
    recorded_utc: str
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    entry_hash: str


def audit_view(e: AuditEntry) -> AuditView:
    try:
        payload = json.loads(e.payload)
    except (json.JSONDecodeError, TypeError):
        payload = {"_unreadable": e.payload}
    return AuditView(seq=e.seq, recorded_utc=e.recorded_utc, actor=e.actor, action=e.action,
                     subject=e.subject, payload=payload if isinstance(payload, dict)
                     else {"_value": payload}, prev_hash=e.prev_hash, entry_hash=e.entry_hash)
