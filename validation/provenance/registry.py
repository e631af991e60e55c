"""The registry: runs, protocol locks, approvals, surveillance batches and test-set accesses,
with an append-only, hash-chained audit log (SQLAlchemy 2).

Every record is written in the same database transaction as its audit entry, so a record
exists if and only if its entry does. Entry ``n`` stores the SHA-256 of entry ``n - 1``
(``prev_hash``) and its own hash over its sequence number, time, actor, action, subject,
payload and ``prev_hash``; editing, deleting or inserting an entry anywhere but at the end
breaks the chain (:mod:`validation.provenance.audit` checks it, and checks every record
against the payload of its entry).

Where the registry lives: an explicit URL (``--registry``), else ``$VALIDATION_REGISTRY``,
else a SQLite file ``registry.sqlite`` under ``$VALIDATION_HOME`` (default ``~/.validation``).
PostgreSQL by URL: ``postgresql+psycopg://user@host:port/db`` (``postgresql://`` is accepted
and uses psycopg 3).

Concurrency: each write is one transaction that reads the chain head and inserts the next
sequence number, which is the audit table's primary key. When two processes race, the
database rejects the second insert (PostgreSQL: unique violation; SQLite: the writer lock,
taken up front with ``BEGIN IMMEDIATE``) and the loser retries from a fresh read of the head,
so no entry is lost or duplicated. Records that must exist once (a run, an approval, a
test-set access by one run) carry unique keys and are idempotent: writing the same record
again returns the stored one without a new audit entry.

Limits: the chain proves the log was not edited in place; it cannot by itself show that its
newest entries were cut off, or that someone with write access rewrote an entry and
recomputed every hash after it. Outside anchors catch both: each dossier's ``manifest.json``
holds the head of the log when it was sealed (``verify`` checks it is still there), a run's
manifest hash must be in the log, and ``validation audit`` prints the head to note elsewhere
and accepts ``--expect-head`` to check against it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Engine,
    create_engine,
    func,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from validation._atomic import canonical_json
from validation.errors import InputError, ProvenanceError
from validation.lockfile import MEANINGS
from validation.provenance.registry_tables import (  # noqa: F401  (re-exported)
    GENESIS_HASH,
    RECORD_TABLES,
    AccessRecord,
    ApprovalRecord,
    AuditEntry,
    AuditView,
    Base,
    ProtocolLockRecord,
    RunRecord,
    SurveillanceBatchRecord,
    SurveillanceDataRecord,
    audit_view,
    entry_hash,
    record_payload,
    utc_now,
)
from validation.provenance.registry_url import (  # noqa: F401  (re-exported)
    default_registry_url,
    is_retryable,
    normalize_url,
    sqlite_immediate_transactions,
)

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------


class Registry:
    """A connection to the registry database (created on first use).

    Parameters
    ----------
    url
        SQLAlchemy URL; ``None`` uses :func:`default_registry_url`.
    max_attempts
        How many times a write is retried after losing a race for the chain head.
    create
        Create the database file and tables when missing (``False`` for the read-only
        commands, so that checking a mistyped path does not make an empty registry).
    """

    def __init__(self, url: str | None = None, *, max_attempts: int = 200,
                 create: bool = True) -> None:
        self.url = normalize_url(url if url is not None else default_registry_url())
        self.max_attempts = max_attempts
        parsed = make_url(self.url)
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite":
            db = parsed.database
            if db and db != ":memory:":
                path = Path(db).expanduser()
                if not create and not path.is_file():
                    raise ProvenanceError(
                        f"no registry at {str(path)!r}; pass --registry with the URL of the "
                        "registry the run was recorded in (or set VALIDATION_REGISTRY)."
                    )
                path.parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(self.url, connect_args={"timeout": 60})
            sqlite_immediate_transactions(self.engine)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if create:
            self._create_schema()

    def _create_schema(self) -> None:
        last: Exception | None = None
        for _ in range(5):
            try:
                Base.metadata.create_all(self.engine)
                return
            except DBAPIError as exc:  # two processes creating the tables at once
                last = exc
                time.sleep(0.2 + random.random() * 0.3)
        raise ProvenanceError(f"cannot open the registry {self.safe_url}: {last}")

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden (for messages)."""
        return make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- transactions ----------------------------------------------------------------------

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in one transaction, retrying when a concurrent writer wins.

        ``work`` must be safe to repeat: it re-reads whatever it needs (idempotent records).
        """
        last: Exception | None = None
        for attempt in range(self.max_attempts):
            try:
                with self._sessions() as session, session.begin():
                    return work(session)
            except DBAPIError as exc:
                if not is_retryable(exc):
                    raise ProvenanceError(
                        f"registry {self.safe_url} refused a write: {exc.orig or exc}"
                    ) from exc
                last = exc
                time.sleep(min(0.5, 0.005 * (attempt + 1)) * (0.5 + random.random()))
        raise ProvenanceError(
            f"registry {self.safe_url}: gave up after {self.max_attempts} attempts: {last}"
        )

    def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in a read transaction."""
        try:
            with self._sessions() as session, session.begin():
                return work(session)
        except DBAPIError as exc:
            raise ProvenanceError(f"cannot read the registry {self.safe_url}: {exc}") from exc

    @staticmethod
    def append(
        session: Session, *, actor: str, action: str, subject: str, payload: Mapping[str, Any]
    ) -> AuditEntry:
        """Append one entry after the current head (inside the caller's transaction)."""
        head = session.execute(
            select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)
        ).scalar_one_or_none()
        seq = 1 if head is None else head.seq + 1
        prev = GENESIS_HASH if head is None else head.entry_hash
        text = canonical_json(dict(payload))
        now = utc_now()
        entry = AuditEntry(
            seq=seq, recorded_utc=now, actor=actor, action=action, subject=subject,
            payload=text, prev_hash=prev,
            entry_hash=entry_hash(seq=seq, recorded_utc=now, actor=actor, action=action,
                                  subject=subject, payload=text, prev_hash=prev),
        )
        session.add(entry)
        session.flush()  # the primary key decides who won the race
        return entry

    def log(
        self, *, actor: str, action: str, subject: str, payload: Mapping[str, Any] | None = None
    ) -> AuditView:
        """Append a free-standing audit entry (an event without a record of its own)."""
        _check_text("actor", actor)
        _check_text("action", action)
        if action in RECORD_TABLES:
            raise InputError(
                f"'action' must not be a record action {sorted(RECORD_TABLES)}; got {action!r}. "
                "Use the matching record_* method."
            )
        return self.write(
            lambda s: audit_view(self.append(s, actor=actor, action=action, subject=subject,
                                        payload=payload or {}))
        )

    def add_record(self, row: Base, *, actor: str, subject: str, unique: Mapping[str, Any],
                   same: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
        """Insert ``row`` with its audit entry unless a row with the ``unique`` key exists.

        Returns the stored record's payload and whether it was created now. An existing row
        whose ``same`` fields differ is a conflict (:class:`ProvenanceError`).
        """
        table = type(row)
        action = next(a for a, t in RECORD_TABLES.items() if t is table)
        wanted = record_payload(row)

        def work(session: Session) -> tuple[dict[str, Any], bool]:
            stmt = select(table)
            for key, value in unique.items():
                stmt = stmt.where(getattr(table, key) == value)
            existing = session.execute(stmt).scalar_one_or_none()
            if existing is not None:
                stored = record_payload(existing)
                diff = [k for k in same if stored.get(k) != wanted.get(k)]
                if diff:
                    raise ProvenanceError(
                        f"{table.__tablename__} already holds {dict(unique)} with different "
                        f"{', '.join(diff)}: stored {[stored[k] for k in diff]}, "
                        f"new {[wanted[k] for k in diff]}."
                    )
                return stored, False
            fresh = table(**wanted)
            entry = self.append(session, actor=actor, action=action, subject=subject,
                                payload=wanted)
            fresh.audit_seq = entry.seq  # type: ignore[attr-defined]
            session.add(fresh)
            session.flush()
            return wanted, True

        return self.write(work)

    # ---- records ---------------------------------------------------------------------------

    def record_run(self, *, run_id: str, study_id: str, manifest_sha256: str, n_files: int,
                   operator: str, protocol_sha256: str | None = None) -> dict[str, Any]:
        """Record a finalized run (idempotent for the same manifest hash)."""
        _check_text("run_id", run_id)
        _check_text("study_id", study_id)
        _check_hash("manifest_sha256", manifest_sha256)
        if protocol_sha256 is not None:
            _check_hash("protocol_sha256", protocol_sha256)
        _check_text("operator", operator)
        row = RunRecord(run_id=run_id, study_id=study_id, protocol_sha256=protocol_sha256,
                        manifest_sha256=manifest_sha256, n_files=int(n_files),
                        operator=operator, finalized_utc=utc_now())
        stored, _ = self.add_record(row, actor=operator, subject=run_id,
                                    unique={"run_id": run_id},
                                    same=("manifest_sha256", "study_id", "protocol_sha256"))
        return stored

    def record_protocol_lock(self, *, study_id: str, protocol_sha256: str, actor: str,
                             version: str | None = None, yaml_sha256: str | None = None,
                             locked_utc: str | None = None) -> dict[str, Any]:
        """Record a protocol lock (idempotent)."""
        _check_text("study_id", study_id)
        _check_hash("protocol_sha256", protocol_sha256)
        if yaml_sha256 is not None:
            _check_hash("yaml_sha256", yaml_sha256)
        row = ProtocolLockRecord(study_id=study_id, version=version,
                                 protocol_sha256=protocol_sha256, yaml_sha256=yaml_sha256,
                                 locked_utc=locked_utc)
        stored, _ = self.add_record(
            row, actor=actor, subject=study_id,
            unique={"study_id": study_id, "protocol_sha256": protocol_sha256},
            same=("yaml_sha256",))
        return stored

    def protocol_lock_conflict(self, *, study_id: str, protocol_sha256: str,
                               yaml_sha256: str | None) -> str | None:
        """Why :meth:`record_protocol_lock` would refuse this lock, or ``None`` if it would not.

        Lets a run refuse before it analyses anything, instead of when it is sealed.
        """
        def work(session: Session) -> Any:
            stmt = (select(ProtocolLockRecord)
                    .where(ProtocolLockRecord.study_id == study_id)
                    .where(ProtocolLockRecord.protocol_sha256 == protocol_sha256))
            return session.execute(stmt).scalar_one_or_none()

        existing = self.read(work)
        if existing is None or existing.yaml_sha256 == yaml_sha256:
            return None
        return (f"the registry already records study {study_id!r} locked with protocol sha256 "
                f"{protocol_sha256} from a YAML file with sha256 {existing.yaml_sha256}; this "
                f"lock was made from a file with sha256 {yaml_sha256} (same protocol content, "
                "different text). One protocol version has one locked file: use the file that "
                "was locked first, or record this study in another registry.")

    def record_approval_entry(self, *, name: str, email: str, meaning: str, signed_utc: str,
                              sha256: str, study_id: str | None = None,
                              statement: str | None = None) -> dict[str, Any]:
        """Record one electronic approval (idempotent).

        ``meaning`` is one of :data:`MEANINGS`; ``statement`` the signer's own words
        (e.g. "approved SAP"), kept as written.
        """
        _check_text("name", name)
        if not isinstance(email, str) or "@" not in email or " " in email.strip():
            raise InputError(f"'email' must be an e-mail address; got {email!r}.")
        if meaning not in MEANINGS:
            raise InputError(f"'meaning' must be one of {list(MEANINGS)}; got {meaning!r}.")
        _check_text("signed_utc", signed_utc)
        _check_hash("sha256", sha256)
        row = ApprovalRecord(study_id=study_id, name=name, email=email.strip(), meaning=meaning,
                             statement=statement, signed_utc=signed_utc, sha256=sha256)
        stored, _ = self.add_record(
            row, actor=f"{name} <{email.strip()}>", subject=sha256,
            unique={"sha256": sha256, "email": email.strip(), "meaning": meaning,
                    "signed_utc": signed_utc},
            same=("name",))
        return stored

    def record_surveillance_batch(self, *, plan_id: str, batch_id: str, batch_sha256: str,
                                  n_cases: int, operator: str,
                                  run_id: str | None = None) -> dict[str, Any]:
        """Record one surveillance batch (idempotent; the same batch id with other data is
        refused, so a batch is never counted twice)."""
        _check_text("plan_id", plan_id)
        _check_text("batch_id", batch_id)
        _check_hash("batch_sha256", batch_sha256)
        if isinstance(n_cases, bool) or not isinstance(n_cases, int) or n_cases < 0:
            raise InputError(f"'n_cases' must be a non-negative integer; got {n_cases!r}.")
        _check_text("operator", operator)
        row = SurveillanceBatchRecord(plan_id=plan_id, batch_id=batch_id,
                                      batch_sha256=batch_sha256, n_cases=n_cases,
                                      run_id=run_id, operator=operator, received_utc=utc_now())
        stored, _ = self.add_record(
            row, actor=operator, subject=f"{plan_id}/{batch_id}",
            unique={"plan_id": plan_id, "batch_id": batch_id},
            same=("batch_sha256", "n_cases"))
        return stored

    def record_surveillance_data(
        self, *, data: SurveillanceDataRecord, operator: str,
        check: Callable[[Session, list[dict[str, Any]]], None] | None = None,
        batch_id: str | None = None, events: tuple[tuple[str, str, dict[str, Any]], ...] = (),
    ) -> tuple[dict[str, Any], bool]:
        """Record a batch's or a labels file's data in one transaction, exactly once.

        The same source (``plan_id``, ``kind``, ``source_sha256``) again returns the stored
        record (``False``). For a batch (``batch_id`` given) its
        :class:`SurveillanceBatchRecord` is written in the same transaction, so a different
        file under a used batch id is refused. ``check(session, earlier)`` runs inside the
        transaction, after the plan's earlier data records (payloads, oldest first) are read
        under a per-plan lock, and raises to refuse (nothing is written). ``events`` are extra
        audit entries ``(action, subject, payload)`` written with the record (amendments).
        """
        _check_text("operator", operator)
        wanted = record_payload(data)

        def work(session: Session) -> tuple[dict[str, Any], bool]:
            if self.backend == "postgresql":  # one writer per plan; SQLite: BEGIN IMMEDIATE
                session.execute(sql_text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                                {"k": f"surveillance:{data.plan_id}"})
            rows = session.execute(
                select(SurveillanceDataRecord)
                .where(SurveillanceDataRecord.plan_id == data.plan_id)
                .order_by(SurveillanceDataRecord.audit_seq)).scalars().all()
            earlier = [record_payload(r) for r in rows]
            for r in earlier:
                if r["kind"] == data.kind and r["source_sha256"] == data.source_sha256:
                    return r, False
            if batch_id is not None:
                old = session.execute(
                    select(SurveillanceBatchRecord)
                    .where(SurveillanceBatchRecord.plan_id == data.plan_id)
                    .where(SurveillanceBatchRecord.batch_id == batch_id)).scalar_one_or_none()
                if old is not None:
                    raise InputError(
                        f"batch id {batch_id!r} of plan {data.plan_id!r} is already in with "
                        f"another file (sha256 {old.batch_sha256}); this file's sha256 is "
                        f"{data.source_sha256}. A batch is never replaced: send corrections "
                        "under a new batch id (or late truth as a labels file).")
            if check is not None:
                check(session, earlier)
            if batch_id is not None:
                batch = SurveillanceBatchRecord(
                    plan_id=data.plan_id, batch_id=batch_id, batch_sha256=data.source_sha256,
                    n_cases=data.n_rows, run_id=None, operator=operator,
                    received_utc=data.received_utc)
                b_payload = record_payload(batch)
                entry = self.append(session, actor=operator, action="surveillance.batch",
                                    subject=f"{data.plan_id}/{batch_id}", payload=b_payload)
                batch.audit_seq = entry.seq
                session.add(batch)
            fresh = SurveillanceDataRecord(**wanted)
            entry = self.append(session, actor=operator, action="surveillance.data",
                                subject=f"{data.plan_id}/{data.kind}/{data.source_id}",
                                payload=wanted)
            fresh.audit_seq = entry.seq
            session.add(fresh)
            for action, subject, payload in events:
                self.append(session, actor=operator, action=action, subject=subject,
                            payload=payload)
            session.flush()
            return wanted, True

        return self.write(work)

    def surveillance_data(self, plan_id: str) -> list[dict[str, Any]]:
        """The plan's data records (payloads with ``audit_seq``), oldest first."""
        return self.read(lambda s: [
            record_payload(r) | {"audit_seq": r.audit_seq} for r in s.execute(
                select(SurveillanceDataRecord)
                .where(SurveillanceDataRecord.plan_id == plan_id)
                .order_by(SurveillanceDataRecord.audit_seq)).scalars()])

    def entries_for(self, action: str, subject_prefix: str) -> list[AuditView]:
        """Audit entries of one action whose subject starts with ``subject_prefix``."""
        return self.read(lambda s: [audit_view(e) for e in s.execute(
            select(AuditEntry).where(AuditEntry.action == action)
            .where(AuditEntry.subject.startswith(subject_prefix, autoescape=True))
            .order_by(AuditEntry.seq)).scalars()])

    def record_test_set_access_entry(self, *, test_set_id: str, test_set_sha256: str,
                                     run_id: str, study_id: str, model_sha256: str,
                                     operator: str,
                                     protocol_sha256: str | None = None,
                                     check: Callable[[Session, int], Mapping[str, Any] | None]
                                     | None = None,
                                     ) -> tuple[dict[str, Any], bool]:
        """Record that ``run_id`` touched the test set (once per run).

        With ``check``, the record is conditional and atomic: in one transaction, under a
        per-test-set lock (PostgreSQL: a transaction advisory lock; SQLite: ``BEGIN
        IMMEDIATE``), the test set's recorded accesses are counted and ``check(session,
        used)`` decides. It returns ``None`` to allow, or the refusal's audit payload (with a
        ``reason``): then only a ``test_set.refused`` entry is written and :class:`InputError`
        is raised after the commit. A run already recorded is returned without a check (a
        resumed run is not a new access). Two simultaneous accesses can therefore not both
        take the last unit of a budget.
        """
        _check_text("test_set_id", test_set_id)
        _check_hash("test_set_sha256", test_set_sha256)
        _check_text("run_id", run_id)
        _check_text("study_id", study_id)
        _check_hash("model_sha256", model_sha256)
        if protocol_sha256 is not None:
            _check_hash("protocol_sha256", protocol_sha256)
        _check_text("operator", operator)
        row = AccessRecord(test_set_id=test_set_id, test_set_sha256=test_set_sha256,
                                  run_id=run_id, study_id=study_id,
                                  protocol_sha256=protocol_sha256, model_sha256=model_sha256,
                                  operator=operator, accessed_utc=utc_now())
        unique = {"test_set_sha256": test_set_sha256, "run_id": run_id}
        same = ("model_sha256", "protocol_sha256")
        if check is None:
            return self.add_record(row, actor=operator, subject=run_id, unique=unique,
                                   same=same)
        wanted = record_payload(row)

        def work(session: Session) -> tuple[dict[str, Any], bool, bool]:
            if self.backend == "postgresql":  # one access decision per test set at a time
                session.execute(sql_text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                                {"k": f"test_set:{test_set_sha256}"})
            rows = session.execute(select(AccessRecord).where(
                AccessRecord.test_set_sha256 == test_set_sha256)).scalars().all()
            mine = [r for r in rows if r.run_id == run_id]
            if mine:
                stored = record_payload(mine[0])
                diff = [k for k in same if stored.get(k) != wanted.get(k)]
                if diff:
                    raise ProvenanceError(
                        f"test_set_accesses already holds {unique} with different "
                        f"{', '.join(diff)}: stored {[stored[k] for k in diff]}, "
                        f"new {[wanted[k] for k in diff]}.")
                return stored, False, False
            refusal = check(session, len(rows))
            if refusal is not None:
                self.append(session, actor=operator, action="test_set.refused",
                            subject=run_id, payload=refusal)
                return dict(refusal), False, True
            fresh = AccessRecord(**wanted)
            entry = self.append(session, actor=operator, action="test_set.accessed",
                                subject=run_id, payload=wanted)
            fresh.audit_seq = entry.seq
            session.add(fresh)
            session.flush()
            return wanted, True, False

        stored, created, refused = self.write(work)
        if refused:
            raise InputError(f"access refused: {stored['reason']}. Nothing was read; the "
                             "refusal is in the audit log.")
        return stored, created

    # ---- queries ---------------------------------------------------------------------------

    def entries(self) -> list[AuditView]:
        """Every audit entry in sequence order."""
        return self.read(lambda s: [audit_view(e) for e in s.execute(
            select(AuditEntry).order_by(AuditEntry.seq)).scalars()])

    def head(self) -> AuditView | None:
        """The newest audit entry, or ``None`` for an empty log."""
        return self.read(lambda s: (lambda e: None if e is None else audit_view(e))(
            s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
            .scalar_one_or_none()))

    def entry(self, seq: int) -> AuditView | None:
        """The audit entry with sequence number ``seq``, or ``None``."""
        return self.read(lambda s: (lambda e: None if e is None else audit_view(e))(
            s.get(AuditEntry, seq)))

    def rows(self, table: type[Base]) -> list[tuple[int, dict[str, Any]]]:
        """``(audit_seq, payload)`` of every row of a record table, in id order."""
        return self.read(lambda s: [
            (r.audit_seq, record_payload(r))  # type: ignore[attr-defined]
            for r in s.execute(select(table).order_by(table.id)).scalars()  # type: ignore[attr-defined]
        ])

    def run_by_manifest(self, manifest_sha256: str) -> list[dict[str, Any]]:
        """Runs recorded with this manifest hash."""
        return self.read(lambda s: [
            record_payload(r) | {"audit_seq": r.audit_seq}
            for r in s.execute(select(RunRecord)
                               .where(RunRecord.manifest_sha256 == manifest_sha256)).scalars()
        ])

    def test_set_accesses(self, test_set_sha256: str) -> list[dict[str, Any]]:
        """Every recorded access to one test set, oldest first."""
        return self.read(lambda s: [
            record_payload(r) for r in s.execute(
                select(AccessRecord)
                .where(AccessRecord.test_set_sha256 == test_set_sha256)
                .order_by(AccessRecord.accessed_utc, AccessRecord.id)).scalars()
        ])

    def finalized_run_ids(self, run_ids: list[str]) -> set[str]:
        """Which of ``run_ids`` are recorded as finalized runs."""
        if not run_ids:
            return set()
        return self.read(lambda s: set(s.execute(
            select(RunRecord.run_id).where(RunRecord.run_id.in_(run_ids))).scalars()))

    def count(self, table: type[Base]) -> int:
        return self.read(lambda s: int(s.execute(select(func.count()).select_from(table))
                                       .scalar_one()))


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"'{name}' must be a non-empty string; got {value!r}.")


def _check_hash(name: str, value: object) -> None:
    if (not isinstance(value, str) or len(value) != 64
            or any(c not in "0123456789abcdef" for c in value)):
        raise InputError(f"'{name}' must be 64 lowercase hex digits (SHA-256); got {value!r}.")


def open_registry(registry: Registry | str | None = None, *, create: bool = True) -> Registry:
    """A :class:`Registry` from an instance, a URL or ``None`` (the default location)."""
    if isinstance(registry, Registry):
        return registry
    return Registry(registry, create=create)
