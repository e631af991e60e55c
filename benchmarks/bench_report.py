"""Render time of the performance report, by format (pandoc + typst path, no Quarto)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "report" / "fixtures" / "standalone"


def run() -> list[dict]:
    from validation.report import render
    from validation.report.context import read_json, sar_context
    from validation.report.figures import make_figures
    from validation.report.qmd import copy_styles, write_sar_qmd

    os.environ["VALIDATION_RENDERER"] = "pandoc"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "STANDALONE" / "20261128T101500Z-3fa9c1"
        shutil.copytree(FIXTURE, run_dir)
        out = run_dir / "report"
        start = time.perf_counter()
        figures = make_figures(read_json(run_dir / "results.json"), out / "figures")
        rows.append({"name": "report figures (SVG + PNG)", "value": time.perf_counter() - start,
                     "unit": "s"})
        copy_styles(out)
        qmd = write_sar_qmd(sar_context(run_dir), figures, out)
        for fmt in ("html", "pdf", "docx"):
            start = time.perf_counter()
            render.render_qmd(qmd, (fmt,))
            rows.append({"name": f"report render {fmt}", "value": time.perf_counter() - start,
                         "unit": "s"})
    return rows
