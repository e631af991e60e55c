"""subgroup_levels by distinct value (text) and by array (bands) equals the row-by-row reading."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.analysis.subgroups import MISSING, OUTSIDE, band_labels, subgroup_levels


def _old_text(column: pd.Series) -> pd.Series:
    text = column.astype("string").str.strip()
    return text.fillna(MISSING).replace("", MISSING).astype(object)


def _old_bands(column: pd.Series, edges: list[float], labs: list[str]) -> list[str]:
    out = []
    for x in pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan):
        i = int(np.searchsorted(edges, x, side="right") - 1)
        i = len(edges) - 2 if x == edges[-1] else i
        out.append(MISSING if np.isnan(x) else OUTSIDE if i < 0 or i >= len(edges) - 1 else labs[i])
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["F", " F", "M ", "", "  ", None, "x y", "é"]), min_size=1, max_size=30),
       st.booleans())
def test_text_levels(values: list, mixed: bool) -> None:
    column = pd.Series(values + ([1.0, 1] if mixed else []), dtype=object)
    got = subgroup_levels(column)
    assert got.tolist() == _old_text(column).tolist() and got.dtype == object


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(-10, 110, allow_nan=False),
                          st.sampled_from([0.0, 40.0, 65.0, 100.0])), min_size=1, max_size=30))
def test_band_levels(values: list) -> None:
    edges = [0.0, 40.0, 65.0, 100.0]
    column = pd.Series(values, dtype=object)
    got = subgroup_levels(column, bins=edges)
    assert got.tolist() == _old_bands(column, edges, band_labels(edges))
