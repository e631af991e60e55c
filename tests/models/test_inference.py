"""Inference: provenance columns, equality with a bare torch loop, workers, resume, refusals."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from validation.errors import DataError, LockedModelError
from validation.models import (
    CaseImage,
    load_locked_model,
    predict,
    read_predictions,
    run_inference,
)
from validation.models.images import load_image

ROOT = Path(__file__).resolve().parents[2]


def _items(root: Path, cases: pd.DataFrame) -> list[CaseImage]:
    return [
        CaseImage(c, root / "data" / "images" / i)
        for c, i in zip(cases.case_id, cases.image, strict=True)
    ]


def _model(root: Path, card):
    return load_locked_model(root / "demo_model.pt", "torchscript", card.sha256)


def test_predictions_carry_hashes_and_equal_a_bare_torch_loop(study, demo_card) -> None:
    protocol, root, cases = study
    out = predict(
        protocol, root, cases, root / "run" / "predictions.parquet", progress=False, batch_size=5
    )
    p = read_predictions(out)
    assert list(p.columns) == ["case_id", "score", "model_sha256", "input_sha256"]
    assert p.case_id.tolist() == cases.case_id.tolist()
    assert set(p.model_sha256) == {demo_card.sha256}
    for row, img in zip(p.itertuples(), cases.image, strict=True):
        assert (
            row.input_sha256
            == hashlib.sha256((root / "data/images" / img).read_bytes()).hexdigest()
        )
    # independent path: the bare TorchScript module with no suite machinery
    module = _model(root, demo_card).module
    x = np.stack([load_image(root / "data/images" / i, demo_card.input) for i in cases.image])
    with torch.inference_mode():
        same_batches = np.concatenate(
            [module(torch.from_numpy(x[s : s + 5])).numpy() for s in range(0, len(x), 5)]
        )
        one_by_one = np.concatenate(
            [module(torch.from_numpy(x[s : s + 1])).numpy() for s in range(len(x))]
        )
    assert p.score.tolist() == same_batches.astype(np.float64).tolist()  # same batches: bit for bit
    # other batch sizes change float32 accumulation order inside the convolutions (~1e-6)
    np.testing.assert_allclose(p.score, one_by_one, rtol=1e-5, atol=1e-7)
    assert (root / "run" / "phi_scan.json").exists()
    assert not (root / "run" / "predictions.parquet.partial").exists()


def test_two_dataloader_workers_give_identical_bytes(study, demo_card) -> None:
    protocol, root, cases = study
    items = _items(root, cases)
    model = _model(root, demo_card)
    a = run_inference(
        model, items, demo_card.input, root / "a.parquet", batch_size=8, workers=0, progress=False
    )
    b = run_inference(
        model, items, demo_card.input, root / "b.parquet", batch_size=8, workers=2, progress=False
    )
    assert a.read_bytes() == b.read_bytes()


class _Boom(RuntimeError):
    pass


def test_run_interrupted_after_a_checkpoint_resumes_to_identical_bytes(study, demo_card) -> None:
    protocol, root, cases = study
    items = _items(root, cases)
    model = _model(root, demo_card)
    ref = run_inference(
        model, items, demo_card.input, root / "ref" / "p.parquet", batch_size=5, progress=False
    )
    calls = {"n": 0}

    def flaky(batch: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 3:
            raise _Boom("simulated crash")
        return model.runner(batch)

    out = root / "run" / "p.parquet"
    with pytest.raises(_Boom):
        run_inference(
            dataclasses.replace(model, runner=flaky),
            items,
            demo_card.input,
            out,
            batch_size=5,
            progress=False,
        )
    assert not out.exists()
    partial = sorted(p.name for p in (root / "run" / "p.parquet.partial").glob("batch-*"))
    assert partial == ["batch-000000.parquet", "batch-000001.parquet"]
    calls["n"] = 0
    counting = dataclasses.replace(
        model, runner=lambda b: (calls.__setitem__("n", calls["n"] + 1), model.runner(b))[1]
    )
    run_inference(counting, items, demo_card.input, out, batch_size=5, progress=False)
    assert calls["n"] == 3  # 5 batches of 24 cases, 2 reused from the checkpoint
    assert out.read_bytes() == ref.read_bytes()


def test_changed_image_after_interruption_is_rescored(study, demo_card) -> None:
    protocol, root, cases = study
    items = _items(root, cases)
    model = _model(root, demo_card)
    out = root / "run" / "p.parquet"

    def stop_after_two(batch, n=[0]):  # noqa: B006 - a call counter
        n[0] += 1
        if n[0] == 3:
            raise _Boom()
        return model.runner(batch)

    with pytest.raises(_Boom):
        run_inference(
            dataclasses.replace(model, runner=stop_after_two),
            items,
            demo_card.input,
            out,
            batch_size=5,
            progress=False,
        )
    png = next(it.path for it in items[:10] if it.path.suffix == ".png")
    from PIL import Image

    arr = np.asarray(Image.open(png)).copy()
    arr[:8, :8] = 255
    Image.fromarray(arr).save(png)
    run_inference(model, items, demo_card.input, out, batch_size=5, progress=False)
    fresh = run_inference(
        model, items, demo_card.input, root / "fresh.parquet", batch_size=5, progress=False
    )
    assert out.read_bytes() == fresh.read_bytes()


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import dataclasses
    import pandas as pd
    from validation.models import CaseImage, load_locked_model, run_inference
    from validation.models.card import load_card
    root = Path(sys.argv[1])
    card = load_card(root / "demo_model.card.yaml")
    cases = pd.read_csv(root / "data" / "manifest.csv", dtype=str)
    items = [CaseImage(c, root / "data" / "images" / i) for c, i in zip(cases.case_id, cases.image)]
    model = load_locked_model(root / "demo_model.pt", "torchscript", card.sha256)
    def slow(batch):
        time.sleep(0.4)
        return model.runner(batch)
    run_inference(dataclasses.replace(model, runner=slow), items, card.input,
                  root / "run" / "p.parquet", batch_size=5, progress=False)
    """
)


def test_sigkilled_process_resumes_to_identical_bytes(study, demo_card) -> None:
    protocol, root, cases = study
    items = _items(root, cases)
    model = _model(root, demo_card)
    ref = run_inference(
        model, items, demo_card.input, root / "ref.parquet", batch_size=5, progress=False
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(root)], env=env, cwd=ROOT)
    partial = root / "run" / "p.parquet.partial"
    deadline = time.monotonic() + 120
    try:
        while len(list(partial.glob("batch-*.parquet"))) < 2:
            assert child.poll() is None, "the child ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    out = root / "run" / "p.parquet"
    assert not out.exists()
    run_inference(model, items, demo_card.input, out, batch_size=5, progress=False)
    assert out.read_bytes() == ref.read_bytes()


def test_bad_images_are_all_listed_and_nothing_complete_is_left(study) -> None:
    protocol, root, cases = study
    images = root / "data" / "images"
    dcm = cases[cases.image.str.endswith(".dcm")].iloc[0]
    png = cases[cases.image.str.endswith(".png")].iloc[0]
    (images / dcm.image).write_bytes(b"DICM but not really" * 4)  # corrupt DICOM
    from validation.demo_images import to_png_bytes

    (images / png.image).write_bytes(to_png_bytes(np.zeros((32, 64))))  # wrong size
    missing = cases.iloc[-1]
    (images / missing.image).unlink()
    out = root / "run" / "predictions.parquet"
    out.parent.mkdir()
    out.write_bytes(b"stale output of an earlier run")
    with pytest.raises(DataError) as err:
        predict(protocol, root, cases, out, progress=False, batch_size=4)
    msg = str(err.value)
    assert "3 image(s) could not be used; no predictions file was written" in msg
    assert f"case '{dcm.case_id}'" in msg and "DICOM" in msg
    assert f"case '{png.case_id}'" in msg and "32x64" in msg
    assert f"case '{missing.case_id}'" in msg and "does not exist" in msg
    assert not out.exists()


def test_nan_scores_are_refused(study, demo_card) -> None:
    protocol, root, cases = study
    model = _model(root, demo_card)

    def nan_second(batch: np.ndarray) -> np.ndarray:
        s = model.runner(batch)
        s[1] = np.nan
        return s

    out = root / "p.parquet"
    with pytest.raises(DataError, match=r"NaN or infinite scores for 1 case"):
        run_inference(
            dataclasses.replace(model, runner=nan_second),
            _items(root, cases)[:4],
            demo_card.input,
            out,
            batch_size=4,
            progress=False,
        )
    assert not out.exists()


def test_card_training_sites_overlapping_test_sites_are_refused(study) -> None:
    protocol, root, cases = study
    cases = cases.copy()
    cases.loc[0, "site"] = "T2"
    out = root / "p.parquet"
    with pytest.raises(LockedModelError, match=r"test sites \['T2'\] are training sites"):
        predict(protocol, root, cases, out, progress=False)
    assert not out.exists()


def test_hash_mismatch_through_predict_shows_both_hashes(study, demo_card) -> None:
    protocol, root, cases = study
    (root / "demo_model.pt").write_bytes((root / "demo_model.pt").read_bytes() + b"\0")
    with pytest.raises(LockedModelError) as err:
        predict(protocol, root, cases, root / "p.parquet", progress=False)
    assert demo_card.sha256 in str(err.value)
    assert hashlib.sha256((root / "demo_model.pt").read_bytes()).hexdigest() in str(err.value)
    assert not (root / "p.parquet").exists()
