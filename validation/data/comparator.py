"""A comparator read on the same cases: the manifest column a paired hypothesis names.

A standalone hypothesis with ``comparator_column`` compares the locked model with another
reading of the same analysed cases (a radiologist's call, a predicate device's score). The
column holds a call (0/1 or true/false; for sensitivity and specificity) or a score (a finite
number; for the AUC) on every analysed case. :func:`comparator_problems` lists what is wrong
with such a column before anything is computed; :func:`comparator_values` returns its values.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from validation.errors import DataError

_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}
_SHOW = 5
_ADDED = ("indeterminate", "exclusion_reason")  # columns the test-set loader adds


def reading_kind(endpoint_kind: str) -> str:
    """``"call"`` for sensitivity/specificity, ``"score"`` for the AUC."""
    return "score" if endpoint_kind == "auc" else "call"


def _parse_call(value: Any) -> bool | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return bool(value) if float(value) in (0.0, 1.0) else None
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    try:  # numeric text such as "1.0" or "0.0"
        number = float(text)
    except ValueError:
        return None
    return bool(number) if number in (0.0, 1.0) else None


def _parse(series: pd.Series, kind: str) -> tuple[NDArray[Any], NDArray[np.bool_]]:
    """Values and a mask of the entries that could not be read."""
    if kind == "call":
        parsed = [_parse_call(v) for v in series.tolist()]
        bad = np.array([p is None for p in parsed], dtype=bool)
        vals = np.array([bool(p) for p in parsed], dtype=bool)
        return vals, bad
    num = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    return num, ~np.isfinite(num)


def comparator_problems(
    cases: pd.DataFrame, column: str, *, endpoint_kind: str, source: str, hypothesis: str
) -> list[str]:
    """What is wrong with ``column`` as the comparator of ``hypothesis`` (empty when fine)."""
    if column not in cases.columns:
        names = [str(c) for c in cases.columns if c not in _ADDED]
        close = difflib.get_close_matches(column, names, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return [f"hypothesis {hypothesis!r} names comparator column {column!r}, which {source} "
                f"does not have; its columns are {', '.join(names)}.{hint}"]
    kind = reading_kind(endpoint_kind)
    _, bad = _parse(cases[column], kind)
    if not bad.any():
        return []
    ids = cases["case_id"].astype(str).to_numpy()[bad] if "case_id" in cases else np.flatnonzero(bad)
    raw = cases[column].to_numpy()[bad]
    shown = ", ".join(f"{i} ({'empty' if pd.isna(v) else repr(v) if isinstance(v, str) else v})"
                      for i, v in zip(ids[:_SHOW], raw[:_SHOW], strict=True))
    more = f" and {int(bad.sum()) - _SHOW} more" if bad.sum() > _SHOW else ""
    want = ("a call, 0/1 or true/false" if kind == "call" else "a finite number (the score)")
    return [f"comparator column {column!r} of hypothesis {hypothesis!r} in {source}: "
            f"{int(bad.sum())} analysed case(s) without {want}: case_id {shown}{more}. A paired "
            f"comparison needs the comparator's reading of every analysed case."]


def comparator_values(cases: pd.DataFrame, column: str, *, endpoint_kind: str) -> NDArray[Any]:
    """The comparator's calls (bool) or scores (float), one per row of ``cases``.

    Raises
    ------
    DataError
        When the column is missing or any value cannot be read.
    """
    problems = comparator_problems(cases, column, endpoint_kind=endpoint_kind,
                                   source="the analysed cases", hypothesis=column)
    if problems:
        raise DataError("the comparator's reading cannot be used:", problems=problems)
    vals, _ = _parse(cases[column], reading_kind(endpoint_kind))
    return vals
