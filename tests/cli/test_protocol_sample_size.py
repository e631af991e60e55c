"""``validation protocol sample-size FILE``: numbers equal to the library calls, readable text.

The sample-size functions themselves are checked against R in tests/stats/test_sample_size.py;
here we check that the command maps each protocol assumption to the right call (one-sided
alpha from the protocol, prevalence, drop-out, MRMC pilot components).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from validation.cli import app
from validation.errors import ProtocolError
from validation.stats import sample_size as ss

ROOT = Path(__file__).resolve().parents[2]


def _run(args):
    return CliRunner().invoke(app, args)


def test_cade_protocol_json():
    out = _run(["protocol", "sample-size", str(ROOT / "protocols" / "cade_pneumothorax.yaml"),
                "--json"])
    assert out.exit_code == 0, out.output
    plan = json.loads(out.output)
    assert plan["alpha_one_sided"] == 0.025 and plan["power"] == 0.9
    h1, h2, h3 = plan["items"]
    direct = ss.proportion_vs_goal(0.90, 0.80, alpha=0.025, power=0.9, prevalence=0.3)
    assert h1["n"] == direct.n and h1["n_total"] == direct.n_total
    assert h1["n_enrol"] == math.ceil(direct.n_total / 0.95)
    spec = ss.proportion_vs_goal(0.92, 0.85, alpha=0.025, power=0.9, endpoint="specificity",
                                 prevalence=0.3)
    assert h2["n"] == spec.n and h2["n_total"] == spec.n_total
    # H3: sensitivity non-inferior to the radiologist's on the same cases (paired, Tango)
    p10, p01 = ss.discordant_probabilities(0.90, 0.85, 0.3)
    paired = ss.paired_difference(p10, p01, margin=0.05, alpha=0.025, power=0.9, prevalence=0.3)
    assert h3["design"] == "paired_difference" and h3["n"] == paired.n
    assert h3["n_total"] == paired.n_total
    assert plan["required_cases"] == max(h1["n_enrol"], h2["n_enrol"], h3["n_enrol"])
    assert plan["adequate"] is True
    assert plan["joint_power"]["if_independent"] == pytest.approx(
        h1["power"] * h2["power"] * h3["power"])


def test_readable_justification():
    out = _run(["protocol", "sample-size", str(ROOT / "protocols" / "cade_pneumothorax.yaml")])
    assert out.exit_code == 0
    assert "exact binomial test" in out.output and "Buderer 1996" in out.output
    assert "Planned: 800 cases: adequate." in out.output


def test_mrmc_from_pilot_components(tmp_path, reference_dir):
    from validation.stats.mrmc import mrmc_analysis
    from validation.stats.mrmc.sample_size import mrmc_sample_size

    df = pd.read_csv(reference_dir / "mrmc" / "vandyke_1993_roc.csv")
    df[["reader", "modality", "case"]] = df[["reader", "modality", "case"]].astype(str)
    vc = mrmc_analysis(df, modalities=("1", "2")).to_dict()["variance_components"]
    src = ROOT / "protocols" / "reader_study.yaml"
    data = yaml.safe_load(src.read_text())
    comps = {k: vc[k] for k in ("var_tr", "var", "cov1", "cov2", "cov3", "var_r")}
    comps["n_cases"] = float(vc["n_cases"])
    data["sample_size"]["assumptions"][0]["variance_components"] = comps
    target = tmp_path / "reader_study.yaml"
    target.write_text(yaml.safe_dump(data))
    out = _run(["protocol", "sample-size", str(target), "--json"])
    assert out.exit_code == 0, out.output
    item = json.loads(out.output)["items"][0]
    a = data["sample_size"]["assumptions"][0]
    direct = mrmc_sample_size(effect=a["expected"] - a["comparator_expected"],
                              n_readers=a["n_readers"], var_tr=vc["var_tr"], var=vc["var"],
                              cov1=vc["cov1"], cov2=vc["cov2"], cov3=vc["cov3"],
                              pilot_cases=vc["n_cases"], power=0.8, alpha=0.05)
    assert item["n_cases"] == direct.n_cases and item["n"] == direct.n_cases
    assert "Obuchowski-Rockette" in item["justification"]


def test_mrmc_without_components_says_what_is_missing():
    out = _run(["protocol", "sample-size", str(ROOT / "protocols" / "reader_study.yaml")])
    assert out.exit_code == 0
    assert "missing: var_tr, var, cov1, cov2, cov3" in out.output


def test_protocol_without_assumptions_is_an_error():
    out = _run(["protocol", "sample-size", str(ROOT / "protocols" / "demo.yaml")])
    assert isinstance(out.exception, ProtocolError)
    assert "no 'sample_size' section" in str(out.exception)
