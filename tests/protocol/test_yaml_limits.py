"""Every YAML the suite reads bounds alias expansion and nesting (issue 23, readers)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from validation._yaml import MAX_DEPTH, MAX_EXPANDED_NODES, yaml_limit_problem
from validation.errors import InputError, LockedModelError


def billion_laughs(levels: int = 10) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def deep(n: int = 500) -> str:
    return "x: " + "[" * n + "]" * n + "\n"


def test_the_bomb_is_small_and_its_expansion_is_counted_not_performed() -> None:
    text = billion_laughs()
    assert len(text.encode()) < 1024
    t0 = time.perf_counter()
    problem = yaml_limit_problem(text)
    assert time.perf_counter() - t0 < 2.0  # a guard against hanging; the bound is the count
    assert problem is not None and f"more than {MAX_EXPANDED_NODES} values" in problem


def test_limits_leave_ordinary_files_alone() -> None:
    ok = "a: &a [1, 2, 3]\nb: *a\nc: *a\n" + deep(MAX_DEPTH - 1)  # the top mapping is 1 deep
    assert yaml_limit_problem(ok) is None
    assert yaml_limit_problem("a: [unclosed\n") is None  # the loader's own message is better
    assert "nested more than" in str(yaml_limit_problem(deep(MAX_DEPTH)))


@pytest.mark.parametrize(("text", "fragment"), [(billion_laughs(), "billion laughs"),
                                                (deep(), "nested more than 64 deep")])
def test_protocol_check_refuses_with_one_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        text: str, fragment: str) -> None:
    from validation.cli import main

    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    monkeypatch.setattr(sys, "argv", ["validation", "protocol", "check", str(path)])
    t0 = time.perf_counter()
    with pytest.raises(SystemExit) as exc:
        main()
    assert time.perf_counter() - t0 < 2.0
    err = capsys.readouterr().err
    assert exc.value.code == 2 and fragment in err
    assert "Traceback" not in err and "RecursionError" not in err


@pytest.mark.parametrize("text", [billion_laughs(), deep()])
def test_data_specs_and_model_cards_refuse_too(tmp_path: Path, text: str) -> None:
    from validation.data.specs import load_spec
    from validation.models.card import load_card

    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match="not valid YAML"):
        load_spec(path)
    with pytest.raises(LockedModelError, match="not valid YAML"):
        load_card(path)
