"""Fixtures of the pipeline tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pipeline_study import make_study


@pytest.fixture
def study(tmp_path: Path) -> Callable[..., Path]:
    def factory(**kwargs: Any) -> Path:
        return make_study(tmp_path / "study", **kwargs)

    return factory
