"""The time-to-event table: locked hash, data specification (every problem with row and
column) and the match to the test set."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from validation.data.time_to_event import load_outcomes, match_outcomes
from validation.errors import DataError, LockedModelError
from validation.provenance.hashing import sha256_bytes


def _write(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = tmp_path / "outcomes.csv"
    path.write_bytes(text.encode())
    return path, sha256_bytes(text.encode())


def test_valid_table_loads(tmp_path: Path) -> None:
    path, sha = _write(tmp_path, "case_id,time,event,censoring_reason\nA,1.5,1,\nB,3,0,end_of_study\n")
    df = load_outcomes(path, sha256=sha)
    assert df["time"].tolist() == [1.5, 3.0] and df["event"].tolist() == [1, 0]


def test_every_problem_is_listed_with_row_and_column(tmp_path: Path) -> None:
    path, sha = _write(tmp_path, "case_id,time,event\nA,-1,1\nB,2,2\nB,3,0\nC,x,1\n")
    with pytest.raises(DataError) as err:
        load_outcomes(path, sha256=sha)
    text = str(err.value)
    assert "column 'time'" in text and "-1" in text
    assert "column 'event'" in text and "2" in text
    assert "duplicate case_id 'B'" in text
    assert "'x'" in text


def test_censoring_reason_on_an_event_row_is_refused(tmp_path: Path) -> None:
    path, sha = _write(tmp_path, "case_id,time,event,censoring_reason\nA,1,1,withdrawn\n")
    with pytest.raises(DataError, match="row 1 .*'censoring_reason': must be empty when event is 1"):
        load_outcomes(path, sha256=sha)


def test_changed_file_fails_its_locked_hash(tmp_path: Path) -> None:
    path, _ = _write(tmp_path, "case_id,time,event\nA,1,1\n")
    with pytest.raises(LockedModelError):
        load_outcomes(path, sha256="0" * 64)


def test_match_refuses_missing_and_unknown_cases(tmp_path: Path) -> None:
    class _TS:
        manifest = pd.DataFrame({"case_id": ["A", "B"]})

    cases = pd.DataFrame({"case_id": ["A", "B"], "score": [0.1, 0.2]})
    out = pd.DataFrame({"case_id": ["A", "Z"], "time": [1.0, 2.0], "event": [1, 0]})
    with pytest.raises(DataError) as err:
        match_outcomes(_TS(), cases, out, source="outcomes.csv")  # type: ignore[arg-type]
    assert "'Z'" in str(err.value) and "'B'" in str(err.value)
    ok = pd.DataFrame({"case_id": ["B", "A"], "time": [2.0, 1.0], "event": [0, 1]})
    joined = match_outcomes(_TS(), cases, ok, source="outcomes.csv")  # type: ignore[arg-type]
    assert joined["time"].tolist() == [1.0, 2.0] and joined["event"].tolist() == [1, 0]
