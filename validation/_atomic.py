"""Atomic file writes and canonical JSON.

A file is written to a temporary sibling, flushed and fsynced, then renamed over the target,
so a reader (or a killed run) never sees a half-written file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
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
    return json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> Path:
    return write_text_atomic(path, canonical_json(obj))
