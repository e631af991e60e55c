"""Model cards: format errors listed with their field; disagreement with the protocol refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from validation.errors import LockedModelError
from validation.models.card import check_card, load_card

ASSET = Path(__file__).resolve().parents[2] / "validation" / "assets" / "demo_model"


def _kw(card, **over):
    kw = dict(
        card_path="card.yaml",
        kind=card.kind,
        sha256=card.sha256,
        training_sites=list(card.training_sites),
        operating_point=card.operating_point,
        test_sites=["S1", "S2"],
    )
    kw.update(over)
    return kw


def test_demo_card_is_valid_and_agrees_with_itself(demo_card) -> None:
    assert demo_card.input is not None and (demo_card.input.height, demo_card.input.width) == (
        64,
        64,
    )
    check_card(demo_card, **_kw(demo_card))


def test_training_sites_overlapping_test_sites_are_refused(demo_card) -> None:
    with pytest.raises(LockedModelError, match=r"test sites \['T1'\] are training sites"):
        check_card(demo_card, **_kw(demo_card, test_sites=["S1", "T1"]))


def test_every_disagreement_is_listed(demo_card) -> None:
    with pytest.raises(LockedModelError) as err:
        check_card(
            demo_card,
            **_kw(
                demo_card, kind="onnx", sha256="0" * 64, training_sites=["T1"], operating_point=0.2
            ),
        )
    msg = str(err.value)
    for field in ("kind:", "sha256:", "training_sites:", "operating_point:"):
        assert field in msg


def test_invalid_card_names_fields(tmp_path: Path) -> None:
    raw = yaml.safe_load((ASSET / "demo_model.card.yaml").read_text())
    raw["sha256"] = "xyz"
    raw["input"]["channels"] = 2
    raw["colour"] = "blue"
    p = tmp_path / "bad.card.yaml"
    p.write_text(yaml.safe_dump(raw))
    with pytest.raises(LockedModelError) as err:
        load_card(p)
    msg = str(err.value)
    assert (
        "bad.card.yaml" in msg and "sha256" in msg and "input.channels" in msg and "colour" in msg
    )
    p.write_text("name: [unclosed")
    with pytest.raises(LockedModelError, match="not valid YAML"):
        load_card(p)
    with pytest.raises(LockedModelError, match="does not exist"):
        load_card(tmp_path / "none.yaml")
