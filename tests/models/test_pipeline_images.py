"""End to end: demo images -> locked TorchScript model -> predictions -> results.json."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from validation.demo_images import prepare_image_study
from validation.models import read_predictions


def test_run_protocol_from_images_through_the_locked_model(tmp_path: Path, demo_card) -> None:
    from validation.demo_data import DEMO_APPROVER, DEMO_MEANING, find_demo_template
    from validation.pipeline import run_protocol
    from validation.protocol import lock_protocol

    inputs = tmp_path / "inputs"
    sections = prepare_image_study(inputs, seed=5, n_per_site=10)
    template = yaml.safe_load(find_demo_template().read_text(encoding="utf-8"))
    template["model"] = sections["model"]
    template["test_set"].update(sections["test_set"])
    template.setdefault("analysis", {})["seed"] = 5
    protocol = inputs / "demo.yaml"
    protocol.write_text(yaml.safe_dump(template, sort_keys=False))
    lock_protocol(protocol, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    run_dir = run_protocol(protocol, out_dir=tmp_path / "runs", progress=False)
    results = json.loads((run_dir / "results.json").read_text())
    assert results["model"]["kind"] == "torchscript"
    assert results["model"]["sha256"] == demo_card.sha256
    preds = read_predictions(run_dir / "predictions.parquet")
    assert set(preds.model_sha256) == {demo_card.sha256}
    assert preds.input_sha256.str.fullmatch(r"[0-9a-f]{64}").all()
    assert results["flow"]["analysed"] == len(preds)
