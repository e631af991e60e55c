"""Seeded generator of a small multi-site, chest-radiograph-like image set for the demo.

The images are synthetic (no patient data): a 64x64 frontal "chest" with body outline,
mediastinum, two darker lung fields and faint ribs; a positive case carries one round,
nodule-like opacity inside a lung field. Each site has its own scanner style (contrast,
brightness, noise level, blur) and its own prevalence, so per-site performance differs the way
it does between real hospitals. Training sites (``T1``, ``T2``) feed
``tools/train_demo_model.py``; the test sites (``S1`` to ``S4``) form the external test set.

Part of each test site is written as DICOM (16-bit, Rescale Intercept -1024, Window Center 0.5 /
Width 2001, de-identified header with a pseudonymous Patient ID), the rest as 8-bit PNG.
The manifest (``manifest.csv``) follows ``data_specs/test_set_manifest.yaml``: case_id,
patient_id, site, truth, image (relative to ``images/``), sex, age, manufacturer,
consent_withdrawn, ai_opt_out, non_diagnostic.

The same seed always gives the same files, byte for byte.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from validation._atomic import write_bytes_atomic
from validation.constants import DEFAULT_SEED

SIZE = 64


@dataclass(frozen=True, slots=True)
class SiteStyle:
    """Scanner and population style of one site."""

    prevalence: float
    contrast: float
    brightness: float
    noise: float
    blur: float
    dicom_fraction: float
    manufacturers: tuple[str, ...]


SITES: dict[str, SiteStyle] = {
    "T1": SiteStyle(0.50, 1.00, 0.00, 0.030, 0.6, 0.0, ("Acme",)),
    "T2": SiteStyle(0.50, 0.90, 0.03, 0.045, 0.8, 0.0, ("Borealis",)),
    "S1": SiteStyle(0.30, 1.00, 0.00, 0.050, 0.6, 1.0, ("Acme",)),
    "S2": SiteStyle(0.20, 1.20, -0.05, 0.065, 0.7, 0.0, ("Borealis", "Acme")),
    "S3": SiteStyle(0.40, 0.80, 0.06, 0.060, 1.0, 0.5, ("Cygnus", "Acme")),
    "S4": SiteStyle(0.15, 0.95, 0.02, 0.085, 1.1, 0.3, ("Cygnus",)),
}
TRAINING_SITES: tuple[str, ...] = ("T1", "T2")
TEST_SITES: tuple[str, ...] = ("S1", "S2", "S3", "S4")

# DICOM encoding of the [0, 1] intensity: value = 2000 x - 1000 (rescaled), stored = value + 1024.
# The linear VOI window with center 0.5 and width 2001 maps value v to v / 2000 + 0.5 = x
# exactly (PS3.3 C.11.2.1.2.1: y = (v - (c - 0.5)) / (w - 1) + 0.5).
DICOM_INTERCEPT = -1024.0
DICOM_WINDOW = (0.5, 2001.0)


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return img
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(img, sigma=sigma, mode="nearest")


def synth_image(rng: np.random.Generator, lesion: bool, style: SiteStyle) -> np.ndarray:
    """One 64x64 image on the [0, 1] intensity scale (float64)."""
    n = SIZE
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    yy = yy / (n - 1) * 2 - 1
    xx = xx / (n - 1) * 2 - 1
    sx = 1 + rng.normal(0, 0.04)
    sy = 1 + rng.normal(0, 0.04)
    dx = rng.normal(0, 0.03)
    img = np.full((n, n), 0.06)
    body = ((xx - dx) / (0.92 * sx)) ** 2 + (yy / (1.15 * sy)) ** 2 <= 1
    img[body] = 0.58
    lungs = np.zeros((n, n), dtype=bool)
    lung_centres = []
    for side in (-1, 1):
        cx = side * 0.40 * sx + dx
        cy = -0.05
        rx, ry = 0.27 * sx, 0.58 * sy
        inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
        lungs |= inside
        lung_centres.append((cx, cy, rx, ry))
    img[lungs] = 0.24
    phase = rng.uniform(0, 2 * np.pi)
    ribs = 0.07 * np.clip(np.sin(yy * np.pi * 5.5 + phase + 0.8 * np.abs(xx)), 0, None)
    img = img + ribs * lungs
    spine = np.abs(xx - dx) < 0.09 * sx
    img[spine & body] = 0.78
    if lesion:
        cx, cy, rx, ry = lung_centres[int(rng.integers(2))]
        r = np.sqrt(rng.uniform(0, 0.55))
        t = rng.uniform(0, 2 * np.pi)
        lx, ly = cx + r * rx * np.cos(t), cy + r * ry * np.sin(t)
        sigma = rng.uniform(0.06, 0.10)
        amp = rng.uniform(0.18, 0.34)
        img = img + amp * np.exp(-((xx - lx) ** 2 + (yy - ly) ** 2) / (2 * sigma**2))
    img = _blur(img, style.blur)
    img = 0.5 + (img - 0.5) * style.contrast + style.brightness
    img = img + rng.normal(0, style.noise, size=img.shape)
    return np.clip(img, 0.0, 1.0)


def site_arrays(site: str, n: int, seed: int = DEFAULT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images of one site, in memory: (images (n, 64, 64) in [0, 1], truth (n,) 0/1).

    The stream for each site is seeded from ``seed`` and the site's name, so sites are
    independent and adding a site changes no other site's images.
    """
    style = SITES[site]
    rng = np.random.default_rng([seed, _site_key(site)])
    truth = (rng.random(n) < style.prevalence).astype(np.int64)
    images = (
        np.stack([synth_image(rng, bool(t), style) for t in truth])
        if n
        else np.empty((0, SIZE, SIZE))
    )
    return images, truth


def _site_key(site: str) -> int:
    return int.from_bytes(site.encode("utf-8"), "big")


def to_png_bytes(img: np.ndarray) -> bytes:
    from PIL import Image

    arr = np.rint(np.clip(img, 0, 1) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, mode="L").save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def to_dicom_bytes(
    img: np.ndarray, *, case_id: str, patient_id: str, manufacturer: str, sex: str, seed: int
) -> bytes:
    """A de-identified 16-bit MONOCHROME2 DX image of ``img`` (deterministic UIDs, no dates)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

    stored = np.rint(np.clip(img, 0, 1) * 2000.0 - 1000.0 - DICOM_INTERCEPT).astype(np.uint16)
    sop_class = UID("1.2.840.10008.5.1.4.1.1.1.1")  # Digital X-Ray Image Storage, Presentation
    sop_uid = generate_uid(entropy_srcs=[str(seed), case_id, "sop"])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = generate_uid(entropy_srcs=["validation-demo-images"])
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[str(seed), case_id, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[str(seed), case_id, "series"])
    ds.Modality = "DX"
    ds.Manufacturer = manufacturer
    ds.BodyPartExamined = "CHEST"
    ds.PatientName = ""
    ds.PatientID = patient_id
    ds.PatientSex = sex
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "synthetic demo image; no patient data"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = f"{DICOM_INTERCEPT:.0f}"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    ds.WindowCenter = f"{DICOM_WINDOW[0]:g}"
    ds.WindowWidth = f"{DICOM_WINDOW[1]:g}"
    ds.PixelData = stored.tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def generate_demo_images(
    out_dir: str | os.PathLike[str],
    *,
    seed: int = DEFAULT_SEED,
    n_per_site: int = 60,
    sites: tuple[str, ...] = TEST_SITES,
) -> Path:
    """Write the demo test images and ``manifest.csv`` into ``out_dir``; return the manifest path.

    Layout: ``out_dir/manifest.csv`` and ``out_dir/images/<site>/<case_id>.(dcm|png)``; the
    manifest's ``image`` column is relative to ``out_dir/images`` (the protocol's
    ``test_set.images_root``).
    """
    import pandas as pd

    if not isinstance(n_per_site, int) or n_per_site < 1:
        from validation.errors import InputError

        raise InputError(f"'n_per_site' must be a positive integer; got {n_per_site!r}.")
    out = Path(out_dir)
    rows = []
    for site in sites:
        style = SITES[site]
        images, truth = site_arrays(site, n_per_site, seed)
        meta_rng = np.random.default_rng([seed, _site_key(site), 1])
        for k in range(n_per_site):
            case_id = f"{site}-{k + 1:04d}"
            patient_id = f"P{site}{k + 1:04d}"
            sex = "F" if meta_rng.random() < 0.5 else "M"
            age = int(np.clip(np.rint(meta_rng.normal(58, 14)), 18, 95))
            manufacturer = str(
                style.manufacturers[int(meta_rng.integers(len(style.manufacturers)))]
            )
            dicom = meta_rng.random() < style.dicom_fraction
            u = meta_rng.random(3)
            rel = f"{site}/{case_id}.{'dcm' if dicom else 'png'}"
            data = (
                to_dicom_bytes(
                    images[k],
                    case_id=case_id,
                    patient_id=patient_id,
                    manufacturer=manufacturer,
                    sex=sex,
                    seed=seed,
                )
                if dicom
                else to_png_bytes(images[k])
            )
            write_bytes_atomic(out / "images" / rel, data)
            rows.append(
                {
                    "case_id": case_id,
                    "patient_id": patient_id,
                    "site": site,
                    "truth": int(truth[k]),
                    "image": rel,
                    "sex": sex,
                    "age": age,
                    "manufacturer": manufacturer,
                    "consent_withdrawn": bool(u[0] < 0.02),
                    "ai_opt_out": bool(u[1] < 0.015),
                    "non_diagnostic": bool(u[2] < 0.03),
                }
            )
    manifest = out / "manifest.csv"
    write_bytes_atomic(
        manifest, pd.DataFrame(rows).to_csv(index=False, lineterminator="\n").encode()
    )
    return manifest


DEMO_MODEL_DIR = Path(__file__).resolve().parent / "assets" / "demo_model"


def prepare_image_study(
    inputs_dir: str | os.PathLike[str], *, seed: int = DEFAULT_SEED, n_per_site: int = 60
) -> dict[str, dict[str, object]]:
    """Images, manifest and the locked demo model in ``inputs_dir``, ready for a protocol.

    Writes ``manifest.csv`` and ``images/`` (see :func:`generate_demo_images`) and copies the
    shipped locked model (``demo_model.pt``) and its card beside them. Returns the protocol
    sections to fill in, with paths relative to ``inputs_dir``::

        {"model": {kind, artifact, sha256, card, training_sites, operating_point},
         "test_set": {manifest, images_root}}
    """
    import yaml

    inputs = Path(inputs_dir)
    manifest = generate_demo_images(inputs, seed=seed, n_per_site=n_per_site)
    for name in ("demo_model.pt", "demo_model.card.yaml"):
        write_bytes_atomic(inputs / name, (DEMO_MODEL_DIR / name).read_bytes())
    card = yaml.safe_load((DEMO_MODEL_DIR / "demo_model.card.yaml").read_text(encoding="utf-8"))
    return {
        "model": {
            "kind": "torchscript",
            "artifact": "demo_model.pt",
            "sha256": card["sha256"],
            "card": "demo_model.card.yaml",
            "training_sites": list(card["training_sites"]),
            "operating_point": card["operating_point"],
        },
        "test_set": {"manifest": manifest.name, "images_root": "images"},
    }
