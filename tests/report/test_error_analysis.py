"""The report's error-analysis section: saliency figures of sampled errors, or why there are none."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.report._text import html_sections

FIXTURES = Path(__file__).parent / "fixtures"


def _run(tmp_path: Path, explanations: dict | None, kind: str | None = None) -> Path:
    run_dir = tmp_path / "STANDALONE" / "20261128T101500Z-3fa9c1"
    shutil.copytree(FIXTURES / "standalone", run_dir)
    res = json.loads((run_dir / "results.json").read_text())
    res["explanations"] = explanations
    if kind:
        res["model"]["kind"] = kind
    (run_dir / "results.json").write_text(json.dumps(res))
    return run_dir


def _png(path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 20), (200, 30, 30)).save(path)


def test_figures_captions_and_disclaimer(tmp_path, monkeypatch):
    from validation.models.explain import OCCLUSION_DISCLAIMER
    from validation.report import render_report

    monkeypatch.setenv("VALIDATION_RENDERER", "pandoc")
    items = [{"case": "E001", "site": "S01", "kind": "FN", "score": 0.2174, "truth": 1,
              "image": "explanations/FN_S01_E001.png"},
             {"case": "E002", "site": "S02", "kind": "FP", "score": 0.9031, "truth": 0,
              "image": "explanations/FP_S02_E002.png"}]
    run_dir = _run(tmp_path, {"disclaimer": OCCLUSION_DISCLAIMER, "method": "occlusion",
                              "items": items})
    for it in items:
        _png(run_dir / it["image"])
    (html,) = render_report(run_dir, "html")[:1]
    sections, _ = html_sections(html)
    text = " ".join(sections["sec-errors"].split())
    assert "each with its occlusion sensitivity map" in text
    assert " ".join(OCCLUSION_DISCLAIMER.split()) in text
    assert "Case E001, site S01: false negative (score 0.217, reference standard 1)" in text
    assert "Case E002, site S02: false positive (score 0.903, reference standard 0)" in text
    assert "named by a run-local pseudonym" in text
    raw = html.read_text()
    assert raw.count("data:image/png;base64,") >= 2  # both figures embedded
    assert (run_dir / "report" / "figures" / "FP_S02_E002.png").is_file()


def test_precomputed_predictions_say_why_there_are_no_maps(tmp_path, monkeypatch):
    from validation.report import render_report

    monkeypatch.setenv("VALIDATION_RENDERER", "pandoc")
    run_dir = _run(tmp_path, None, kind="precomputed")
    (html,) = render_report(run_dir, "html")[:1]
    sections, _ = html_sections(html)
    assert "No saliency maps: the locked artifact is a file of precomputed predictions" in " ".join(
        sections["sec-errors"].split())
    shutil.rmtree(run_dir.parent)
    run_dir = _run(tmp_path, None)  # an image model whose card has no input section
    (html,) = render_report(run_dir, "html")[:1]
    sections, _ = html_sections(html)
    assert "No saliency maps: the locked model's card defines no image input" in " ".join(
        sections["sec-errors"].split())


def test_a_listed_figure_that_is_missing_is_refused(tmp_path, monkeypatch):
    from validation.errors import RenderError
    from validation.report import render_report

    monkeypatch.setenv("VALIDATION_RENDERER", "pandoc")
    run_dir = _run(tmp_path, {"disclaimer": "d", "method": "grad-cam", "items": [
        {"case_id": "c", "site": "s", "kind": "FN", "score": 0.1, "truth": 1,
         "image": "explanations/missing.png"}]})
    with pytest.raises(RenderError, match="explanations/missing.png"):
        render_report(run_dir, "html")
