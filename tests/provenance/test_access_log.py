"""Access log of the sequestered test set: each run once, usage by model version."""

from __future__ import annotations

import json

import pytest
from prov_dossier import MODEL_SHA, PROTOCOL_SHA, make_inputs

from validation.errors import InputError, ProvenanceError
from validation.provenance import hash_of_test_set, record_inputs, record_test_set_access
from validation.provenance.inputs import describe_inputs
from validation.provenance.registry import AccessRecord

MODEL_V2 = "2" * 64


def _run_dir(tmp_path, name, inputs):
    run_dir = tmp_path / "runs" / f"{name}.incomplete"
    run_dir.mkdir(parents=True)
    record_inputs(run_dir, inputs)
    return run_dir


def test_usage_counts_runs_and_model_versions(tmp_path, registry):
    inputs = make_inputs(tmp_path)
    for name, model in [("r1", MODEL_SHA), ("r2", MODEL_SHA), ("r3", MODEL_V2)]:
        usage = record_test_set_access(registry, run_dir=_run_dir(tmp_path, name, inputs),
                                       model_sha256=model, study_id="S-1", operator="ann",
                                       protocol_sha256=PROTOCOL_SHA)
    assert usage["n_accesses"] == 3 and usage["n_previous_accesses"] == 2
    assert usage["n_model_versions"] == 2
    by_model = {m["model_sha256"]: m["n_accesses"] for m in usage["model_versions"]}
    assert by_model == {MODEL_SHA: 2, MODEL_V2: 1}
    assert [a["run_id"] for a in usage["accesses"]] == ["r1", "r2", "r3"]
    assert usage["this_run"] == "r3" and usage["accesses"][-1]["status"] == "this run"
    assert {a["status"] for a in usage["accesses"][:2]} == {"not finalized"}
    written = json.loads((tmp_path / "runs" / "r3.incomplete" / "test_set_usage.json")
                         .read_text(encoding="utf-8"))
    assert written == usage
    for a in usage["accesses"]:  # who, when, which model, which protocol
        assert a["operator"] == "ann" and a["accessed_utc"].endswith("Z")
        assert a["protocol_sha256"] == PROTOCOL_SHA


def test_a_resumed_run_is_not_counted_twice(tmp_path, registry):
    run_dir = _run_dir(tmp_path, "r1", make_inputs(tmp_path))
    for _ in range(3):
        usage = record_test_set_access(registry, run_dir=run_dir, model_sha256=MODEL_SHA,
                                       study_id="S-1", operator="ann")
    assert usage["n_accesses"] == 1 and registry.count(AccessRecord) == 1
    with pytest.raises(ProvenanceError, match="model_sha256"):  # same run, other model
        record_test_set_access(registry, run_dir=run_dir, model_sha256=MODEL_V2,
                               study_id="S-1", operator="ann")


def test_other_data_is_another_test_set(tmp_path, sqlite_url):
    inputs = make_inputs(tmp_path)
    before = hash_of_test_set(describe_inputs(inputs))
    assert before == hash_of_test_set(describe_inputs(  # the protocol is not the test set
        {k: v for k, v in inputs.items() if k != "protocol"}))
    (inputs["images"] / "site_a" / "img0.png").write_bytes(b"another image")
    after = hash_of_test_set(describe_inputs(inputs))
    assert after != before
    usage = record_test_set_access(sqlite_url, run_dir=_run_dir(tmp_path, "r9", inputs),
                                   model_sha256=MODEL_SHA, study_id="S-1", operator="ann")
    assert usage["test_set_sha256"] == after and usage["n_accesses"] == 1


def test_missing_manifest_role_and_bad_hashes(tmp_path, sqlite_url):
    inputs = make_inputs(tmp_path)
    run_dir = _run_dir(tmp_path, "r1", {"images": inputs["images"]})
    with pytest.raises(ProvenanceError, match="no 'manifest' entry"):
        record_test_set_access(sqlite_url, run_dir=run_dir, model_sha256=MODEL_SHA,
                               study_id="S-1", operator="ann")
    with pytest.raises(InputError, match="'model_sha256' must be 64 lowercase hex"):
        record_test_set_access(sqlite_url, run_dir=run_dir, model_sha256="abc",
                               test_set_sha256=MODEL_SHA, study_id="S-1", operator="ann")
    with pytest.raises(InputError, match="'run_dir' must be an existing folder"):
        record_test_set_access(sqlite_url, run_dir=tmp_path / "none", model_sha256=MODEL_SHA,
                               study_id="S-1", operator="ann")


def _governed(registry, tmp_path, budget):  # type: ignore[no-untyped-def]
    from validation.provenance.governance import declare_governance

    sha = hash_of_test_set(describe_inputs(make_inputs(tmp_path)))
    declare_governance(registry, test_set_sha256=sha, test_set_id="S-1", budget=budget,
                       authorised=["ada@example.org"], source="plan P", actor="ada@example.org")
    return sha


def _refusals(registry):  # type: ignore[no-untyped-def]
    return [e for e in registry.entries() if e.action == "test_set.refused"]


def test_the_record_itself_enforces_the_governance(tmp_path, registry):
    # the early check can be passed by two accesses at once; the record decides again
    sha = _governed(registry, tmp_path, budget=1)
    first = tmp_path / "r1"
    first.mkdir()
    usage = record_test_set_access(registry, run_dir=first, model_sha256=MODEL_SHA,
                                   study_id="S-1", operator="Ada <ada@example.org>",
                                   test_set_sha256=sha, run_id="r1")
    assert usage["n_accesses"] == 1
    again = record_test_set_access(registry, run_dir=first, model_sha256=MODEL_SHA,
                                   study_id="S-1", operator="ada@example.org",
                                   test_set_sha256=sha, run_id="r1")  # resumed: not a new one
    assert again["n_accesses"] == 1 and not _refusals(registry)
    second = tmp_path / "r2"
    second.mkdir()
    with pytest.raises(InputError, match="used its access budget: 1 recorded accesses of 1"):
        record_test_set_access(registry, run_dir=second, model_sha256=MODEL_SHA,
                               study_id="S-1", operator="ada@example.org",
                               test_set_sha256=sha, run_id="r2", purpose="change P 1.2.0")
    with pytest.raises(InputError, match="'mallory' is not authorised"):
        record_test_set_access(registry, run_dir=second, model_sha256=MODEL_SHA,
                               study_id="S-1", operator="mallory", test_set_sha256=sha,
                               run_id="r3")
    refused = [(e.subject, e.payload["purpose"], e.payload["used_before"], e.payload["operator"])
               for e in _refusals(registry)]
    assert refused == [("r2", "change P 1.2.0", 1, "ada@example.org"), ("r3", "run", 1, "mallory")]
    assert [a["run_id"] for a in registry.test_set_accesses(sha)] == ["r1"]
    assert not (second / "test_set_usage.json").exists()
    from validation.provenance.audit import check_chain

    assert check_chain(registry).ok


def test_two_processes_cannot_both_take_the_last_unit(tmp_path, registry, registry_url):
    import multiprocessing

    from prov_workers import take_governed_access

    sha = _governed(registry, tmp_path, budget=2)
    (tmp_path / "r0").mkdir()
    record_test_set_access(registry, run_dir=tmp_path / "r0", model_sha256=MODEL_SHA,
                           study_id="S-1", operator="ada@example.org", test_set_sha256=sha,
                           run_id="r0")  # one unit of the budget left
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = []
    for name in ("ra", "rb"):
        (tmp_path / name).mkdir()
        procs.append(ctx.Process(target=take_governed_access,
                                 args=(registry_url, str(tmp_path / name), name, sha, barrier)))
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert sorted(p.exitcode for p in procs) == [0, 2]  # exactly one got the last unit
    winner = next(n for n, p in zip(("ra", "rb"), procs, strict=True) if p.exitcode == 0)
    loser = next(n for n, p in zip(("ra", "rb"), procs, strict=True) if p.exitcode == 2)
    assert [a["run_id"] for a in registry.test_set_accesses(sha)] == ["r0", winner]
    refused = _refusals(registry)
    assert [(e.subject, e.payload["used_before"], e.payload["budget"]) for e in refused] == [
        (loser, 2, 2)]
    assert (tmp_path / winner / "test_set_usage.json").exists()
    assert not (tmp_path / loser / "test_set_usage.json").exists()
