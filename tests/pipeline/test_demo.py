"""`validation demo`: seeded multi-site data, the demo protocol locked, run through the engine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from validation.demo_data import SITES, TRAINING_SITES, generate_demo_data, prepare_demo, simulate


def test_simulated_test_set_is_realistic() -> None:
    m, p = simulate(20261128)
    assert len(m) == len(p) and (m["case_id"] == p["case_id"]).all()
    by_site = m.groupby("site")
    assert m["site"].nunique() >= 4
    assert not set(m["site"]) & set(TRAINING_SITES)
    prev = by_site["truth"].mean()
    assert prev.max() - prev.min() > 0.08  # different prevalence
    assert (m["patient_id"].value_counts() == 2).sum() > 20  # patients with two findings
    assert m["consent_withdrawn"].sum() > 0 and m["ai_opt_out"].sum() > 0
    nd = m["non_diagnostic"].to_numpy()
    assert nd.sum() > 0 and p["score"][nd].isna().all() and p["score"][~nd].notna().all()
    assert set(m["sex"]) == {"F", "M"} and m["age"].between(18, 95).all()
    assert m["manufacturer"].nunique() >= 4
    # the score shift differs by site: mean score of negatives varies
    neg_mean = m.assign(s=p["score"]).query("truth == 0").groupby("site")["s"].mean()
    assert neg_mean.max() - neg_mean.min() > 0.05
    assert [s.site for s in SITES] == sorted(m["site"].unique())


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a = generate_demo_data(tmp_path / "a", seed=4, scale=0.2)
    b = generate_demo_data(tmp_path / "b", seed=4, scale=0.2)
    c = generate_demo_data(tmp_path / "c", seed=5, scale=0.2)
    assert a.manifest.read_bytes() == b.manifest.read_bytes()
    assert a.predictions_sha256 == b.predictions_sha256 != c.predictions_sha256
    df = pd.read_csv(a.manifest)
    assert list(df.columns)[:4] == ["case_id", "patient_id", "site", "truth"]


def test_prepare_demo_locks_the_filled_in_protocol(tmp_path: Path) -> None:
    from validation.protocol import load_protocol, verify_lock

    path = prepare_demo(tmp_path, seed=8)
    protocol = load_protocol(path)
    lock = verify_lock(path)
    assert lock.approvals[0].meaning.startswith("approved")
    assert protocol.analysis.seed == 8
    assert protocol.model.kind == "precomputed"
    from validation.provenance.hashing import sha256_file

    assert protocol.model.sha256 == sha256_file(path.parent / protocol.model.artifact)
    # preparing again (same folder) replaces data, protocol and lock cleanly
    again = prepare_demo(tmp_path, seed=8)
    assert verify_lock(again).protocol_sha256 == lock.protocol_sha256


def test_demo_command_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from validation.cli import main

    out = tmp_path / "demo"
    monkeypatch.setattr(sys, "argv", ["validation", "demo", "--out", str(out), "--quiet"])
    with pytest.raises(SystemExit) as exc:
        main()
    stdout, err = capsys.readouterr()
    assert exc.value.code in (0, None), err
    # The default demo: images through the locked model, sites S1-S4, SAP and report rendered.
    assert "pooled" in stdout and "S1" in stdout and "STARD flow" in stdout
    assert "SAR pdf:" in stdout and "SAP html:" in stdout
    runs = [p for p in (out / "runs" / "DEMO-001").iterdir() if not p.name.endswith(".incomplete")]
    assert len(runs) == 1 and str(runs[0]) in stdout.replace("\n", "")
    res = json.loads((runs[0] / "results.json").read_text())
    assert set(res["endpoints"]["sensitivity"]["by_site"]) == {"S1", "S2", "S3", "S4"}
    assert res["model"]["kind"] == "torchscript"
    assert (runs[0] / "report" / "sar.pdf").is_file() and (runs[0] / "manifest.json").is_file()
    assert res["flow"]["excluded"]["consent_withdrawn"] > 0
    assert res["endpoints"]["sensitivity"]["indeterminate"]["n"] == res["flow"]["indeterminate"]
    assert [h["id"] for h in res["hypotheses"]] == ["H1", "H2", "H3"]
    assert {h["decision"] for h in res["hypotheses"]} <= {"pass", "fail"}
    assert res["multiplicity"]["procedure"] == "fixed_sequence"
    # then a simulated year of surveillance: the new scanner at S1 is caught, nowhere else
    from tests.pipeline.test_demo_surveillance import check_alarms

    alarms = json.loads((out / "surveillance" / "alarms.json").read_text())["alarms"]
    check_alarms(alarms, degraded="S1")
    assert "ALARM major: sensitivity at S1" in stdout
    assert "SURVEILLANCE pdf:" in stdout and "SURVEILLANCE html:" in stdout
    # last, the segmentation example with the demo's formats
    assert "segmentation hypotheses: S1 pass, S2 pass, S3 pass, S4 pass" in stdout
    assert "organ Dice mean" in stdout and "SEGMENTATION pdf:" in stdout
    # last, the free-response detection study (wAFROC primary) from its seeded marks
    assert "localization: fully crossed design" in stdout and "wAFROC (primary): unaided" in stdout
    assert "LOCALIZATION dossier:" in stdout
    # then the reader-study designs: a split plot two ways, a pilot converted and simulated
    assert "reader designs: split plot (3 readers x 57 cases and 2 readers x 57 cases)" in stdout
    assert "OR split-plot form (Hillis 2014)" in stdout
    assert "pilot to Roe-Metz (Hillis 2018, 2020)" in stdout and "simulated power" in stdout
