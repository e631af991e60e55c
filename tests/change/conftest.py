"""Fixtures of the change-control tests: a locked, signed demo plan beside a locked tabular
demo protocol, in a registry of each backend (PostgreSQL with VALIDATION_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

POSTGRES_ENV = "VALIDATION_TEST_POSTGRES_URL"
SEED = 20261128


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL registry URL whose search_path is a fresh schema."""
    from sqlalchemy import create_engine, text

    from validation.provenance.registry import normalize_url

    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("VALIDATION_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"VALIDATION_REQUIRE_POSTGRES=1 but {POSTGRES_ENV} is not set")
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    base = normalize_url(url)
    schema = f"chg_{uuid.uuid4().hex[:16]}"
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry(request: pytest.FixtureRequest, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """An open registry on each backend, also the default of the commands."""
    from validation.provenance.registry import Registry

    url = (f"sqlite:///{tmp_path / 'registry.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    monkeypatch.setenv("VALIDATION_REGISTRY", url)
    monkeypatch.setenv("VALIDATION_CHECKPOINTS", "off")
    reg = Registry(url)
    yield reg
    reg.close()


@pytest.fixture
def study(tmp_path: Path, registry):  # type: ignore[no-untyped-def]
    from validation.change.demo import prepare_change_study

    return prepare_change_study(tmp_path / "study", registry, seed=SEED, budget=4)
