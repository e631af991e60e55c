"""protocols/risk_example.yaml runs end to end: the risk block of results.json equals the
statistics computed directly from the example files, the rules are decided on the reported
intervals, and the dossier carries the calibration and prognostic sections with their figures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from validation.demo_data import DEMO_APPROVER, DEMO_MEANING
from validation.pipeline import run_protocol
from validation.stats import calibration_summary, concordance_index, cox_hazard_ratio, survival_by_group

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from validation.protocol import lock_protocol

    tmp = tmp_path_factory.mktemp("risk")
    root = tmp / "protocols"
    root.mkdir()
    shutil.copy(PROTOCOLS / "risk_example.yaml", root)
    shutil.copytree(PROTOCOLS / "examples" / "risk_example", root / "examples" / "risk_example")
    path = root / "risk_example.yaml"
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    return run_protocol(path, out_dir=tmp / "runs", progress=False, formats=("html",))


def _files() -> pd.DataFrame:
    ex = PROTOCOLS / "examples" / "risk_example"
    m = pd.read_csv(ex / "manifest.csv")
    return m.merge(pd.read_csv(ex / "predictions.csv"), on="case_id").merge(
        pd.read_csv(ex / "outcomes.csv"), on="case_id")


def test_generator_is_deterministic(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", PROTOCOLS / "examples" / "make_risk_example_data.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for name, df in gen.make().items():
        committed = (PROTOCOLS / "examples" / "risk_example" / f"{name}.csv").read_bytes()
        assert df.to_csv(index=False, lineterminator="\n").encode() == committed, name


def test_risk_block_equals_direct_statistics(run_dir: Path) -> None:
    risk = json.loads((run_dir / "results.json").read_text())["risk"]
    d = _files()
    y, p = d["truth"].to_numpy(), d["score"].to_numpy()
    t, e = d["time"].to_numpy(), d["event"].to_numpy()
    cal = calibration_summary(y, p)
    eps = risk["endpoints"]
    assert eps["slope"]["estimate"] == cal.slope.estimate and eps["slope"]["ci"] == list(cal.slope.ci)
    assert eps["intercept"]["estimate"] == cal.intercept.estimate
    assert eps["brier"]["estimate"] == cal.brier
    c = concordance_index(t, e, p)
    assert eps["cindex"]["estimate"] == c.estimate and eps["cindex"]["se"] == c.se
    hr = cox_hazard_ratio(t, e, p / 0.1).hazard_ratios[0]
    assert eps["hr"]["estimate"] == pytest.approx(hr.estimate, rel=1e-12)
    groups = np.where(p < 0.1, "low", np.where(p < 0.4, "intermediate", "high"))
    km = survival_by_group(t, e, groups, order=["low", "intermediate", "high"])
    assert risk["prognostic"]["survival"]["logrank"]["statistic"] == pytest.approx(km.logrank.statistic, rel=1e-12)
    assert set(eps["slope"]["by_site"]) == {"EXT-1", "EXT-2", "EXT-3"}
    assert set(eps["slope"]["by_subgroup"]) == {"sex", "age_band"}


def test_rules_are_decided_on_the_reported_intervals(run_dir: Path) -> None:
    risk = json.loads((run_dir / "results.json").read_text())["risk"]
    rules = {r["id"]: r for r in risk["rules"]}
    lo, hi = risk["endpoints"]["slope"]["ci"]
    assert rules["R1"]["decision"] == ("pass" if 0.8 <= lo and hi <= 1.2 else "fail")
    assert rules["R2"]["decision"] == ("pass" if risk["endpoints"]["cindex"]["ci"][0] > 0.65 else "fail")


def test_dossier_has_risk_sections_and_figures(run_dir: Path) -> None:
    sar = (run_dir / "report" / "sar.qmd").read_text()
    assert "# Risk output: calibration and prognosis" in sar and "## Prognostic value" in sar
    assert "figures/risk\\_reliability" in sar or "figures/risk_reliability" in sar
    assert (run_dir / "report" / "figures" / "risk_reliability.svg").is_file()
    assert (run_dir / "report" / "figures" / "risk_km.svg").is_file()
    assert "Number at risk" not in sar  # at-risk numbers are drawn in the figure, not duplicated
    sap = (run_dir / "report" / "sap.qmd").read_text()
    assert "# Risk-output analysis" in sap and "interval inside \\[0.8, 1.2\\]" in sap
    assert (run_dir / "report" / "sar.html").is_file()
    assert "## Recalibration on a tuning split (exploratory)" in sar and "Recalibrated: calibration slope" in sar
    assert "Exploratory recalibration" in sap and "site = EXT-3" in sap


def test_recalibration_is_fitted_on_the_tuning_site_and_reported_apart(run_dir: Path) -> None:
    from validation.stats import fit_recalibration

    risk = json.loads((run_dir / "results.json").read_text())["risk"]
    rc = risk["recalibration"]
    d = _files()
    tune = (d["site"] == "EXT-3").to_numpy()
    y, p = d["truth"].to_numpy(), d["score"].to_numpy()
    model = fit_recalibration(y[tune], p[tune])
    assert (rc["n_tuning"], rc["n_evaluation"]) == (int(tune.sum()), int((~tune).sum()))
    assert rc["model"]["slope"]["estimate"] == model.slope.estimate
    assert rc["model"]["intercept"]["ci"] == list(model.intercept.ci)
    locked = calibration_summary(y[~tune], p[~tune])
    recal = calibration_summary(y[~tune], model.recalibrate(p[~tune]))
    ev = rc["evaluation"]
    assert ev["locked"]["slope"]["estimate"] == locked.slope.estimate and ev["locked"]["brier"] == locked.brier
    assert ev["recalibrated"]["slope"]["ci"] == list(recal.slope.ci) and ev["recalibrated"]["brier"] == recal.brier
    # the locked model's endpoints still use every case
    assert risk["endpoints"]["slope"]["estimate"] == calibration_summary(y, p).slope.estimate
