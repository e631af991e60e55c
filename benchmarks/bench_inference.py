"""Inference throughput: the suite's runner against a bare torch loop, same model and images.

Both paths read every image file and decode it with the same reader, then run the locked demo
TorchScript model on batches of 64 under ``torch.inference_mode``. The suite adds what a
regulated run needs: the SHA-256 of every input, per-batch checkpoints written atomically, the
deterministic context and the final Parquet file with provenance columns. Target: the suite
takes at most 20% longer (ratio <= 1.20). Each path is timed ``REPEATS`` times in alternation
and the fastest run is kept (the least disturbed by other load on the machine).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

N_PER_SITE = 128  # 512 images, 4 sites, DICOM and PNG
BATCH = 64
REPEATS = 3


def _bare_loop(module, paths: list[Path], spec) -> np.ndarray:
    import torch

    from validation.models.images import decode_image

    scores = []
    with torch.inference_mode():
        for s in range(0, len(paths), BATCH):
            batch = np.stack(
                [decode_image(p.read_bytes(), p.name, spec) for p in paths[s : s + BATCH]]
            )
            scores.append(module(torch.from_numpy(batch)).numpy())
    return np.concatenate(scores)


def run() -> list[dict]:
    import pandas as pd
    import torch

    from validation.demo_images import generate_demo_images
    from validation.models import (
        CaseImage,
        load_card,
        load_locked_model,
        read_predictions,
        run_inference,
    )

    asset = Path(__file__).resolve().parents[1] / "validation" / "assets" / "demo_model"
    card = load_card(asset / "demo_model.card.yaml")
    model = load_locked_model(asset / "demo_model.pt", "torchscript", card.sha256)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate_demo_images(root, n_per_site=N_PER_SITE)
        cases = pd.read_csv(root / "manifest.csv", dtype=str)
        items = [
            CaseImage(c, root / "images" / i)
            for c, i in zip(cases.case_id, cases.image, strict=True)
        ]
        paths = [it.path for it in items]
        n = len(items)
        _bare_loop(model.module, paths[:BATCH], card.input)  # warm-up (kernels, file cache)
        times: dict[str, list[float]] = {"bare": [], "suite0": [], "suite2": []}
        for r in range(REPEATS):
            t = time.perf_counter()
            bare_scores = _bare_loop(model.module, paths, card.input)
            times["bare"].append(time.perf_counter() - t)
            for key, workers in (("suite0", 0), ("suite2", 2)):
                out = root / f"{key}-{r}.parquet"
                t = time.perf_counter()
                run_inference(
                    model, items, card.input, out, batch_size=BATCH, workers=workers, progress=False
                )
                times[key].append(time.perf_counter() - t)
        suite_scores = read_predictions(root / "suite0-0.parquet").score.to_numpy()
        same = bool(np.array_equal(suite_scores, bare_scores.astype(np.float64)))
    bare = min(times["bare"])
    rows.append(
        {"name": "bare torch loop (read, decode, forward)", "value": n / bare, "unit": "cases/s"}
    )
    for key, label in (
        ("suite0", "suite runner, workers=0"),
        ("suite2", "suite runner, 2 DataLoader workers"),
    ):
        best = min(times[key])
        rows.append(
            {
                "name": f"{label} (+sha256, checkpoints, parquet)",
                "value": n / best,
                "unit": "cases/s",
                "ratio": best / bare,
                "target": "ratio <= 1.20",
            }
        )
    rows.append(
        {
            "name": "suite scores equal bare-loop scores",
            "value": same,
            "unit": "bool",
            "target": "True",
        }
    )
    rows.append(
        {
            "name": "setup",
            "value": f"{n} images 64x64, batch {BATCH}, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, CPU (no GPU)",
            "unit": "",
        }
    )
    return rows
