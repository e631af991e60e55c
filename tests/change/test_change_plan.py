"""The change-control plan: file:line problems, the shipped example, locking."""

from __future__ import annotations

from pathlib import Path

import pytest

from validation.change.plan import (
    check_change_plan,
    load_change_plan,
    lock_change_plan,
    verify_change_plan_lock,
)
from validation.errors import LockError, ProtocolError

EXAMPLE = Path(__file__).resolve().parents[2] / "protocols" / "change_control_example.yaml"

BAD = """schema_version: "1.0"
plan: {id: X, title: t, version: "1"}
protocol: demo.yaml
protocol_sha256: "abc"
alpha: 0.025
multiplicty: holm
test_set_access: {budget: 0, authorised: []}
modifications:
  - type: retrain
    description: d
    criteria:
      - {id: a, endpoint: sens, versus: previous, margin: 0.05}
  - type: retraining
    description: d
    criteria: [{id: a, endpoint: auc, versus: original, margin: 0.6}]
  - type: retraining
    description: d
    criteria: [{id: b, endpoint: auc, versus: original, margin: 0.02},
               {id: b, endpoint: auc, versus: original, margin: 0.02}]
"""


def test_example_plan_is_valid() -> None:
    plan = load_change_plan(EXAMPLE)
    assert [m.type for m in plan.modifications] == ["retraining", "threshold_change",
                                                    "new_input_source"]
    assert plan.multiplicity == "coprimary" and plan.test_set_access.budget == 6


def test_every_problem_with_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "plan.yaml"
    p.write_text(BAD)
    _, problems = check_change_plan(p)
    text = [str(x) for x in problems]
    expect = [
        ("plan.yaml:4:18: protocol_sha256:", "64 lowercase hexadecimal"),
        ("plan.yaml:6:1: multiplicty:", "Did you mean 'multiplicity'?"),
        ("plan.yaml:7:27: test_set_access.budget:", "greater than or equal to 1"),
        ("plan.yaml:9:11: modifications[0].type:", "Did you mean 'retraining'?"),
        ("plan.yaml:12:7: modifications[0].criteria:", "versus the original model"),
        ("plan.yaml:12:27: modifications[0].criteria[0].endpoint:", "got 'sens'"),
        ("plan.yaml:15:65: modifications[1].criteria[0].margin:", "less than 0.5"),
        ("plan.yaml:16:11: modifications[2].type:", "planned twice"),
        ("plan.yaml:19:21: modifications[2].criteria[1].id:", "duplicate criterion id 'b'"),
        ("plan.yaml:3:11: protocol:", "does not exist"),
    ]
    for where, what in expect:
        assert any(where in t and what in t for t in text), (where, text)
    with pytest.raises(ProtocolError, match="problems"):
        load_change_plan(p)


def test_lock_detects_a_change(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(EXAMPLE.read_text())
    (tmp_path / "demo.yaml").write_text("placeholder\n")
    with pytest.raises(LockError, match="not locked"):
        verify_change_plan_lock(plan)
    lock = lock_change_plan(plan, approver="Ada Lovelace <ada@example.org>",
                            meaning="approved change-control plan")
    assert verify_change_plan_lock(plan).protocol_sha256 == lock.protocol_sha256
    lock_change_plan(plan, approver="Grace Hopper <grace@example.org>",
                     meaning="reviewed change-control plan")
    assert [a.role for a in verify_change_plan_lock(plan).approvals] == ["approved", "reviewed"]
    plan.write_text(plan.read_text().replace("budget: 6", "budget: 60"))
    with pytest.raises(LockError, match="changed after it was locked"):
        verify_change_plan_lock(plan)
    with pytest.raises(LockError, match="changed since it was locked"):
        lock_change_plan(plan, approver="Ada Lovelace <ada@example.org>", meaning="approved")
    lock_change_plan(plan, approver="Ada Lovelace <ada@example.org>", meaning="approved",
                     replace=True)
    assert verify_change_plan_lock(plan).protocol["test_set_access"]["budget"] == 60


def test_typed_approvals_are_shown_unsigned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from validation.cli import main

    plan = tmp_path / "plan.yaml"
    plan.write_text(EXAMPLE.read_text())
    (tmp_path / "demo.yaml").write_text("placeholder\n")
    lock_change_plan(plan, approver="Ada Lovelace <ada@example.org>",
                     meaning="approved change-control plan")
    monkeypatch.setattr(sys, "argv", ["validation", "verify", str(tmp_path / "plan.yaml.lock.json")])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr().out
    assert code == 0
    assert "0 signature(s) valid (the document is not signed)" in out
    assert "approved change-control plan by Ada Lovelace <ada@example.org>" in out
    assert "(typed approval, unsigned)" in out
