"""Shared test configuration.

Reference values live in ``tests/reference/`` (copied from the public reference cases, with the
script or paper that produced them), so the suite runs from a clean clone.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

REFERENCE = Path(__file__).parent / "reference"
POSTGRES_ENV = "VALIDATION_TEST_POSTGRES_URL"


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


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL registry URL whose search_path is a fresh schema, dropped afterwards.

    Set ``VALIDATION_TEST_POSTGRES_URL`` (``.ci/run`` starts a server on loopback); without it
    the test is skipped, or fails when ``VALIDATION_REQUIRE_POSTGRES=1``.
    """
    from sqlalchemy import create_engine, text

    from validation.provenance.registry import normalize_url

    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("VALIDATION_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"VALIDATION_REQUIRE_POSTGRES=1 but {POSTGRES_ENV} is not set")
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    base = normalize_url(url)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
