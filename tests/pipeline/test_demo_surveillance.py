"""`validation demo`'s surveillance part: after the pivotal run, a year of monthly batches, labels
two months late, the new scanner at one site from month 8. The alarm for that site fires in
month 8 or 9 and not before, and no alarm fires for any other site. (The image demo's
surveillance is checked in test_demo.py's end-to-end demo.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DEGRADED = "SITE-A"
START = "2025-08"
DETECTED = {"2025-08", "2025-09"}


def check_alarms(alarms: list[dict[str, Any]], *, degraded: str = DEGRADED,
                 start: str = START) -> None:
    """The issue's acceptance: the degraded site's alarm first in month 8 or 9, none before,
    none at another site (pooled alarms may follow the degradation, never precede it)."""
    assert alarms, "the degraded site must raise an alarm"
    early = [a for a in alarms if a["period"] < start]
    assert not early, f"alarms before the degradation: {early}"
    others = [a for a in alarms if a["site"] not in (degraded, None)]
    assert not others, f"alarms at other sites: {others}"
    site = [a for a in alarms if a["site"] == degraded]
    assert site, f"no alarm at {degraded}: {alarms}"
    assert min(a["period"] for a in site) in DETECTED
    assert {a["first_detected"] for a in site} <= DETECTED
    for a in alarms:
        assert set(a) >= {"period", "site", "subgroup", "metric", "rule", "severity", "figures",
                          "first_detected"}


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["VALIDATION_HOME"] = str(root / "home")
    env["VALIDATION_REGISTRY"] = f"sqlite:///{root / 'home' / 'registry.sqlite'}"
    env.pop("VALIDATION_SURVEILLANCE_STORE", None)
    return env


@pytest.fixture(scope="module")
def tabular_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("demo-surv")
    out = root / "demo"
    proc = subprocess.run([sys.executable, "-m", "validation", "demo", "--out", str(out),
                           "--tabular", "--format", "html,pdf"], capture_output=True, text=True,
                          env=_env(root), check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc.stdout


def test_default_seed_alarm_at_the_degraded_site_in_month_8_or_9(tabular_demo):
    out, _ = tabular_demo
    sim = json.loads((out / "surveillance" / "simulation.json").read_text(encoding="utf-8"))
    assert sim["degraded_site"] == DEGRADED and sim["degradation_start"] == START
    assert len(sim["periods"]) == 12
    record = json.loads((out / "surveillance" / "alarms.json").read_text(encoding="utf-8"))
    assert record["periods"] == [p["period"] for p in sim["periods"]]
    check_alarms(record["alarms"])


def test_demo_prints_the_alarm_and_writes_the_report(tabular_demo):
    out, stdout = tabular_demo
    lines = [line for line in stdout.splitlines() if line.startswith("ALARM")]
    assert any(f"at {DEGRADED}" in line and "first detected 2025-0" in line for line in lines)
    report = out / "surveillance" / "report" / "surveillance.html"
    assert report.is_file() and f"SURVEILLANCE html: {report}" in stdout
    html = report.read_text(encoding="utf-8")
    assert "PMS-DEMO" in html and "<em>estimated</em>" in html
    status = json.loads((out / "surveillance" / "status.json").read_text(encoding="utf-8"))
    assert status["plan"]["approval"] is not None
    assert [p["n_labelled"] > 0 for p in status["periods"]] == [True] * 10 + [False] * 2


def test_real_status_report_pages_read(tabular_demo, tmp_path):
    """The report of the demo's own status as PDF pages: numbered, none blank, the alarm in it."""
    from PIL import Image

    out, _ = tabular_demo
    pdf = out / "surveillance" / "report" / "surveillance.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.count("\f")
    assert pages >= 4 and f"Page {pages} of {pages}" in text
    assert "sensitivity-cusum" in text and DEGRADED in text and "estimated" in text
    subprocess.run(["pdftoppm", "-r", "24", "-png", str(pdf), str(tmp_path / "p")], check=True)
    for png in sorted(tmp_path.glob("p-*.png")):
        with Image.open(png) as im:
            hist = im.convert("L").histogram()
        assert sum(hist[:200]) / sum(hist) > 0.005, f"{png.name} looks blank"


def test_labels_merged_two_months_late(tabular_demo):
    out, _ = tabular_demo
    status = json.loads((out / "surveillance" / "status.json").read_text(encoding="utf-8"))
    by_period = {p["period"]: p for p in status["periods"]}
    assert by_period["2025-10"]["n_labelled"] == by_period["2025-10"]["n_cases"]
    assert by_period["2025-11"]["n_labelled"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_robust_across_seeds(tmp_path, seed, monkeypatch):
    from validation.demo_data import prepare_demo
    from validation.pipeline import run_protocol
    from validation.surveillance.demo import run_surveillance_demo

    monkeypatch.setenv("VALIDATION_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VALIDATION_REGISTRY", f"sqlite:///{tmp_path / 'home' / 'registry.sqlite'}")
    protocol = prepare_demo(tmp_path, seed=seed)
    run_dir = run_protocol(protocol, out_dir=tmp_path / "runs", formats=(), progress=False,
                           operator="demo")
    demo = run_surveillance_demo(tmp_path, protocol_path=protocol, run_dir=run_dir, seed=seed)
    check_alarms(demo.alarms)
