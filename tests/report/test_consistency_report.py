"""The consistency section end to end: ``python -m validation run`` on the CADe example, then
the rendered report (HTML and PDF) and SAP show it, and every number it prints is a value of
``results.json`` (or the locked protocol, for the SAP) under the declared rounding."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.report._text import (
    allowed_from_json,
    html_sections,
    load,
    numbers,
    pdf_text,
    strings_from_json,
    template_numbers,
)
from validation.demo_data import DEMO_APPROVER, DEMO_MEANING
from validation.report.consistency import consistency_plan_view, consistency_view

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from validation.protocol import lock_path_for, lock_protocol

    tmp = tmp_path_factory.mktemp("consistency_run")
    root = tmp / "protocols"
    shutil.copytree(REPO / "protocols", root)
    path = root / "cade_pneumothorax.yaml"
    if lock_path_for(path).exists():
        lock_path_for(path).unlink()
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "validation", "run", str(path), "--out", str(tmp / "runs"),
         "--format", "html,pdf", "--quiet"],
        capture_output=True, text=True, env=env, cwd=tmp, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return Path(out.stdout.strip().splitlines()[-1])


def test_results_hold_the_consistency_key(run_dir: Path) -> None:
    res = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    cons = res["consistency"]
    assert set(cons["factors"]) == {"site", "manufacturer", "sex_by_age"}
    assert [r["id"] for r in cons["rules"]] == ["C1", "C2", "C3", "C4"]
    site = cons["factors"]["site"]
    assert site["endpoints"]["sensitivity"]["unit"] == "patient"
    assert site["endpoints"]["sensitivity"]["pooled"]["k"] == 4
    assert site["bivariate"]["fallback"] is None


def test_report_shows_the_section(run_dir: Path) -> None:
    html = (run_dir / "report" / "sar.html").read_text(encoding="utf-8")
    sections, _ = html_sections(run_dir / "report" / "sar.html")
    text = sections["sec-subgroups"]
    for fragment in ("Consistency across sites and subgroups (pre-specified)",
                     "Pre-specified consistency rules (secondary assessments)",
                     "prediction interval for a new level", "Heterogeneity: tau²",
                     "Cochran", "interaction chi-square", "largest gap",
                     "Equalized-odds difference", "Bivariate random-effects model"):
        assert fragment in text, fragment
    # the forest plots (diamond and prediction interval) and the SROC plot are embedded
    assert html.count('id="fig-consistency-site-') >= 3
    assert 'id="fig-consistency-sroc-site"' in html
    # the rules sit in the decisions table, below the hypotheses, as secondary assessments
    summary = sections["sec-summary"]
    for rid in ("C1", "C2", "C3", "C4"):
        assert rid in summary
    assert "consistency (secondary)" in summary
    view = consistency_view(load(run_dir / "results.json"))
    assert view is not None and view["paragraph"].split(".")[0] in text
    eos = [f["equalized_odds"] for f in view["factors"] if f["equalized_odds"]]
    assert eos and all(eo["ci"] in text and eo["estimate"] in text for eo in eos)


def test_report_numbers_come_from_results(run_dir: Path) -> None:
    results = load(run_dir / "results.json")
    lock = load(run_dir / "protocol.lock.json")
    allowed = (allowed_from_json(results) | strings_from_json(lock)
               | template_numbers("sar.qmd.j2", "partials/*.j2"))
    sections, _ = html_sections(run_dir / "report" / "sar.html")
    start = sections["sec-subgroups"].index("Consistency across sites")
    text = sections["sec-subgroups"][start:]
    bad = sorted({n for n in numbers(text) if n not in allowed})
    assert not bad, bad
    assert len(numbers(text)) > 150


def test_pdf_shows_the_section(run_dir: Path) -> None:
    text = pdf_text(run_dir / "report" / "sar.pdf")
    assert "Consistency across sites and subgroups (pre-specified)" in text
    assert "Summary ROC of the bivariate model" in text
    assert "Pooled sensitivity" in text


def test_sap_states_the_plan(run_dir: Path) -> None:
    sections, _ = html_sections(run_dir / "report" / "sap.html")
    text = "".join(sections.values())
    assert "Consistency across sites and subgroups" in text
    assert "C1: the lower bound of the prediction interval for a new level of Site" in text
    assert "goal minus 0.050" in text
    plan = consistency_plan_view(load(run_dir / "protocol.lock.json")["protocol"])
    assert plan is not None and [f["pooled"] for f in plan["factors"]] == ["yes", "no", "no"]


def test_view_without_the_section_is_none() -> None:
    assert consistency_view({"endpoints": {}}) is None
    assert consistency_plan_view({"endpoints": []}) is None
