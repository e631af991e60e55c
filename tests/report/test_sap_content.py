"""The SAP of the CADe example: the paired hypothesis and the recomputed sample-size section."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.report._text import allowed_from_json, html_sections, load, numbers
from validation.demo_data import DEMO_APPROVER, DEMO_MEANING

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cade_sap(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from validation.protocol import load_protocol, lock_path_for, lock_protocol
    from validation.protocol.sample_size_plan import sample_size_plan
    from validation.report import render_sap

    root = tmp_path_factory.mktemp("cade") / "protocols"
    shutil.copytree(ROOT / "protocols", root)
    path = root / "cade_pneumothorax.yaml"
    lock_path_for(path).unlink(missing_ok=True)
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    (html,) = render_sap(lock_path_for(path), root.parent / "sap", formats="html")
    return html, sample_size_plan(load_protocol(path)) | {"lock": load(lock_path_for(path))}


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
    assert f"The largest requirement is {plan['required_cases']} cases" in text
    assert "800 are planned, which is adequate" in text
    assert plan["joint_power"]["text"] in text
    # every number of the section comes from the plan (itself from the locked assumptions)
    allowed = (set(numbers(str(plan))) | allowed_from_json(plan["lock"]["protocol"])
               | set(numbers(" ".join(str(i["justification"]) for i in plan["items"]))))
    assert not [n for n in numbers(text) if n not in allowed and n not in {"1996"}]
