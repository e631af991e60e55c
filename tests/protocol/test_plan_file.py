"""The one checker of plan documents (surveillance and change-control plans)."""

from __future__ import annotations

from pathlib import Path

import pytest

from validation.change.plan import check_change_plan
from validation.surveillance.plan import check_plan

CHECKERS = [check_plan, check_change_plan]


@pytest.mark.parametrize("check", CHECKERS)
@pytest.mark.parametrize(("text", "expected"), [
    ("plan: \x07x\n", "malformed YAML: unacceptable character"),  # reader error: no mark
    ("plan: [unclosed\n", "malformed YAML"),
    ("- a\n- b\n", "the top level must be a mapping"),
    ("", "the top level must be a mapping"),
    ("a: 1\na: 2\n", "key 'a' appears twice"),
    ("a: .inf\n", "must be a finite number"),
])
def test_unreadable_documents_are_problems_not_tracebacks(tmp_path: Path, check, text: str,
                                                          expected: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    plan, problems = check(path)
    assert plan is None and problems
    assert any(expected in p.message for p in problems), [p.message for p in problems]
    assert all(p.file == str(path) for p in problems)


@pytest.mark.parametrize("check", CHECKERS)
def test_missing_file_folder_and_bytes(tmp_path: Path, check) -> None:
    assert "does not exist" in check(tmp_path / "none.yaml")[1][0].message
    assert "is a folder" in check(tmp_path)[1][0].message
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"plan: caf\xe9\n")
    assert "not UTF-8" in check(bad)[1][0].message


def test_referenced_files_are_checked_only_when_asked(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2] / "protocols"
    text = (root / "change_control_example.yaml").read_text(encoding="utf-8")
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = check_change_plan(path)
    assert any("does not exist (looked for it relative to the plan's folder)" in p.message
               for p in problems)
    plan, problems = check_change_plan(path, check_files=False)
    assert plan is not None and not problems
