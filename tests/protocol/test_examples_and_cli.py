"""The example protocols check and lock; ``validation protocol ...`` exit codes and messages."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import yaml
from protocol_helpers import PROTOCOLS, minimal_text

from validation.protocol import load_protocol, lock_path_for, protocol_sha256
from validation.protocol.schema import protocol_json_schema, protocol_json_schema_text

EXAMPLES = ["cade_pneumothorax.yaml", "reader_study.yaml", "detection_study.yaml",
            "split_plot_study.yaml"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_checks_and_locks(name, tmp_path, cli):
    code, out, err = cli("protocol", "check", PROTOCOLS / name)
    assert code == 0, err
    assert out.startswith(f"ok: {PROTOCOLS / name}")
    # lock a copy (with its data) so that the repository stays untouched
    shutil.copytree(PROTOCOLS / "examples", tmp_path / "examples")
    copy = tmp_path / name
    shutil.copy(PROTOCOLS / name, copy)
    code, out, err = cli("protocol", "lock", copy, "--approver", "Ada Lovelace <ada@example.org>",
                         "--meaning", "approved SAP")
    assert code == 0, err
    lock = json.loads(lock_path_for(copy).read_text())
    assert lock["protocol_sha256"] == protocol_sha256(load_protocol(PROTOCOLS / name))
    code, out, err = cli("protocol", "verify", copy)
    assert code == 0 and "matches its lock" in out


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_model_hash_matches_its_data(name):
    p = load_protocol(PROTOCOLS / name)
    artifact = PROTOCOLS / p.model.artifact
    assert hashlib.sha256(artifact.read_bytes()).hexdigest() == p.model.sha256


def test_example_content():
    cade = load_protocol(PROTOCOLS / "cade_pneumothorax.yaml")
    primary = [e for e in cade.endpoints if e.role == "primary"]
    assert [e.kind for e in primary] == ["sensitivity", "specificity"]
    assert cade.endpoint("auc").role == "secondary"
    # co-primary H1 and H2 at full alpha, then H3 (paired, against the radiologist's calls)
    assert cade.multiplicity.procedure == "fixed_sequence"
    assert cade.multiplicity.order == ["H1", "H2", "H3"]
    h3 = cade.hypothesis("H3")
    assert (h3.type, h3.margin, h3.comparator_column, h3.goal) == (
        "noninferiority", 0.05, "radiologist_call", None)
    assert {s.id for s in cade.subgroups} >= {"site", "sex", "age_band", "manufacturer"}
    reader = load_protocol(PROTOCOLS / "reader_study.yaml")
    assert reader.reader_study is not None and reader.reader_study.modalities == ["unaided",
                                                                                  "aided"]
    h1, h2 = reader.hypotheses
    assert (h1.type, h1.margin, h2.type) == ("noninferiority", 0.05, "superiority")
    assert reader.multiplicity.order == ["H1", "H2"]


def test_demo_protocol_is_a_valid_template():
    demo = load_protocol(PROTOCOLS / "demo.yaml", check_files=False)
    assert demo.model.kind == "precomputed" and demo.model.artifact == "predictions.csv"
    assert demo.test_set.manifest == "manifest.csv"


def test_demo_protocol_runs_on_generated_demo_data(tmp_path):
    demo_data = pytest.importorskip("validation.demo_data")
    files = demo_data.generate_demo_data(tmp_path, scale=0.1)
    text = (PROTOCOLS / "demo.yaml").read_text(encoding="utf-8")
    text = text.replace(load_protocol(PROTOCOLS / "demo.yaml", check_files=False).model.sha256,
                        files.predictions_sha256)
    (tmp_path / "demo.yaml").write_text(text, encoding="utf-8")
    p = load_protocol(tmp_path / "demo.yaml")
    assert p.model.sha256 == files.predictions_sha256
    assert sorted(p.model.training_sites) == sorted(files.training_sites)


def test_check_exit_2_with_line(write_protocol, cli):
    path = write_protocol(minimal_text().replace("  seed: 1", "  sed: 1"))
    code, out, err = cli("protocol", "check", path)
    assert code == 2 and out == ""
    assert err.startswith(f"error: protocol {path} has 2 problems:")
    assert f"{path}:" in err and "Did you mean 'seed'?" in err


def test_check_no_files_option(write_protocol, tmp_path, cli):
    path = write_protocol(minimal_text())
    (tmp_path / "manifest.csv").unlink()
    assert cli("protocol", "check", path)[0] == 2
    assert cli("protocol", "check", path, "--no-files")[0] == 0


def test_lock_bad_approver_exit_2(write_protocol, cli):
    path = write_protocol(minimal_text())
    code, out, err = cli("protocol", "lock", path, "--approver", "Ada", "--meaning", "approved")
    assert code == 2 and "'approver' must be written" in err
    assert not lock_path_for(path).exists()


def test_verify_changed_exit_2(write_protocol, cli):
    path = write_protocol(minimal_text())
    assert cli("protocol", "lock", path, "--approver", "A B <a@b.org>", "--meaning",
               "approved")[0] == 0
    path.write_text(minimal_text().replace("seed: 1", "seed: 2"), encoding="utf-8")
    code, out, err = cli("protocol", "verify", path)
    assert code == 2 and "changed after it was locked" in err


def test_committed_schema_is_up_to_date(cli):
    committed = (PROTOCOLS / "schema.json").read_text(encoding="utf-8")
    assert committed == protocol_json_schema_text(), (
        "protocols/schema.json is stale: run `validation protocol schema`"
    )
    code, out, err = cli("protocol", "schema", "--check", "--out", PROTOCOLS / "schema.json")
    assert code == 0, err


def test_schema_command_writes_and_checks(tmp_path, cli):
    out_file = tmp_path / "schema.json"
    assert cli("protocol", "schema", "--check", "--out", out_file)[0] == 2
    assert cli("protocol", "schema", "--out", out_file)[0] == 0
    assert json.loads(out_file.read_text()) == protocol_json_schema()


@pytest.mark.parametrize("name", [*EXAMPLES, "demo.yaml"])
def test_examples_satisfy_the_json_schema(name):
    jsonschema = pytest.importorskip("jsonschema")
    data = yaml.load((PROTOCOLS / name).read_text(), Loader=yaml.SafeLoader)
    jsonschema.Draft202012Validator(protocol_json_schema()).validate(data)


def test_json_schema_rejects_unknown_keys():
    jsonschema = pytest.importorskip("jsonschema")
    data = yaml.safe_load(minimal_text())
    data["model"]["operating_pont"] = 0.5
    errors = list(jsonschema.Draft202012Validator(protocol_json_schema()).iter_errors(data))
    assert errors
