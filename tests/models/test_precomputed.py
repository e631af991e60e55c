"""Precomputed predictions: hash-locked, NaN refused except for non-diagnostic cases."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from validation.errors import DataError, LockedModelError
from validation.models import read_predictions
from validation.models.precomputed import convert_precomputed


def _file(tmp_path: Path, text: str) -> tuple[Path, str]:
    p = tmp_path / "scores.csv"
    p.write_text(text)
    return p, hashlib.sha256(text.encode()).hexdigest()


def test_conversion_keeps_order_and_records_the_file_hash(tmp_path: Path) -> None:
    p, sha = _file(tmp_path, "case_id,prob\nb,0.2\na,0.9\nc,0.5\n")
    out = convert_precomputed(p, sha, ["a", "b", "c"], tmp_path / "o.parquet", score_column="prob")
    df = read_predictions(out)
    assert df.case_id.tolist() == ["a", "b", "c"]
    assert df.score.tolist() == [0.9, 0.2, 0.5]
    assert set(df.model_sha256) == {sha}
    assert df.input_sha256.isna().all()


def test_nan_scores_are_refused_with_case_ids_and_nothing_written(tmp_path: Path) -> None:
    p, sha = _file(tmp_path, "case_id,score\na,0.1\nb,\nc,\nd,0.3\n")
    out = tmp_path / "o.parquet"
    with pytest.raises(DataError) as err:
        convert_precomputed(p, sha, ["a", "b", "c", "d"], out, non_diagnostic=["c"])
    problems = err.value.problems
    assert problems == ["case 'b': score is missing (NaN); only non-diagnostic cases may lack one"]
    assert not out.exists()
    # a score that is not a number breaks the file's specification: row and column named
    p, sha = _file(tmp_path, "case_id,score\na,0.1\nc,oops\n")
    with pytest.raises(DataError) as err:
        convert_precomputed(p, sha, ["a", "c"], out)
    assert "row 2 (line 3), column 'score'" in str(err.value) + " ".join(err.value.problems)
    assert "'oops'" in str(err.value) + " ".join(err.value.problems)
    assert not out.exists()


def test_nan_allowed_only_for_non_diagnostic_cases(tmp_path: Path) -> None:
    p, sha = _file(tmp_path, "case_id,score\na,0.1\nb,\n")
    out = convert_precomputed(p, sha, ["a", "b"], tmp_path / "o.parquet", non_diagnostic=["b"])
    assert pd.isna(read_predictions(out).score[1])


def test_hash_mismatch_missing_cases_and_columns(tmp_path: Path) -> None:
    p, sha = _file(tmp_path, "case_id,score\na,0.1\n")
    with pytest.raises(LockedModelError, match="Predictions file 'scores.csv' does not match"):
        convert_precomputed(p, "f" * 64, ["a"], tmp_path / "o.parquet")
    with pytest.raises(DataError, match="case 'z': no prediction"):
        convert_precomputed(p, sha, ["a", "z"], tmp_path / "o.parquet")
    with pytest.raises(DataError, match="score_column names 'prob', which the file does not"):
        convert_precomputed(p, sha, ["a"], tmp_path / "o.parquet", score_column="prob")
