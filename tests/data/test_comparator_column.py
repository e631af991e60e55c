"""The comparator column of a paired hypothesis: what is read and what is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from validation.data.comparator import comparator_problems, comparator_values
from validation.errors import DataError


def _cases(calls: list[object]) -> pd.DataFrame:
    n = len(calls)
    return pd.DataFrame({"case_id": [f"c{i}" for i in range(n)], "truth": [1] * n,
                         "indeterminate": [False] * n, "reader": calls})


@pytest.mark.parametrize(
    ("raw", "want"),
    [("1", True), ("0", False), ("1.0", True), ("0.0", False), (" TRUE ", True), ("no", False),
     (1, True), (0.0, False), (True, True), (np.int64(0), False)],
)
def test_calls_that_are_read(raw: object, want: bool) -> None:
    assert comparator_values(_cases([raw]), "reader", endpoint_kind="sensitivity")[0] == want


def test_unreadable_calls_are_listed_by_case_id() -> None:
    cases = _cases(["1", "2", "maybe", None, "0.5", "1"])
    (msg,) = comparator_problems(cases, "reader", endpoint_kind="specificity",
                                 source="manifest.csv", hypothesis="H3")
    assert "4 analysed case(s) without a call" in msg
    assert "c1 ('2')" in msg and "c2 ('maybe')" in msg and "c3 (empty)" in msg
    assert "c4 ('0.5')" in msg and "manifest.csv" in msg and "'H3'" in msg
    with pytest.raises(DataError):
        comparator_values(cases, "reader", endpoint_kind="specificity")


def test_missing_column_lists_the_manifest_columns_only() -> None:
    (msg,) = comparator_problems(_cases(["1"]), "radiologist", endpoint_kind="sensitivity",
                                 source="manifest.csv", hypothesis="H3")
    assert "'radiologist', which manifest.csv does not have" in msg
    assert msg.endswith("its columns are case_id, truth, reader.")  # not the added flag
    (msg,) = comparator_problems(_cases(["1"]), "readr", endpoint_kind="sensitivity",
                                 source="manifest.csv", hypothesis="H3")
    assert msg.endswith("its columns are case_id, truth, reader. Did you mean 'reader'?")


def test_scores_must_be_finite() -> None:
    cases = _cases(["0.3", "inf", "high", "0.7"])
    (msg,) = comparator_problems(cases, "reader", endpoint_kind="auc", source="m.csv",
                                 hypothesis="H1")
    assert "2 analysed case(s) without a finite number" in msg and "c1 ('inf')" in msg


def test_numeric_values_are_shown_plainly() -> None:
    """A numeric cell is shown as the number, not as numpy's repr."""
    cases = _cases([np.float64(2.0), 1, np.inf])
    (msg,) = comparator_problems(cases, "reader", endpoint_kind="sensitivity", source="m.csv",
                                 hypothesis="H1")
    assert "c0 (2.0)" in msg and "np.float64" not in msg and "c2 (inf)" in msg


@given(st.lists(st.sampled_from(["0", "1", "0.0", "1.0", "true", "False"]), min_size=1,
                max_size=30))
def test_call_spellings_agree(raw: list[str]) -> None:
    """Every accepted spelling of a call reads as the same boolean as its canonical form."""
    got = comparator_values(_cases(list(raw)), "reader", endpoint_kind="sensitivity")
    want = [r.lower() in ("1", "1.0", "true") for r in raw]
    assert got.tolist() == want
