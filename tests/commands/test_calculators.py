"""``validation auc`` and ``validation accuracy`` end to end (in process, through ``cli.main``).

Numbers are checked against the pROC references in ``tests/reference/expected/01..03`` (same
tolerances as tests/stats/test_roc.py: 1e-12 closed form, 0.01 bootstrap) and against the
statistics API / independent counts; bad input must give exit code 2 and one line on stderr
naming the file, the column and the row.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from validation import cli
from validation.stats import auc_ci, compare_auc, proportion_ci

TOL = 1e-12


def run(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["validation", *map(str, args)])
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def asah_csv(reference_dir):
    return reference_dir / "data" / "aSAH.csv"


@pytest.fixture(scope="module")
def expected(reference_dir):
    e = reference_dir / "expected"
    return {n: json.loads((e / f"{n}.json").read_text())
            for n in ("01_auc_delong_ci", "02_delong_tests", "03_auc_bootstrap_ci")}


ASAH = ("--truth", "outcome", "--positive-label", "Poor")


@pytest.mark.parametrize("predictor", ["s100b", "ndka"])
def test_auc_json_matches_proc(monkeypatch, capsys, asah_csv, expected, predictor):
    code, out, err = run(monkeypatch, capsys, "auc", asah_csv, *ASAH, "--score", predictor,
                         "--json")
    assert code == 0, err
    got = json.loads(out)
    ref = expected["01_auc_delong_ci"]["subcases"][f"aSAH_{predictor}"]
    assert set(got) == {"n_positive", "n_negative", "auc", "se", "ci", "method"}
    assert (got["n_positive"], got["n_negative"]) == (41, 72)
    assert got["auc"] == pytest.approx(ref["auc"], abs=TOL)
    assert got["se"] == pytest.approx(ref["delong_se"], rel=TOL)
    assert got["ci"] == pytest.approx([ref["ci95_delong"]["lower"], ref["ci95_delong"]["upper"]],
                                      abs=TOL)
    assert got["method"] == "delong"


def test_auc_comparison_json_matches_proc(monkeypatch, capsys, asah_csv, expected):
    code, out, err = run(monkeypatch, capsys, "auc", asah_csv, *ASAH, "--score", "s100b",
                         "--score-b", "ndka", "--json")
    assert code == 0, err
    c = json.loads(out)["comparison"]
    ref = expected["02_delong_tests"]["paired"]["aSAH_s100b_vs_ndka"]
    assert set(c) == {"auc_a", "auc_b", "difference", "se", "z", "p_value", "ci"}
    assert c["auc_a"] == pytest.approx(ref["auc1"], abs=TOL)
    assert c["auc_b"] == pytest.approx(ref["auc2"], abs=TOL)
    assert c["difference"] == pytest.approx(ref["auc_difference"], abs=TOL)
    assert c["se"] == pytest.approx(ref["se_difference"], rel=TOL)
    assert c["z"] == pytest.approx(ref["Z"], rel=TOL)
    assert c["p_value"] == pytest.approx(ref["p_value_two_sided"], rel=1e-10)
    assert c["ci"] == pytest.approx(
        [ref["ci95_difference"]["lower"], ref["ci95_difference"]["upper"]], abs=TOL
    )


def test_auc_bootstrap_json_within_monte_carlo(monkeypatch, capsys, asah_csv, expected):
    code, out, err = run(monkeypatch, capsys, "auc", asah_csv, *ASAH, "--score", "s100b",
                         "--ci", "bootstrap", "--seed", 42, "--json")
    assert code == 0, err
    got = json.loads(out)
    ref = expected["03_auc_bootstrap_ci"]["subcases"]["aSAH_s100b"]["ci95_bootstrap"]
    assert got["ci"] == pytest.approx([ref["lower"], ref["upper"]], abs=0.01)
    assert got["method"] == "bootstrap-stratified-percentile"
    # the same seed gives the same bytes
    again = run(monkeypatch, capsys, "auc", asah_csv, *ASAH, "--score", "s100b",
                "--ci", "bootstrap", "--seed", 42, "--json")[1]
    assert again == out


@pytest.fixture()
def clustered_csv(tmp_path):
    rng = np.random.default_rng(8)
    sizes = rng.integers(1, 4, 50)
    patient = np.repeat([f"P{i:03d}" for i in range(50)], sizes)
    truth = (rng.random(patient.size) < 0.4).astype(int)
    score = truth * 0.8 + np.repeat(rng.normal(size=50), sizes) + rng.normal(size=patient.size)
    other = truth * 0.4 + rng.normal(size=patient.size)
    path = tmp_path / "findings.csv"
    pd.DataFrame({"patient": patient, "y": truth, "ai": score, "cad": other}).to_csv(
        path, index=False
    )
    return path, truth, score, other, patient


@pytest.mark.parametrize("ci", ["delong", "logit"])
def test_auc_with_cluster_and_parquet(monkeypatch, capsys, clustered_csv, tmp_path, ci):
    path, truth, score, other, patient = clustered_csv
    args = ("--truth", "y", "--score", "ai", "--score-b", "cad", "--cluster", "patient",
            "--ci", ci, "--alpha", 0.1, "--json")
    code, out, err = run(monkeypatch, capsys, "auc", path, *args)
    assert code == 0, err
    got = json.loads(out)
    r = auc_ci(truth, score, cluster=patient, method=ci, alpha=0.1)
    c = compare_auc(truth, score, other, cluster=patient, alpha=0.1)
    assert got["auc"] == r.estimate and got["se"] == pytest.approx(r.se, rel=TOL)
    assert got["ci"] == pytest.approx(list(r.ci), abs=TOL)
    assert got["method"] == r.method == f"obuchowski-clustered{'-logit' if ci == 'logit' else ''}"
    assert got["comparison"]["p_value"] == pytest.approx(c.p_value, rel=1e-10)
    pq = tmp_path / "findings.parquet"
    pd.read_csv(path).to_parquet(pq)
    code, out_pq, err = run(monkeypatch, capsys, "auc", pq, *args)
    assert code == 0, err
    assert out_pq == out


def test_auc_table_output(monkeypatch, capsys, asah_csv):
    code, out, err = run(monkeypatch, capsys, "auc", asah_csv, *ASAH, "--score", "s100b",
                         "--score-b", "ndka")
    assert code == 0, err
    assert "0.7314" in out and "0.6301 - 0.8326" in out and "p 0.1643" in out


def test_accuracy_json(monkeypatch, capsys, asah_csv):
    code, out, err = run(monkeypatch, capsys, "accuracy", asah_csv, *ASAH, "--score", "s100b",
                         "--threshold", 0.205, "--ci", "exact", "--json")
    assert code == 0, err
    got = json.loads(out)
    d = pd.read_csv(asah_csv)
    y = (d["outcome"] == "Poor").to_numpy()
    call = (d["s100b"] >= 0.205).to_numpy()
    counts = {
        "sensitivity": ((y & call).sum(), y.sum()),
        "specificity": ((~y & ~call).sum(), (~y).sum()),
        "ppv": ((y & call).sum(), call.sum()),
        "npv": ((~y & ~call).sum(), (~call).sum()),
        "accuracy": ((y == call).sum(), y.size),
    }
    assert set(got) == set(counts)
    for key, (x, n) in counts.items():
        assert set(got[key]) == {"estimate", "ci", "successes", "n"}
        assert (got[key]["successes"], got[key]["n"]) == (x, n)
        ref = proportion_ci(int(x), int(n), method="exact")
        assert got[key]["estimate"] == pytest.approx(x / n, abs=TOL)
        assert got[key]["ci"] == pytest.approx(list(ref.ci), abs=TOL)
    # pROC coords at 0.205: sensitivity 0.63414634146341464, specificity 0.80555555555555558
    assert got["sensitivity"]["estimate"] == pytest.approx(0.63414634146341464, abs=TOL)
    assert got["specificity"]["estimate"] == pytest.approx(0.80555555555555558, abs=TOL)


def test_accuracy_with_cluster_and_table(monkeypatch, capsys, clustered_csv):
    path, *_ = clustered_csv
    code, out, err = run(monkeypatch, capsys, "accuracy", path, "--truth", "y", "--score", "ai",
                         "--threshold", 0.5, "--cluster", "patient", "--ci", "jeffreys")
    assert code == 0, err
    assert "sensitivity" in out and "jeffreys-clustered" in out


def test_accuracy_without_positive_calls_gives_null_ppv(monkeypatch, capsys, asah_csv):
    code, out, err = run(monkeypatch, capsys, "accuracy", asah_csv, *ASAH, "--score", "s100b",
                         "--threshold", 1e6, "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["ppv"] is None and got["sensitivity"]["successes"] == 0


# --------------------------------------------------------------------------- bad input


def _table(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD = "id,y,s\n1,0,0.1\n2,1,0.9\n3,0,0.3\n4,1,0.8\n"


@pytest.mark.parametrize(
    ("content", "args", "expect"),
    [
        (GOOD, ("--truth", "label", "--score", "s"), r"column 'label' not found"),
        (GOOD, ("--truth", "y", "--score", "prob"), r"column 'prob' not found"),
        ("id,y,s\n1,0,0.1\n2,2,0.9\n3,0,0.3\n", ("--truth", "y", "--score", "s"),
         r"column 'y', row 2 \(line 3\): truth must be 0 or 1; got 2"),
        ("id,y,s\n1,0,0.1\n2,1,\n3,0,0.3\n", ("--truth", "y", "--score", "s"),
         r"column 's', row 2 \(line 3\): score must be a finite number; got nan"),
        ("id,y,s\n1,0,0.1\n2,1,inf\n3,0,0.3\n", ("--truth", "y", "--score", "s"),
         r"column 's', row 2 \(line 3\): score must be a finite number; got inf"),
        ("id,y,s\n1,0,0.1\n2,1,high\n3,0,0.3\n", ("--truth", "y", "--score", "s"),
         r"column 's', row 2 \(line 3\): score must be a number; got 'high'"),
        ("id,y,s\n1,1,0.1\n2,1,0.9\n", ("--truth", "y", "--score", "s"),
         r"column 'y' has no negative cases"),
        ("", ("--truth", "y", "--score", "s"), r"the file is empty"),
        ("id,y,s\n", ("--truth", "y", "--score", "s"), r"header but no data rows"),
        ("id,y,s\n1,,0.1\n2,1,0.9\n", ("--truth", "y", "--score", "s"),
         r"column 'y', row 1 \(line 2\): truth is missing"),
        ("p,y,s\nA,0,0.1\n,1,0.9\nB,0,0.3\nB,1,0.8\n",
         ("--truth", "y", "--score", "s", "--cluster", "p"),
         r"column 'p', row 2 \(line 3\): cluster id is missing"),
        ("id,y,s\n1,Good,0.1\n2,Poor,0.9\n", ("--truth", "y", "--score", "s"),
         r"truth must be 0 or 1; got 'Good'.*--positive-label"),
        ("id,y,s\n1,Good,0.1\n2,Poor,0.9\n",
         ("--truth", "y", "--score", "s", "--positive-label", "Bad"),
         r"positive label 'Bad' does not occur"),
        ("id,y,s\n1,Good,0.1\n2,Poor,0.9\n3,Unknown,0.2\n",
         ("--truth", "y", "--score", "s", "--positive-label", "Poor"),
         r"row 3 \(line 4\): truth must take two values"),
        ("id,y,s\n" + "".join(f"{i},{i % 2},{'x' if i > 2 else i}\n" for i in range(1, 12)),
         ("--truth", "y", "--score", "s"),
         r"rows 3, 4, 5, 6, 7 \(lines 4, 5, 6, 7, 8\) and 4 more"),
        (GOOD, ("--truth", "y", "--score", "s", "--ci", "wald"),
         r"'--ci' must be one of delong, logit, bootstrap; got 'wald'"),
        (GOOD, ("--truth", "y", "--score", "s", "--alpha", "1.5"), r"'--alpha' must be in"),
    ],
)
def test_auc_bad_input_exits_2_with_one_line(monkeypatch, capsys, tmp_path, content, args,
                                             expect):
    import re

    path = _table(tmp_path, "cases.csv", content)
    code, out, err = run(monkeypatch, capsys, "auc", path, *args)
    assert code == 2
    assert out == ""
    line = err.strip()
    assert "\n" not in line and line.startswith("error: ")
    assert "Traceback" not in err
    assert re.search(expect, line), line
    if "--alpha" not in args and "--ci" not in args:
        assert str(path) in line


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (("--threshold", "nan"), r"'--threshold' must be a finite number"),
        (("--threshold", "0.5", "--ci", "wald"), r"'--ci' must be one of wilson, exact"),
        (("--threshold", "0.5", "--truth", "z"), r"column 'z' not found"),
    ],
)
def test_accuracy_bad_input(monkeypatch, capsys, tmp_path, args, expect):
    import re

    path = _table(tmp_path, "cases.csv", GOOD)
    base = ["--truth", "y", "--score", "s"]
    if "--truth" in args:
        base = ["--score", "s"]
    code, out, err = run(monkeypatch, capsys, "accuracy", path, *base, *args)
    assert code == 2 and out == ""
    assert "\n" not in err.strip() and re.search(expect, err), err


def test_missing_file(monkeypatch, capsys, tmp_path):
    code, _, err = run(monkeypatch, capsys, "auc", tmp_path / "nope.csv", "--truth", "y",
                       "--score", "s")
    assert code == 2 and "nope.csv: the file does not exist" in err and "\n" not in err.strip()


def test_parquet_rows_have_no_line_numbers(monkeypatch, capsys, tmp_path):
    pq = tmp_path / "cases.parquet"
    pd.DataFrame({"y": [0, 1, 0], "s": [0.1, np.nan, 0.3]}).to_parquet(pq)
    code, _, err = run(monkeypatch, capsys, "auc", pq, "--truth", "y", "--score", "s")
    assert code == 2 and "column 's', row 2: score must be a finite number" in err
