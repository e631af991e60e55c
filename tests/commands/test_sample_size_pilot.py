"""``validation protocol sample-size --simulate N`` driven by a pilot reader study.

The pilot is the Van Dyke et al. (1993) study (``tests/reference/mrmc/vandyke_1993_roc.csv``,
modalities renamed to the example protocol's); its OR parameters are converted to Roe-Metz
parameters (Hillis 2020) at the assumption's AUCs and simulated. Checked against direct calls
of the pieces (the OR analysis, ``or_to_rm``, ``simulate_or_rejections``, ``mrmc_power``) to
1e-12 (the same computation), the Clopper-Pearson interval against scipy's exact binomial
interval, the pilot given as ratings against the same pilot given as variance components, and
bad input (impossible components, an AUC outside (0.5, 1), conflicting options) against exit 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from scipy.stats import binomtest
from typer.testing import CliRunner

from validation.cli import app
from validation.stats import mrmc_analysis, mrmc_power, or_to_rm, rm_to_or
from validation.stats.mrmc.simulation import simulate_or_rejections

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def pilot(tmp_path: Path) -> Path:
    df = pd.read_csv(ROOT / "tests" / "reference" / "mrmc" / "vandyke_1993_roc.csv")
    df["modality"] = df["modality"].map({1: "unaided", 2: "aided"})
    path = tmp_path / "pilot.csv"
    df.to_csv(path, index=False)
    return path


def _protocol(tmp_path: Path, *, comparator: float = 0.90,
              components: dict | None = None) -> Path:  # type: ignore[type-arg]
    data = yaml.safe_load((ROOT / "protocols" / "reader_study.yaml").read_text())
    data["sample_size"].update(planned_positive=40, planned_negative=50)
    for a in data["sample_size"]["assumptions"]:
        a["comparator_expected"] = comparator
        if components is not None:
            a["variance_components"] = components
    target = tmp_path / "reader_study.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def _run(*args: str) -> dict:  # type: ignore[type-arg]
    out = CliRunner().invoke(app, ["protocol", "sample-size", *args, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def _pilot_or(pilot: Path) -> dict:  # type: ignore[type-arg]
    res = mrmc_analysis(pd.read_csv(pilot), method="or", modalities=("unaided", "aided"))
    vc = res.variance_components
    return {k: getattr(vc, k) for k in ("var_r", "var_tr", "var", "cov1", "cov2", "cov3")}


def test_pilot_ratings_drive_the_simulation(tmp_path: Path, pilot: Path) -> None:
    path = _protocol(tmp_path)
    plan = _run(str(path), "--simulate", "30", "--seed", "5", "--pilot", str(pilot))
    sup = plan["simulated_power"][0]
    assert sup["hypothesis"] == "H2" and sup["source"] == "pilot_ratings"
    vc = _pilot_or(pilot)
    used = sup["pilot"]["used"]
    assert {k: used[k] for k in vc} == pytest.approx(vc, rel=1e-12)
    assert (used["n_nondiseased"], used["n_diseased"]) == (69, 45)
    corr = {f"corr{i}": vc[f"cov{i}"] / vc["var"] for i in (1, 2, 3)}
    rm = or_to_rm(auc1=0.90, auc2=0.94, var_r=vc["var_r"], var_tr=vc["var_tr"],
                  var_error=vc["var"], n0=69, n1=45, **corr)
    assert sup["roe_metz"]["b"] == pytest.approx(rm.b, rel=1e-12)
    assert sup["separations"] == pytest.approx(list(rm.delta), rel=1e-12)
    direct = simulate_or_rejections(list(rm.delta), n_readers=5, n_nondiseased=50,
                                    n_diseased=40, n_studies=30, components=rm.components(),
                                    alpha=0.05, seed=5)
    assert sup["rejections"] == direct.rejections and sup["power"] == direct.estimate
    assert sup["expected_auc"] == pytest.approx([0.90, 0.94], abs=1e-12)
    ci = binomtest(direct.rejections, 30).proportion_ci(confidence_level=0.95, method="exact")
    assert sup["ci"] == pytest.approx([ci.low, ci.high], abs=1e-12)
    o = rm_to_or(delta1=rm.delta[0], delta2=rm.delta[1], var_r=rm.var_r, var_tr=rm.var_tr,
                 var_c=rm.var_c, var_tc=rm.var_tc, var_rc=rm.var_rc, var_e=rm.var_e, b=rm.b,
                 n0=50, n1=40)
    common = dict(effect=0.04, n_readers=5, n_cases=90, alpha=0.05)
    model = mrmc_power(var_tr=o.var_tr, var=o.var_error, cov1=o.cov1, cov2=o.cov2,
                       cov3=o.cov3, pilot_cases=90, **common)  # type: ignore[arg-type]
    from_pilot = mrmc_power(var_tr=vc["var_tr"], var=vc["var"], cov1=vc["cov1"],
                            cov2=vc["cov2"], cov3=vc["cov3"], pilot_cases=114,
                            **common)  # type: ignore[arg-type]
    assert sup["formula_power"]["model"] == pytest.approx(model.power, rel=1e-12)
    assert sup["formula_power"]["pilot"] == pytest.approx(from_pilot.power, rel=1e-12)
    assert plan["simulated_power"][1]["note"].startswith("no simulation for an MRMC non")
    again = _run(str(path), "--simulate", "30", "--seed", "5", "--pilot", str(pilot))
    assert again == plan  # seeded: the same numbers again


def test_pilot_components_in_the_protocol_give_the_same_model(tmp_path: Path,
                                                              pilot: Path) -> None:
    """The assumption's variance_components (as `validation mrmc --json` gives them, with the
    pilot's case mix) convert to the same Roe-Metz parameters as the ratings themselves."""
    vc = _pilot_or(pilot)
    from_file = _run(str(_protocol(tmp_path)), "--simulate", "10", "--pilot", str(pilot))
    comps = {**vc, "n_cases": 114, "n_nondiseased": 69, "n_diseased": 45}
    from_vc = _run(str(_protocol(tmp_path, components=comps)), "--simulate", "10")
    a, b = from_file["simulated_power"][0], from_vc["simulated_power"][0]
    assert b["source"] == "pilot_components" and "notes" not in b
    assert b["components"] == pytest.approx(a["components"], rel=1e-12)
    assert b["power"] == a["power"]
    assert from_vc["items"][0]["n"] > 0  # the formula-based plan reads the same components
    no_mix = _run(str(_protocol(tmp_path, components={**vc, "n_cases": 114})),
                  "--simulate", "10")["simulated_power"][0]
    assert (no_mix["pilot"]["used"]["n_nondiseased"], no_mix["pilot"]["used"]["n_diseased"]) \
        == (63, 51)
    assert any("case mix is not given" in n for n in no_mix["notes"])


def test_negative_reader_components_are_truncated(tmp_path: Path, pilot: Path) -> None:
    comps = {**_pilot_or(pilot), "var_tr": -1e-4, "n_cases": 114, "n_nondiseased": 69,
             "n_diseased": 45}
    item = _run(str(_protocol(tmp_path, components=comps)), "--simulate", "5")[
        "simulated_power"][0]
    assert item["pilot"]["used"]["var_tr"] == 0.0 and item["components"]["var_tr"] == 0.0
    assert any("var_tr" in n and "set to 0" in n for n in item["notes"])


def test_text_output_shows_conversion_and_formula(tmp_path: Path, pilot: Path) -> None:
    out = CliRunner().invoke(app, ["protocol", "sample-size", str(_protocol(tmp_path)),
                                   "--simulate", "10", "--pilot", str(pilot)])
    assert out.exit_code == 0, out.output
    assert "Roe-Metz parameters converted from the pilot ratings pilot.csv" in out.output
    assert "formula-based power (Hillis 2011)" in out.output


def _fails(argv: list[str], monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> str:
    from validation.cli import main

    monkeypatch.setattr(sys, "argv", ["validation", "protocol", "sample-size", *argv])
    with pytest.raises(SystemExit) as stop:
        main()
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(("comps", "match"), [
    ({"cov3": -2e-4}, "'corr3' = cov3/var must lie in [0, 1]"),
    ({"var": 0.003, "cov1": 0.0003, "cov2": 0.0003, "cov3": 0.0002},
     "'var_error' = 0.003 cannot be reached"),
    ({"var_r": 0.3}, "'var_r' is larger than the Roe-Metz model can give"),
    ({"n_diseased": 40}, "'n_nondiseased' + 'n_diseased' must equal its n_cases (114)"),
])
def test_impossible_components_exit_2(tmp_path: Path, pilot: Path, comps: dict, match: str,  # type: ignore[type-arg]
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    vc = {**_pilot_or(pilot), "n_cases": 114, "n_nondiseased": 69, "n_diseased": 45, **comps}
    err = _fails([str(_protocol(tmp_path, components=vc)), "--simulate", "5"], monkeypatch,
                 capsys)
    assert "sample_size.assumptions[0] (hypothesis H2)" in err and match in err


def test_auc_outside_the_range_exit_2(tmp_path: Path, pilot: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails([str(_protocol(tmp_path, comparator=0.45)), "--simulate", "5", "--pilot",
                  str(pilot)], monkeypatch, capsys)
    assert "'auc1' must be an expected AUC in (0.5, 1); got 0.45" in err


@pytest.mark.parametrize(("extra", "match"), [
    (["--components", "var_r=0.01"], "either '--pilot'"),
    (["--b-method", "mean_to_sigma"], "'--b-value' must be given with --b-method mean_to_sigma"),
    (["--b-value", "4.5"], "'--b-value' applies to --b-method mean_to_sigma or specified"),
    (["--b-method", "median", "--b-value", "1"], "'--b-method' must be"),
    (["--b-method", "mean_to_sigma", "--b-value", "0.5"], "'mean_to_sigma' must exceed"),
])
def test_bad_pilot_options_exit_2(tmp_path: Path, pilot: Path, extra: list[str], match: str,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails([str(_protocol(tmp_path)), "--simulate", "5", "--pilot", str(pilot), *extra],
                 monkeypatch, capsys)
    assert match in err


def test_pilot_without_the_protocol_modalities_exit_2(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails([str(_protocol(tmp_path)), "--simulate", "5", "--pilot",
                  str(ROOT / "tests" / "reference" / "mrmc" / "vandyke_1993_roc.csv")],
                 monkeypatch, capsys)
    assert "no ratings for modality 'unaided', 'aided'" in err


def test_b_methods_reach_the_conversion(tmp_path: Path, pilot: Path) -> None:
    path = str(_protocol(tmp_path))
    one = _run(path, "--simulate", "5", "--pilot", str(pilot), "--b-method", "specified",
               "--b-value", "1")["simulated_power"][0]
    assert one["components"]["b"] == 1.0 and one["roe_metz"]["b_method"] == "specified"
    ms = _run(path, "--simulate", "5", "--pilot", str(pilot), "--b-method", "mean_to_sigma",
              "--b-value", "4.5")["simulated_power"][0]
    assert ms["roe_metz"]["mean_to_sigma"][0] == pytest.approx(4.5, rel=1e-12)
