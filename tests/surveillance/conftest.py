"""Fixtures of the surveillance tests: the demo's pivotal run (once per session) as the
baseline, a locked plan over it, and a registry of each backend."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import pandas as pd  # noqa: E402
from surv_fixture import case_mix, make_baseline, make_batch, model_sha, write_plan  # noqa: E402


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



@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reg' / 'registry.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))
