"""`validation run` with a locked image model (kind torchscript) instead of precomputed scores."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pipeline_study import BASE_PROTOCOL, complete_runs

from validation.demo_data import DEMO_APPROVER, DEMO_MEANING
from validation.errors import LockedModelError
from validation.pipeline import run_protocol


def _image_study(folder: Path) -> Path:
    from validation.demo_images import prepare_image_study
    from validation.protocol import lock_protocol

    sections = prepare_image_study(folder, n_per_site=10)
    proto = copy.deepcopy(BASE_PROTOCOL)
    proto["model"] = sections["model"]
    proto["test_set"].update(sections["test_set"])
    path = folder / "protocol.yaml"
    path.write_text(yaml.safe_dump(proto, sort_keys=False))
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    return path


def test_image_model_runs_and_refuses_a_changed_artifact(tmp_path: Path) -> None:
    path = _image_study(tmp_path / "study")
    out = tmp_path / "runs"
    run = run_protocol(path, out_dir=out, progress=False)
    preds = pd.read_parquet(run / "predictions.parquet")
    res = json.loads((run / "results.json").read_text())
    assert res["model"]["kind"] == "torchscript"
    assert len(preds) == res["flow"]["analysed"]
    assert preds["input_sha256"].notna().all()
    assert res["endpoints"]["auc"]["pooled"]["estimate"] is not None

    # a model file changed after locking is refused before any new run folder is made
    artifact = path.parent / "demo_model.pt"
    artifact.write_bytes(artifact.read_bytes() + b"\0")
    with pytest.raises(LockedModelError):
        run_protocol(path, out_dir=out, progress=False)
    assert complete_runs(out) == [run]
    assert list(out.glob("*/*.incomplete")) == []
