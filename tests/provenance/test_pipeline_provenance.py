"""``validation reproduce`` on a real pipeline run, and the key diff on its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prov_dossier import make_study
from typer.testing import CliRunner

from validation.cli import app
from validation.errors import ProvenanceError
from validation.provenance import verify_run
from validation.reproduce import diff_keys, reproduce_run

# --- diff_keys, pure ------------------------------------------------------------------------


def test_diff_keys_names_each_kind_of_difference():
    old = {"a": 1, "b": {"c": [1, 2, 3], "d": "x"}, "gone": True, "by_site": {"A 1": 0.5}}
    new = {"a": 1.0, "b": {"c": [1, 5], "d": "x"}, "new": None, "by_site": {"A 1": 0.25}}
    got = [(d.path, d.kind) for d in diff_keys(old, new)]
    assert got == [
        ("a", "changed"),  # 1 and 1.0 are different bytes in results.json
        ("b.c[1]", "changed"), ("b.c[2]", "removed"),
        ('by_site["A 1"]', "changed"),
        ("gone", "removed"), ("new", "added"),
    ]
    assert diff_keys(old, old) == []
    assert [(d.path, d.kind) for d in diff_keys({"x": [1]}, {"x": {"0": 1}})] == [("x", "changed")]
    assert [(d.path, d.kind) for d in diff_keys(True, 1)] == [("", "changed")]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False)
    | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=3),
    max_leaves=12,
)


@settings(max_examples=50, deadline=None)
@given(a=json_values, b=json_values)
def test_diff_keys_properties(a, b):
    forward, backward = diff_keys(a, b), diff_keys(b, a)
    assert diff_keys(a, a) == []
    assert (forward == []) == (json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True))
    swap = {"added": "removed", "removed": "added", "changed": "changed"}
    assert sorted((d.path, swap[d.kind]) for d in forward) == sorted(
        (d.path, d.kind) for d in backward)


# --- reproduce on a real run ----------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    """A study run through ``validation.pipeline.run_protocol`` with the provenance steps."""
    from validation.pipeline import run_protocol
    from validation.provenance.steps import record_environment, record_start, seal

    root = tmp_path_factory.mktemp("reproduce")
    url = f"sqlite:///{root / 'registry.sqlite'}"
    protocol = make_study(root / "study")
    run = run_protocol(protocol, out_dir=root / "runs", registry=url, operator="tester",
                       progress=False, post_steps=[record_start, record_environment],
                       finaliser=seal)
    return run, url


def test_pipeline_run_is_verifiable(pipeline_run):
    run, url = pipeline_run
    report = verify_run(run, url)
    assert report.ok, report.lines()
    inputs = json.loads((run / "inputs.json").read_text(encoding="utf-8"))
    assert set(inputs["inputs"]) >= {"protocol", "manifest", "predictions"}


def _input_path(run: Path, role: str) -> Path:
    from validation.provenance.inputs import inputs_base

    inputs = json.loads((run / "inputs.json").read_text(encoding="utf-8"))
    return inputs_base(inputs, run) / inputs["inputs"][role]["path"]


def test_reproduce_is_byte_identical(pipeline_run):
    run, url = pipeline_run
    result = CliRunner().invoke(app, ["reproduce", str(run), "--registry", url])
    assert result.exit_code == 0, result.output
    assert "byte-identical" in result.output


def test_reproduce_lists_the_keys_that_differ(pipeline_run, tmp_path):
    run, url = pipeline_run
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    results = json.loads((copy / "results.json").read_text(encoding="utf-8"))
    results["endpoints"]["sens"]["pooled"]["estimate"] = 0.123
    results["confusion"]["pooled"]["tp"] += 1
    (copy / "results.json").write_text(json.dumps(results, sort_keys=True, indent=2) + "\n")
    with pytest.raises(ProvenanceError, match="is missing"):  # the copy is elsewhere ...
        reproduce_run(copy, registry=url)
    protocol = _input_path(run, "protocol")  # ... so it is told where the protocol is
    report = reproduce_run(copy, registry=url, protocol=protocol)
    assert not report.identical
    assert [d.path for d in report.differences] == ["confusion.pooled.tp",
                                                    "endpoints.sens.pooled.estimate"]
    result = CliRunner().invoke(app, ["reproduce", str(copy), "--registry", url, "--json",
                                      "--protocol", str(protocol)])
    assert result.exit_code == 1
    assert {d["path"] for d in json.loads(result.output)["differences"]} == {
        "confusion.pooled.tp", "endpoints.sens.pooled.estimate"}


def test_reproduce_refuses_changed_inputs_and_incomplete_runs(pipeline_run, tmp_path):
    run, url = pipeline_run
    manifest = _input_path(run, "manifest")
    original = manifest.read_bytes()
    try:
        manifest.write_bytes(original + b"\n")
        with pytest.raises(ProvenanceError, match="input 'manifest'.*changed"):
            reproduce_run(run, registry=url)
    finally:
        manifest.write_bytes(original)
    incomplete = tmp_path / (run.name + ".incomplete")
    shutil.copytree(run, incomplete)
    with pytest.raises(ProvenanceError, match="unfinished run"):
        reproduce_run(incomplete, registry=url)


def test_no_identifier_reaches_any_output(pipeline_run):
    """Item 7 of the issue: every output scanned for the manifest's identifier columns."""
    from validation.provenance import identifier_values, scan_outputs

    run, _ = pipeline_run
    manifest = _input_path(run, "manifest")
    ids = identifier_values(manifest, ["patient_name", "mrn"])
    assert len(ids["patient_name"]) > 10 and len(ids["mrn"]) > 10
    report = scan_outputs(run, ids)
    assert report.ok, report.findings
    assert "results.json" in report.scanned and "predictions.parquet" in report.scanned


def test_the_scan_would_catch_a_leak(pipeline_run, tmp_path):
    from validation.provenance import identifier_values, scan_outputs

    run, _ = pipeline_run
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    manifest = _input_path(run, "manifest")
    shutil.copy(manifest, copy / "manifest_copy.csv")  # an identifier table left in outputs
    report = scan_outputs(copy, identifier_values(manifest, ["patient_name", "mrn"]))
    assert {f.file for f in report.findings} == {"manifest_copy.csv"}
