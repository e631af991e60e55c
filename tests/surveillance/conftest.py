"""Fixtures of the surveillance tests: the demo's pivotal run (once per session) as the
baseline, a locked plan over it, and a registry of each backend."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import pandas as pd  # noqa: E402
from surv_fixture import case_mix, make_baseline, make_batch, model_sha, write_plan  # noqa: E402

POSTGRES_ENV = "VALIDATION_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pivotal")
    env = dict(os.environ)
    env["VALIDATION_HOME"] = str(root / "home")
    env["VALIDATION_REGISTRY"] = f"sqlite:///{root / 'home' / 'registry.sqlite'}"
    return make_baseline(root / "demo", env)


@dataclass
class Surv:
    plan: Path
    registry: str
    model: str
    folder: Path
    pool: pd.DataFrame

    def batch(self, name: str, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("model", self.model)
        kwargs.setdefault("pool", self.pool)
        return make_batch(self.folder / "batches" / f"{name}.csv", batch_id=name, **kwargs)


@pytest.fixture
def surv(tmp_path: Path, baseline: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Surv:
    url = f"sqlite:///{tmp_path / 'reg' / 'registry.sqlite'}"
    monkeypatch.setenv("VALIDATION_REGISTRY", url)
    plan = write_plan(tmp_path / "plan", baseline)
    return Surv(plan=plan, registry=url, model=model_sha(baseline), folder=tmp_path,
                pool=case_mix(baseline))


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
    schema = f"surv_{uuid.uuid4().hex[:16]}"
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
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reg' / 'registry.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))
