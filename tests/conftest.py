"""Shared test configuration.

Reference values live in ``tests/reference/`` (copied from the public reference cases, with the
script or paper that produced them), so the suite runs from a clean clone.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REFERENCE = Path(__file__).parent / "reference"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="run slow simulation tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow simulation: run with nox -s coverage_sim")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return REFERENCE


@pytest.fixture(autouse=True)
def _no_user_registry(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests from touching a user's registry or runs folder."""
    home = tmp_path_factory.mktemp("registry-home")
    monkeypatch.setenv("VALIDATION_REGISTRY", f"sqlite:///{home / 'registry.sqlite'}")
    monkeypatch.setenv("VALIDATION_HOME", str(home))
    os.environ.setdefault("MPLBACKEND", "Agg")
