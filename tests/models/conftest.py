"""Fixtures of the locked-model tests: the shipped demo model and a tiny demo image set."""

from __future__ import annotations

import shutil
import types
from pathlib import Path

import pandas as pd
import pytest

from validation.demo_images import generate_demo_images
from validation.models.card import load_card

ASSET = Path(__file__).resolve().parents[2] / "validation" / "assets" / "demo_model"


@pytest.fixture(scope="session")
def demo_card():
    return load_card(ASSET / "demo_model.card.yaml")


@pytest.fixture(scope="session")
def demo_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six cases per test site (24 images, DICOM and PNG), generated once per session."""
    root = tmp_path_factory.mktemp("demo-images")
    generate_demo_images(root, n_per_site=6, seed=7)
    return root


@pytest.fixture()
def study(tmp_path: Path, demo_set: Path, demo_card):
    """A protocol-like namespace, its folder (model, card, images) and the cases frame."""
    shutil.copytree(demo_set, tmp_path / "data")
    shutil.copy(ASSET / "demo_model.pt", tmp_path / "demo_model.pt")
    shutil.copy(ASSET / "demo_model.card.yaml", tmp_path / "demo_model.card.yaml")
    ns = types.SimpleNamespace
    protocol = ns(
        model=ns(
            kind="torchscript",
            artifact="demo_model.pt",
            sha256=demo_card.sha256,
            card="demo_model.card.yaml",
            training_sites=["T1", "T2"],
            operating_point=demo_card.operating_point,
            score_column=None,
        ),
        test_set=ns(images_root="data/images"),
        analysis=ns(seed=11),
    )
    cases = pd.read_csv(
        tmp_path / "data" / "manifest.csv", dtype={"case_id": str, "patient_id": str}
    )
    return protocol, tmp_path, cases
