"""The surveillance plan: model, file:line problems, lock and approval."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from validation.errors import LockError, ProtocolError
from validation.surveillance.plan import (
    check_plan,
    load_plan,
    lock_plan,
    period_label,
    plan_sha256,
    verify_plan_lock,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "protocols" / "surveillance_example.yaml"


def test_example_plan_is_valid() -> None:
    plan = load_plan(EXAMPLE, check_files=False)
    assert plan.plan.id == "PMS-CADE-PTX"
    assert plan.period == "month"
    assert {r.metric for r in plan.rules} == {
        "sensitivity", "specificity", "ppv", "positive_call_rate", "auc", "score_distribution",
        "input_mix"}
    assert plan.rule("sensitivity-cusum").target_arl0 == 2000
    assert plan.rule("ppv-ewma").target_arl0 == pytest.approx(200)
    assert plan.age_bands is not None and plan.age_bands.band_labels() == ["18-49", "50-64", "65+"]


def test_example_plan_names_missing_files_by_line() -> None:
    _, problems = check_plan(EXAMPLE)
    texts = [str(p) for p in problems]
    lines = EXAMPLE.read_text().splitlines()
    results_line = next(i for i, x in enumerate(lines, 1) if x.startswith("  results:"))
    assert any(f":{results_line}:12: monitors.results: 'results' " in t and "does not exist" in t
               for t in texts), texts


def _bad(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    with pytest.raises(ProtocolError) as info:
        load_plan(path, check_files=False)
    return list(info.value.problems)


def test_every_problem_has_file_line_column_and_field(tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    text = text.replace("period: month", "period: mnth")
    text = text.replace("    chart: bernoulli_cusum\n    scopes: [pooled, site]",
                        "    chart: ewma\n    scopes: [pooled, site]\n    colour: red")
    text = text.replace("severity: major\n  - id: specificity", "severity: severe\n  - id: specificity")
    problems = _bad(tmp_path, text)
    lines = text.splitlines()
    period_line = next(i for i, x in enumerate(lines, 1) if x.startswith("period:"))
    assert any(p.startswith(f"{tmp_path / 'plan.yaml'}:{period_line}:9: period: 'period' must be "
                            "one of week, month; got 'mnth'. Did you mean 'month'?")
               for p in problems), problems
    colour = next(i for i, x in enumerate(lines, 1) if "colour" in x)
    assert any(f":{colour}:5: rules[1].colour: unknown key 'colour'" in p for p in problems)
    assert any("rules[0].severity: 'severity' must be one of the plan's severities (minor, "
               "major, critical); got 'severe'" in p for p in problems), problems
    assert all(p.startswith(str(tmp_path / "plan.yaml") + ":") for p in problems)


def test_rule_needs_exactly_one_target_and_a_suitable_chart(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("    arl0: 2000\n    shift: 0.10          #",
                                       "    arl0: 2000\n    false_alarm_rate: 0.01\n"
                                       "    shift: 0.10          #")
    text = text.replace("metric: auc\n    chart: normal_cusum", "metric: auc\n    chart: ks")
    problems = _bad(tmp_path, text)
    assert any("give exactly one of 'arl0' and 'false_alarm_rate'" in p for p in problems)
    assert any("'chart' 'ks' does not suit metric 'auc'" in p for p in problems)


def test_duplicate_keys_and_malformed_yaml(tmp_path: Path) -> None:
    problems = _bad(tmp_path, EXAMPLE.read_text().replace("period: month",
                                                          "period: month\nperiod: week"))
    assert any("key 'period' appears twice" in p for p in problems)
    problems = _bad(tmp_path, "plan: [unclosed\n")
    assert problems and "malformed YAML" in problems[0]


def test_lock_approve_and_verify(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(EXAMPLE.read_text())
    # the example names files that are not there: locking needs a complete plan
    with pytest.raises(ProtocolError):
        lock_plan(path, approver="Ada Lovelace <ada@example.org>", meaning="authored plan")
    (tmp_path / "cade_pneumothorax.yaml").write_text("x")
    res = tmp_path.parent / "runs" / "CADE-PTX-001" / "pivotal"
    res.mkdir(parents=True, exist_ok=True)
    text = path.read_text().replace("../runs/", f"{tmp_path.parent}/runs/")
    path.write_text(text)
    (res / "results.json").write_text("{}")
    first = lock_plan(path, approver="Ada Lovelace <ada@example.org>", meaning="authored plan",
                      now="2026-01-01T00:00:00Z")
    second = lock_plan(path, approver="Grace Hopper <grace@example.org>",
                       meaning="approved surveillance plan", now="2026-01-02T00:00:00Z")
    assert [a.role for a in second.approvals] == ["authored", "approved"]
    assert first.protocol_sha256 == second.protocol_sha256 == plan_sha256(load_plan(path))
    lock = verify_plan_lock(path, require_role="approved")
    assert lock.study_id == "PMS-CADE-PTX"
    data = json.loads((tmp_path / "plan.yaml.lock.json").read_text())
    assert data["protocol"]["plan"]["id"] == "PMS-CADE-PTX"
    with pytest.raises(LockError, match="already holds the signature"):
        lock_plan(path, approver="Ada Lovelace <ada@example.org>", meaning="authored plan")
    path.write_text(text.replace("minimum_cases: 30", "minimum_cases: 40"))
    with pytest.raises(LockError, match="changed after it was locked"):
        verify_plan_lock(path)
    with pytest.raises(LockError, match="changed since it was locked"):
        lock_plan(path, approver="Ada Lovelace <ada@example.org>", meaning="authored plan")
    amended = lock_plan(path, approver="Ada Lovelace <ada@example.org>",
                        meaning="authored amendment", replace=True)
    assert len(amended.approvals) == 1 and amended.protocol_sha256 != first.protocol_sha256


def test_unlocked_plan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(EXAMPLE.read_text())
    with pytest.raises(LockError, match="is not locked"):
        verify_plan_lock(path)


def test_period_labels() -> None:
    from datetime import date

    assert period_label(date(2027, 3, 31), "month") == "2027-03"
    assert period_label(date(2027, 1, 1), "week") == "2026-W53"
    assert period_label(date(2027, 3, 1), "week") == "2027-W09"


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "validation", "surveil", "check", str(EXAMPLE),
                         "--no-files"], capture_output=True, text=True)
    assert ok.returncode == 0 and "plan PMS-CADE-PTX" in ok.stdout
    bad = tmp_path / "plan.yaml"
    bad.write_text(EXAMPLE.read_text().replace("period: month", "period: fortnight"))
    res = subprocess.run([sys.executable, "-m", "validation", "surveil", "check", str(bad),
                          "--no-files"], capture_output=True, text=True)
    assert res.returncode == 2
    assert "period: 'period' must be one of week, month; got 'fortnight'" in res.stderr
    assert "Traceback" not in res.stderr


def test_plan_yaml_bomb_is_refused(tmp_path):
    from validation.surveillance.plan import check_plan

    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    plan, problems = check_plan(path)
    assert plan is None and "the YAML is refused" in str(problems[0])
