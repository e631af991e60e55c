"""``validation protocol sample-size FILE``: numbers equal to the library calls, readable text.

The sample-size functions themselves are checked against R in tests/stats/test_sample_size.py;
here we check that the command maps each protocol assumption to the right call (one-sided
alpha from the protocol, prevalence, drop-out, MRMC pilot components).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from scipy.stats import binom
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
    direct = ss.proportion_vs_goal_sample_size(0.90, 0.80, alpha=0.025, power=0.9, prevalence=0.3)
    assert h1["n"] == direct.n and h1["n_total"] == direct.n_total
    assert h1["n_enrol"] == math.ceil(direct.n_total / 0.95)
    spec = ss.proportion_vs_goal_sample_size(0.92, 0.85, alpha=0.025, power=0.9, endpoint="specificity",
                                 prevalence=0.3)
    assert h2["n"] == spec.n and h2["n_total"] == spec.n_total
    # H3: sensitivity non-inferior to the radiologist's on the same cases (paired, Tango)
    p10, p01 = ss.discordant_probabilities(0.90, 0.85, 0.3)
    paired = ss.paired_difference_sample_size(p10, p01, margin=0.05, alpha=0.025, power=0.9, prevalence=0.3)
    assert h3["design"] == "paired_difference" and h3["n"] == paired.n
    assert h3["n_total"] == paired.n_total
    assert plan["required_cases"] == max(h1["n_enrol"], h2["n_enrol"], h3["n_enrol"])
    assert plan["adequate"] is True
    # joint power at the planned 800 cases: 760 evaluable, 228 with and 532 without the
    # condition; each power recomputed here (exact binomial by direct summation)
    at = plan["joint_power"]["at_study_size"]
    assert (at["cases"], at["evaluable"], at["basis"]) == (800, 760, "planned")

    def exact(n, goal, expected):
        k = next(k for k in range(n + 2) if binom.sf(k - 1, n, goal) <= 0.025)
        return binom.sf(k - 1, n, expected)

    want = {"H1": exact(228, 0.80, 0.90), "H2": exact(532, 0.85, 0.92),
            "H3": float(ss.power_at(paired, 228)[0])}
    assert at["powers"] == pytest.approx(want, abs=1e-12)
    assert plan["joint_power"]["if_independent"] == pytest.approx(math.prod(want.values()),
                                                                  abs=1e-12)
    assert plan["joint_power"]["lower_bound"] == pytest.approx(sum(want.values()) - 2, abs=1e-12)
    # the smallest study from which the joint power (independent tests) stays >= 0.9
    more = plan["joint_power"]["cases_for_target"]

    def joint(n_enrolled):
        e = math.floor(n_enrolled * 0.95 + 1e-9)
        pos, neg = math.floor(e * 0.3 + 1e-9), math.floor(e * 0.7 + 1e-9)
        return (exact(pos, 0.80, 0.90) * exact(neg, 0.85, 0.92)
                * float(ss.power_at(paired, pos)[0]))

    assert plan["required_cases"] < more
    assert joint(more) >= 0.9 > joint(more - 1)
    assert f"From {more} cases on, the joint power is at least 0.9" in plan["joint_power"]["text"]


def test_planned_size_below_the_joint_requirement_is_not_adequate(tmp_path):
    """Each hypothesis has its own required size, but all must succeed: 640 cases are more
    than the largest single requirement (618) and fewer than the joint power needs."""
    def edit(d):
        d["sample_size"]["planned_cases"] = 640
    plan = json.loads(_run(["protocol", "sample-size", str(_cade_variant(tmp_path, edit)),
                            "--json"]).output)
    assert plan["required_cases"] == 618 and plan["adequate"] is False
    at = plan["joint_power"]["at_study_size"]
    assert at["cases"] == 640 and at["if_independent"] < 0.9
    assert plan["verdict"] == (
        f"Planned: 640 cases: NOT adequate: each hypothesis has its required number of cases, "
        f"but their joint power is {at['if_independent']:.3f} (if the tests are independent), "
        f"below the target 0.9; {plan['joint_power']['cases_for_target']} cases reach it.")
    assert "This is below the target 0.9" in plan["joint_power"]["text"]


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

    # both hypotheses of the fixed sequence planned: their joint power at the common size is
    # the OR power of each at that many cases (mrmc_power, the module's own function)
    from validation.stats.mrmc.sample_size import mrmc_power

    data["sample_size"]["assumptions"][1].update(expected=0.90, variance_components=comps)
    target.write_text(yaml.safe_dump(data))
    out = _run(["protocol", "sample-size", str(target), "--json"])
    assert out.exit_code == 0, (out.output, out.exception)
    plan = json.loads(out.output)
    at = plan["joint_power"]["at_study_size"]
    size = plan["required_cases"]
    assert at["basis"] == "required" and at["cases"] == size
    common = dict(n_readers=5, var_tr=vc["var_tr"], var=vc["var"], cov1=vc["cov1"],
                  cov2=vc["cov2"], cov3=vc["cov3"], pilot_cases=int(vc["n_cases"]), alpha=0.05)
    want = {"H2": mrmc_power(effect=0.04, n_cases=size, **common).power,
            "H1": mrmc_power(effect=0.05, n_cases=size, **common).power}
    assert at["powers"] == pytest.approx(want, abs=1e-12)


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
        d["sample_size"]["assumptions"][2]["comparator_expected"] = 0.88
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
    direct = ss.proportion_vs_goal_sample_size(0.90, 0.80, alpha=0.025, power=0.9, prevalence=0.3)
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
    assert "Finding-level hypotheses count findings and patient-level ones count patients" \
        in plan["units_note"]


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


def test_computation_error_names_the_item():
    """An error inside the computation names the assumption, hypothesis and endpoint."""
    from validation.analysis.sample_size import sample_size_plan
    from validation.protocol import Protocol

    data = yaml.safe_load((ROOT / "protocols" / "cade_pneumothorax.yaml").read_text())
    data["sample_size"]["assumptions"][0]["expected"] = 0.8001
    with pytest.raises(ProtocolError) as err:
        sample_size_plan(Protocol.model_validate(data))
    msg = str(err.value)
    assert msg.startswith("sample_size.assumptions[0] (hypothesis H1, endpoint sensitivity):")
    assert "the requirement exceeds 1,000,000 units" in msg


@pytest.mark.parametrize(
    ("edit", "field", "expect"),
    [
        (lambda d: d["sample_size"]["assumptions"][0].update(expected=0.78),
         "sample_size.assumptions[0].expected",
         "hypothesis 'H1' (performance_goal): the anticipated value 0.78 must lie above the "
         "goal 0.8; on the null side no number of cases gives the planned power"),
        (lambda d: d["sample_size"]["assumptions"][2].update(comparator_expected=0.97),
         "sample_size.assumptions[2].expected",
         "must lie above the comparator's 0.97 (comparator_expected) minus the margin 0.05"),
        (lambda d: d["sample_size"]["assumptions"][0].update(expected=90),
         "sample_size.assumptions[0].expected", "(a proportion: write 0.9 for 90%)"),
        (lambda d: d["sample_size"]["assumptions"][2].update(comparator_expected=1.0),
         "sample_size.assumptions[2].comparator_expected", "strictly between 0 and 1"),
        (lambda d: d["sample_size"]["assumptions"].append({"hypothesis": "H1", "expected": 0.9}),
         "sample_size.assumptions[3].hypothesis",
         "hypothesis 'H1' already has an assumption (sample_size.assumptions[0])"),
        (lambda d: d["sample_size"]["assumptions"][2].update(correlation=0.95,
                                                             comparator_expected=0.6),
         "sample_size.assumptions[2].correlation",
         "the correlation 0.95 is impossible for proportions 0.9 and 0.6: it must lie in"),
    ],
)
def test_assumptions_are_checked_before_lock(tmp_path, edit, field, expect):
    out = _run(["protocol", "check", str(_cade_variant(tmp_path, edit))])
    assert isinstance(out.exception, ProtocolError), out.output
    assert any(field in p and expect in p for p in out.exception.problems), \
        out.exception.problems


@pytest.mark.parametrize(
    ("components", "expect"),
    [({"var": -1e-4}, "'var' (the error variance of a reader's AUC) must be positive"),
     ({"cov1": 9e-3}, "'cov1' = 0.009 exceeds 'var' = 0.0008 in size"),
     ({"n_cases": 0}, "'n_cases' is the number of pilot cases behind the components, a whole "
                      "number from 2 to 1,000,000; got 0"),
     ({"n_cases": 45.5}, "got 45.5")],
)
def test_mrmc_components_are_checked(tmp_path, components, expect):
    base = {"var_tr": 2e-4, "var": 8e-4, "cov1": 3.5e-4, "cov2": 3.4e-4, "cov3": 2.4e-4,
            "n_cases": 114}

    def edit(d):
        d["sample_size"]["assumptions"][0]["variance_components"] = base | components
    data = yaml.safe_load((ROOT / "protocols" / "reader_study.yaml").read_text())
    edit(data)
    folder = tmp_path / "protocols"
    shutil.copytree(ROOT / "protocols", folder)
    target = folder / "variant.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    out = _run(["protocol", "check", str(target)])
    assert isinstance(out.exception, ProtocolError), out.output
    assert any("sample_size.assumptions[0].variance_components" in p and expect in p
               for p in out.exception.problems), out.exception.problems


def test_enriched_design_is_judged_at_the_planned_counts(tmp_path):
    """planned_positive/planned_negative: each hypothesis's power at the planned counts (less
    drop-out) decides adequacy; here 120 positives (114 evaluable) leave H1 and H3 short."""
    def edit(d):
        d["sample_size"].update(planned_positive=120, planned_negative=680)
    plan = json.loads(_run(["protocol", "sample-size", str(_cade_variant(tmp_path, edit)),
                            "--json"]).output)
    enr = plan["enriched"]
    assert enr["evaluable"] == 760 and enr["share_with_condition"] == pytest.approx(0.15)

    def exact(n, goal, expected):
        k = next(k for k in range(n + 2) if binom.sf(k - 1, n, goal) <= 0.025)
        return binom.sf(k - 1, n, expected)

    p10, p01 = ss.discordant_probabilities(0.90, 0.85, 0.3)
    paired = ss.paired_difference_sample_size(p10, p01, margin=0.05, alpha=0.025, power=0.9)
    assert enr["powers"] == pytest.approx({"H1": exact(114, 0.80, 0.90),
                                           "H2": exact(646, 0.85, 0.92),
                                           "H3": float(ss.power_at(paired, 114)[0])}, abs=1e-12)
    assert enr["below_target"] == ["H1", "H3"] and plan["adequate"] is False
    assert plan["verdict"].startswith("Planned: 120 cases with and 680 without the condition: "
                                      "NOT adequate: at the planned counts the powers are H1 "
                                      "0.835")
    assert "enrich the study to 0.15 with the condition" in enr["note"]
    assert plan["joint_power"]["at_study_size"]["powers"] == enr["powers"]


@pytest.mark.parametrize(("changes", "field", "expect"), [
    ({"planned_positive": 120}, "sample_size.planned_positive",
     "'planned_positive' is given without 'planned_negative'"),
    ({"planned_positive": 300, "planned_negative": 400}, "sample_size.planned_cases",
     "planned_positive + planned_negative = 700 differs from planned_cases = 800"),
])
def test_planned_counts_are_consistent(tmp_path, changes, field, expect):
    def edit(d):
        d["sample_size"].update(changes)
    out = _run(["protocol", "check", str(_cade_variant(tmp_path, edit))])
    assert isinstance(out.exception, ProtocolError)
    assert any(field in p and expect in p for p in out.exception.problems), \
        out.exception.problems


def _with_endpoint(kind):
    def edit(d):
        d["endpoints"].append({"id": "other", "kind": kind, "role": "primary"})
        next(h for h in d["hypotheses"] if h["id"] == "H2")["endpoint"] = "other"
    return edit


def test_accuracy_and_ppv_goals(tmp_path):
    """Accuracy counts every case (no prevalence inflation, its own wording); a PPV goal has no
    formula (its denominator depends on the calls) and leaves adequacy open."""
    plan = json.loads(_run(["protocol", "sample-size",
                            str(_cade_variant(tmp_path, _with_endpoint("accuracy"))),
                            "--json"]).output)
    h2 = plan["items"][1]
    direct = ss.proportion_vs_goal_sample_size(0.92, 0.85, alpha=0.025, power=0.9, endpoint="accuracy")
    assert h2["n"] == direct.n and h2["n_total"] == direct.n
    assert h2["n_enrol"] == math.ceil(direct.n / 0.95)
    assert h2["justification"].startswith("The accuracy is tested against the performance "
                                          "goal 0.85")
    assert "with the condition" not in h2["justification"]
    out = _run(["protocol", "sample-size", str(_cade_variant(tmp_path, _with_endpoint("ppv"))),
                "--json"])
    plan = json.loads(out.output)
    assert "PPV goal" in plan["items"][1]["note"] and plan["not_computed"] == ["H2"]
    assert plan["adequate"] is None


def test_without_prevalence_the_cases_to_enrol_are_open(tmp_path):
    """Counts with/without the condition are not cases to enrol: no 'Required' mixing units,
    no 'adequate'."""
    def edit(d):
        del d["sample_size"]["prevalence"]
    plan = json.loads(_run(["protocol", "sample-size", str(_cade_variant(tmp_path, edit)),
                            "--json"]).output)
    assert plan["required_cases"] is None and plan["adequate"] is None
    assert plan["no_total"] == ["H1", "H2", "H3"]
    assert all("n_enrol" not in it and "depends on the prevalence" in it["caveat"]
               for it in plan["items"])
    assert plan["verdict"] == ("Planned: 800 cases; adequacy not established: no prevalence to "
                               "turn the requirement of H1, H2, H3 into cases to enrol.")


def test_mrmc_superiority_margin_and_equivalence(tmp_path, reference_dir):
    from validation.stats.mrmc import mrmc_analysis
    from validation.stats.mrmc.sample_size import mrmc_sample_size

    df = pd.read_csv(reference_dir / "mrmc" / "vandyke_1993_roc.csv")
    df[["reader", "modality", "case"]] = df[["reader", "modality", "case"]].astype(str)
    vc = mrmc_analysis(df, modalities=("1", "2")).to_dict()["variance_components"]
    comps = {k: vc[k] for k in ("var_tr", "var", "cov1", "cov2", "cov3")}
    comps["n_cases"] = float(vc["n_cases"])
    folder = tmp_path / "protocols"
    shutil.copytree(ROOT / "protocols", folder)
    data = yaml.safe_load((folder / "reader_study.yaml").read_text())
    data["sample_size"]["assumptions"][0].update(expected=0.96, variance_components=comps)
    h2 = next(h for h in data["hypotheses"] if h["id"] == "H2")
    h2["margin"] = 0.02
    (folder / "v.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    out = _run(["protocol", "sample-size", str(folder / "v.yaml"), "--json"])
    assert out.exit_code == 0, (out.output, out.exception)
    item = json.loads(out.output)["items"][0]
    direct = mrmc_sample_size(effect=0.96 - 0.90 - 0.02, n_readers=5, var_tr=vc["var_tr"],
                              var=vc["var"], cov1=vc["cov1"], cov2=vc["cov2"], cov3=vc["cov3"],
                              pilot_cases=int(vc["n_cases"]), power=0.8, alpha=0.05)
    assert item["n_cases"] == direct.n_cases
    assert "a superiority margin of 0.02" in item["justification"]
    h2["type"], h2["margin"] = "equivalence", 0.1
    (folder / "v.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    plan = json.loads(_run(["protocol", "sample-size", str(folder / "v.yaml"), "--json"]).output)
    assert "MRMC equivalence hypothesis" in plan["items"][0]["note"]


def test_split_alpha_procedures_carry_a_caution(tmp_path):
    def edit(d):
        d["multiplicity"] = {"procedure": "holm", "hypotheses": ["H1", "H2", "H3"]}
    plan = json.loads(_run(["protocol", "sample-size", str(_cade_variant(tmp_path, edit)),
                            "--json"]).output)
    assert "sized above at the full one-sided alpha = 0.025" in plan["multiplicity_note"]
    assert "compared with alpha / 3 = 0.008333" in plan["multiplicity_note"]
    assert plan["joint_power"] is None  # holm: no all-must-succeed criterion


def test_command_errors_name_the_file(tmp_path):
    def edit(d):
        d["sample_size"]["assumptions"][0]["expected"] = 0.8001
    path = _cade_variant(tmp_path, edit)
    out = _run(["protocol", "sample-size", str(path)])
    assert isinstance(out.exception, ProtocolError)
    assert str(out.exception).startswith(f"{path}: sample_size.assumptions[0] (hypothesis H1")


def test_assumption_fields_that_do_not_apply(tmp_path):
    def edit(d):
        d["sample_size"]["assumptions"][0].update(correlation=0.3, n_readers=5)
    out = _run(["protocol", "check", str(_cade_variant(tmp_path, edit))])
    assert isinstance(out.exception, ProtocolError)
    probs = out.exception.problems
    assert any("sample_size.assumptions[0].correlation: 'correlation' does not apply to "
               "hypothesis 'H1', tested against the fixed goal; remove it" in p for p in probs)
    assert any("sample_size.assumptions[0].n_readers" in p for p in probs), probs


def test_hypothesis_without_assumption_leaves_the_size_open(tmp_path):
    def edit(d):
        del d["sample_size"]["assumptions"][1]  # H2
    plan = json.loads(_run(["protocol", "sample-size", str(_cade_variant(tmp_path, edit)),
                            "--json"]).output)
    assert plan["without_assumption"] == ["H2"] and plan["adequate"] is None
    assert plan["verdict"].startswith("Planned: 800 cases; adequacy not established: no "
                                      "planning assumption for H2 (tested by the multiplicity "
                                      "procedure)")
