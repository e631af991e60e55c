"""Fixtures of the change-control tests: a locked, signed demo plan beside a locked tabular
demo protocol, in a registry of each backend (PostgreSQL with VALIDATION_TEST_POSTGRES_URL)."""

from __future__ import annotations

from pathlib import Path

import pytest

SEED = 20261128



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
