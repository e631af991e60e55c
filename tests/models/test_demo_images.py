"""The demo image generator: seeded, multi-site, DICOM and PNG, manifest per the data spec."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from pydicom import dcmread

from validation.demo_images import (
    SITES,
    TEST_SITES,
    TRAINING_SITES,
    generate_demo_images,
    site_arrays,
)
from validation.models.phi import scan_images


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file():
            h.update(f.relative_to(root).as_posix().encode() + f.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_and_manifest_follows_the_data_spec(
    tmp_path: Path, demo_set: Path
) -> None:
    generate_demo_images(tmp_path / "again", n_per_site=6, seed=7)
    assert _digest(tmp_path / "again") == _digest(demo_set)
    generate_demo_images(tmp_path / "other", n_per_site=6, seed=8)
    assert _digest(tmp_path / "other") != _digest(demo_set)
    from validation.data.specs import load_table

    m = load_table(demo_set / "manifest.csv", "test_set_manifest")
    assert list(m.site.unique()) == list(TEST_SITES)
    assert not set(m.site) & set(TRAINING_SITES)
    suffixes = {Path(p).suffix for p in m.image}
    assert suffixes == {".dcm", ".png"}
    for rel in m.image:
        assert (demo_set / "images" / rel).is_file()


def test_dicom_headers_are_de_identified(demo_set: Path) -> None:
    m = pd.read_csv(demo_set / "manifest.csv", dtype=str)
    items = [
        (c, demo_set / "images" / i, p)
        for c, i, p in zip(m.case_id, m.image, m.patient_id, strict=True)
    ]
    report = scan_images(items, policy="refuse")
    assert report.scanned == sum(i.endswith(".dcm") for i in m.image) and report.flagged == 0
    ds = dcmread(demo_set / "images" / next(i for i in m.image if i.endswith(".dcm")))
    assert ds.PatientIdentityRemoved == "YES" and float(ds.RescaleIntercept) == -1024


def test_site_prevalence_and_style_differ() -> None:
    prev = {s: site_arrays(s, 150, 1)[1].mean() for s in TEST_SITES}
    for s in TEST_SITES:  # binomial: 4 standard errors
        p = SITES[s].prevalence
        assert abs(prev[s] - p) < 4 * np.sqrt(p * (1 - p) / 150)
    noise = {s: np.std(np.diff(site_arrays(s, 20, 1)[0][:, 2, :], axis=1)) for s in ("S1", "S4")}
    assert noise["S4"] > noise["S1"]
    images = site_arrays("S1", 3, 1)[0]
    assert images.shape == (3, 64, 64) and images.min() >= 0 and images.max() <= 1
