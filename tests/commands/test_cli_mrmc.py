"""``validation mrmc`` end to end: JSON keys of the issue, values equal to the library call."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from validation.cli import app, main
from validation.errors import DesignError
from validation.stats.mrmc import mrmc_analysis


@pytest.fixture(scope="module")
def vandyke_csv(reference_dir):
    return reference_dir / "mrmc" / "vandyke_1993_roc.csv"


def test_json_keys_and_values(vandyke_csv):
    out = CliRunner().invoke(app, ["mrmc", str(vandyke_csv), "--modalities", "2,1",
                                   "--margin", "0.05", "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.output)
    for key in ("endpoint", "modalities", "difference", "rrrc", "frrc", "rrfc",
                "variance_components", "noninferiority"):
        assert key in obj
    assert set(obj["modalities"]) == {"1", "2"}
    assert set(obj["modalities"]["1"]["readers"]) == {"1", "2", "3", "4", "5"}
    assert "estimate" in obj["modalities"]["2"] and "estimate" in obj["difference"]
    for key in ("rrrc", "frrc", "rrfc"):
        assert {"statistic", "df_num", "df_den", "p_value", "ci"} <= set(obj[key])
    assert obj["frrc"]["df_den"] is None
    assert set(obj["variance_components"]) >= {"var", "cov1", "cov2", "cov3", "var_r", "var_tr"}
    assert obj["noninferiority"]["margin"] == 0.05
    # --modalities 2,1 gives 1 minus 2, the published Van Dyke sign
    assert obj["difference"]["estimate"] == pytest.approx(-0.04380032, abs=1e-8)
    lib = mrmc_analysis(pd.read_csv(vandyke_csv), modalities=("2", "1"), margin=0.05)
    assert obj["rrrc"]["p_value"] == lib.rrrc.p_value


def test_binary_endpoint_by_column_name(tmp_path, vandyke_csv):
    df = pd.read_csv(vandyke_csv)
    df["call"] = (df["rating"] >= 3).astype(int)
    path = tmp_path / "calls.csv"
    df.to_csv(path, index=False)
    out = CliRunner().invoke(app, ["mrmc", str(path), "--rating", "call", "--endpoint",
                                   "sensitivity", "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.output)
    assert obj["endpoint"] == "sensitivity" and obj["n_cases_used"] == 45


def test_incomplete_design_is_one_line_exit_2(tmp_path, vandyke_csv, monkeypatch, capsys):
    df = pd.read_csv(vandyke_csv).iloc[1:]
    path = tmp_path / "gap.csv"
    df.to_csv(path, index=False)
    # OR asked for explicitly: refused (the default, --method auto, analyses it by U-statistics)
    out = CliRunner().invoke(app, ["mrmc", str(path), "--method", "or"])
    assert isinstance(out.exception, DesignError)
    monkeypatch.setattr(sys, "argv", ["validation", "mrmc", str(path), "--method", "or"])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    # neither crossed nor a split plot: the file, reader, case and row that break the design
    assert err.startswith("error: gap.csv: no OR analysis supports this design: reader '1' read "
                          "case '1' in modality '2' only (data row 114)")
    assert "Traceback" not in err


def test_conduct_and_reading_time_in_json(reference_dir):
    path = reference_dir / "mrmc" / "reading_time_sim.csv"
    out = CliRunner().invoke(app, ["mrmc", str(path), "--rating", "time_s", "--time", "time_s",
                                   "--modalities", "unaided,aided", "--truthers", "R2",
                                   "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.output)
    assert obj["conduct"]["checks"]["fully_crossed"]["status"] == "pass"
    assert obj["conduct"]["checks"]["readers_not_truthers"]["status"] == "fail"
    assert obj["conduct"]["passed"] is False
    assert obj["reading_time"]["comparison"] == "aided / unaided"
    assert 0.75 < obj["reading_time"]["estimate"] < 0.9


@pytest.mark.parametrize(("args", "match"), [
    (["--margin", "5"], "'margin' must be a positive number below 1 (a difference of AUCs or "
                        "proportions), e.g. 0.05; got 5.0."),
    (["--alpha", "0.6"], "'--alpha' is the two-sided level of the interval"),
])
def test_margin_and_alpha_on_their_scale(vandyke_csv, args, match):
    from validation.errors import InputError

    out = CliRunner().invoke(app, ["mrmc", str(vandyke_csv), *args])
    assert isinstance(out.exception, InputError) and match in str(out.exception)
