"""The data layer: table specifications, the test set, predictions and reader ratings.

Everything here reads files and checks them before any statistic is computed; problems are
collected and raised together as :class:`validation.errors.DataError`.

Public names are imported lazily so that ``validation.data.tabular`` (used by the calculator
commands) does not pull in pandera.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_manifest": "validation.data.manifest",
    "load_precomputed_predictions": "validation.data.predictions",
    "match_predictions": "validation.data.predictions",
    "load_ratings": "validation.data.ratings",
    "TableSpec": "validation.data.specs",
    "load_spec": "validation.data.specs",
    "load_table": "validation.data.specs",
    "validate_table": "validation.data.specs",
    "ExclusionRule": "validation.data.testset",
    "TestSet": "validation.data.testset",
    "build_test_set": "validation.data.testset",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'validation.data' has no attribute {name!r}")
