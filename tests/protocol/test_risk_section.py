"""The protocol's risk section: risk endpoint kinds, acceptance rules and their checks, each
problem reported with file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from validation.protocol import load_protocol, protocol_sha256

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"
EXAMPLE = (PROTOCOLS / "risk_example.yaml").read_text(encoding="utf-8")


@pytest.fixture
def variant(tmp_path: Path):
    shutil.copytree(PROTOCOLS / "examples" / "risk_example", tmp_path / "examples" / "risk_example")

    def write(*edits: tuple[str, str]) -> Path:
        text = EXAMPLE
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new, 1)
        path = tmp_path / "p.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def _line(needle: str) -> int:
    return next(i for i, line in enumerate(EXAMPLE.splitlines(), 1) if needle in line)


def test_example_loads_with_its_risk_section() -> None:
    p = load_protocol(PROTOCOLS / "risk_example.yaml")
    assert p.risk is not None and p.risk.score_is_probability
    assert [r.rule for r in p.risk.rules] == ["interval_inside", "lower_bound_above"]
    assert p.endpoint("auc24").ci == "bootstrap" and p.endpoint("slope").ci == "wald"


def test_protocols_without_a_risk_section_hash_as_before() -> None:
    """The optional sections are left out of the canonical dump when absent: a protocol that
    has none of them (the reader study) hashes as it did before any was added, so its
    existing locks stay valid."""
    p = load_protocol(PROTOCOLS / "reader_study.yaml")
    dump = p.model_dump(mode="json")
    assert not {"risk", "consistency", "robustness", "segmentation"} & set(dump)
    assert protocol_sha256(p) == "1a4b9db03591eaede50a8c4d71b3f8a789e7a23653de02a3fbf172a8457d3169"


@pytest.mark.parametrize(("edits", "needle", "message"), [
    ((("score_is_probability: true", "score_is_probability: false"),), "kind: calibration_slope",
     "endpoints[0].kind: kind 'calibration_slope' reads the score as a probability"),
    ((("      bounds: [0.8, 1.2]\n", ""),), "- id: R1", "an interval_inside rule needs 'bounds"),
    ((("endpoint: cindex", "endpoint: auc"),), "endpoint: cindex", "rules apply to risk endpoints only"),
    ((("endpoint: cindex", "endpoint: nope"),), "endpoint: cindex", "names endpoint 'nope', which is not defined"),
    ((("  horizons: [24]\n", ""),), "kind: time_auc", "kind 'time_auc' needs 'risk.horizons'"),
    ((("{id: cindex, kind: c_index, role: primary}", "{id: cindex, kind: c_index, unit: finding}"),),
     "kind: c_index", "'unit' must be 'patient' for c_index"),
    ((("    endpoint: auc\n    type: performance_goal", "    endpoint: cindex\n    type: performance_goal"),),
     "    endpoint: auc", "endpoint 'cindex' is a risk endpoint; state its acceptance criterion"),
])
def test_problems_name_file_line_and_field(variant, edits, needle, message) -> None:
    from validation.errors import ProtocolError

    path = variant(*edits)
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    text = str(err.value)
    assert message in text
    assert f"{path}:{_line(needle)}:" in text


def test_time_kinds_need_outcomes(variant) -> None:
    from validation.errors import ProtocolError

    start = EXAMPLE.index("  outcomes:\n")
    end = EXAMPLE.index("  horizons:")
    path = variant((EXAMPLE[start:end], ""))
    with pytest.raises(ProtocolError, match="kind 'c_index' needs the time-to-event table 'risk.outcomes'"):
        load_protocol(path)


def test_risk_groups_need_one_label_per_group(variant) -> None:
    from validation.errors import ProtocolError

    path = variant(("labels: [low, intermediate, high]", "labels: [low, high]"))
    with pytest.raises(ProtocolError, match="'labels' must name each of the 3 groups"):
        load_protocol(path)


def test_recalibration_needs_a_probability_and_names_its_split(variant) -> None:
    from validation.errors import ProtocolError

    p = load_protocol(PROTOCOLS / "risk_example.yaml")
    assert p.risk is not None and p.risk.recalibration is not None
    assert (p.risk.recalibration.column, p.risk.recalibration.tuning) == ("site", "EXT-3")
    path = variant(("score_is_probability: true", "score_is_probability: false"))
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "recalibration reads the score as a probability" in str(err.value)
    assert f"{path}:{_line('  recalibration:') + 1}:5: risk.recalibration: recalibration reads" in str(err.value)
    with pytest.raises(ProtocolError, match="tuning"):
        load_protocol(variant(("    tuning: EXT-3\n", "")))
