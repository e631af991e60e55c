"""Robustness engine: paired comparisons are the suite's paired tests, claims and rules fail at
the first level whose bound falls below, results are byte-identical across runs."""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from validation.analysis.endpoints import UnitData
from validation.analysis.robustness import _claims, _first_failing, _rules, paired_comparison
from validation.stats.paired_differences import paired_difference
from validation.stats.roc import compare_auc


def _units(truth, score, called, cluster=None) -> UnitData:
    return UnitData(truth=np.asarray(truth, dtype=np.int8), score=np.asarray(score, float),
                    called=np.asarray(called, bool), cluster=cluster, unit="patient")


@pytest.fixture()
def pair() -> tuple[UnitData, UnitData]:
    rng = np.random.default_rng(3)
    truth = (rng.random(120) < 0.4).astype(int)
    base = truth * 1.2 + rng.normal(size=120)
    pert = base + rng.normal(scale=0.8, size=120)
    return (_units(truth, pert, pert >= 0.6), _units(truth, base, base >= 0.6))


def test_auc_comparison_is_the_paired_delong_test(pair) -> None:
    pert, base = pair
    got = paired_comparison("auc", pert, base, 0.05)
    ref = compare_auc(pert.truth, pert.score, base.score, alpha=0.05)
    assert got["estimate"] == ref.estimate and got["p_value"] == ref.p_value
    assert got["ci"] == list(ref.ci) and got["test"] == "paired DeLong z"


@pytest.mark.parametrize("kind", ["sensitivity", "specificity", "accuracy"])
def test_proportion_comparison_is_tango_with_mcnemar(pair, kind: str) -> None:
    pert, base = pair
    got = paired_comparison(kind, pert, base, 0.05)
    t = pert.truth == 1
    mask = {"sensitivity": t, "specificity": ~t, "accuracy": np.ones_like(t)}[kind]
    ok_p = {"sensitivity": pert.called, "specificity": ~pert.called,
            "accuracy": pert.called == t}[kind][mask]
    ok_b = {"sensitivity": base.called, "specificity": ~base.called,
            "accuracy": base.called == t}[kind][mask]
    a, b = int((ok_p & ok_b).sum()), int((ok_p & ~ok_b).sum())
    c, d = int((~ok_p & ok_b).sum()), int((~ok_p & ~ok_b).sum())
    ref = paired_difference(a, b, c, d, ci="tango", alpha=0.05)
    assert got["counts"] == {"a": a, "b": b, "c": c, "d": d}
    assert got["estimate"] == ref.estimate == pytest.approx(ok_p.mean() - ok_b.mean())
    assert got["ci"] == list(ref.ci) and got["p_value"] == ref.mcnemar.p_value


def test_identical_calls_have_no_mcnemar_test(pair) -> None:
    _, base = pair
    got = paired_comparison("sensitivity", base, base, 0.05)
    assert got["estimate"] == 0.0 and got["p_value"] is None and "no discordant" in got["note"]


def test_clustered_comparison_doubles_the_smaller_one_sided_p(pair) -> None:
    from validation.stats.hypotheses import clustered_paired_proportion_test

    pert, base = pair
    cl = np.repeat(np.arange(60), 2)
    pert = UnitData(truth=pert.truth, score=pert.score, called=pert.called, cluster=cl,
                    unit="finding")
    base = UnitData(truth=base.truth, score=base.score, called=base.called, cluster=cl,
                    unit="finding")
    got = paired_comparison("specificity", pert, base, 0.05)
    m = pert.truth == 0
    ref = clustered_paired_proportion_test(~pert.called[m], ~base.called[m], cl[m],
                                           type="superiority", alpha=0.025)
    assert got["estimate"] == ref.estimate and got["ci"] == list(ref.ci)
    assert got["p_value"] == pytest.approx(2 * min(ref.p_value, 1 - ref.p_value))
    assert 0.0 <= got["p_value"] <= 1.0


def _levels(lows: list[float | None], est: list[float]) -> list[dict]:
    return [{"level": k, "value": None if k == 0 else float(10 * k), "label": f"L{k}",
             "endpoints": {"sens": {"estimate": e, "ci": [lo, 0.99]}}}
            for k, (lo, e) in enumerate(zip(lows, est, strict=True))]


def test_first_failing_level_and_strictness() -> None:
    levels = _levels([0.85, 0.82, 0.80, 0.70], [0.9, 0.88, 0.86, 0.8])
    assert _first_failing(levels, "sens", "lower", 0.80, strict=False)["level"] == 3
    assert _first_failing(levels, "sens", "lower", 0.80, strict=True)["level"] == 2
    assert _first_failing(levels, "sens", "estimate", 0.85, strict=False)["level"] == 3
    assert _first_failing(levels, "sens", "lower", 0.5, strict=False)["level"] is None
    missing = _levels([0.85, None, 0.9, 0.9], [0.9, 0.9, 0.9, 0.9])
    assert _first_failing(missing, "sens", "lower", 0.5, strict=False)["level"] == 1


def test_rules_pass_up_to_their_level_and_claims_use_the_null_value() -> None:
    ns = types.SimpleNamespace
    fams = {"gaussian_noise": {"levels": _levels([0.85, 0.82, 0.78, 0.7], [0.9] * 4)},
            "contrast": {"levels": _levels([0.85, 0.81, 0.81, 0.81], [0.9] * 4)}}
    rob = ns(rules=[ns(id="R1", endpoint="sens", family=None, bound="lower", threshold=0.8,
                       up_to=2),
                    ns(id="R2", endpoint="sens", family="gaussian_noise", bound="lower",
                       threshold=0.8, up_to=1)],
             endpoints=["sens"])
    rules = {r["id"]: r for r in _rules(rob, fams)}
    assert rules["R1:gaussian_noise"]["decision"] == "fail"
    assert rules["R1:gaussian_noise"]["first_failing"]["level"] == 2
    assert rules["R1:contrast"]["decision"] == "pass"
    assert rules["R2"]["decision"] == "pass" and rules["R2"]["first_failing"]["level"] == 2
    h = ns(id="H1", endpoint="sens", goal=0.81, comparator_column=None, type="performance_goal",
           null_value=lambda: 0.81)
    proto = ns(robustness=rob, hypotheses=[h])
    (claim,) = _claims(proto, fams)
    assert claim["first_lost"]["contrast"]["level"] == 1  # 0.81 is not above 0.81
    assert claim["first_lost"]["gaussian_noise"]["level"] == 2
    assert claim["held_unperturbed"] is True


# ------------------------------------------------------------------------- end to end

SECTION = {
    "endpoints": ["sensitivity", "specificity", "auc"],
    "families": [{"family": "gaussian_noise", "severities": [20, 10]},
                 {"family": "gaussian_blur", "severities": [1.5]},
                 {"family": "contrast", "severities": [0.5]}],
    "rules": [{"id": "R1", "endpoint": "sensitivity", "threshold": 0.5, "up_to": 1}],
    "examples": 1,
}


def _image_protocol(folder: Path, seed: int = 5) -> Path:
    from validation.demo_data import DEMO_APPROVER, DEMO_MEANING, find_demo_template
    from validation.demo_images import prepare_image_study
    from validation.protocol import lock_protocol

    sections = prepare_image_study(folder, seed=seed, n_per_site=12)
    template = yaml.safe_load(find_demo_template().read_text(encoding="utf-8"))
    template["model"] = sections["model"]
    template["test_set"].update(sections["test_set"])
    template["analysis"]["seed"] = seed
    template["analysis"]["bootstrap_replicates"] = 200
    template["robustness"] = SECTION
    path = folder / "demo.yaml"
    path.write_text(yaml.safe_dump(template, sort_keys=False))
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    return path


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from validation.pipeline import run_protocol

    root = tmp_path_factory.mktemp("robust-e2e")
    path = _image_protocol(root / "inputs")
    a = run_protocol(path, out_dir=root / "runs", progress=False)
    b = run_protocol(path, out_dir=root / "runs", progress=False, formats=("html",))
    return a, b


def test_results_are_byte_identical_across_two_runs(two_runs) -> None:
    a, b = two_runs
    assert (a / "results.json").read_bytes() == (b / "results.json").read_bytes()
    assert ((a / "robustness_predictions.parquet").read_bytes()
            == (b / "robustness_predictions.parquet").read_bytes())
    for tile in sorted((a / "robustness").iterdir()):
        assert tile.read_bytes() == (b / "robustness" / tile.name).read_bytes()


def test_the_robustness_key_holds_every_family_level_and_comparison(two_runs) -> None:
    a, _ = two_runs
    res = json.loads((a / "results.json").read_text())
    rob = res["robustness"]
    assert set(rob["families"]) == {"gaussian_noise", "gaussian_blur", "contrast"}
    noise = rob["families"]["gaussian_noise"]
    assert [lv["level"] for lv in noise["levels"]] == [0, 1, 2]
    lv0 = noise["levels"][0]["endpoints"]
    for eid in ("sensitivity", "specificity", "auc"):
        # level 0 is the unperturbed primary analysis, re-estimated the same way
        assert lv0[eid]["estimate"] == res["endpoints"][eid]["pooled"]["estimate"]
        assert lv0[eid]["ci"] == res["endpoints"][eid]["pooled"]["ci"]
        pair = noise["levels"][2]["paired"][eid]
        est = noise["levels"][2]["endpoints"][eid]["estimate"]
        assert pair["estimate"] == pytest.approx(est - lv0[eid]["estimate"], abs=1e-12)
    assert rob["plan"]["sha256"] and rob["plan"]["families"][0]["implementation"]
    assert {c["hypothesis"] for c in rob["claims"]} == {"H1", "H2", "H3"}
    assert [r["id"] for r in rob["rules"]] == ["R1:gaussian_noise", "R1:gaussian_blur",
                                               "R1:contrast"]
    assert rob["examples"] and all(e["image"].startswith("robustness/") for e in rob["examples"])
    manifest = json.loads((a / "manifest.json").read_text())
    listed = json.dumps(manifest)
    assert "robustness_predictions.parquet" in listed and "robustness/X1-none-0.png" in listed


def test_the_report_shows_curves_panel_first_failing_table_and_sap_text(two_runs) -> None:
    _, b = two_runs
    sar = (b / "report" / "sar.qmd").read_text().replace("\\", "")
    assert "# Robustness to image perturbations" in sar
    assert "figures/robustness_curves" in sar and "figures/robustness_examples" in sar
    assert "First severity at which each pre-specified claim or rule is lost" in sar
    assert "robustness, pre-specified secondary" in sar  # rule rows in the decisions table
    sap = (b / "report" / "sap.qmd").read_text().replace("\\", "")
    assert "# Robustness to image perturbations" in sap and "Tango" in sap
    assert (b / "report" / "figures" / "robustness_curves.svg").is_file()


def test_a_case_missing_from_the_perturbed_runs_stops_the_analysis(two_runs) -> None:
    from validation.analysis.robustness import robustness_results
    from validation.errors import DataError
    from validation.protocol import load_protocol

    a, _ = two_runs
    preds = pd.read_parquet(a / "robustness_predictions.parquet")
    protocol = load_protocol(a.parent.parent.parent / "inputs" / "demo.yaml")
    cases = pd.DataFrame({"case_id": ["nope"], "truth": [1], "score": [0.9],
                          "patient_id": ["p"], "indeterminate": [False], "site": ["S1"]})
    with pytest.raises(DataError, match="lack 1 case"):
        robustness_results(protocol, cases, {"plan": {}, "predictions": preds}, alpha=0.05,
                           seed=1)


def test_the_plan_is_hashed_into_inputs_json_and_a_severity_changes_it(two_runs) -> None:
    from validation.pipeline import _input_records
    from validation.protocol import Protocol, load_protocol
    from validation.provenance.inputs import describe_inputs

    a, _ = two_runs
    inputs = json.loads((a / "inputs.json").read_text())
    res = json.loads((a / "results.json").read_text())
    entry = inputs["inputs"]["robustness_plan"]
    assert entry["kind"] == "record" and entry["record"] == res["robustness"]["plan"]
    path = a.parent.parent.parent / "inputs" / "demo.yaml"
    data = load_protocol(path).model_dump(mode="json")
    files = {"protocol": path, "manifest": path.parent / data["test_set"]["manifest"]}
    same = describe_inputs(files, records=_input_records(Protocol.model_validate(data), res["seed"]))
    assert same["inputs"]["robustness_plan"] == entry
    data["robustness"]["families"][0]["severities"][1] = 15.0
    changed = describe_inputs(files, records=_input_records(Protocol.model_validate(data),
                                                            res["seed"]))
    assert changed["inputs"]["robustness_plan"]["sha256"] != entry["sha256"]
    assert changed["inputs"]["robustness_plan"]["record"]["families"][0]["severities"] == [20.0, 15.0]


def test_reproduce_of_a_robustness_run_is_byte_identical(two_runs) -> None:
    from validation.reproduce import reproduce_run

    a, _ = two_runs
    report = reproduce_run(a)
    assert report.original_sha256 == report.reproduced_sha256 and not report.differences


def test_perturbed_batches_on_dask_give_the_bytes_of_the_local_run(two_runs) -> None:
    pytest.importorskip("distributed")
    from validation.pipeline import run_protocol

    a, _ = two_runs
    root = a.parent.parent.parent
    d = run_protocol(root / "inputs" / "demo.yaml", out_dir=root / "runs-dask", progress=False,
                     dask="local")
    assert (d / "results.json").read_bytes() == (a / "results.json").read_bytes()
    assert ((d / "robustness_predictions.parquet").read_bytes()
            == (a / "robustness_predictions.parquet").read_bytes())


def test_protocol_sap_without_a_run_shows_each_family_from_the_locked_plan(
        two_runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from validation.cli import app
    from validation.protocol.robustness import FAMILIES

    a, _ = two_runs
    monkeypatch.setenv("VALIDATION_RENDERER", "pandoc")
    path = a.parent.parent.parent / "inputs" / "demo.yaml"
    result = CliRunner().invoke(app, ["protocol", "sap", str(path), "--out", str(tmp_path / "sap"),
                                      "--format", "html"])
    assert result.exit_code == 0, result.output
    sap = (tmp_path / "sap" / "sap.qmd").read_text().replace("\\", "")
    rows = [line for line in sap.splitlines() if line.startswith("| Gaussian")
            or line.startswith("| Contrast")]
    assert len(rows) == 3 and not any("—" in row for row in rows)
    noise = FAMILIES["gaussian_noise"]
    row = next(r for r in rows if noise.description[:30] in r)
    assert f"{noise.parameter} = 20, 10 {noise.unit}" in row and "[0, 60]" in row
