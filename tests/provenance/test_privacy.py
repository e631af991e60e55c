"""Identifiers never reach a sealed dossier: the pre-seal scan on real runs of the demo."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from validation.provenance.identifier_guard import PATTERNS, _Matcher, guard_outputs


def _demo(root: Path, *, leak: bool, columns: list[str]) -> Path:
    """The tabular demo protocol, optionally with patient_id copied into ``manufacturer``."""
    from validation.demo_data import DEMO_APPROVER, DEMO_MEANING, prepare_demo
    from validation.protocol import lock_path_for, lock_protocol

    protocol = prepare_demo(root)
    inputs = protocol.parent
    if leak:
        manifest = pd.read_csv(inputs / "manifest.csv", dtype=str, keep_default_na=False)
        manifest["manufacturer"] = manifest["patient_id"]
        manifest.to_csv(inputs / "manifest.csv", index=False, lineterminator="\n")
    doc = yaml.safe_load(protocol.read_text(encoding="utf-8"))
    doc["test_set"]["identifier_columns"] = columns
    protocol.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    lock_path_for(protocol).unlink()
    lock_protocol(protocol, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    return protocol


def _run(cli, protocol: Path, root: Path, fmt: str = "html"):
    url = f"sqlite:///{root / 'registry.sqlite'}"
    return cli("run", protocol, "--out", root / "runs", "--format", fmt, "--registry", url,
               "--quiet"), url


def test_identifier_copied_into_another_column_fails_the_run_unsealed(tmp_path, cli):
    protocol = _demo(tmp_path, leak=True, columns=["patient_id"])
    (code, out, err), url = _run(cli, protocol, tmp_path)
    assert code == 2, err
    assert "patient identifier" in err and "Traceback" not in err
    assert "  - results.json: " in err and "  - report/sar.html: " in err and ": line " in err
    assert "patient_id P" in err and "P10001" not in out + err  # masked
    study = tmp_path / "runs" / "DEMO-001"
    (run_dir,) = list(study.iterdir())
    assert run_dir.name.endswith(".incomplete")
    assert (run_dir / "FAILED.txt").is_file() and not (run_dir / "manifest.json").exists()
    from validation.provenance import Registry
    from validation.provenance.registry import RunRecord

    with Registry(url) as reg:
        assert reg.count(RunRecord) == 0


@pytest.mark.slow
def test_demo_dossier_has_no_false_positive(tmp_path, cli):
    """The demo's own outputs (html and pdf) pass: no hit on hashes, run ids, dates, seeds,
    DOIs, the signer's e-mail or the numbers of the report."""
    protocol = _demo(tmp_path, leak=False, columns=["patient_id"])
    (code, _, err), _ = _run(cli, protocol, tmp_path, fmt="html,pdf,docx")
    assert code == 0, err
    (run,) = list((tmp_path / "runs" / "DEMO-001").iterdir())
    report = guard_outputs(run, {}, allow=["demo.approver@example.org"])
    assert report.ok, report.by_file()
    assert len(report.scanned) >= 15 and {"report/sar.pdf", "report/sar.docx"} <= set(report.scanned)
    # without the signer's address allowed, the only hits are that address
    assert {h.kind for h in guard_outputs(run, {}).hits} == {"email"}


def test_patterns_fire_on_identifiers_and_not_on_look_alikes(tmp_path):
    cases = {
        "mrn": ("MRN 004512378 admitted", ["sha256 " + "3" * 12 + "a" + "1" * 51,
                                             "run 20261204T040922Z-d65dd2cf-5930",
                                             "0.123456789", "seed 20261128", "n = 1234567",
                                             "doi:10.1002/(SICI)1097-0258(19980715)17:13"]),
        "dicom_uid": ("uid 1.2.840.113619.2.55.3.604688119", ["python 3.12.1", "10.0.0.1",
                                                             "1.2.3.4"]),
        "email": ("contact jane.roe@hospital.org", ["a@b", "see @mention"]),
        "birth_date": ("DOB: 1961-04-12", ["study 2024-01-01 to 2024-06-30"]),
    }
    for name, (hit, misses) in cases.items():
        assert PATTERNS[name].search(hit), name
        for miss in misses:
            found = list(_Matcher({}, allow=["20261128"]).text(miss))
            assert not found, (name, miss, found)
    # a JSON number equal to an identifier value counts; a file name counts too
    (tmp_path / "report").mkdir()
    (tmp_path / "results.json").write_text(json.dumps({"a": {"b": [10001]}}), encoding="utf-8")
    (tmp_path / "report" / "case_P10002.png").write_bytes(b"\x89PNG")
    got = guard_outputs(tmp_path, {"patient_id": ["10001", "P10002"]})
    assert sorted(h.line() for h in got.hits) == [
        "report/case_P*****.png: file name: patient_id P*****",
        "results.json: a.b[0]: patient_id 1****",
    ]


@pytest.mark.slow
def test_report_cases_are_pseudonymous_and_the_key_stays_outside(tmp_path, cli):
    """The image demo's error figures: run-local pseudonyms in results.json, figure names and
    titles (report sources); the key outside the run folder, not in its manifest."""
    from validation.demo_data import prepare_demo

    protocol = prepare_demo(tmp_path, images=True)
    (code, _, err), url = _run(cli, protocol, tmp_path)
    assert code == 0, err
    study = tmp_path / "runs" / "DEMO-001"
    (run,) = list(study.iterdir())  # the study folder holds runs only
    key_file = tmp_path / "runs" / ".case-keys" / "DEMO-001" / (run.name + ".json")
    key = json.loads(key_file.read_text(encoding="utf-8"))["pseudonyms"]
    results = json.loads((run / "results.json").read_text(encoding="utf-8"))
    items = results["explanations"]["items"]
    assert items and [i["case"] for i in items] == sorted(key)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert not any("case-key" in f for f in manifest["files"])
    case_ids = pd.read_csv(protocol.parent / "manifest.csv", dtype=str)["case_id"]
    report = guard_outputs(run / "report", {"case_id": case_ids}, allow=["demo.approver@example.org"])
    assert report.ok, report.by_file()
    assert guard_outputs(run / "explanations", {"case_id": case_ids}).ok
    assert set(key.values()) <= set(case_ids)
