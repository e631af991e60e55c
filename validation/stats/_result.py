"""Common behaviour of the statistics layer's frozen result dataclasses.

Every result class is declared ``@dataclass(frozen=True, slots=True, kw_only=True)`` and
inherits :class:`Result`, which gives it ``to_dict()`` (plain JSON-ready data for
``results.json``: numpy scalars become Python numbers, tuples and arrays become lists, nested
results become dicts, non-finite floats become ``None``) and a default ``summary()``.
Numbers are never rounded here; only report templates round.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def to_plain(value: Any) -> Any:
    """Convert a result value into JSON-ready Python data (recursively)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biu" or (value.dtype.kind == "f" and bool(np.isfinite(value).all())):
            return value.tolist()  # Python bools, ints and floats, as the loop below gives
        return [to_plain(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    return value


class Result:
    """Mixin for result dataclasses: ``to_dict()`` and ``summary()``."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def summary(self) -> str:
        lines = [type(self).__name__]
        for key, value in self.to_dict().items():
            if key == "references":
                continue
            lines.append(f"  {key}: {value}")
        return "\n".join(lines)
