"""Fixtures of the provenance tests: registries on both backends and small dossiers.

PostgreSQL: set ``VALIDATION_TEST_POSTGRES_URL`` (``.ci/run`` starts a server on loopback).
Each test gets a fresh schema, dropped afterwards, so runs never collide. With
``VALIDATION_REQUIRE_POSTGRES=1`` a missing URL fails the PostgreSQL tests instead of
skipping them.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

sys.path.insert(0, str(Path(__file__).parent))

POSTGRES_ENV = "VALIDATION_TEST_POSTGRES_URL"


def _postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("VALIDATION_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"VALIDATION_REQUIRE_POSTGRES=1 but {POSTGRES_ENV} is not set")
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL registry URL whose search_path is a fresh schema."""
    from sqlalchemy import create_engine, text

    from validation.provenance.registry import normalize_url

    base = normalize_url(_postgres_base_url())
    schema = f"prov_{uuid.uuid4().hex[:16]}"
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


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry_url(request: pytest.FixtureRequest) -> str:
    """The registry URL on each backend."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def registry(registry_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """An open registry on each backend, also made the default for the commands."""
    from validation.provenance.registry import Registry

    monkeypatch.setenv("VALIDATION_REGISTRY", registry_url)
    reg = Registry(registry_url)
    yield reg
    reg.close()


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
