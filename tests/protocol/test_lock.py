"""Locking: canonical JSON and its hash, approval records, and refusing a changed protocol."""

from __future__ import annotations

import hashlib
import json

import pytest
from protocol_helpers import minimal_text

from validation._atomic import canonical_json
from validation.errors import InputError, LockError, ProtocolError
from validation.protocol import (
    canonical_protocol_json,
    load_protocol,
    lock_path_for,
    lock_protocol,
    protocol_sha256,
    read_lock,
    verify_lock,
)

APPROVER = "Ada Lovelace <ada@example.org>"


def test_lock_round_trip(write_protocol):
    path = write_protocol(minimal_text())
    record = lock_protocol(path, approver=APPROVER, meaning="approved SAP",
                           now="2026-11-28T10:00:00Z")
    lock_file = lock_path_for(path)
    assert lock_file.name == "p.yaml.lock.json"
    text = lock_file.read_text(encoding="utf-8")
    assert text == canonical_json(json.loads(text))  # canonical JSON on disk
    data = json.loads(text)
    protocol = load_protocol(path)
    # the hash is the sha256 of the canonical JSON of the validated protocol
    canon = canonical_protocol_json(protocol)
    assert data["protocol_sha256"] == hashlib.sha256(canon.encode()).hexdigest()
    assert data["protocol_sha256"] == protocol_sha256(protocol) == record.protocol_sha256
    assert data["yaml_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert canonical_json(data["protocol"]) == canon
    assert data["approvals"] == [{
        "name": "Ada Lovelace", "email": "ada@example.org", "meaning": "approved SAP",
        "role": "approved", "time_utc": "2026-11-28T10:00:00Z",
        "protocol_sha256": record.protocol_sha256,
    }]
    assert data["study_id"] == "T-001" and data["locked_utc"] == "2026-11-28T10:00:00Z"
    assert verify_lock(path) == record == read_lock(lock_file)


def test_yaml_changed_after_lock_is_refused_with_both_hashes(write_protocol):
    path = write_protocol(minimal_text())
    record = lock_protocol(path, approver=APPROVER, meaning="approved SAP")
    path.write_text(minimal_text().replace("goal: 0.8}", "goal: 0.7}", 1), encoding="utf-8")
    new_yaml = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(LockError) as info:
        verify_lock(path)
    msg = str(info.value)
    assert "changed after it was locked" in msg
    assert record.yaml_sha256 in msg and new_yaml in msg
    # even a comment counts: the approved file is the file
    path.write_text(minimal_text() + "# note\n", encoding="utf-8")
    with pytest.raises(LockError, match="changed after it was locked"):
        verify_lock(path)
    path.write_text(minimal_text(), encoding="utf-8")
    assert verify_lock(path).protocol_sha256 == record.protocol_sha256


def test_missing_and_tampered_lock(write_protocol):
    path = write_protocol(minimal_text())
    with pytest.raises(LockError, match="is not locked"):
        verify_lock(path)
    lock_protocol(path, approver=APPROVER, meaning="approved SAP")
    lock_file = lock_path_for(path)
    data = json.loads(lock_file.read_text())
    data["protocol"]["alpha"] = 0.05
    lock_file.write_text(json.dumps(data))
    with pytest.raises(LockError, match="was altered"):
        verify_lock(path)
    lock_file.write_text("{not json")
    with pytest.raises(LockError, match="cannot be read"):
        verify_lock(path)
    lock_file.write_text('{"lock_version": "1.0"}')
    with pytest.raises(LockError, match="not a valid protocol lock"):
        verify_lock(path)


def test_signatures_accumulate_and_amendments_are_explicit(write_protocol):
    path = write_protocol(minimal_text())
    lock_protocol(path, approver="Al Author <al@example.org>", meaning="authored SAP")
    rec = lock_protocol(path, approver=APPROVER, meaning="approved SAP")
    assert [a.role for a in rec.approvals] == ["authored", "approved"]
    assert verify_lock(path, require_role="approved") == rec
    with pytest.raises(LockError, match="already holds the signature"):
        lock_protocol(path, approver=APPROVER, meaning="approved SAP")
    path.write_text(minimal_text().replace("alpha: 0.025", "alpha: 0.05"), encoding="utf-8")
    with pytest.raises(LockError) as info:
        lock_protocol(path, approver=APPROVER, meaning="approved amendment")
    assert rec.protocol_sha256 in str(info.value)
    new = lock_protocol(path, approver=APPROVER, meaning="approved amendment", replace=True)
    assert new.protocol_sha256 != rec.protocol_sha256 and len(new.approvals) == 1
    with pytest.raises(LockError, match="no 'reviewed' signature"):
        verify_lock(path, require_role="reviewed")


@pytest.mark.parametrize(
    "approver",
    ["Ada Lovelace", "ada@example.org", "<ada@example.org>", "Ada <ada>", "Ada <a@b>", ""],
)
def test_bad_approver(write_protocol, approver):
    path = write_protocol(minimal_text())
    with pytest.raises(InputError, match="'approver'"):
        lock_protocol(path, approver=approver, meaning="approved SAP")
    assert not lock_path_for(path).exists()


@pytest.mark.parametrize("meaning", ["", "ok", "signed SAP", "approve"])
def test_bad_meaning(write_protocol, meaning):
    path = write_protocol(minimal_text())
    with pytest.raises(InputError, match="'meaning' must start with one of authored"):
        lock_protocol(path, approver=APPROVER, meaning=meaning)


def test_invalid_protocol_is_not_locked(write_protocol):
    path = write_protocol(minimal_text().replace("alpha: 0.025", "alpha: 2"))
    with pytest.raises(ProtocolError, match="alpha"):
        lock_protocol(path, approver=APPROVER, meaning="approved SAP")
    assert not lock_path_for(path).exists()
