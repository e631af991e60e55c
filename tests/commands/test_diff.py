"""``validation diff unpaired|paired``: JSON keys of issue 6, values equal to the references.

Expected values: tests/reference/expected/05a_two_proportions_unpaired.json and
05b_two_proportions_paired.json (R 4.2.2; see their ``how`` fields). Tolerances as in
tests/stats/test_differences.py: 1e-12 closed form, 1e-9 root-found bounds.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from validation.cli import app
from validation.errors import InputError


def _run(args):
    return CliRunner().invoke(app, args)


@pytest.fixture(scope="module")
def refs(reference_dir):
    load = lambda n: json.loads((reference_dir / "expected" / n).read_text())["subcases"]  # noqa: E731
    return load("05a_two_proportions_unpaired.json"), load("05b_two_proportions_paired.json")


def test_unpaired_json(refs):
    s = refs[0]["newcombe1998_a_56of70_vs_48of80"]
    out = _run(["diff", "unpaired", "56", "70", "48", "80", "--margin", "0.05", "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.output)
    assert {"difference", "ci", "method", "noninferiority"} <= set(obj)
    assert obj["difference"] == pytest.approx(s["difference"], abs=1e-12)
    ref = s["newcombe_hybrid_score_ci95"]
    assert obj["ci"] == pytest.approx([ref["lower"], ref["upper"]], abs=1e-12)
    ni = obj["noninferiority"]
    fm = s["farrington_manning_noninferiority"]
    assert ni["margin"] == 0.05
    assert ni["statistic"] == pytest.approx(fm["z"], abs=1e-12)
    assert ni["p_value"] == pytest.approx(fm["p_value_one_sided"], abs=1e-12)


def test_unpaired_mn_without_margin(refs):
    s = refs[0]["newcombe1998_d_5of56_vs_0of29"]
    out = _run(["diff", "unpaired", "5", "56", "0", "29", "--ci", "mn", "--json"])
    obj = json.loads(out.output)
    ref = s["miettinen_nurminen_score_ci95"]
    assert obj["ci"] == pytest.approx([ref["lower"], ref["upper"]], abs=1e-9)
    assert "noninferiority" not in obj and "Miettinen" in obj["method"]


@pytest.mark.parametrize("case", ["newcombe1998_a_56of70_vs_48of80",
                                  "newcombe1998_d_5of56_vs_0of29"])
def test_unpaired_mee_interval(refs, case):
    s = refs[0][case]
    args = [str(s[k]) for k in ("x1", "n1", "x2", "n2")]
    obj = json.loads(_run(["diff", "unpaired", *args, "--ci", "mee", "--json"]).output)
    ref = s["mee_fm_score_ci95_no_N_over_N_minus_1"]
    assert obj["ci"] == pytest.approx([ref["lower"], ref["upper"]], abs=1e-9)
    assert obj["method"] == "Mee score interval"


def test_paired_json(refs):
    s = refs[1]["cavo2012_59_6_16_80"]
    out = _run(["diff", "paired", "59", "6", "16", "80", "--margin", "0.05", "--json"])
    assert out.exit_code == 0, out.output
    obj = json.loads(out.output)
    assert {"difference", "ci", "method", "mcnemar", "noninferiority"} <= set(obj)
    ref = s["tango_score_ci"]
    assert obj["ci"] == pytest.approx([ref["lower"], ref["upper"]], abs=1e-9)
    assert obj["mcnemar"]["statistic"] == pytest.approx(s["mcnemar_chisq_no_cc"], abs=1e-12)
    assert obj["mcnemar"]["p_value"] == pytest.approx(s["mcnemar_p_no_cc"], abs=1e-12)
    ni = s["tango_noninferiority_delta_0.05"]
    assert obj["noninferiority"]["statistic"] == pytest.approx(ni["z"], abs=1e-12)
    assert obj["noninferiority"]["p_value"] == pytest.approx(ni["p_value_one_sided"], abs=1e-12)


def test_paired_newcombe_at_90_percent(refs):
    s = refs[1]["tango1998_example_43_0_1_0_conf90"]
    out = _run(["diff", "paired", "43", "0", "1", "0", "--ci", "newcombe", "--alpha", "0.1",
                "--json"])
    obj = json.loads(out.output)
    ref = s["newcombe10_paired_ci"]
    assert obj["ci"] == pytest.approx([ref["lower"], ref["upper"]], abs=1e-12)
    assert obj["confidence"] == pytest.approx(0.9)


def test_readable_tables():
    out = _run(["diff", "paired", "4", "9", "3", "16", "--margin", "0.05"])
    assert out.exit_code == 0
    assert "McNemar chi-square" in out.output and "p1 - p2 <= -0.05" in out.output
    out = _run(["diff", "unpaired", "56", "70", "48", "80"])
    assert "95% CI" in out.output and "0.0524 to 0.3339" in out.output


@pytest.mark.parametrize(
    "args, match",
    [
        (["diff", "unpaired", "56", "70", "48", "80", "--margin", "-0.05"], "'margin'"),
        (["diff", "unpaired", "56", "70", "48", "80", "--margin", "5"], "'margin'"),
        (["diff", "paired", "4", "9", "3", "16", "--margin", "0"], "'margin'"),
        (["diff", "unpaired", "71", "70", "48", "80"], "'x1'"),
        (["diff", "paired", "4", "9", "3", "16", "--ci", "wald"], "'ci'"),
        (["diff", "paired", "0", "0", "0", "0"], "empty paired table"),
        (["diff", "unpaired", "5", "10", "5", "10", "--alpha", "2"], "'alpha'"),
        (["diff", "unpaired", "5", "10", "5", "10", "--alpha", "0.6"],
         "'--alpha' is the two-sided level of the interval (confidence 1 - alpha) and must be "
         "between 0 and 0.5, e.g. 0.05; got 0.6."),
        (["diff", "paired", "4", "9", "3", "16", "--alpha", "0.5"], "got 0.5."),
    ],
)
def test_bad_input_is_an_input_error(args, match):
    # CliRunner does not go through cli.main; the error surfaces as the exception that main
    # turns into one line and exit code 2 (checked end to end below)
    out = _run(args)
    assert isinstance(out.exception, InputError)
    assert match.strip("'") in str(out.exception)


def test_main_exit_code_2(monkeypatch, capsys):
    from validation import cli

    monkeypatch.setattr("sys.argv", ["validation", "diff", "paired", "1", "2", "3", "4",
                                     "--margin", "-0.1"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 'margin' must be positive") and err.count("\n") == 1


@pytest.mark.parametrize(("args", "field"), [(["unpaired", "-1", "70", "48", "80"], "'x1'"),
                                             (["paired", "4", "9", "-3", "16"], "'c'")])
def test_negative_count_reaches_the_count_check(args, field):
    from validation.errors import InputError

    out = _run(["diff", *args])
    assert isinstance(out.exception, InputError), out.output  # exit code 2 through main()
    assert "No such option" not in out.output
    assert field in str(out.exception) and "whole number >= 0" in str(out.exception)


def test_no_discordant_pairs_leaves_mcnemar_null():
    obj = json.loads(_run(["diff", "paired", "10", "0", "0", "5", "--json"]).output)
    assert obj["mcnemar"] is None and obj["difference"] == 0.0
    assert obj["ci"][0] < 0 < obj["ci"][1]
