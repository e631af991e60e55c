"""Conversions done once per distinct value equal the row-by-row conversion.

``validate_table`` converts a text column's distinct values and spreads them back over the
rows (a 1,000,000-row batch has a few hundred thousand distinct scores, a handful of sites);
``categorical=`` returns a text column as a categorical of its text. Both must give exactly
the values, the failing rows and the messages of the plain path.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.data.specs import ColumnSpec, TableSpec, _coerce, validate_table
from validation.errors import DataError

CELLS = st.one_of(
    st.sampled_from(["", " ", "1", " 1 ", "1.0", "1.5", "-2", "x", "true", "No", "0",
                     "2026-03-01", " 2026-03-01", "2026-02-30", "1e3", "1e100", "nan", "TRUE "]),
    st.text(alphabet="01.-ex aTt", max_size=5),
    st.none(),
)


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(CELLS, min_size=1, max_size=40),
       ctype=st.sampled_from(["string", "integer", "number", "boolean", "date"]))
def test_by_value_equals_row_by_row(cells: list[str | None], ctype: str) -> None:
    series = pd.Series(cells, dtype=object)
    fast, fast_bad = _coerce(series, ctype)
    slow, slow_bad = _coerce(series, ctype, by_value=False)
    assert fast_bad == slow_bad
    assert str(fast.dtype) == str(slow.dtype)
    pd.testing.assert_series_equal(fast.reset_index(drop=True), slow.reset_index(drop=True),
                                   check_names=False)


@settings(max_examples=100, deadline=None)
@given(cells=st.lists(CELLS, min_size=1, max_size=40))
def test_categorical_text_has_the_same_values(cells: list[str | None]) -> None:
    series = pd.Series(cells, dtype=object)
    text, _ = _coerce(series, "string")
    cat, _ = _coerce(series, "string", categorical=True)
    assert isinstance(cat.dtype, pd.CategoricalDtype)
    assert list(cat.cat.categories) == sorted(cat.cat.categories)
    pd.testing.assert_series_equal(cat.astype("string"), text, check_names=False)


SPEC = TableSpec(name="t", version="1", description="", key=("id",), columns=(
    ColumnSpec(name="id", type="string"),
    ColumnSpec(name="sha", type="string", pattern="^[0-9a-f]{4}$"),
    ColumnSpec(name="arm", type="string", allowed=("A", "B")),
    ColumnSpec(name="score", type="number", min=0, max=1),
))


def _messages(df: pd.DataFrame, **kw: object) -> list[str]:
    with pytest.raises(DataError) as exc:
        validate_table(df, SPEC, source="t.csv", **kw)  # type: ignore[arg-type]
    return sorted(exc.value.problems)


def test_categorical_checks_report_the_same_rows_and_values() -> None:
    df = pd.DataFrame({"id": ["a", "b", "c", "d"], "sha": ["00ff", "zz", "00ff", "abc"],
                       "arm": ["A", "C", " B", ""], "score": ["0.5", "2", "x", "1"]})
    plain = _messages(df)
    assert plain == _messages(df, categorical=("sha", "arm"))
    assert any("row 2 (line 3), column 'sha': must match the pattern" in m for m in plain)
    assert any("row 2 (line 3), column 'arm': must be one of A, B; got 'C'" in m for m in plain)
    ok = pd.DataFrame({"id": ["a", "b"], "sha": ["00ff", "0a0a"], "arm": ["B", "A"],
                       "score": ["0", "1"]})
    out = validate_table(ok, SPEC, source="t.csv", categorical=("sha", "arm"))
    assert list(out["arm"]) == ["B", "A"] and list(out["arm"].cat.categories) == ["A", "B"]
