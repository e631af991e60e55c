"""Seeded perturbations: exact formulas, invariants, determinism and order independence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.demo_images import site_arrays
from validation.errors import InputError
from validation.models.perturb import (
    IMPLEMENTATION,
    Condition,
    case_rng,
    perturb,
    perturb_batch,
)
from validation.protocol.robustness import FAMILIES

VALUES = {"gaussian_noise": 20.0, "poisson_noise": 20.0, "gaussian_blur": 1.5, "downsample": 2.0,
          "contrast": 0.5, "window_shift": 0.2, "jpeg": 30.0, "rotation": 10.0,
          "translation": 0.1, "bias_field": 0.5}


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    imgs, _ = site_arrays("S1", 6, seed=3)
    return imgs[:, :, :, None]


def test_every_protocol_family_has_an_implementation() -> None:
    assert set(FAMILIES) == set(IMPLEMENTATION) == set(VALUES)


@pytest.mark.parametrize("family", sorted(VALUES))
def test_same_case_same_image_and_clipped(images: np.ndarray, family: str) -> None:
    cond = Condition(family, 1, VALUES[family])
    a = perturb(images[0], cond, case_rng(9, cond, "S1-0001"))
    b = perturb(images[0], cond, case_rng(9, cond, "S1-0001"))
    assert a.shape == images[0].shape and a.dtype == np.float64
    assert np.array_equal(a, b)
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert not np.array_equal(a, images[0])


@pytest.mark.parametrize("family", sorted(VALUES))
def test_a_batch_gives_each_case_its_own_image_whatever_the_order(images: np.ndarray,
                                                                  family: str) -> None:
    """Order and batching do not matter: a reversed batch and single images agree (to float
    rounding of batched torch kernels; bit-identical for the per-image families)."""
    cond = Condition(family, 2, VALUES[family])
    ids = [f"S1-{k:04d}" for k in range(len(images))]
    fwd = perturb_batch(images, cond, [case_rng(4, cond, c) for c in ids])
    rev = perturb_batch(images[::-1], cond, [case_rng(4, cond, c) for c in ids[::-1]])[::-1]
    one = np.stack([perturb(x, cond, case_rng(4, cond, c)) for x, c in zip(images, ids, strict=True)])
    np.testing.assert_allclose(fwd, rev, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fwd, one, rtol=0, atol=1e-12)


def test_generators_differ_by_case_level_value_and_seed() -> None:
    c = Condition("gaussian_noise", 1, 20.0)
    draws = {
        "base": case_rng(1, c, "A").random(),
        "case": case_rng(1, c, "B").random(),
        "level": case_rng(1, Condition("gaussian_noise", 2, 20.0), "A").random(),
        "value": case_rng(1, Condition("gaussian_noise", 1, 19.0), "A").random(),
        "seed": case_rng(2, c, "A").random(),
        "family": case_rng(1, Condition("poisson_noise", 1, 20.0), "A").random(),
    }
    assert len(set(draws.values())) == len(draws)


def test_contrast_and_window_shift_are_the_stated_formulas(images: np.ndarray) -> None:
    x = images[1]
    rng = case_rng(0, Condition("contrast", 1, 0.5), "a")
    np.testing.assert_array_equal(perturb(x, Condition("contrast", 1, 0.5), rng),
                                  np.clip(0.5 + 0.5 * (x - 0.5), 0, 1))
    np.testing.assert_array_equal(perturb(x, Condition("window_shift", 1, -0.25), rng),
                                  np.clip(x - 0.25, 0, 1))


@pytest.mark.parametrize("snr_db", [10.0, 20.0, 30.0])
def test_gaussian_noise_has_the_stated_snr(snr_db: float) -> None:
    """Mid-grey image: no clipping, so the noise SD is mean / 10^(SNR/20) (1% tolerance: the SD
    of 65,536 draws has a relative SE of about 0.3%)."""
    x = np.full((256, 256, 1), 0.5)
    cond = Condition("gaussian_noise", 1, snr_db)
    noise = perturb(x, cond, case_rng(1, cond, "c")) - x
    assert noise.std() == pytest.approx(0.5 / 10 ** (snr_db / 20), rel=0.01)
    assert abs(noise.mean()) < 4 * noise.std() / 256


def test_poisson_noise_has_the_stated_snr_and_keeps_the_mean() -> None:
    """SNR at the mean intensity sqrt(k mean) = 10^(snr/20): SD = mean / 10^(snr/20) (2%)."""
    x = np.full((256, 256, 1), 0.4)
    cond = Condition("poisson_noise", 1, 20.0)
    y = perturb(x, cond, case_rng(1, cond, "c"))
    assert y.std() == pytest.approx(0.4 / 10.0, rel=0.02)
    assert y.mean() == pytest.approx(0.4, abs=4 * 0.04 / 256)


@pytest.mark.parametrize("family", ["gaussian_blur", "downsample", "rotation", "translation"])
def test_geometric_and_filter_families_keep_a_constant_image(family: str) -> None:
    x = np.full((32, 48, 1), 0.3)
    cond = Condition(family, 1, VALUES[family])
    np.testing.assert_allclose(perturb(x, cond, case_rng(1, cond, "c")), x, atol=1e-12)


def test_blur_keeps_the_mean_of_an_image_away_from_its_edges() -> None:
    x = np.zeros((64, 64, 1))
    x[28:36, 28:36] = 1.0
    cond = Condition("gaussian_blur", 1, 1.5)
    y = perturb(x, cond, case_rng(1, cond, "c"))
    assert y.sum() == pytest.approx(x.sum(), rel=1e-9)
    assert y.max() < 1.0


def test_rotation_is_a_rotation_about_the_centre() -> None:
    """A bright dot at (row 16, col 32) of a 64x64 image rotated by 15 degrees moves on
    the circle around the centre (31.5, 31.5) by the stated angle (either sign)."""
    x = np.zeros((64, 64, 1))
    x[15:18, 31:34] = 1.0
    cond = Condition("rotation", 1, 15.0)
    y = perturb(x, cond, case_rng(1, cond, "c"))[:, :, 0]
    r, c = np.unravel_index(np.argmax(y), y.shape)
    before = math.atan2(16 - 31.5, 32 - 31.5)
    after = math.atan2(r - 31.5, c - 31.5)
    assert abs(abs(math.degrees(after - before)) - 15.0) < 4.0


def test_translation_moves_by_the_stated_fraction() -> None:
    x = np.zeros((64, 64, 1))
    x[30:34, 30:34] = 1.0
    cond = Condition("translation", 1, 0.1)
    y = perturb(x, cond, case_rng(1, cond, "c"))[:, :, 0]
    cy, cx = (np.array(np.nonzero(y > 0.5)).mean(axis=1))
    assert math.hypot(cy - 31.5, cx - 31.5) == pytest.approx(6.4, abs=1.0)


def test_jpeg_quality_orders_the_error(images: np.ndarray) -> None:
    x = np.rint(images[2] * 255) / 255
    errs = []
    for q in (90, 50, 10):
        cond = Condition("jpeg", 1, float(q))
        errs.append(float(np.abs(perturb(x, cond, case_rng(1, cond, "c")) - x).mean()))
    assert errs[0] < errs[1] < errs[2]


def test_bad_shapes_and_families_are_refused(images: np.ndarray) -> None:
    cond = Condition("contrast", 1, 0.5)
    with pytest.raises(InputError, match="'x' must be an"):
        perturb(images[0, :, :, 0], cond, case_rng(1, cond, "c"))
    with pytest.raises(InputError, match="one generator per image"):
        perturb_batch(images, cond, [case_rng(1, cond, "c")])
    bad = Condition("sharpen", 1, 1.0)
    with pytest.raises(InputError, match="'family' must be one of"):
        perturb(images[0], bad, case_rng(1, bad, "c"))


@settings(max_examples=40, deadline=None)
@given(family=st.sampled_from(sorted(VALUES)), seed=st.integers(0, 2**32 - 1),
       level=st.floats(0.0, 1.0))
def test_property_output_is_a_valid_intensity_image(family: str, seed: int, level: float) -> None:
    spec = FAMILIES[family]
    lo = max(spec.low, 1e-3) if spec.order != "magnitude" else 0.05
    value = lo + (spec.high - lo) * level
    if spec.integer:
        value = float(round(value))
    if spec.order == "log_magnitude" and abs(value - 1.0) < 1e-9:
        value = 0.5
    x = np.random.default_rng(seed).random((16, 16, 1))
    cond = Condition(family, 1, value)
    y = perturb(x, cond, case_rng(seed, cond, "c"))
    assert y.shape == x.shape and np.isfinite(y).all()
    assert y.min() >= 0.0 and y.max() <= 1.0
