"""Sequestered test-set governance: runs and reproductions of a governed test set are
authorised before the data are read; refusals are audited (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from validation.change.run import declare_plan_governance
from validation.errors import InputError
from validation.pipeline import run_protocol
from validation.provenance.audit import check_chain

OK = "Demo Approver <demo.approver@example.org>"


def _run(study, registry, operator):  # type: ignore[no-untyped-def]
    return run_protocol(study.protocol, out_dir=study.folder / "runs", registry=registry,
                        operator=operator, progress=False)


def test_run_and_reproduce_are_governed(study, registry) -> None:  # type: ignore[no-untyped-def]
    from validation.reproduce import reproduce_run

    # ungoverned: a run by anyone is recorded as before
    first = _run(study, registry, "someone")
    rule = declare_plan_governance(study.plan, registry=registry, actor=OK)
    assert rule["budget"] == 4 and rule["authorised"] == ["demo.approver@example.org"]
    declare_plan_governance(study.plan, registry=registry, actor=OK)  # unchanged: no new entry
    assert sum(e.action == "test_set.governed" for e in registry.entries()) == 1
    with pytest.raises(InputError, match="not authorised to open the sequestered test set"):
        _run(study, registry, "mallory")
    assert not list((study.folder / "runs" / "DEMO-001").glob("*.incomplete"))
    second = _run(study, registry, OK)
    usage = json.loads((second / "test_set_usage.json").read_text())
    assert usage["n_accesses"] == 2
    third = _run(study, registry, OK)
    assert third.is_dir()
    reproduced = reproduce_run(first, registry=registry, operator=OK)  # the 4th access
    assert reproduced.identical
    with pytest.raises(InputError, match="used its access budget: 4 recorded accesses of 4"):
        reproduce_run(first, registry=registry, operator=OK)
    refused = [e.payload for e in registry.entries() if e.action == "test_set.refused"]
    assert [r["purpose"] for r in refused] == ["run", "run"]
    assert refused[0]["operator"] == "mallory" and refused[1]["used_before"] == 4
    assert check_chain(registry).ok


def test_signed_protocol_lock_travels_and_is_checked(study, registry) -> None:  # type: ignore[no-untyped-def]
    from validation.change.demo import DEMO_PASSPHRASE
    from validation.errors import ProvenanceError
    from validation.protocol.lock import lock_path_for
    from validation.provenance.signatures import sign_file, signatures_path
    from validation.provenance.verify import verify_run

    lock = lock_path_for(study.protocol)
    sign_file(registry, lock, key=study.key["key_id"], meaning="approved",
              passphrase=DEMO_PASSPHRASE, key_file=study.key["key_file"])
    run = _run(study, registry, OK)
    rep = verify_run(run, registry)
    assert rep.ok, rep.lines()
    assert any(s.startswith("protocol.lock.json: approved by Demo Approver") for s in rep.signatures)
    side = signatures_path(lock)
    data = json.loads(side.read_text())
    data["signatures"][0]["meaning"] = "reviewed"
    side.write_text(json.dumps(data))
    with pytest.raises(ProvenanceError, match="forged or edited"):
        _run(study, registry, OK)


def test_earlier_operators_in_the_access_history_do_not_block_sealing(study, registry) -> None:  # type: ignore[no-untyped-def]
    # the access history names every earlier operator by design; the identifier check must
    # not take a colleague's address for a patient identifier and refuse to seal the run
    _run(study, registry, "Alice Analyst <alice.analyst@example.org>")
    second = _run(study, registry, "Bob Builder <bob.builder@example.org>")
    usage = json.loads((second / "test_set_usage.json").read_text())
    assert [a["operator"] for a in usage["accesses"]] == [
        "Alice Analyst <alice.analyst@example.org>", "Bob Builder <bob.builder@example.org>"]
    assert not second.name.endswith(".incomplete")
