"""Paths read from data or a protocol must stay inside the folder they are relative to.

An input outside its root would be analysed without being listed (and hashed) in the run's
``inputs.json``, so the dossier would not cover it: ``../../elsewhere/x.dcm`` and absolute
paths such as ``/etc/passwd`` are refused, each naming its manifest row.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def is_inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """Whether ``root / path`` (symbolic links resolved) lies inside ``root``."""
    base = Path(root).resolve()
    target = (base / Path(path)).resolve()
    return target == base or base in target.parents


def outside_root_problems(frame: Any, column: str, root: str | os.PathLike[str], *,
                          source: str, root_name: str = "images_root") -> list[str]:
    """One line per row of ``frame`` whose ``column`` leaves ``root`` (row numbers from 1)."""
    if column not in frame.columns:
        return []
    ids = frame["case_id"].astype(str).tolist() if "case_id" in frame.columns else None
    out = []
    for i, value in enumerate(frame[column].tolist(), start=1):
        if not isinstance(value, str) or not value.strip():
            continue
        if not is_inside(value.strip(), root):
            case = f" (case {ids[i - 1]!r})" if ids is not None else ""
            out.append(f"{source}: row {i}{case}, column '{column}': {value!r} leaves "
                       f"{root_name}; image paths must be relative paths inside it, so that "
                       "every image is hashed into inputs.json")
    return out
