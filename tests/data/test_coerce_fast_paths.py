"""Boolean columns read by distinct value give what the row-by-row reading gave."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.data.specs import _FALSE, _TRUE, _coerce

WORDS = ["true", " TRUE", "yes ", "Y", "1", "1.0", "false", "no", "N", "0", "0.0", "", "  ", "maybe", "2", None]


def _row_by_row(values: list) -> tuple[list, list[int]]:
    out, bad = [], []
    for i, v in enumerate(values):
        if v is None or str(v).strip() == "":
            out.append(pd.NA)
            continue
        s = str(v).strip().lower()
        s = s[:-2] if s.endswith(".0") else s
        out.append(True if s in _TRUE else False if s in _FALSE else pd.NA)
        if s not in _TRUE and s not in _FALSE:
            bad.append(i)
    return out, bad


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=40))
def test_text_booleans_equal_the_row_loop(values: list) -> None:
    got, bad = _coerce(pd.Series(values, dtype=object), "boolean")
    want, want_bad = _row_by_row(values)
    assert str(got.dtype) == "boolean"
    assert [None if pd.isna(v) else bool(v) for v in got] == [None if v is pd.NA else v for v in want]
    assert bad == want_bad


def test_bool_column_is_kept() -> None:
    got, bad = _coerce(pd.Series([True, False, True]), "boolean")
    assert str(got.dtype) == "boolean" and got.tolist() == [True, False, True] and bad == []
