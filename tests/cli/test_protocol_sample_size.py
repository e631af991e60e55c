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


def _cade_variant(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((ROOT / "protocols" / "cade_pneumothorax.yaml").read_text())
    edit(data)
    target = tmp_path / "variant.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def _h3(data, **changes):
    h3 = next(h for h in data["hypotheses"] if h["id"] == "H3")
    h3.update(changes)
    return h3


def test_item_without_computation_leaves_adequacy_open(tmp_path):
    """An equivalence hypothesis against a comparator has no formula: no verdict, no joint power."""
    def edit(d):
        _h3(d, type="equivalence", margin=0.05)
    out = _run(["protocol", "sample-size", str(_cade_variant(tmp_path, edit)), "--json"])
    assert out.exit_code == 0, out.output
    plan = json.loads(out.output)
    h3 = plan["items"][2]
    assert "n_enrol" not in h3 and "equivalence" in h3["note"] and "missing" not in h3["note"]
    assert plan["not_computed"] == ["H3"] and plan["adequate"] is None
    assert plan["required_cases"] == max(plan["items"][0]["n_enrol"], plan["items"][1]["n_enrol"])
    assert "adequacy not established: no sample-size computation for H3" in plan["verdict"]
    assert plan["joint_power"]["if_independent"] is None
    assert "cannot be established because no power was computed for H3" in \
        plan["joint_power"]["text"]
    text = _run(["protocol", "sample-size", str(_cade_variant(tmp_path, edit))]).output
    assert "adequacy not established" in text and ": adequate." not in text


def test_findings_are_inflated_by_the_design_effect(tmp_path):
    def edit(d, clustered=True):
        for e in d["endpoints"]:
            if e["id"] == "sensitivity":
                e["unit"] = "finding"
        if clustered:
            d["sample_size"]["assumptions"][0].update(cluster_size=2.5, icc=0.3)
    plan = json.loads(_run(["protocol", "sample-size", str(_cade_variant(tmp_path, edit)),
                            "--json"]).output)
    h1 = plan["items"][0]
    direct = ss.proportion_vs_goal(0.90, 0.80, alpha=0.025, power=0.9, prevalence=0.3)
    deff = 1 + (2.5 - 1) * 0.3
    assert h1["design_effect"] == pytest.approx(1.45, abs=1e-15)
    assert h1["n_independent"] == {"n": direct.n, "n_total": direct.n_total}
    assert h1["n"] == math.ceil(direct.n * deff) and h1["n_total"] == math.ceil(direct.n_total * deff)
    assert h1["patients"] == math.ceil(h1["n_total"] / 2.5)
    assert h1["n_enrol"] == math.ceil(h1["n_total"] / 0.95)
    assert "design effect 1 + (2.5 - 1) x 0.3 = 1.45" in h1["justification"]
    plain = json.loads(_run(["protocol", "sample-size",
                             str(_cade_variant(tmp_path, lambda d: edit(d, False))),
                             "--json"]).output)["items"][0]
    assert plain["n"] == direct.n and "counted as independent" in plain["caveat"]


@pytest.mark.parametrize(
    ("changes", "field", "expect"),
    [({"cluster_size": 2.0, "icc": 0.1}, "sample_size.assumptions[0].cluster_size",
      "which is counted per patient"),
     ({"icc": 0.1}, "sample_size.assumptions[0].icc", "counted per patient")],
)
def test_cluster_inputs_need_a_finding_endpoint(tmp_path, changes, field, expect):
    def edit(d):
        d["sample_size"]["assumptions"][0].update(changes)
    out = _run(["protocol", "check", str(_cade_variant(tmp_path, edit))])
    assert isinstance(out.exception, ProtocolError)
    assert any(field in p and expect in p for p in out.exception.problems), out.exception


def test_cluster_size_needs_icc(tmp_path):
    def edit(d):
        d["endpoints"][0]["unit"] = "finding"
        d["sample_size"]["assumptions"][0]["cluster_size"] = 2.0
    out = _run(["protocol", "check", str(_cade_variant(tmp_path, edit))])
    assert isinstance(out.exception, ProtocolError)
    assert any("sample_size.assumptions[0].icc" in p and "needs both" in p
               for p in out.exception.problems), out.exception


def test_impossible_assumption_names_the_item(tmp_path):
    def edit(d):
        d["sample_size"]["assumptions"][2]["comparator_expected"] = 0.97
    out = _run(["protocol", "sample-size", str(_cade_variant(tmp_path, edit))])
    assert isinstance(out.exception, ProtocolError)
    msg = str(out.exception)
    assert msg.startswith("sample_size.assumptions[2] (hypothesis H3, endpoint sensitivity):")
    assert "must exceed -margin = -0.05" in msg
