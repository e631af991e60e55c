"""`validation model hash|card|scan-phi` and `validation predict` (exit 2 on bad input)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from validation.cli import app
from validation.models import read_predictions

ROOT = Path(__file__).resolve().parents[2]
ASSET = ROOT / "validation" / "assets" / "demo_model"


def test_model_hash_and_card() -> None:
    r = CliRunner().invoke(app, ["model", "hash", str(ASSET / "demo_model.pt")])
    assert r.exit_code == 0
    assert r.output.split()[0] == hashlib.sha256((ASSET / "demo_model.pt").read_bytes()).hexdigest()
    r = CliRunner().invoke(
        app,
        [
            "model",
            "card",
            str(ASSET / "demo_model.card.yaml"),
            "--artifact",
            str(ASSET / "demo_model.pt"),
        ],
    )
    assert r.exit_code == 0 and "matches sha256" in r.output


def test_predict_without_protocol_and_scan_phi(study, demo_card) -> None:
    protocol, root, cases = study
    out = root / "cli" / "predictions.parquet"
    r = CliRunner().invoke(
        app,
        [
            "predict",
            "--model",
            str(root / "demo_model.pt"),
            "--sha256",
            demo_card.sha256,
            "--card",
            str(root / "demo_model.card.yaml"),
            "--manifest",
            str(root / "data/manifest.csv"),
            "--images-root",
            str(root / "data/images"),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    assert len(read_predictions(out)) == len(cases)
    r = CliRunner().invoke(
        app,
        [
            "model",
            "scan-phi",
            str(root / "data/manifest.csv"),
            "--images-root",
            str(root / "data/images"),
        ],
    )
    assert r.exit_code == 0 and json.loads(r.output)["flagged"] == 0


def test_bad_input_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a model")
    card = tmp_path / "card.yaml"
    card.write_text((ASSET / "demo_model.card.yaml").read_text())
    proc = subprocess.run(
        [sys.executable, "-m", "validation", "model", "card", str(card), "--artifact", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: Model artifact 'model.pt' does not match its locked hash")
    assert "Traceback" not in proc.stderr
