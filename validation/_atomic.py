"""Atomic file writes and canonical JSON.

A file is written to a temporary sibling, flushed and fsynced, then renamed over the target,
so a reader (or a killed run) never sees a half-written file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def _check_finite(obj: Any, where: str = "$") -> None:
    # The location string is built only on the way down to containers and to a bad number,
    # so a results file with a million-point curve is checked in one pass of cheap tests.
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"non-finite number {obj!r} at {where} cannot be written to JSON")
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(value, (dict, list, tuple, float)):
                _check_finite(value, f"{where}.{key}")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            if isinstance(value, float):
                if not math.isfinite(value):
                    _check_finite(value, f"{where}[{i}]")
            elif isinstance(value, (dict, list, tuple)):
                _check_finite(value, f"{where}[{i}]")


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8, no NaN/Infinity, final newline.

    Floats are written with Python's shortest round-trip repr, so the same value always gives
    the same bytes. Use ``None`` for a missing number, never NaN.
    """
    _check_finite(obj)
    lifted: dict[str, list[Any]] = {}
    text = json.dumps(_lift(obj, lifted), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    for token, values in lifted.items():
        quoted = json.dumps(token)
        at = text.index(quoted)
        line = text[text.rfind("\n", 0, at) + 1:at]  # the list opens on this line
        pad = " " * (len(line) - len(line.lstrip(" ")))
        text = text.replace(quoted, _number_list(values, pad), 1)
    return text + "\n"


#: Lists of at least this many plain numbers are written by :func:`_number_list` (same bytes).
_LIFT_MIN = 1000


def _lift(obj: Any, lifted: dict[str, list[Any]]) -> Any:
    """``obj`` with each long list of plain ints, floats and nulls replaced by a unique token string
    (recorded in ``lifted``); containers are copied only on the way to such a list."""
    if isinstance(obj, dict):
        out = {k: _lift(v, lifted) for k, v in obj.items()}
        return out if any(out[k] is not v for k, v in obj.items()) else obj
    if isinstance(obj, (list, tuple)):
        if len(obj) >= _LIFT_MIN and all(type(v) is float or type(v) is int or v is None for v in obj):
            token = f"\x00numbers {uuid.uuid4().hex} {len(lifted)}\x00"
            lifted[token] = list(obj)
            return token
        if not any(isinstance(v, (dict, list, tuple)) for v in obj):
            return obj
        items = [_lift(v, lifted) for v in obj]
        return items if any(a is not b for a, b in zip(items, obj, strict=True)) else obj
    return obj


def _number_list(values: list[Any], pad: str) -> str:
    """What ``json.dumps(..., indent=2)`` writes for ``values`` opening on a line indented ``pad``."""
    inner = ",\n" + pad + "  "
    return "[\n" + pad + "  " + inner.join(
        float.__repr__(v) if type(v) is float else "null" if v is None else int.__repr__(v) for v in values
    ) + "\n" + pad + "]"


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> Path:
    return write_text_atomic(path, canonical_json(obj))
