"""The protocol's robustness section: families, severities, rules and the model card's input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from protocol_helpers import minimal_text

from validation.protocol import check_protocol, load_protocol, protocol_sha256
from validation.protocol.robustness import FAMILIES, severity_key

IMAGE_MODEL = """\
model:
  kind: torchscript
  artifact: model.pt
  sha256: "{sha}"
  card: card.yaml
  training_sites: [T1]
  operating_point: 0.5
"""

SECTION = """\
robustness:
  endpoints: [sens, auc]
  families:
    - {family: gaussian_noise, severities: [30, 20]}
    - {family: gaussian_blur, severities: [1.0, 2.0, 3.0]}
  rules:
    - {id: R1, endpoint: sens, bound: lower, threshold: 0.8, up_to: 2}
"""


def _write(tmp_path: Path, section: str, *, card_input: str | None = None,
           precomputed: bool = False) -> Path:
    text = minimal_text()
    if not precomputed:
        start = text.index("model:")
        end = text.index("test_set:")
        text = text[:start] + IMAGE_MODEL.format(sha="ab" * 32) + text[end:]
        text = text.replace("  manifest: manifest.csv\n",
                            "  manifest: manifest.csv\n  images_root: images\n")
        (tmp_path / "images").mkdir()
        (tmp_path / "model.pt").write_bytes(b"x")
        card = {"name": "m", "version": "1", "kind": "torchscript", "artifact": "model.pt",
                "sha256": "ab" * 32, "training_sites": ["T1"], "operating_point": 0.5,
                "output": {"meaning": "p", "positive_class": "lesion"},
                "input": yaml.safe_load(card_input or "{height: 8, width: 8}")}
        (tmp_path / "card.yaml").write_text(yaml.safe_dump(card))
    else:
        (tmp_path / "predictions.csv").write_text("case_id,score\n")
    (tmp_path / "manifest.csv").write_text("case_id\n")
    path = tmp_path / "p.yaml"
    path.write_text(text + section)
    return path


def _messages(path: Path) -> list[str]:
    protocol, problems = check_protocol(path)
    assert protocol is None
    return [str(p) for p in problems]


def test_a_valid_section_loads_with_levels_in_order(tmp_path: Path) -> None:
    p = load_protocol(_write(tmp_path, SECTION))
    assert p.robustness is not None
    assert [f.family for f in p.robustness.families] == ["gaussian_noise", "gaussian_blur"]
    assert p.robustness.rules[0].up_to == 2
    assert p.robustness.examples == 1


def test_a_protocol_without_the_section_hashes_as_before(tmp_path: Path) -> None:
    """The optional field is left out of the canonical JSON when absent (locks stay valid)."""
    path = tmp_path / "p.yaml"
    (tmp_path / "predictions.csv").write_text("case_id,score\n")
    (tmp_path / "manifest.csv").write_text("case_id\n")
    path.write_text(minimal_text())
    p = load_protocol(path)
    assert "robustness" not in p.model_dump(mode="json")
    assert protocol_sha256(p) == protocol_sha256(load_protocol(path))


def test_unknown_family_is_refused_with_its_line_and_a_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, SECTION.replace("gaussian_blur", "gaussian_blurr"))
    msgs = _messages(path)
    line = path.read_text().splitlines().index(
        "    - {family: gaussian_blurr, severities: [1.0, 2.0, 3.0]}") + 1
    hit = [m for m in msgs if "unknown perturbation family 'gaussian_blurr'" in m]
    assert hit and f"p.yaml:{line}:" in hit[0] and "Did you mean 'gaussian_blur'" in hit[0]


@pytest.mark.parametrize(("family", "values", "needle"), [
    ("gaussian_noise", "[30, 90]", "outside its range: snr_db in [0, 60] dB"),
    ("jpeg", "[50, 0]", "outside its range"),
    ("rotation", "[5, 45]", "outside its range: degrees in [0.5, 15]"),
    ("gaussian_noise", "[20, 30]", "from mild to severe"),
    ("contrast", "[0.5, 1.5]", "from mild to severe"),
    ("contrast", "[1.0]", "is the identity"),
    ("jpeg", "[50.5]", "whole number"),
])
def test_severities_outside_the_range_or_out_of_order(tmp_path: Path, family: str, values: str,
                                                      needle: str) -> None:
    section = ("robustness:\n  endpoints: [sens]\n  families:\n"
               f"    - {{family: {family}, severities: {values}}}\n")
    card = "{height: 8, width: 8, bit_depth: 8}"
    msgs = _messages(_write(tmp_path, section, card_input=card))
    assert any(needle in m and "p.yaml:" in m for m in msgs), msgs


def test_rules_are_checked_against_endpoints_families_and_levels(tmp_path: Path) -> None:
    section = SECTION + (
        "    - {id: R1, endpoint: spec, threshold: 0.8, up_to: 1}\n"
        "    - {id: R3, endpoint: auc, family: contrast, threshold: 0.8, up_to: 1}\n"
        "    - {id: R4, endpoint: auc, family: gaussian_noise, threshold: 0.8, up_to: 3}\n")
    msgs = "\n".join(_messages(_write(tmp_path, section)))
    assert "duplicate rule id 'R1'" in msgs
    assert "rule endpoint 'spec' must be one of robustness.endpoints" in msgs
    assert "rule family 'contrast' is not among the listed families" in msgs
    assert "'up_to' must be a severity level of family 'gaussian_noise' (1 to 2); got 3" in msgs


def test_endpoints_must_exist_and_be_standalone(tmp_path: Path) -> None:
    msgs = "\n".join(_messages(_write(tmp_path, SECTION.replace("[sens, auc]", "[sens, sns]"))))
    assert "endpoint 'sns' is not defined" in msgs and "Did you mean 'sens'" in msgs


def test_precomputed_predictions_cannot_be_perturbed(tmp_path: Path) -> None:
    msgs = "\n".join(_messages(_write(tmp_path, SECTION, precomputed=True)))
    assert "needs an image model" in msgs


@pytest.mark.parametrize(("family", "card", "ok"), [
    ("jpeg", "{height: 8, width: 8, bit_depth: 16, modality: CT}", False),
    ("jpeg", "{height: 8, width: 8}", False),
    ("jpeg", "{height: 8, width: 8, bit_depth: 8, modality: DX}", True),
    ("bias_field", "{height: 8, width: 8, modality: CT}", False),
    ("bias_field", "{height: 8, width: 8, modality: MR, bit_depth: 16}", True),
    ("gaussian_noise", "{height: 8, width: 8, bit_depth: 16, modality: CT}", True),
])
def test_the_model_card_input_must_allow_the_family(tmp_path: Path, family: str, card: str,
                                                    ok: bool) -> None:
    value = {"jpeg": "[50]", "bias_field": "[0.3]", "gaussian_noise": "[20]"}[family]
    section = (f"robustness:\n  endpoints: [sens]\n  families:\n"
               f"    - {{family: {family}, severities: {value}}}\n")
    path = _write(tmp_path, section, card_input=card)
    protocol, problems = check_protocol(path)
    if ok:
        assert protocol is not None, [str(p) for p in problems]
        return
    msgs = [str(p) for p in problems]
    line = path.read_text().splitlines().index(
        f"    - {{family: {family}, severities: {value}}}") + 1
    hit = [m for m in msgs if f"perturbation '{family}' needs" in m]
    assert hit and f"p.yaml:{line}:" in hit[0] and "the model card declares" in hit[0]


def test_protocol_check_exits_2_on_a_bad_section(tmp_path: Path, cli) -> None:
    path = _write(tmp_path, SECTION.replace("[30, 20]", "[30, 200]"))
    code, out, err = cli("protocol", "check", path)
    assert code == 2
    assert "outside its range" in out + err and "Traceback" not in out + err


def test_every_family_orders_its_severities() -> None:
    for name, spec in FAMILIES.items():
        lo, hi = spec.low, spec.high
        if spec.order == "decreasing":
            assert severity_key(name, lo) > severity_key(name, hi)
        elif spec.order == "increasing":
            assert severity_key(name, hi) > severity_key(name, lo)
        else:
            assert severity_key(name, hi) > 0 and severity_key(name, lo) > 0


def test_demo_section_is_valid_for_the_demo_model() -> None:
    from validation.robustness_demo import demo_robustness_section

    sec = demo_robustness_section()
    assert len(sec["families"]) >= 3
    assert all(f["family"] in FAMILIES for f in sec["families"])
