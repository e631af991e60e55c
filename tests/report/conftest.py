"""Fixtures of the report tests: fixture dossiers rendered once per session.

``tests/report/fixtures/<name>/`` holds a dossier as ``validation run`` leaves it before the
report step (results.json, protocol.lock.json, inputs.json, environment.json,
test_set_usage.json), made by ``make_fixtures.py`` beside it. Each is copied into a run
directory named like a real run and rendered to HTML, PDF and DOCX once.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Rendered:
    run_dir: Path
    outputs: list[Path]
    timings: dict[str, float]

    def doc(self, name: str) -> Path:
        path = self.run_dir / "report" / name
        assert path.is_file(), f"{name} was not rendered"
        return path


def _render(tmp_path_factory: pytest.TempPathFactory, name: str) -> Rendered:
    import os

    from validation.report import render, render_report

    os.environ["VALIDATION_RENDERER"] = "pandoc"
    study = "READER" if name == "reader" else "STANDALONE"
    run_dir = tmp_path_factory.mktemp(f"report-{name}") / study / "20261128T101500Z-3fa9c1"
    shutil.copytree(FIXTURES / name, run_dir)
    outputs = render_report(run_dir, ("html", "pdf", "docx"))
    return Rendered(run_dir, outputs, dict(render.last_timings))


@pytest.fixture(scope="session")
def standalone_report(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return _render(tmp_path_factory, "standalone")


@pytest.fixture(scope="session")
def reader_report(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return _render(tmp_path_factory, "reader")


@pytest.fixture(scope="session", params=["standalone", "reader"])
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return request.getfixturevalue(f"{request.param}_report")
