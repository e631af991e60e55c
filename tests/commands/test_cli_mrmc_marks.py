"""``validation mrmc`` with marks (JAFROC) and with split-plot data; bad marks exit 2."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from validation.cli import app, main


@pytest.fixture(scope="module")
def tony_files(reference_dir, tmp_path_factory):
    """RJafroc's dataset01 in the marks and lesion-truth specifications."""
    d = reference_dir / "froc"
    out = tmp_path_factory.mktemp("tony")
    marks = pd.read_csv(d / "dataset01_marks.csv", dtype=str).rename(
        columns={"case": "case_id", "reader": "reader_id", "lesion": "lesion_id"})
    truth = pd.read_csv(d / "dataset01_truth.csv", dtype=str).rename(
        columns={"case": "case_id", "lesion": "lesion_id"})
    marks.to_csv(out / "marks.csv", index=False)
    truth.to_csv(out / "truth.csv", index=False)
    ref = json.loads((d / "rjafroc_dataset01.json").read_text())
    return out / "marks.csv", out / "truth.csv", ref


def test_marks_give_rjafroc_wafroc_analysis(tony_files):
    marks, truth, ref = tony_files
    out = CliRunner().invoke(app, ["mrmc", str(marks), "--lesions", str(truth),
                                   "--modalities", "DM,BT", "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.output)
    a = obj["analysis"]
    assert a["endpoint"] == "wAFROC"
    assert a["rrrc"]["statistic"] == pytest.approx(ref["or_rrrc"]["ftests"]["FStat"][0], abs=1e-9)
    assert obj["match"]["n_lesions"] == 95 and obj["match"]["n_lesion_localizations"] == 754
    assert set(obj["curves"]) == {"DM", "BT"}
    assert obj["curves"]["BT"]["1"]["wafroc"]["fpf"][-1] == 1.0


def _run_main(monkeypatch, capsys, args):
    monkeypatch.setattr(sys, "argv", ["validation", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    return stop.value.code, capsys.readouterr().err


def test_bad_marks_name_file_and_row_exit_2(tmp_path, monkeypatch, capsys):
    truth = pd.DataFrame({"case_id": ["n1", "d1"], "lesion_id": [None, "L1"],
                          "x": [None, 50.0], "y": [None, 50.0], "radius": [None, 10.0],
                          "image_width": [100, 100], "image_height": [100, 100]})
    marks = pd.DataFrame({
        "case_id": ["n1", "d1", "zz", "d1", "d1"], "reader_id": ["r1", "r1", "r1", "r2", "r2"],
        "modality": ["A", "A", "A", "B", "A"], "lesion_id": [None, None, None, "L9", None],
        "x": [10.0, 150.0, 5.0, None, 52.0], "y": [10.0, 50.0, 5.0, None, 50.0],
        "rating": [1, 2, 3, 4, 5]})
    tp, mp = tmp_path / "truth.csv", tmp_path / "marks.csv"
    truth.to_csv(tp, index=False)
    marks.to_csv(mp, index=False)
    code, err = _run_main(monkeypatch, capsys, ["mrmc", str(mp), "--lesions", str(tp)])
    assert code == 2 and "Traceback" not in err
    assert "marks.csv row 2 (line 3), columns 'x', 'y': mark (150, 50) lies outside the image " \
           "of case 'd1' (100 x 100)" in err
    assert "marks.csv row 3 (line 4), column 'case_id': case 'zz' is not in truth.csv" in err
    assert "marks.csv row 4 (line 5), column 'lesion_id': case 'd1' has no lesion 'L9'" in err
    assert "reader 'r1' has no readings (no marks) in modality 'B'" in err


def test_split_plot_is_analysed_by_ustat_and_says_so(reference_dir):
    path = reference_dir / "ustat" / "split_plot.csv"
    out = CliRunner().invoke(app, ["mrmc", str(path), "--rating", "score", "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.output)
    assert obj["design"]["kind"] == "split-plot" and obj["design"]["analysis"] == "ustat"
    text = CliRunner().invoke(app, ["mrmc", str(path), "--rating", "score"]).output
    assert text.startswith("design: split-plot -> the design is split-plot")


def test_split_plot_sensitivity_gets_the_or_split_plot_form(reference_dir, tmp_path):
    df = pd.read_csv(reference_dir / "ustat" / "split_plot.csv")
    df["call"] = (df["score"] > 0.5).astype(int)
    path = tmp_path / "calls.csv"
    df.to_csv(path, index=False)
    out = CliRunner().invoke(app, ["mrmc", str(path), "--rating", "call", "--endpoint",
                                   "sensitivity", "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.output)
    assert obj["analysis"] == "or_split_plot" and obj["design"]["analysis"] == "or_split_plot"
    assert "Hillis 2014" in obj["design"]["reason"]
    # the same data, partially missing (a reader drops one case): binary U-statistics
    gap = df.drop(index=df.index[0])
    gpath = tmp_path / "gap.csv"
    gap.to_csv(gpath, index=False)
    out = CliRunner().invoke(app, ["mrmc", str(gpath), "--rating", "call", "--endpoint",
                                   "sensitivity", "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.output)
    assert obj["design"]["kind"] == "partially missing" and obj["design"]["analysis"] == "ustat"
    assert "Gallas, Pennello and Myers 2007" in obj["design"]["reason"]


def test_design_no_analysis_supports_exit_2(reference_dir, tmp_path, monkeypatch, capsys):
    """A reader missing a modality in a split plot, asked for OR: refused with file and row."""
    df = pd.read_csv(reference_dir / "ustat" / "split_plot.csv")
    first = df["reader"].iloc[0]
    bad = df[~((df["reader"] == first) & (df["modality"] == df["modality"].iloc[0]))]
    path = tmp_path / "nomod.csv"
    bad.to_csv(path, index=False)
    code, err = _run_main(monkeypatch, capsys, ["mrmc", str(path), "--rating", "score",
                                                "--method", "or"])
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"error: nomod.csv: no OR analysis supports this design: reader "
                          f"{first!r} has no readings in modality")
    # overlapping case blocks (one reader also reads a case of the other group)
    other = df[df["reader"] != first]["reader"].iloc[-1]
    shared = df[df["reader"] == other]["case"].iloc[0]
    extra = df[(df["reader"] == other) & (df["case"] == shared)].assign(reader=first)
    over = pd.concat([df, extra], ignore_index=True)
    opath = tmp_path / "overlap.csv"
    over.to_csv(opath, index=False)
    code, err = _run_main(monkeypatch, capsys, ["mrmc", str(opath), "--rating", "score",
                                                "--method", "or"])
    assert code == 2 and "overlap.csv: no OR analysis supports this design" in err
    assert "both read case" in err and "(data row" in err
    assert "neither fully crossed nor a split plot" in err


@pytest.fixture()
def spc_files(reference_dir, tmp_path):
    """RJafroc's SPLIT-PLOT-C toy marks in the suite's file layout (reader_group in the truth)."""
    d = reference_dir / "mrmc_split_plot"
    marks = pd.read_csv(d / "frocspc_marks.csv", dtype=str).rename(columns={
        "case": "case_id", "reader": "reader_id", "lesion": "lesion_id"})
    truth = pd.read_csv(d / "frocspc_truth.csv", dtype=str).rename(columns={
        "case": "case_id", "lesion": "lesion_id"})
    mp, tp = tmp_path / "marks.csv", tmp_path / "truth.csv"
    marks.to_csv(mp, index=False)
    truth.to_csv(tp, index=False)
    return mp, tp, json.loads((d / "rjafroc_frocspc.json").read_text())


def test_split_plot_marks_reproduce_rjafroc_through_the_cli(spc_files):
    mp, tp, ref = spc_files
    out = CliRunner().invoke(app, ["mrmc", str(mp), "--lesions", str(tp), "--modalities", "1,0",
                                   "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.output)
    assert obj["design"]["kind"] == "split-plot" and obj["design"]["analysis"] == "or_split_plot"
    assert [g["n_cases"] for g in obj["design"]["groups"]] == [8, 8, 8]
    a = obj["analysis"]
    assert a["rrrc"]["statistic"] == pytest.approx(ref["rrrc"]["f"], rel=1e-10)
    assert a["rrrc"]["p_value"] == pytest.approx(ref["rrrc"]["p_value"], abs=1e-10)
    assert a["rrrc"]["ci"] == pytest.approx(ref["rrrc"]["ci"], abs=1e-10)
    text = CliRunner().invoke(app, ["mrmc", str(mp), "--lesions", str(tp)]).output
    assert "Obuchowski-Rockette split-plot form" in text
    dbm = CliRunner().invoke(app, ["mrmc", str(mp), "--lesions", str(tp), "--method", "dbm"])
    assert dbm.exit_code != 0 and "DBM needs a fully crossed design" in str(dbm.exception)


def test_split_plot_marks_outside_the_readers_group_exit_2(spc_files, monkeypatch, capsys):
    mp, tp, _ = spc_files
    marks = pd.read_csv(mp, dtype=str)
    extra = marks[marks["reader_id"] == "1"].iloc[:1].assign(reader_id="0")
    pd.concat([marks, extra], ignore_index=True).to_csv(mp, index=False)
    truth = pd.read_csv(tp, dtype=str)
    truth.loc[truth["case_id"] == "c10", "reader_group"] = ["0", "1"]   # a case in two groups
    truth.to_csv(tp, index=False)
    code, err = _run_main(monkeypatch, capsys, ["mrmc", str(mp), "--lesions", str(tp)])
    assert code == 2 and "Traceback" not in err
    assert "column 'reader_group': case 'c10' must name exactly one reader group" in err
    assert f"marks.csv row {len(marks) + 1} (line {len(marks) + 2}), column 'case_id': reader " \
           "'0' marked case 'c04' of reader group '1'" in err
