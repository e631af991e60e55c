"""Study-conduct checks: crossed design, washout, readers who are also truthers."""

from __future__ import annotations

import pandas as pd
import pytest

from validation.errors import InputError
from validation.stats.mrmc.conduct import study_conduct


@pytest.fixture(scope="module")
def study(reference_dir):
    df = pd.read_csv(reference_dir / "mrmc" / "franken_1992_roc.csv")
    # session 1 on 1 March, session 2 on 5 April (35 days): a compliant washout
    return df.assign(read_on=df["modality"].map({1: "2026-03-01", 2: "2026-04-05"}))


def test_compliant_study_passes(study):
    res = study_conduct(study, date="read_on", truthers=["T1", "T2"])
    assert res.passed
    assert {k: c.status for k, c in res.checks.items()} == {
        "fully_crossed": "pass", "washout": "pass", "readers_not_truthers": "pass"}
    assert res.checks["washout"].values["shortest_gap_days_by_reader"] == {
        "1": 35.0, "2": 35.0, "3": 35.0, "4": 35.0}


def test_every_problem_is_listed(study):
    bad = study.drop(study.index[:3]).copy()
    bad.loc[(bad.reader == 2) & (bad.modality == 2) & (bad.case <= 4), "read_on"] = "2026-03-20"
    res = study_conduct(bad, date="read_on", washout_days_min=28, truthers=[2, "T9"])
    assert not res.passed
    crossed = res.checks["fully_crossed"]
    assert crossed.status == "fail" and crossed.values["missing_readings"] == 3
    assert "reader '1' did not read case '1' in modality '1'" in crossed.problems
    wash = res.checks["washout"]
    assert wash.status == "fail" and len(wash.problems) == 4
    assert "reader '2' read case '3' in two modalities 19 days apart" in wash.problems[2]
    assert res.checks["readers_not_truthers"].problems == ("reader '2' is also a truther",)


def test_not_checked_without_dates_or_truthers(study):
    res = study_conduct(study)
    assert res.passed
    assert res.checks["washout"].status == "not checked"
    assert res.checks["readers_not_truthers"].status == "not checked"


def test_bad_inputs(study):
    with pytest.raises(InputError, match="missing 'when'"):
        study_conduct(study, date="when")
    with pytest.raises(InputError, match="must hold a date"):
        study_conduct(study.assign(read_on="soon"), date="read_on")
    with pytest.raises(InputError, match="'washout_days_min' must be >= 0"):
        study_conduct(study, washout_days_min=-1)
