"""Loading a protocol file: every problem with its line; no reach into the data layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from protocol_helpers import PROTOCOLS, REPO, minimal_text

from validation.errors import ProtocolError
from validation.protocol import check_protocol, load_protocol
from validation.protocol.load import resolve_data_spec


def test_examples_load() -> None:
    for name in ("cade_pneumothorax", "reader_study"):
        p = load_protocol(PROTOCOLS / f"{name}.yaml")
        assert p.study.id
    # the demo protocol's data files are simulated at run time: only the files are missing
    protocol, problems = check_protocol(PROTOCOLS / "demo.yaml")
    assert protocol is None and all("does not exist" in p.message for p in problems)
    protocol, problems = check_protocol(PROTOCOLS / "demo.yaml", check_files=False)
    assert protocol is not None and problems == []


def test_problems_carry_their_line(write_protocol) -> None:
    text = minimal_text().replace("alpha: 0.025", "alpha: 0.025\nunknown_key: 1")
    _, problems = check_protocol(write_protocol(text))
    (p,) = [p for p in problems if "unknown_key" in str(p)]
    assert p.line == text.splitlines().index("unknown_key: 1") + 1
    with pytest.raises(ProtocolError, match="unknown_key"):
        load_protocol(write_protocol(text))


def test_data_spec_names_resolve_in_the_shipped_folder(tmp_path: Path) -> None:
    assert resolve_data_spec("test_set_manifest", tmp_path) == REPO / "data_specs" / \
        "test_set_manifest.yaml"
    assert resolve_data_spec("mine.yaml", tmp_path) == tmp_path / "mine.yaml"


def test_the_protocol_layer_does_not_import_the_data_layer() -> None:
    code = ("import sys, validation.protocol; "
            "print(sorted(m for m in sys.modules if m.startswith('validation.data')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout.strip()
    assert out == "[]"
