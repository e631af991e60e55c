"""``results.json``: schema version, statistic objects, writing and reading.

The layout is documented in ``docs/CONTRACTS.md`` (section ``results.json``). Every statistic
object carries at least ``estimate``, ``ci`` (``[low, high]``) and ``method``; a statistic that
cannot be computed for a subset (e.g. a sensitivity at a site without positive cases) is an
object with ``estimate: null``, ``ci: [null, null]``, its ``method`` and a ``note`` saying why.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from validation._atomic import write_json_atomic
from validation.errors import InputError
from validation.stats import to_plain

SCHEMA_VERSION = "1.1"
"""1.1: top-level `sample_size` added (the plan, issue 22); error-analysis items name run-local
pseudonyms under `case` instead of `case_id` (issue 23)."""


def stat_dict(result: Any, **extra: Any) -> dict[str, Any]:
    """A statistics-layer result as a results.json statistic object (plus ``extra`` keys)."""
    d = result.to_dict() if hasattr(result, "to_dict") else dict(to_plain(result))
    for key in ("estimate", "ci", "method"):
        if key not in d:
            raise InputError(f"a statistic object must have {key!r}; got keys {sorted(d)!r}.")
    d.update(to_plain(extra))
    return d


def unavailable(method: str, note: str, **extra: Any) -> dict[str, Any]:
    """The statistic object of a quantity that cannot be computed for a subset."""
    d: dict[str, Any] = {"estimate": None, "ci": [None, None], "method": method, "note": note}
    d.update(to_plain(extra))
    return d


def write_results(path: str | os.PathLike[str], results: dict[str, Any]) -> Path:
    """Write ``results`` as canonical JSON, atomically (same content -> same bytes)."""
    if results.get("schema_version") != SCHEMA_VERSION:
        raise InputError(
            f"'schema_version' must be {SCHEMA_VERSION!r}; got {results.get('schema_version')!r}."
        )
    return write_json_atomic(path, results)


def load_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results.json (refusing another schema version)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("schema_version") != SCHEMA_VERSION:
        raise InputError(
            f"results.json 'schema_version' must be {SCHEMA_VERSION!r}; "
            f"got {data.get('schema_version')!r}."
        )
    return dict(data)
