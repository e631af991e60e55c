"""Fixtures of the provenance tests: registries on both backends and small dossiers.

PostgreSQL: set ``VALIDATION_TEST_POSTGRES_URL`` (``.ci/run`` starts a server on loopback).
Each test gets a fresh schema, dropped afterwards, so runs never collide. With
``VALIDATION_REQUIRE_POSTGRES=1`` a missing URL fails the PostgreSQL tests instead of
skipping them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))





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
