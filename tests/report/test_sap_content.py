"""The SAP of the CADe example: the paired hypothesis and the recomputed sample-size section."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.report._text import allowed_from_json, html_sections, load, numbers
from validation.demo_data import DEMO_APPROVER, DEMO_MEANING

ROOT = Path(__file__).resolve().parents[2]


def _render(tmp_path_factory: pytest.TempPathFactory, edit=None, *,
            plan: bool = True) -> tuple[Path, dict]:
    from validation.analysis.sample_size import sample_size_plan
    from validation.protocol import load_protocol, lock_path_for, lock_protocol
    from validation.report import render_sap

    root = tmp_path_factory.mktemp("cade") / "protocols"
    shutil.copytree(ROOT / "protocols", root)
    path = root / "cade_pneumothorax.yaml"
    if edit is not None:
        data = yaml.safe_load(path.read_text())
        edit(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    lock_path_for(path).unlink(missing_ok=True)
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    from validation.analysis.sample_size import sample_size_of_locked
    from validation.protocol import read_lock

    plain = sample_size_of_locked(read_lock(lock_path_for(path)).protocol)
    (html,) = render_sap(lock_path_for(path), root.parent / "sap", formats="html",
                         sample_size=plain)
    if not plan:
        return html, {}
    assert plain is not None
    # the plain plan the SAP was rendered from is the analysis layer's plan of the protocol
    assert plain == _plain(sample_size_plan(load_protocol(path), strict=False))
    return html, plain | {"lock": load(lock_path_for(path))}


def _plain(x):
    from validation.stats import to_plain

    return to_plain(x)


@pytest.fixture(scope="module")
def cade_sap(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return _render(tmp_path_factory)


def test_paired_hypothesis_is_stated(cade_sap):
    html, _ = cade_sap
    sections, _ = html_sections(html)
    hyp = " ".join(sections["sec-hypotheses"].split())
    assert "H3 (sensitivity)" in hyp
    assert ("the model's sensitivity minus that of the comparator read on the same cases "
            "(manifest column radiologist_call), tested by Tango's paired score test") in hyp
    assert "comparator radiologist_call" in hyp  # the table's reference column
    objectives = " ".join(sections["sec-objectives"].split())
    assert "non-inferior to that of the comparator read on the same cases" in objectives


def test_sample_size_section_is_the_recomputed_plan(cade_sap):
    html, plan = cade_sap
    sections, _ = html_sections(html)
    text = " ".join(sections["sec-sample-size"].split())
    for item in plan["items"]:
        assert " ".join(item["justification"].split()) in text
        assert f"Cases to enrol: {item['n_enrol']}" in text
    assert f"The largest single requirement is {plan['required_cases']} cases" in text
    assert "Planned: 800 cases: adequate." in text
    assert plan["joint_power"]["text"] in text
    # every number of the section comes from the plan (itself from the locked assumptions)
    allowed = (set(numbers(str(plan))) | allowed_from_json(plan["lock"]["protocol"])
               | set(numbers(" ".join(str(i["justification"]) for i in plan["items"]))))
    assert not [n for n in numbers(text) if n not in allowed and n not in {"1996"}]


def test_equivalence_against_the_comparator(tmp_path_factory):
    """Objective names the comparator; no formula: the SAP says adequacy is not established."""
    def edit(d):
        h3 = next(h for h in d["hypotheses"] if h["id"] == "H3")
        h3["type"] = "equivalence"
        d["sample_size"]["assumptions"][2]["comparator_expected"] = 0.88
    html, plan = _render(tmp_path_factory, edit)
    sections, _ = html_sections(html)
    objectives = " ".join(sections["sec-objectives"].split())
    assert ("H3. To show that the sensitivity is equivalent to that of the comparator read on "
            "the same cases (radiologist_call) within the margin 0.050.") in objectives
    text = " ".join(sections["sec-sample-size"].split())
    assert plan["verdict"] in text and "adequacy not established" in plan["verdict"]
    assert "no power was computed for H3" in text


def test_sample_size_that_cannot_be_computed_is_stated(tmp_path_factory):
    """Assumptions that pass the checks but defeat the computation (0.8001 against a goal of
    0.80 needs about 1.7e8 cases): the SAP says so instead of failing to render."""
    def edit(d):
        d["sample_size"]["assumptions"][0]["expected"] = 0.8001
    html, _ = _render(tmp_path_factory, edit, plan=False)
    sections, _ = html_sections(html)
    text = " ".join(sections["sec-sample-size"].split())
    assert ("H1. The sample size cannot be computed from sample_size.assumptions[0] "
            "(hypothesis H1, endpoint sensitivity): the requirement exceeds 1,000,000 "
            "units") in text
    # the other hypotheses are still justified, and adequacy is left open
    assert "The specificity is tested against the performance goal 0.85" in text
    assert "Planned: 800 cases; adequacy not established: no sample-size computation for H1" \
        in text


def test_enriched_design_in_the_sap(tmp_path_factory):
    def edit(d):
        d["sample_size"].update(planned_positive=120, planned_negative=680)
    html, plan = _render(tmp_path_factory, edit)
    sections, _ = html_sections(html)
    text = " ".join(sections["sec-sample-size"].split())
    assert plan["verdict"] in text and "NOT adequate" in plan["verdict"]
    assert plan["enriched"]["note"] in text


def test_planned_difference_keeps_acronyms():
    from validation.report.sap import _planned_difference

    text = _planned_difference({"comparator_column": "rad_score"},
                               {"kind": "auc", "unit": "patient"}, None)
    assert text.startswith("the model's area under the ROC curve minus that of the comparator")
    assert "paired DeLong test" in text


def test_sample_size_numbers_of_a_run_are_in_results_json(tmp_path: Path) -> None:
    """The SAP rendered with a run's report formats ``results.json['sample_size']``: every
    number of its sample-size section is a number of that key (or of the locked protocol's
    planning assumptions it restates); the report layer computes none."""
    from validation.pipeline import run_protocol
    from validation.protocol import lock_path_for, lock_protocol
    from validation.report import render_report

    root = tmp_path / "protocols"
    shutil.copytree(ROOT / "protocols", root)
    path = root / "cade_pneumothorax.yaml"
    lock_path_for(path).unlink(missing_ok=True)
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    run = run_protocol(path, out_dir=tmp_path / "runs", progress=False)
    results = load(run / "results.json")
    plan = results["sample_size"]
    assert plan["items"] and plan["required_cases"] is not None
    render_report(run, ("html",))
    sections, _ = html_sections(run / "report" / "sap.html")
    text = " ".join(sections["sec-sample-size"].split())
    assert f"The largest single requirement is {plan['required_cases']} cases" in text
    for item in plan["items"]:
        assert " ".join(item["justification"].split()) in text
    lock = load(run / "protocol.lock.json")
    allowed = (allowed_from_json(plan) | set(numbers(str(plan)))
               | allowed_from_json(lock["protocol"]["sample_size"]))
    bad = [n for n in numbers(text) if n not in allowed and n not in {"1996"}]
    assert not bad, f"numbers in the SAP's sample-size section not in results.json: {bad}"
