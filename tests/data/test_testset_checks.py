"""Test-set checks, exclusions and STARD flow counts (against a brute-force count)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.data.predictions import (
    load_precomputed_predictions,
    match_predictions,
    predictions_frame,
)
from validation.data.ratings import load_ratings
from validation.data.specs import load_spec, validate_table
from validation.data.testset import INDETERMINATE, ExclusionRule, TestSet, build_test_set
from validation.errors import DataError, LockedModelError
from validation.provenance.hashing import sha256_file

RULES = [
    ExclusionRule("consent_withdrawn", "consent_withdrawn", (True,)),
    ExclusionRule("ai_opt_out", "ai_opt_out", ("yes",)),
]


def manifest(rows: list[tuple[int | None, bool, bool, bool, str]]) -> pd.DataFrame:
    """rows: (truth or None, consent_withdrawn, ai_opt_out, non_diagnostic, site)."""
    raw = pd.DataFrame(
        {
            "case_id": [f"C{i}" for i in range(len(rows))],
            "patient_id": [f"P{i // 2}" for i in range(len(rows))],
            "site": [r[4] for r in rows],
            "truth": ["" if r[0] is None else str(r[0]) for r in rows],
            "consent_withdrawn": [str(r[1]) for r in rows],
            "ai_opt_out": [str(r[2]) for r in rows],
            "non_diagnostic": [str(r[3]) for r in rows],
        }
    )
    return validate_table(raw, load_spec("test_set_manifest"), source="m.csv")


row_strategy = st.tuples(
    st.sampled_from([0, 1, 1, 0, None]), st.booleans(), st.booleans(), st.booleans(),
    st.sampled_from(["A", "B", "C"]),
)


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(row_strategy, min_size=1, max_size=30))
def test_flow_counts_match_brute_force(
    rows: list[tuple[int | None, bool, bool, bool, str]],
) -> None:
    m = manifest(rows)
    # brute force, one case at a time, first matching reason wins
    excluded = {"consent_withdrawn": 0, "ai_opt_out": 0, "reference_standard_missing": 0}
    analysed = []
    for r in rows:
        if r[1]:
            excluded["consent_withdrawn"] += 1
        elif r[2]:
            excluded["ai_opt_out"] += 1
        elif r[0] is None:
            excluded["reference_standard_missing"] += 1
        else:
            analysed.append(r)
    if not analysed:
        with pytest.raises(DataError, match="every case is excluded"):
            build_test_set(m, source="m.csv", exclusions=RULES)
        return
    ts = build_test_set(m, source="m.csv", exclusions=RULES)
    f = ts.flow
    assert f["eligible"] == len(rows)
    assert f["excluded"] == excluded
    assert f["excluded_total"] == sum(excluded.values())
    assert f["analysed"] == len(analysed) == len(ts.analysed)
    assert f["indeterminate"] == sum(r[3] for r in analysed)
    assert f["determinate"] == sum(not r[3] for r in analysed)
    assert f["by_reference"] == {
        "positive": sum(r[0] == 1 for r in analysed),
        "negative": sum(r[0] == 0 for r in analysed),
    }
    assert f["indeterminate_by_reference"]["positive"] == sum(r[0] == 1 and r[3] for r in analysed)
    sites = sorted({r[4] for r in analysed})
    assert f["sites"] == {s: sum(r[4] == s for r in analysed) for s in sites}
    # excluded cases are never in the analysed set
    assert not (ts.analysed["consent_withdrawn"].any() or ts.analysed["ai_opt_out"].any())
    assert ts.analysed[INDETERMINATE].sum() == f["indeterminate"]


def test_training_site_refused_and_columns_checked_together() -> None:
    m = manifest([(1, False, False, False, "A"), (0, False, False, False, "T1")])
    with pytest.raises(DataError) as exc:
        build_test_set(
            m, source="m.csv", exclusions=[ExclusionRule("x", "consent_withdrwn", (True,))],
            training_sites=["T1", "T9"], subgroup_columns={"scanner": "manufactur"},
        )
    text = "\n".join(exc.value.problems)
    assert "site 'T1' (1 case in m.csv) is one of the model's training sites (T1, T9)" in text
    assert "subgroup 'scanner' names column 'manufactur'" in text
    assert "exclusion rule 'x' names column 'consent_withdrwn'" in text
    assert "Did you mean 'consent_withdrawn'?" in text
    assert len(exc.value.problems) == 3


def _scored_setup(tmp_path: Path) -> tuple[TestSet, Path]:
    m = manifest([(1, False, False, False, "A"), (0, True, False, False, "A"),
                  (1, False, False, True, "B"), (0, False, False, False, "B")])
    ts = build_test_set(m, source="m.csv", exclusions=RULES)
    p = tmp_path / "pred.csv"
    p.write_text("case_id,prob\nC0,0.9\nC1,0.2\nC2,\nC3,0.4\n")
    return ts, p


def test_precomputed_predictions_hash_and_match(tmp_path: Path) -> None:
    ts, p = _scored_setup(tmp_path)
    preds = load_precomputed_predictions(p, sha256=sha256_file(p), score_column="prob")
    scored = match_predictions(ts, preds, source="pred.csv")
    # C1 (consent withdrawn) is dropped; C2 is indeterminate and may have no score
    assert scored["case_id"].tolist() == ["C0", "C2", "C3"]
    assert scored["score"].tolist()[0] == 0.9 and np.isnan(scored["score"].tolist()[1])
    frame = predictions_frame(scored, model_sha256="a" * 64)
    assert list(frame.columns) == ["case_id", "score", "model_sha256", "input_sha256"]


def test_hash_mismatch_shows_both_hashes(tmp_path: Path) -> None:
    _, p = _scored_setup(tmp_path)
    with pytest.raises(LockedModelError) as exc:
        load_precomputed_predictions(p, sha256="0" * 64, score_column="prob")
    assert "0" * 64 in str(exc.value) and sha256_file(p) in str(exc.value)


def test_missing_score_column(tmp_path: Path) -> None:
    _, p = _scored_setup(tmp_path)
    with pytest.raises(DataError, match="score_column names 'score'.*'prob'|'prob'"):
        load_precomputed_predictions(p, sha256=sha256_file(p), score_column="probability")


def test_ratings_checked_and_excluded_dropped(tmp_path: Path) -> None:
    m = manifest([(1, False, False, False, "A"), (0, True, False, False, "A"),
                  (1, False, False, False, "B"), (0, False, False, False, "B")])
    ts = build_test_set(m, source="m.csv", exclusions=RULES)
    lines = ["reader_id,case_id,modality,rating"]
    for r in ("R1", "R2"):
        for c in ("C0", "C1", "C2", "C3"):
            for mod in ("unaided", "aided"):
                lines.append(f"{r},{c},{mod},3")
    path = tmp_path / "r.csv"
    path.write_text("\n".join(lines) + "\n")
    rated = load_ratings(path, ts, modalities=["unaided", "aided"])
    assert rated.dropped_excluded == 4
    assert set(rated.table["case_id"]) == {"C0", "C2", "C3"}
    assert rated.table.set_index("case_id")["truth"].to_dict() == {"C0": 1, "C2": 1, "C3": 0}
    with pytest.raises(DataError) as exc:
        load_ratings(path, ts, modalities=["unaided", "assisted"])
    text = "\n".join(exc.value.problems)
    assert "modality 'aided' is not one of" in text and "'assisted' has no ratings" in text


def test_ratings_must_be_fully_crossed(tmp_path: Path) -> None:
    """Found when the ratings are loaded (before the run starts), naming the file and each
    missing reading."""
    m = manifest([(1, False, False, False, "A"), (0, False, False, False, "A"),
                  (1, False, False, False, "B")])
    ts = build_test_set(m, source="m.csv", exclusions=RULES)
    lines = ["reader_id,case_id,modality,rating"]
    for r in ("R1", "R2"):
        for c in ("C0", "C1", "C2"):
            for mod in ("unaided", "aided"):
                if (r, c, mod) not in {("R2", "C1", "aided"), ("R1", "C2", "unaided")}:
                    lines.append(f"{r},{c},{mod},3")
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as exc:
        load_ratings(path, ts, modalities=["unaided", "aided"])
    assert str(exc.value).startswith("ratings.csv: the reader study is not fully crossed")
    assert "(2 reading(s) missing)" in str(exc.value)
    assert exc.value.problems == ["reader 'R1' has no rating of case 'C2' in modality 'unaided'",
                                  "reader 'R2' has no rating of case 'C1' in modality 'aided'"]


def test_an_analysed_case_without_any_rating_is_refused(tmp_path: Path) -> None:
    m = manifest([(1, False, False, False, "A"), (0, False, False, False, "A"),
                  (1, False, False, False, "B")])
    ts = build_test_set(m, source="m.csv", exclusions=RULES)
    lines = ["reader_id,case_id,modality,rating"]
    for r in ("R1", "R2"):
        for c in ("C0", "C1"):
            for mod in ("unaided", "aided"):
                lines.append(f"{r},{c},{mod},3")
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as exc:
        load_ratings(path, ts, modalities=["unaided", "aided"])
    assert str(exc.value).startswith("ratings.csv: 1 analysed case(s) of the test set have no "
                                     "rating at all")
    assert exc.value.problems == ["case 'C2' has no rating"]
