"""Table specifications: every violation reported at once, with row and column."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.data.specs import (
    TYPES,
    available_specs,
    load_spec,
    load_table,
    to_pandera,
    validate_table,
)
from validation.errors import DataError, InputError

EXPECTED_SPECS = {
    "test_set_manifest", "predictions", "reader_ratings", "segmentation_masks_index",
    "surveillance_batch",
}


def good_manifest(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": [f"C{i}" for i in range(n)],
            "patient_id": [f"P{i // 2}" for i in range(n)],
            "site": ["S1", "S2"] * (n // 2),
            "truth": ["1", "0"] * (n // 2),
            "age": ["40", "71.5"] * (n // 2),
            "sex": ["F", "M"] * (n // 2),
            "consent_withdrawn": ["false", "TRUE"] * (n // 2),
        }
    )


@pytest.mark.parametrize("name", sorted(EXPECTED_SPECS))
def test_every_spec_loads_and_builds_a_pandera_schema(name: str) -> None:
    spec = load_spec(name)
    assert spec.name == name
    assert spec.key and set(spec.key) <= set(spec.column_names)
    for col in spec.columns:
        assert col.type in TYPES
        assert col.description, f"{name}.{col.name} has no description"
    schema = to_pandera(spec)
    assert set(schema.columns) == set(spec.column_names)


def test_all_expected_specs_present() -> None:
    assert EXPECTED_SPECS <= set(available_specs())


def test_unknown_spec_did_you_mean() -> None:
    with pytest.raises(InputError, match="Did you mean 'test_set_manifest'"):
        load_spec("test_set_manifets")


def test_malformed_spec_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nkey: [id]\ncolumns:\n  - {name: x, type: strng, requird: true}\n")
    with pytest.raises(InputError) as exc:
        load_spec(bad)
    msg = str(exc.value)
    assert "'type' must be one of" in msg and "Did you mean 'required'" in msg
    assert "key column 'id'" in msg


def test_valid_manifest_is_typed() -> None:
    df = validate_table(good_manifest(), load_spec("test_set_manifest"), source="m.csv")
    assert str(df["truth"].dtype) == "Int64"
    assert df["consent_withdrawn"].tolist() == [False, True] * 3
    assert df["age"].tolist() == [40.0, 71.5] * 3
    # optional flag columns absent from the file get their declared default
    assert df["ai_opt_out"].tolist() == [False] * 6
    assert df["non_diagnostic"].tolist() == [False] * 6


def test_every_violation_at_once_with_row_and_column() -> None:
    df = good_manifest()
    df = df.rename(columns={"site": "sitee"})
    df.loc[1, "truth"] = "2"
    df.loc[2, "age"] = "old"
    df.loc[3, "sex"] = "X"
    df.loc[4, "consent_withdrawn"] = "maybe"
    df.loc[5, "case_id"] = "C0"
    df.loc[0, "age"] = "200"
    with pytest.raises(DataError) as exc:
        validate_table(df, load_spec("test_set_manifest"), source="manifest.csv")
    problems = exc.value.problems
    text = "\n".join(problems)
    assert "column 'site' (text) is required but missing" in text
    assert "Did you mean 'sitee'?" in text
    assert "row 2 (line 3), column 'truth': must be one of 0, 1; got 2." in text
    assert "row 3 (line 4), column 'age': must be a number; got 'old'." in text
    assert "row 4 (line 5), column 'sex': must be one of F, M, O, U; got 'X'." in text
    assert "row 5 (line 6), column 'consent_withdrawn': must be true/false" in text
    assert "duplicate case_id 'C0' at rows 1, 6" in text
    assert "row 1 (line 2), column 'age': must be <= 130 years; got 200.0." in text
    assert len(problems) == 7
    assert str(exc.value).startswith(
        "manifest.csv violates data spec test_set_manifest (7 problems)"
    )


def test_parquet_rows_have_no_line_numbers(tmp_path: Path) -> None:
    df = good_manifest()
    df["truth"] = [1, 0, 3, 0, 1, 0]
    path = tmp_path / "m.parquet"
    df.to_parquet(path)
    with pytest.raises(DataError) as exc:
        load_table(path, "test_set_manifest")
    assert exc.value.problems == ["row 3, column 'truth': must be one of 0, 1; got 3."]


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        load_table(empty, "test_set_manifest")
    header_only = tmp_path / "h.csv"
    header_only.write_text("case_id,patient_id,site,truth\n")
    with pytest.raises(DataError, match="no data rows"):
        load_table(header_only, "test_set_manifest")
    with pytest.raises(DataError, match="does not exist"):
        load_table(tmp_path / "nope.csv", "test_set_manifest")


def test_empty_required_cell() -> None:
    df = good_manifest()
    df.loc[2, "patient_id"] = ""
    with pytest.raises(DataError) as exc:
        validate_table(df, load_spec("test_set_manifest"), source="m.csv")
    assert exc.value.problems == [
        "row 3 (line 4), column 'patient_id': must not be empty; got empty."
    ]


def test_predictions_pattern_check() -> None:
    df = pd.DataFrame({"case_id": ["a", "b"], "score": ["0.1", ""],
                       "model_sha256": ["f" * 64, "XYZ"]})
    with pytest.raises(DataError) as exc:
        validate_table(df, load_spec("predictions"), source="p.csv")
    assert len(exc.value.problems) == 1
    assert "row 2 (line 3), column 'model_sha256': must match the pattern" in exc.value.problems[0]


@settings(max_examples=25, deadline=None)
@given(
    bad=st.dictionaries(
        st.integers(min_value=0, max_value=19),
        st.sampled_from(["2", "-1", "x", "0.5", "yes"]),
        max_size=8,
    )
)
def test_one_problem_per_bad_truth_cell(bad: dict[int, str]) -> None:
    """Brute force: each bad truth cell gives exactly one problem naming its row."""
    df = good_manifest(20)
    for i, v in bad.items():
        df.loc[i, "truth"] = v
    spec = load_spec("test_set_manifest")
    if not bad:
        validate_table(df, spec, source="m.csv")
        return
    with pytest.raises(DataError) as exc:
        validate_table(df, spec, source="m.csv")
    rows = sorted(int(re.findall(r"^row (\d+)", p)[0]) for p in exc.value.problems)
    assert rows == sorted(i + 1 for i in bad)
