"""Seeded image perturbations of a robustness analysis (the families of the protocol section).

Every function acts on the image *after loading and before the model's preprocessing*: the
[0, 1] intensity of :func:`validation.models.images.decode_intensity`, float64 of shape
(H, W, C). The result is clipped to [0, 1] and goes through the card's normalisation like any
other image.

Determinism: the random draws of a case (noise, the sign of a rotation, the direction of a
translation, the bias-field polynomial) come from a generator seeded by the analysis seed and
the SHA-256 of (family, severity level, value, case id) (:func:`case_rng`), so a case gets
the same perturbed image whatever the order, batching, partitioning or resumption of the run.
Geometric and filtering operations use ``torch.nn.functional`` in float64 on the CPU
(``conv2d``, ``interpolate`` with antialiasing, ``affine_grid`` + ``grid_sample``): the same
kernels as torchvision's functional transforms, which (like MONAI) this installation does not
carry; JPEG uses Pillow's libjpeg. :data:`IMPLEMENTATION` names each, and it is part of the
recorded plan (:func:`perturbation_plan`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from validation.errors import InputError

PERTURB_VERSION = 1

IMPLEMENTATION: dict[str, str] = {
    "gaussian_noise": "numpy Generator.normal; sigma = mean(x) / 10^(snr_db / 20)",
    "poisson_noise": "numpy Generator.poisson on x k, k = 10^(snr_db / 10) / mean(x); x' = counts / k",
    "gaussian_blur": "torch.nn.functional.conv2d, separable Gaussian, radius ceil(3 sigma), "
                     "replicate padding",
    "downsample": "torch.nn.functional.interpolate bilinear antialias=True to round(size / "
                  "factor), then bilinear back to size (align_corners=False)",
    "contrast": "x' = 0.5 + factor (x - 0.5)",
    "window_shift": "x' = x + offset",
    "jpeg": "Pillow JPEG encode (baseline, 4:4:4 when colour) and decode of rint(255 x)",
    "rotation": "torch affine_grid + grid_sample bilinear, padding_mode=border, sign ~ U{-1, 1}",
    "translation": "torch affine_grid + grid_sample bilinear, padding_mode=border, direction ~ "
                   "U[0, 2 pi)",
    "bias_field": "x' = x exp(a p), p: degree-3 polynomial with U[-1, 1] coefficients scaled to "
                  "max |p| = 1",
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One perturbed run: a family at a severity level (1-based) with its parameter value."""

    family: str
    level: int
    value: float

    @property
    def key(self) -> str:
        return f"{self.family}@{self.level}"


def conditions_of(robustness: Any) -> list[Condition]:
    """The perturbed runs of a protocol's ``robustness`` section, in protocol order."""
    out: list[Condition] = []
    for fam in robustness.families:
        for k, v in enumerate(fam.severities, start=1):
            out.append(Condition(str(fam.family), k, float(v)))
    return out


def case_rng(seed: int, cond: Condition, case_id: str) -> np.random.Generator:
    """The generator of one case under one condition (independent of order and batching)."""
    text = f"{PERTURB_VERSION}\x00{cond.family}\x00{cond.level}\x00{cond.value!r}\x00{case_id}"
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *words]))


def _torch(x: np.ndarray) -> Any:
    """(N, H, W, C) float64 -> torch (N, C, H, W)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1), dtype=np.float64))


def _numpy(t: Any) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(t.numpy(), 1, -1))


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    r = max(1, math.ceil(3 * sigma))
    k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float64) ** 2 / (2 * sigma**2))
    k = k / k.sum()
    t = _torch(x)
    n, c, h, w = t.shape
    t = t.reshape(n * c, 1, h, w)
    t = F.pad(t, (r, r, r, r), mode="replicate")
    t = F.conv2d(t, k.view(1, 1, 1, -1))
    t = F.conv2d(t, k.view(1, 1, -1, 1))
    return _numpy(t.reshape(n, c, h, w))


def _downsample(x: np.ndarray, factor: float) -> np.ndarray:
    import torch.nn.functional as F

    h, w = x.shape[1:3]
    small = (max(1, round(h / factor)), max(1, round(w / factor)))
    t = F.interpolate(_torch(x), size=small, mode="bilinear", antialias=True, align_corners=False)
    t = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)
    return _numpy(t)


def _affine(x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    t = _torch(x)
    th = torch.from_numpy(np.asarray(theta, dtype=np.float64))
    grid = F.affine_grid(th, list(t.shape), align_corners=False)
    out = F.grid_sample(t, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return _numpy(out)


def _rotate(x: np.ndarray, degrees: float, rngs: Sequence[np.random.Generator]) -> np.ndarray:
    h, w = x.shape[1:3]
    theta = []
    for rng in rngs:
        a = math.radians(degrees) * (1.0 if rng.random() < 0.5 else -1.0)
        c, s = math.cos(a), math.sin(a)
        # rotation in pixel coordinates, expressed in the normalised [-1, 1] grid of each axis
        theta.append([[c, -s * h / w, 0.0], [s * w / h, c, 0.0]])
    return _affine(x, np.array(theta))


def _translate(x: np.ndarray, fraction: float, rngs: Sequence[np.random.Generator]) -> np.ndarray:
    theta = []
    for rng in rngs:
        phi = rng.uniform(0.0, 2.0 * math.pi)
        theta.append([[1.0, 0.0, 2.0 * fraction * math.cos(phi)],
                      [0.0, 1.0, 2.0 * fraction * math.sin(phi)]])
    return _affine(x, np.array(theta))


def _jpeg(x: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    arr = np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)
    img = Image.fromarray(arr[:, :, 0], mode="L") if arr.shape[2] == 1 else Image.fromarray(arr, "RGB")
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=int(quality), optimize=False, subsampling=0)
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        out = np.asarray(im, dtype=np.float64) / 255.0
    return out[:, :, None] if out.ndim == 2 else out


def _bias_field(x: np.ndarray, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    h, w = x.shape[:2]
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    p = np.zeros((h, w))
    for i in range(4):
        for j in range(4 - i):
            p += rng.uniform(-1.0, 1.0) * xx**i * yy**j
    p /= max(float(np.abs(p).max()), 1e-12)
    return x * np.exp(amplitude * p)[:, :, None]


def _one(x: np.ndarray, cond: Condition, rng: np.random.Generator) -> np.ndarray:
    """The per-image families (noise, intensity, JPEG, bias field)."""
    v = cond.value
    f = cond.family
    if f == "gaussian_noise":
        sigma = max(float(x.mean()), 1e-6) / 10 ** (v / 20)
        return x + rng.normal(0.0, sigma, size=x.shape)
    if f == "poisson_noise":
        k = 10 ** (v / 10) / max(float(x.mean()), 1e-6)
        return rng.poisson(np.clip(x, 0.0, None) * k) / k
    if f == "contrast":
        return 0.5 + v * (x - 0.5)
    if f == "window_shift":
        return x + v
    if f == "jpeg":
        return _jpeg(x, int(v))
    if f == "bias_field":
        return _bias_field(x, v, rng)
    raise InputError(f"'family' must be one of {', '.join(IMPLEMENTATION)}; got {f!r}.")


BATCHED = ("gaussian_blur", "downsample", "rotation", "translation")
"""Families computed for a whole batch in one torch call (per-case draws made first)."""


def perturb_batch(
    x: np.ndarray, cond: Condition, rngs: Sequence[np.random.Generator]
) -> np.ndarray:
    """Perturbed [0, 1] intensities of a batch (N, H, W, C), one generator per case."""
    if x.ndim != 4 or len(rngs) != x.shape[0]:
        raise InputError(f"'x' must be an (N, H, W, C) batch with one generator per image; got "
                         f"shape {x.shape} and {len(rngs)} generator(s).")
    if x.shape[0] == 0:
        return x.copy()
    f = cond.family
    if f == "gaussian_blur":
        out = _blur(x, cond.value)
    elif f == "downsample":
        out = _downsample(x, cond.value)
    elif f == "rotation":
        out = _rotate(x, cond.value, rngs)
    elif f == "translation":
        out = _translate(x, cond.value, rngs)
    else:
        out = np.stack([_one(xi, cond, r) for xi, r in zip(x, rngs, strict=True)])
    return np.clip(out, 0.0, 1.0)


def perturb(x: np.ndarray, cond: Condition, rng: np.random.Generator) -> np.ndarray:
    """The perturbed [0, 1] intensity of one image (float64, shape (H, W, C) as given)."""
    if x.ndim != 3:
        raise InputError(f"'x' must be an (H, W, C) intensity array; got shape {x.shape}.")
    return perturb_batch(x[None], cond, [rng])[0]


def perturbation_plan(robustness: Any, seed: int) -> dict[str, Any]:
    """The recorded plan: every family's parameter, unit, severities, implementation, seed.

    Its canonical JSON's SHA-256 (``sha256``) identifies the perturbed inputs in
    ``results.json`` and in the inference checkpoint.
    """
    from validation.protocol.robustness import FAMILIES

    families = []
    for fam in robustness.families:
        spec = FAMILIES[str(fam.family)]
        families.append({
            "family": str(fam.family), "parameter": spec.parameter, "unit": spec.unit,
            "allowed": [spec.low, spec.high], "severities": [float(v) for v in fam.severities],
            "levels": list(range(1, len(fam.severities) + 1)),
            "description": spec.description, "implementation": IMPLEMENTATION[str(fam.family)],
        })
    plan: dict[str, Any] = {"version": PERTURB_VERSION, "seed": int(seed), "families": families,
                            "seeding": "per case, family, level and value: SHA-256 of "
                                       "(family, level, value, case id) with the seed"}
    text = json.dumps(plan, sort_keys=True, separators=(",", ":"))
    plan["sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return plan
