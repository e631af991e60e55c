"""Registry and audit chain, on SQLite and on PostgreSQL (``registry_url`` runs both).

Faults: entries edited, deleted or inserted directly in the database; record rows edited or
deleted; two processes writing at once.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prov_dossier import approval, lock_record
from sqlalchemy import create_engine, text

from validation.errors import InputError, LockError, ProvenanceError
from validation.provenance import check_chain, record_approval
from validation.provenance.registry import (
    GENESIS_HASH,
    AuditEntry,
    Registry,
    RunRecord,
    SurveillanceBatchRecord,
    entry_hash,
    normalize_url,
)

H = "c" * 64


def _fill(reg: Registry) -> None:
    reg.log(actor="ann", action="note", subject="one", payload={"n": 1})
    reg.record_run(run_id="r1", study_id="S", manifest_sha256=H, n_files=3, operator="ann")
    reg.log(actor="bob", action="note", subject="two", payload={"n": 2})
    reg.record_surveillance_batch(plan_id="P", batch_id="B1", batch_sha256=H, n_cases=5,
                                  operator="bob")
    reg.log(actor="bob", action="note", subject="three", payload={})


def _sql(reg: Registry, statement: str) -> None:
    """Tamper with the database directly, behind the registry's back."""
    engine = create_engine(reg.url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def test_chain_links_each_entry_to_the_previous(registry):
    _fill(registry)
    entries = registry.entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.entry_hash
    import json
    for e in entries:  # independent recomputation of each hash
        assert e.entry_hash == entry_hash(
            seq=e.seq, recorded_utc=e.recorded_utc, actor=e.actor, action=e.action,
            subject=e.subject, payload=json.dumps(e.payload, sort_keys=True, indent=2,
                                                  ensure_ascii=False) + "\n",
            prev_hash=e.prev_hash)
    report = check_chain(registry)
    assert report.ok and report.n_entries == 5 and report.head_hash == entries[-1].entry_hash


def test_records_are_idempotent_and_conflicts_refused(registry):
    first = registry.record_run(run_id="r1", study_id="S", manifest_sha256=H, n_files=2,
                                operator="ann")
    again = registry.record_run(run_id="r1", study_id="S", manifest_sha256=H, n_files=2,
                                operator="ann")
    assert first == again and registry.count(RunRecord) == 1 and registry.count(AuditEntry) == 1
    with pytest.raises(ProvenanceError, match="manifest_sha256"):
        registry.record_run(run_id="r1", study_id="S", manifest_sha256="d" * 64, n_files=2,
                            operator="ann")
    registry.record_surveillance_batch(plan_id="P", batch_id="B", batch_sha256=H, n_cases=3,
                                       operator="x")
    with pytest.raises(ProvenanceError, match="batch_sha256"):
        registry.record_surveillance_batch(plan_id="P", batch_id="B", batch_sha256="e" * 64,
                                           n_cases=3, operator="x")
    assert registry.count(SurveillanceBatchRecord) == 1 and check_chain(registry).ok


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE audit_log SET payload = '{\"n\": 9}' WHERE seq = 1",
         "audit entry 1 (note one) was altered"),
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3",
         "audit entry 3 (note two) was altered"),
        ("DELETE FROM audit_log WHERE seq = 3", "audit entry 3 missing"),
        ("UPDATE runs SET manifest_sha256 = '" + "f" * 64 + "'",
         "runs row 1 differs from its audit entry 2 in manifest_sha256"),
        ("DELETE FROM runs", "audit entry 2 (run.finalized) has no runs row: deleted"),
        ("DELETE FROM surveillance_batches", "audit entry 4 (surveillance.batch) has no"),
        ("UPDATE surveillance_batches SET n_cases = 50",
         "surveillance_batches row 1 differs from its audit entry 4 in n_cases"),
        ("INSERT INTO audit_log (seq, recorded_utc, actor, action, subject, payload, prev_hash,"
         " entry_hash) VALUES (6, '2026-01-01T00:00:00.000000Z', 'mallory', 'note', 'x', '{}', '"
         + "0" * 64 + "', '" + "1" * 64 + "')", "audit entry 6: prev_hash"),
    ],
    ids=["edit-payload", "edit-actor", "delete-entry", "edit-run-row", "delete-run-row",
         "delete-batch-row", "edit-batch-row", "insert-forged-entry"],
)
def test_direct_database_tampering_is_caught(registry, statement, expected):
    _fill(registry)
    assert check_chain(registry).ok
    _sql(registry, statement)
    report = check_chain(registry)
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems


def test_removing_the_newest_entries_is_caught_by_the_noted_head(registry):
    _fill(registry)
    head = check_chain(registry)
    noted = f"{head.head_seq}:{head.head_hash}"
    _sql(registry, "DELETE FROM audit_log WHERE seq = 5")
    assert check_chain(registry).ok  # the chain alone cannot see a cut tail ...
    report = check_chain(registry, expect_head=noted)
    assert not report.ok and "is not in the log" in report.problems[0]  # ... the anchor can


def test_two_processes_writing_at_once_lose_and_duplicate_nothing(registry_url):
    Registry(registry_url).close()  # create the tables before the race
    n_workers, n_each = 3, 10
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(n_workers)
    from prov_workers import append_entries

    procs = [ctx.Process(target=append_entries, args=(registry_url, f"w{k}", n_each, barrier))
             for k in range(n_workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * n_workers
    reg = Registry(registry_url)
    try:
        entries = reg.entries()
        notes = [(e.payload["tag"], e.payload["i"]) for e in entries if e.action == "note"]
        assert sorted(notes) == sorted((f"w{k}", i) for k in range(n_workers)
                                       for i in range(n_each))  # none lost, none twice
        runs = n_workers * len(range(0, n_each, 5))
        batches = len(range(0, n_each, 5))  # every worker raced for the same batch ids
        assert reg.count(RunRecord) == runs
        assert reg.count(SurveillanceBatchRecord) == batches
        assert len(entries) == n_workers * n_each + runs + batches
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        assert check_chain(reg).ok
    finally:
        reg.close()


def test_record_approval_from_a_lock_record(registry):
    stored = record_approval(registry, lock_record())
    assert stored == [{
        "study_id": "S-1", "name": "Dana Reviewer", "email": "dana@example.org",
        "meaning": "approved", "statement": "approved SAP",
        "signed_utc": "2026-11-01T09:00:00Z", "sha256": lock_record()["protocol_sha256"],
    }]
    assert record_approval(registry, lock_record()) == stored  # once only
    actions = [e.action for e in registry.entries()]
    assert actions == ["protocol.locked", "approval.recorded"]
    assert check_chain(registry).ok


def test_record_approval_from_a_lock_file_with_several_signers(tmp_path, sqlite_url):
    import json

    lock = lock_record()
    lock["approvals"] = [
        approval("Ann Author", "ann@example.org", "authored", "2026-10-01T08:00:00Z"),
        approval("Rex Review", "rex@example.org", "reviewed", "2026-10-02T08:00:00Z"),
    ]
    path = tmp_path / "demo.yaml.lock.json"
    path.write_text(json.dumps(lock), encoding="utf-8")
    stored = record_approval(sqlite_url, path)
    assert [(a["name"], a["meaning"]) for a in stored] == [("Ann Author", "authored"),
                                                             ("Rex Review", "reviewed")]


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"approvals": []}, LockError, "holds no approval"),
        ({"approvals": [approval() | {"protocol_sha256": "0" * 64}]}, LockError,
         "is for protocol sha256"),
        ({"protocol": {"study": {"id": "S-2"}}}, LockError, "was altered"),
        ({"approvals": [approval(meaning="liked it")]}, InputError, "'meaning' must be one of"),
        ({"approval": approval()}, LockError, "not a valid protocol lock"),
    ],
)
def test_bad_lock_records_are_refused(sqlite_url, change, error, message):
    lock = lock_record() | change
    if "approval" in change:  # a key the writer never writes, in place of its own
        del lock["approvals"]
    with pytest.raises(error, match=message):
        record_approval(sqlite_url, lock)


@pytest.mark.parametrize("url", ["", "mysql://u@h/db", "not a url"])
def test_bad_registry_urls(url):
    with pytest.raises(InputError, match="'registry' must be"):
        normalize_url(url)


def test_postgres_scheme_uses_psycopg3():
    assert normalize_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"


def test_default_location_follows_environment(tmp_path, monkeypatch):
    from validation.provenance.registry import default_registry_url

    monkeypatch.delenv("VALIDATION_REGISTRY")
    monkeypatch.setenv("VALIDATION_HOME", str(tmp_path / "home"))
    url = default_registry_url()
    assert url == f"sqlite:///{tmp_path / 'home' / 'registry.sqlite'}"
    Registry(url).close()
    assert Path(tmp_path / "home" / "registry.sqlite").is_file()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"manifest_sha256": "ABC"}, "'manifest_sha256' must be 64 lowercase hex"),
        ({"run_id": " "}, "'run_id' must be a non-empty string"),
        ({"operator": None}, "'operator' must be a non-empty string"),
    ],
)
def test_bad_record_fields(sqlite_url, kwargs, message):
    reg = Registry(sqlite_url)
    args = {"run_id": "r", "study_id": "S", "manifest_sha256": H, "n_files": 1,
            "operator": "o"} | kwargs
    with pytest.raises(InputError, match=message):
        reg.record_run(**args)
    reg.close()


def test_a_real_database_error_is_reported_not_retried(registry):
    import time

    _sql(registry, "DROP TABLE runs")
    t0 = time.perf_counter()
    with pytest.raises(ProvenanceError, match="refused a write"):
        registry.record_run(run_id="r", study_id="S", manifest_sha256=H, n_files=1,
                            operator="o")
    assert time.perf_counter() - t0 < 5  # no retry loop on an error that cannot go away


@settings(max_examples=25, deadline=None)
@given(
    payloads=st.lists(st.dictionaries(st.text(max_size=4), st.integers() | st.text(max_size=4),
                                      max_size=3), min_size=1, max_size=6),
    victim=st.integers(min_value=0),
    field=st.sampled_from(["recorded_utc", "actor", "action", "subject", "payload"]),
)
def test_any_single_field_edit_anywhere_breaks_the_chain(payloads, victim, field):
    reg = Registry("sqlite:///:memory:")
    try:
        for i, payload in enumerate(payloads):
            reg.log(actor=f"a{i}", action="note", subject=f"s{i}", payload=payload)
        assert check_chain(reg).ok
        seq = victim % len(payloads) + 1
        with reg.engine.begin() as conn:
            conn.execute(text(f"UPDATE audit_log SET {field} = {field} || 'x' WHERE seq = {seq}"))
        report = check_chain(reg)
        assert any(p.startswith(f"audit entry {seq} ") and "altered" in p
                   for p in report.problems), report.problems
    finally:
        reg.close()
