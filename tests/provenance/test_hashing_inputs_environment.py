"""Hashes, inputs.json and environment.json, checked against independent computations."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import shutil
import subprocess
from pathlib import Path

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import validation
from validation._atomic import canonical_json
from validation.errors import InputError
from validation.provenance import hashing
from validation.provenance.environment import write_environment
from validation.provenance.inputs import check_inputs, describe_inputs, inputs_base, record_inputs


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=300), chunk=st.integers(min_value=1, max_value=64))
def test_sha256_file_equals_hashlib_for_any_chunking(tmp_path_factory, data, chunk):
    path = tmp_path_factory.mktemp("h") / "f.bin"
    path.write_bytes(data)
    original = hashing.CHUNK
    hashing.CHUNK = chunk  # streamed in pieces that straddle every boundary
    try:
        assert hashing.sha256_file(path) == hashlib.sha256(data).hexdigest()
    finally:
        hashing.CHUNK = original


def test_sha256_of_published_vector():
    # FIPS 180-2 appendix B.1: SHA-256("abc")
    assert hashing.sha256_bytes(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_sha256_file_refuses_missing(tmp_path):
    with pytest.raises(InputError, match="'path' must be an existing file"):
        hashing.sha256_file(tmp_path / "nope")


def test_hash_tree_lists_every_file_with_relative_posix_paths(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.txt").write_bytes(b"x")
    (tmp_path / "top.json").write_bytes(b"{}")
    tree = hashing.hash_tree(tmp_path)
    assert list(tree) == ["a/b/x.txt", "top.json"]
    assert tree["a/b/x.txt"] == {"sha256": hashlib.sha256(b"x").hexdigest(), "size": 1}


def test_symlinks_are_refused(tmp_path):
    (tmp_path / "real").write_bytes(b"1")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(InputError, match="symbolic links"):
        hashing.hash_tree(tmp_path)


def test_inputs_json_lists_every_file_and_image(tmp_path):
    images = tmp_path / "images"
    (images / "s1").mkdir(parents=True)
    blobs = {"s1/a.dcm": b"\x00" * 1000, "s1/b.png": b"\x89PNG" + b"\x01" * 20}
    for rel, blob in blobs.items():
        (images / rel).write_bytes(blob)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("case_id\nC1\n", encoding="utf-8")
    run = tmp_path / "run.incomplete"
    run.mkdir()
    path = record_inputs(run, {"manifest": manifest, "images": images})
    obj = json.loads(path.read_text(encoding="utf-8"))
    m = obj["inputs"]["manifest"]
    assert m["kind"] == "file" and m["size"] == manifest.stat().st_size
    assert m["sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()
    im = obj["inputs"]["images"]
    assert im["n_files"] == 2 and im["size"] == sum(len(b) for b in blobs.values())
    for rel, blob in blobs.items():
        assert im["files"][rel] == {"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}
    assert check_inputs(obj, inputs_base(obj, run)) == []


def test_inputs_json_holds_no_absolute_path_nor_host_name(tmp_path):
    """Paths relative to the protocol's folder, the host only as a hash."""
    import socket

    data = tmp_path / "study"
    (data / "images").mkdir(parents=True)
    (data / "images" / "a.png").write_bytes(b"x")
    (data / "p.yaml").write_text("a: 1\n", encoding="utf-8")
    (data / "m.csv").write_text("x\n", encoding="utf-8")
    run = tmp_path / "runs" / "S" / "r1.incomplete"
    run.mkdir(parents=True)
    path = record_inputs(run, {"protocol": data / "p.yaml", "manifest": data / "m.csv",
                               "images": data / "images"})
    text = path.read_text(encoding="utf-8")
    assert str(tmp_path) not in text and socket.gethostname() not in text
    obj = json.loads(text)
    assert {k: v["path"] for k, v in obj["inputs"].items()} == {
        "protocol": "p.yaml", "manifest": "m.csv", "images": "images"}
    assert obj["protocol_folder_from_run"] == "../../../study"
    assert obj["host_sha256"] == hashlib.sha256(socket.gethostname().encode()).hexdigest()
    final = run.rename(run.with_name("r1"))  # sealing renames the folder: same depth
    assert check_inputs(obj, inputs_base(obj, final)) == []
    assert "not known" in check_inputs(obj)[0]


def test_check_inputs_names_changed_missing_and_added(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.png", "b.png"):
        (images / name).write_bytes(name.encode())
    manifest = tmp_path / "m.csv"
    manifest.write_text("x\n", encoding="utf-8")
    recorded = describe_inputs({"manifest": manifest, "images": images})
    (images / "a.png").write_bytes(b"changed")
    (images / "b.png").unlink()
    (images / "c.png").write_bytes(b"new")
    manifest.write_text("y\n", encoding="utf-8")
    problems = check_inputs(recorded, tmp_path)
    assert "input 'images': file 'a.png' changed" in problems
    assert "input 'images': file 'b.png' is missing" in problems
    assert "input 'images': file 'c.png' was added" in problems
    assert any(p.startswith("input 'manifest'") and p.endswith("changed") for p in problems)


def test_record_inputs_are_hashed_verbatim_and_checked(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("x\n", encoding="utf-8")
    (tmp_path / "p.yaml").write_text("study: {}\n", encoding="utf-8")
    files = {"protocol": tmp_path / "p.yaml", "manifest": manifest}
    plan = {"families": [{"family": "gaussian_noise", "severities": [30.0, 20.0]}], "seed": 7}
    recorded = describe_inputs(files, records={"robustness_plan": plan})
    entry = recorded["inputs"]["robustness_plan"]
    assert entry["kind"] == "record" and entry["record"] == plan and "path" not in entry
    assert entry["sha256"] == hashlib.sha256(canonical_json(plan).encode("utf-8")).hexdigest()
    assert check_inputs(recorded, tmp_path) == []
    other = describe_inputs(files, records={"robustness_plan": {
        **plan, "families": [{"family": "gaussian_noise", "severities": [30.0, 15.0]}]}})
    assert other["inputs"]["robustness_plan"]["sha256"] != entry["sha256"]
    entry["record"]["seed"] = 8  # edited after the run
    assert check_inputs(recorded, tmp_path) == [
        "input 'robustness_plan': the recorded content does not match its sha256"]
    with pytest.raises(InputError, match="must not repeat a file role"):
        describe_inputs({"manifest": manifest}, records={"manifest": plan})


@pytest.mark.parametrize("paths", [{}, {"manifest": "does/not/exist.csv"}, {"": "x"}])
def test_bad_inputs_are_input_errors(tmp_path, paths):
    with pytest.raises(InputError):
        record_inputs(tmp_path, paths)


def test_environment_records_packages_python_and_git(tmp_path):
    path = write_environment(tmp_path, renderer="pandoc+typst")
    env = json.loads(path.read_text(encoding="utf-8"))
    assert env["python"]["version"] == platform.python_version()
    assert env["packages"]["numpy"] == numpy.__version__
    assert env["packages"]["sqlalchemy"] == importlib.metadata.version("sqlalchemy")
    assert len(env["packages"]) == len({d.metadata["Name"].lower()
                                        for d in importlib.metadata.distributions()
                                        if d.metadata["Name"]})
    assert env["suite"]["version"] == validation.__version__
    assert env["renderer"] == "pandoc+typst"
    package_dir = Path(validation.__file__).parent
    git = shutil.which("git")
    top = (subprocess.run([git, "-C", str(package_dir), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=False) if git else None)
    if top is not None and top.returncode == 0:
        assert env["suite"]["git"]["commit"] == top.stdout.strip()
        assert isinstance(env["suite"]["git"]["dirty"], bool)
    else:
        assert env["suite"]["git"] is None


def test_environment_rejects_bad_renderer(tmp_path):
    with pytest.raises(InputError, match="'renderer' must be"):
        write_environment(tmp_path, renderer="")
