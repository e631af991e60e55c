"""The surveil CLI's report command, week periods, and the layer rules of the package."""

from __future__ import annotations

import ast
import json
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from validation.surveillance import ingest_batch, surveillance_status

PACKAGE = Path(__file__).resolve().parents[2] / "validation" / "surveillance"


def test_surveillance_layer_never_imports_the_cli() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(("validation.cli", "validation.commands", "typer")), \
                    f"{path.name} imports {name}"


def test_report_command_renders_the_status(surv, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                           tmp_path: Path) -> None:
    from validation.cli import app

    ingest_batch(surv.plan, surv.batch("B1", month="2026-02", n=60, seed=1))
    calls: list[tuple[dict, Path, list[str]]] = []  # type: ignore[type-arg]

    def render(status, out_dir, *, formats):  # type: ignore[no-untyped-def]
        calls.append((status, out_dir, list(formats)))
        target = out_dir / "surveillance_report.html"
        target.write_text("<html></html>")
        return [target]

    fake = types.ModuleType("validation.report.surveillance")
    fake.render_surveillance_report = render  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "validation.report.surveillance", fake)
    out = tmp_path / "report"
    res = CliRunner().invoke(app, ["surveil", "report", str(surv.plan), "--out", str(out),
                                   "--format", "html"])
    assert res.exit_code == 0, res.output
    assert len(calls) == 1 and calls[0][2] == ["html"] and calls[0][1] == out
    written = json.loads((out / "status.json").read_text())
    assert written == json.loads(json.dumps(calls[0][0]))
    assert written["periods"] == surveillance_status(surv.plan)["periods"]
    assert "surveillance_report.html" in res.output


def test_week_periods(surv, baseline) -> None:  # type: ignore[no-untyped-def]
    from surv_fixture import write_plan

    plan = write_plan(surv.folder / "weekly", baseline, period="week")
    res = ingest_batch(plan, surv.batch("W1", month="2026-03", n=50, seed=2))
    assert set(res.periods) <= {f"2026-W{w:02d}" for w in range(9, 15)}
    assert len(res.periods) >= 3
    st = surveillance_status(plan)
    assert st["plan"]["period"] == "week"
    assert sum(p["n_cases"] for p in st["periods"]) == 50
