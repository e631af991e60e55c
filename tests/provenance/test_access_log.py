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
