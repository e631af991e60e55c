"""Fixtures of the protocol tests: a small valid protocol with its files in a temp folder."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from protocol_helpers import minimal_text  # noqa: F401  (re-exported for tests)


@pytest.fixture
def write_protocol(tmp_path: Path) -> Callable[[str], Path]:
    """Write protocol text into a temp folder that holds its (empty) data files."""
    (tmp_path / "manifest.csv").write_text("case_id\n", encoding="utf-8")
    (tmp_path / "predictions.csv").write_text("case_id,score\n", encoding="utf-8")

    def write(text: str, name: str = "p.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run ``validation ARGS`` in-process through ``cli.main``; return (exit code, out, err)."""
    from validation.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["validation", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
