"""Segmentation metrics against a brute-force oracle, MONAI and SimpleITK.

* Brute force (the definition, written independently): border voxels found by looking at the
  six face neighbours of every voxel in a Python loop, all pairwise distances with
  ``scipy.spatial.distance.cdist``, percentiles with ``np.percentile``. Tolerance 1e-12: the
  same numbers are summed in a different order.
* MONAI 1.x (``compute_hausdorff_distance``, ``compute_average_surface_distance(symmetric=
  True)``, ``compute_surface_dice``, ``compute_dice``): it works in float32, hence 1e-5
  (relative). Known differences, tested below: MONAI gives NaN (Dice) or inf/NaN with a warning
  (distances) for empty masks where our rules give numbers.
* SimpleITK's ``HausdorffDistanceImageFilter`` (all foreground voxels, not only the border)
  agrees for non-nested shapes, where the farthest point is a border voxel outside the other
  mask; and ``LabelOverlapMeasuresImageFilter`` for Dice.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from validation.errors import InputError
from validation.stats import segmentation_metrics


def blob(shape: tuple[int, ...], centre: np.ndarray, radii: np.ndarray) -> np.ndarray:
    grid = np.indices(shape).astype(float)
    c = centre.reshape((-1,) + (1,) * len(shape))
    r = radii.reshape((-1,) + (1,) * len(shape))
    return ((grid - c) ** 2 / r**2).sum(axis=0) <= 1.0


def random_pairs(seed: int, count: int, shape: tuple[int, ...] = (12, 13, 10)):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        a = blob(shape, rng.uniform(3, 8, len(shape)), rng.uniform(1.5, 4.5, len(shape)))
        b = blob(shape, rng.uniform(3, 8, len(shape)), rng.uniform(1.5, 4.5, len(shape)))
        if rng.random() < 0.3:  # ragged masks: salt the prediction
            b = b ^ (rng.random(shape) < 0.03)
        spacing = tuple(rng.choice([0.4, 0.8, 1.0, 2.5], len(shape)))
        yield a, b, spacing


def brute_border(mask: np.ndarray) -> np.ndarray:
    out = []
    for idx in itertools.product(*(range(s) for s in mask.shape)):
        if not mask[idx]:
            continue
        for ax in range(mask.ndim):
            for step in (-1, 1):
                j = list(idx)
                j[ax] += step
                if not (0 <= j[ax] < mask.shape[ax]) or not mask[tuple(j)]:
                    out.append(idx)
                    break
            else:
                continue
            break
    return np.array(out, dtype=float)


def brute_force(a: np.ndarray, b: np.ndarray, spacing: tuple[float, ...], tol: float) -> dict[str, float]:
    sa, sb = brute_border(a) * spacing, brute_border(b) * spacing
    dm = cdist(sb, sa)  # prediction border x reference border
    d_pr, d_rp = dm.min(axis=1), dm.min(axis=0)
    both = np.concatenate([d_pr, d_rp])
    inter = np.logical_and(a, b).sum()
    return {
        "dice": 2 * inter / (a.sum() + b.sum()), "iou": inter / np.logical_or(a, b).sum(),
        "hausdorff": both.max(), "hd95": max(np.percentile(d_pr, 95), np.percentile(d_rp, 95)),
        "assd": both.mean(), "surface_dice": np.mean(both <= tol),
    }


FIELDS = ("dice", "iou", "hausdorff", "hd95", "assd", "surface_dice")


@pytest.mark.parametrize("seed", range(4))
def test_matches_brute_force_3d(seed: int) -> None:
    for a, b, sp in random_pairs(seed, 5):
        if not (a.any() and b.any()):
            continue
        got = segmentation_metrics(a, b, spacing=sp, tolerance_mm=1.5)
        want = brute_force(a, b, sp, 1.5)
        for f in FIELDS:
            assert getattr(got, f) == pytest.approx(want[f], rel=1e-12, abs=1e-12), f


def test_matches_brute_force_2d() -> None:
    for a, b, sp in random_pairs(11, 8, shape=(15, 17)):
        if a.any() and b.any():
            got = segmentation_metrics(a, b, spacing=sp, tolerance_mm=1.0)
            want = brute_force(a, b, sp, 1.0)
            for f in FIELDS:
                assert getattr(got, f) == pytest.approx(want[f], rel=1e-12, abs=1e-12), f


def test_matches_monai() -> None:
    torch = pytest.importorskip("torch")
    metrics = pytest.importorskip("monai.metrics")
    worst = dict.fromkeys(FIELDS[:1] + FIELDS[2:], 0.0)
    for a, b, sp in random_pairs(3, 12):
        if not (a.any() and b.any()):
            continue
        got = segmentation_metrics(a, b, spacing=sp, tolerance_mm=1.5)
        p = torch.tensor(b[None, None].astype(np.float32))
        g = torch.tensor(a[None, None].astype(np.float32))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # a deprecated MONAI argument inside MONAI
            monai = {
                "dice": metrics.compute_dice(p, g).item(),
                "hausdorff": metrics.compute_hausdorff_distance(p, g, spacing=list(sp)).item(),
                "hd95": metrics.compute_hausdorff_distance(p, g, percentile=95, spacing=list(sp)).item(),
                "assd": metrics.compute_average_surface_distance(p, g, symmetric=True, spacing=list(sp)).item(),
                "surface_dice": metrics.compute_surface_dice(p, g, [1.5], spacing=list(sp)).item(),
            }
        for f, v in monai.items():
            assert getattr(got, f) == pytest.approx(v, rel=1e-5, abs=1e-6), f
            worst[f] = max(worst[f], abs(getattr(got, f) - v))
    assert max(worst.values()) < 1e-4


def test_monai_differs_on_empty_masks_where_our_rules_give_numbers() -> None:
    torch = pytest.importorskip("torch")
    metrics = pytest.importorskip("monai.metrics")
    empty = np.zeros((6, 6, 6), bool)
    ours = segmentation_metrics(empty, empty, spacing=(1, 1, 1), tolerance_mm=1)
    assert (ours.dice, ours.hd95, ours.surface_dice, ours.empty) == (1.0, 0.0, 1.0, "both")
    z = torch.zeros((1, 1, 6, 6, 6))
    assert np.isnan(metrics.compute_dice(z, z).item())  # MONAI: NaN for two empty masks


def test_simpleitk_hausdorff_and_dice() -> None:
    sitk = pytest.importorskip("SimpleITK")
    rng = np.random.default_rng(8)
    for _ in range(6):
        shape = (14, 15, 12)
        a = blob(shape, rng.uniform(4, 9, 3), rng.uniform(2, 4, 3))
        b = blob(shape, rng.uniform(4, 9, 3), rng.uniform(2, 4, 3))
        if not (a.any() and b.any()):
            continue
        sp = tuple(float(v) for v in rng.choice([0.5, 1.0, 2.0], 3))
        got = segmentation_metrics(a, b, spacing=sp, tolerance_mm=1.0)
        ia = sitk.GetImageFromArray(a.astype(np.uint8).transpose(2, 1, 0))
        ib = sitk.GetImageFromArray(b.astype(np.uint8).transpose(2, 1, 0))
        ia.SetSpacing(sp)
        ib.SetSpacing(sp)
        hd = sitk.HausdorffDistanceImageFilter()
        hd.Execute(ia, ib)
        ov = sitk.LabelOverlapMeasuresImageFilter()
        ov.Execute(ia, ib)
        assert got.hausdorff == pytest.approx(hd.GetHausdorffDistance(), rel=1e-12)
        assert got.dice == pytest.approx(ov.GetDiceCoefficient(), rel=1e-12)


def test_known_values_of_two_shifted_squares() -> None:
    a = np.zeros((10, 10), bool)
    a[2:6, 2:6] = True
    b = np.roll(a, 1, axis=0)  # shifted one voxel along axis 0 (2 mm)
    r = segmentation_metrics(a, b, spacing=(2.0, 1.0), tolerance_mm=1.0)
    assert r.dice == pytest.approx(2 * 12 / 32)
    assert r.iou == pytest.approx(12 / 20)
    assert r.hausdorff == pytest.approx(2.0)
    # 12 border voxels each; those of the shifted edge rows (4 + 4) are 2 mm from the other
    # border, the side columns' voxels 0 mm (they coincide) except the moved end voxels
    assert r.reference_surface_voxels == 12 and r.prediction_surface_voxels == 12
    assert r.surface_dice == pytest.approx(brute_force(a, b, (2.0, 1.0), 1.0)["surface_dice"])


def test_empty_mask_rules() -> None:
    a = np.zeros((5, 5, 5), bool)
    b = a.copy()
    b[2, 2, 2] = True
    one = segmentation_metrics(a, b, spacing=(1, 1, 2), tolerance_mm=1)
    assert (one.dice, one.iou, one.surface_dice) == (0.0, 0.0, 0.0)
    assert one.hd95 is None and one.hausdorff is None and one.assd is None
    assert one.empty == "reference"
    assert one.max_distance_mm == pytest.approx(np.sqrt(4**2 + 4**2 + 8**2))
    assert segmentation_metrics(b, a, spacing=(1, 1, 2), tolerance_mm=1).empty == "prediction"
    assert one.to_dict()["hd95"] is None


def test_bad_input_is_named() -> None:
    a = np.zeros((4, 4, 4))
    with pytest.raises(InputError, match=r"'prediction' must have the reference's shape \(4, 4, 4\)"):
        segmentation_metrics(a, np.zeros((4, 4, 5)), spacing=(1, 1, 1), tolerance_mm=1)
    with pytest.raises(InputError, match="binary mask holding only 0 and 1; got values \\[2.0\\]"):
        segmentation_metrics(a, a + 2 * (np.indices(a.shape)[0] == 0), spacing=(1, 1, 1), tolerance_mm=1)
    with pytest.raises(InputError, match="'spacing' must be 3 positive"):
        segmentation_metrics(a, a, spacing=(1, 1), tolerance_mm=1)
    with pytest.raises(InputError, match="'tolerance_mm' must be a finite number"):
        segmentation_metrics(a, a, spacing=(1, 1, 1), tolerance_mm=-1)


masks = st.integers(0, 2**20 - 1).map(
    lambda bits: np.array([(bits >> i) & 1 for i in range(20)], bool).reshape(4, 5))


@settings(max_examples=150, deadline=None)
@given(masks, masks, st.sampled_from([(1.0, 1.0), (0.5, 2.0), (3.0, 1.0)]), st.sampled_from([0.0, 1.0, 2.5]))
def test_properties(a: np.ndarray, b: np.ndarray, sp: tuple[float, float], tol: float) -> None:
    r = segmentation_metrics(a, b, spacing=sp, tolerance_mm=tol)
    s = segmentation_metrics(b, a, spacing=sp, tolerance_mm=tol)
    for f in FIELDS:  # symmetric in reference and prediction
        assert getattr(r, f) == getattr(s, f) or getattr(r, f) == pytest.approx(getattr(s, f), abs=1e-12)
    assert 0.0 <= r.iou <= r.dice <= 1.0
    assert 0.0 <= r.surface_dice <= 1.0
    if r.hausdorff is not None:
        assert 0.0 <= r.assd <= r.hausdorff + 1e-12
        assert r.hd95 <= r.hausdorff + 1e-12
        assert r.hausdorff <= r.max_distance_mm + 1e-12
    same = segmentation_metrics(a, a, spacing=sp, tolerance_mm=tol)
    assert (same.dice, same.iou, same.surface_dice) == (1.0, 1.0, 1.0)
    assert (same.hausdorff, same.hd95, same.assd) == (0.0, 0.0, 0.0)
    # flipping both masks the same way changes nothing
    f = segmentation_metrics(a[::-1], b[::-1], spacing=sp, tolerance_mm=tol)
    assert f.dice == r.dice and f.hausdorff == r.hausdorff
