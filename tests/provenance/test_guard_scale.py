"""The identifier guard's whole-text search finds exactly the hits of the line-by-line search.

Large outputs (a million-case run's Parquet text, CSVs) are searched with each pattern once over
the whole text and only the touched lines line by line (``_Matcher.lines``); lists of numbers in
JSON are skipped when no identifier value reads as a number. Both must give the same hits, in
the same order, as the plain per-line loop, which is the oracle here.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.provenance.identifier_guard import _json_hits, _Matcher

PIECES = [
    "P000123", "p000123-2", "XP000123", "0.123456", "12345678", "1.2.840.10008.1.2.1", "a@b.org",
    "dob 1990-01-02", "born: 01/02/1990", "10.1000/123456789", "doi:10.1016/j.x.2005.10.010",
    "2024-01-31", "20240131", "12345678901", "1234567.5", ",", " ", "-", "\r", "\x1c", "\u2028",
    "SITE-07", "the case", "ab", "ZZ9", "plain text",
]


def _oracle(m: _Matcher, text: str) -> list[tuple[str, str, str]]:
    return [(f"line {i}", k, v) for i, line in enumerate(text.splitlines(), 1) for k, v in m.text(line)]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2000, 6000))
def test_whole_text_search_equals_line_by_line(seed: int, n_lines: int) -> None:
    rng = np.random.default_rng(seed)
    lines = ["".join(rng.choice(PIECES, size=rng.integers(0, 5))) for _ in range(n_lines)]
    text = "\n".join(lines) + ("\n" if seed % 2 else "")
    m = _Matcher({"patient_id": ["P000123", "ZZ9"], "case_id": ["p000123-2"]}, allow=["a@b.org"])
    got = m.lines(text)
    assert got == _oracle(m, text)
    assert got  # the pieces plant hits


def test_short_text_is_searched_line_by_line() -> None:
    m = _Matcher({"patient_id": ["P000123"]}, allow=[])
    text = "x\nP000123,0.5\n12345678\n"
    assert m.lines(text) == _oracle(m, text) == [
        ("line 2", "patient_id", "P000123"), ("line 3", "mrn", "12345678")]


def test_number_lists_are_skipped_only_when_no_identifier_is_a_number() -> None:
    doc = {"roc": {"fpr": [0.0, 0.5, 1.0, None], "n": [3, 12345, 7]}, "flag": [True, 12345]}
    words = _Matcher({"patient_id": ["P000123"]}, allow=[])
    assert not words.numbers_can_hit and list(_json_hits(doc, "", words)) == []
    digits = _Matcher({"patient_id": ["12345", "P000123"]}, allow=[])
    assert digits.numbers_can_hit
    assert list(_json_hits(doc, "", digits)) == [("roc.n[1]", "patient_id", "12345"),
                                                 ("flag[1]", "patient_id", "12345")]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5000), st.booleans())
def test_parquet_by_distinct_values_equals_line_by_line(seed: int, n: int, numeric_id: bool) -> None:
    import tempfile
    from pathlib import Path

    import pandas as pd

    from validation.provenance.identifier_guard import _parquet_hits
    from validation.provenance.phi_scan import _read_text

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "case_id": [f"P{i:06d}-{j}" for i, j in zip(rng.integers(0, n, n), rng.integers(1, 3, n), strict=True)],
        "score": np.where(rng.random(n) < 0.1, np.nan, np.round(rng.random(n) * 10 ** rng.integers(0, 20, n), 3)),
        "mrn_like": rng.integers(10**6, 10**9, n),
        "note": rng.choice(PIECES[:16] + [None], size=n),
        "sha": ["ab12" * 16] * n,
    })
    ids = ["P000123", "P000007-2"] + (["0.5", "123e"] if numeric_id else [])
    m = _Matcher({"patient_id": ids}, allow=["a@b.org"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.parquet"
        frame.to_parquet(path)
        assert _parquet_hits(path, m) == _oracle(m, _read_text(path))
