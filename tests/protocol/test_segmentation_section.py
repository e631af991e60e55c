"""The protocol's segmentation section: the example loads; mistakes are reported at their line."""

from __future__ import annotations

import pytest
from protocol_helpers import PROTOCOLS, minimal_text

from validation.protocol import check_protocol, load_protocol

SECTION = """
segmentation:
  masks_index: masks.csv
  endpoints:
    - {id: dice, kind: dice, label: 1, threshold: 0.8}
    - {id: ba, kind: bland_altman, device: dev, reference: ref}
  measurements: meas.csv
  hypotheses:
    - {id: S1, endpoint: dice, type: mean_above, goal: 0.8}
    - {id: S2, endpoint: ba, type: limits_within, lower: -5, upper: 5}
"""


@pytest.fixture
def seg_files(write_protocol):
    def write(section: str):
        path = write_protocol(minimal_text() + section)
        (path.parent / "masks.csv").write_text("case_id\n", encoding="utf-8")
        (path.parent / "meas.csv").write_text("case_id\n", encoding="utf-8")
        return path
    return write


def test_example_protocol_loads_with_its_files() -> None:
    p = load_protocol(PROTOCOLS / "segmentation_example.yaml")
    assert p.segmentation is not None
    kinds = {e.id: e.kind for e in p.segmentation.endpoints}
    assert kinds["organ_dice"] == "dice" and kinds["volume_agreement"] == "bland_altman"
    assert next(e for e in p.segmentation.endpoints if e.kind == "icc").form == "ICC2"  # default filled in
    assert next(e for e in p.segmentation.endpoints if e.kind == "bland_altman").limits_ci == "exact"


def test_valid_section(seg_files) -> None:
    protocol, problems = check_protocol(seg_files(SECTION))
    assert problems == [] and protocol is not None


@pytest.mark.parametrize(("old", "new", "message"), [
    ("endpoint: ba, type: limits_within, lower: -5, upper: 5", "endpoint: ba, type: mean_above, goal: 0.5",
     "type 'mean_above' does not apply"),
    ("lower: -5, upper: 5", "lower: 5, upper: -5", "needs 'lower' < 'upper'"),
    ("endpoint: dice, type", "endpoint: dise, type", "names endpoint 'dise'"),
    ("device: dev, reference: ref", "device: dev", "needs 'reference'"),
    ("kind: dice, label: 1, threshold: 0.8", "kind: dice, label: 1, threshold: 80", "must be in (0, 1]"),
    ("kind: dice, label: 1,", "kind: dice, label: 0,", "greater than or equal to 1"),
    ("  measurements: meas.csv\n", "", "need 'measurements'"),
    ("kind: dice, label", "kind: volume, label", "kind"),
])
def test_mistakes_are_reported_with_their_line(seg_files, old: str, new: str, message: str) -> None:
    assert old in SECTION
    text = SECTION.replace(old, new)
    protocol, problems = check_protocol(seg_files(text))
    assert protocol is None
    hits = [p for p in problems if message in p.message]
    assert hits, [str(p) for p in problems]
    assert all(p.line is not None for p in hits)


def test_missing_masks_index_file_is_named(write_protocol) -> None:
    path = write_protocol(minimal_text() + SECTION)
    (path.parent / "meas.csv").write_text("case_id\n", encoding="utf-8")
    _, problems = check_protocol(path)
    assert any("'masks_index' 'masks.csv' does not exist" in p.message for p in problems)


def test_a_protocol_without_the_section_hashes_as_before() -> None:
    """The optional section is left out of the canonical JSON when absent: the sha256 of every
    existing protocol (and so every existing lock) is unchanged by the new field."""
    from validation.protocol.lock import canonical_protocol_json

    cade = canonical_protocol_json(load_protocol(PROTOCOLS / "cade_pneumothorax.yaml"))
    assert '"segmentation"' not in cade
    seg = canonical_protocol_json(load_protocol(PROTOCOLS / "segmentation_example.yaml"))
    assert '"segmentation"' in seg
