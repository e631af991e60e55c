"""Hostile and careless inputs to the command line: each is refused cleanly (issue 23).

Clean means exit code 2, one message on stderr that says what is wrong, no traceback, and no
hang (each call must finish within ``HANG_S``). The cases are the governance and reader items
of the hardening issue; add a row for each new one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pipeline_study import make_study

HANG_S = 10.0


def _bomb(levels: int = 10) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


Setup = Callable[[Path], list[str]]


def _run(*extra: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        proto = make_study(tmp / "study")
        return ["run", str(proto), "--out", str(tmp / "runs"), "--quiet", *extra]

    return setup


def _file(name: str, text: str, *argv: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        (tmp / name).write_text(text)
        return [a.replace("FILE", str(tmp / name)) for a in argv]

    return setup


def _out_at(kind: str, *argv: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        f = tmp / "a_file"
        f.write_text("x")
        out = {"file": f, "under_file": f / "sub", "unwritable": Path("/proc/v-out")}[kind]
        proto = make_study(tmp / "study") if "PROTO" in argv else None
        return [str(proto) if a == "PROTO" else str(out) if a == "OUT" else a for a in argv]

    return setup


CASES: dict[str, tuple[Setup, str]] = {
    "format xls": (_run("--format", "xls"), "'--format' must be one or more"),
    "format pdfx": (_run("--format", "pdfx"), "got 'pdfx'"),
    "seed -5": (_run("--seed", "-5"), "'--seed' must be a whole number"),
    "seed above the cap": (_run("--seed", str(2**32)), "'--seed' must be a whole number"),
    "operator with control characters": (_run("--operator", "eve\nFORGED\x1b[31m"),
                                         "without control characters"),
    "operator with a bidi override": (_run("--operator", "eve\u202eevil"),
                                      "RIGHT-TO-LEFT OVERRIDE"),
    "run --out at a file": (_out_at("file", "run", "PROTO", "--out", "OUT"), "'--out' must be"),
    "run --out under a file": (_out_at("under_file", "run", "PROTO", "--out", "OUT"),
                               "'--out' must be"),
    "run --out unwritable": (_out_at("unwritable", "run", "PROTO", "--out", "OUT"),
                             "'--out' must be"),
    "demo --out at a file": (_out_at("file", "demo", "--tabular", "--out", "OUT"),
                             "'--out' must be"),
    "demo --out under a file": (_out_at("under_file", "demo", "--tabular", "--out", "OUT"),
                                "'--out' must be"),
    "sap --out at a file": (_out_at("file", "protocol", "sap", "PROTO", "--out", "OUT"),
                            "'--out' must be"),
    "sap --out under a file": (_out_at("under_file", "protocol", "sap", "PROTO", "--out", "OUT"),
                               "'--out' must be"),
    "predict --out at a folder": (_out_at("file", "predict", "PROTO", "--out", "/tmp"),
                                  "'--out' must be a file path"),
    "schema --out under a file": (_out_at("under_file", "protocol", "schema", "--out", "OUT"),
                                  "'--out' must be a file path in a folder"),
    "billion laughs protocol": (_file("bomb.yaml", _bomb(), "protocol", "check", "FILE"),
                                "billion laughs"),
    "500 nested brackets": (_file("deep.yaml", "x: " + "[" * 500 + "]" * 500 + "\n",
                                  "protocol", "check", "FILE"), "nested more than"),
    "billion laughs model card": (_file("card.yaml", _bomb(), "model", "card", "FILE"),
                                  "billion laughs"),
    "/dev/null protocol": (lambda tmp: ["protocol", "check", "/dev/null"],
                           "not a regular file"),
    "folder to model hash": (lambda tmp: ["model", "hash", str(tmp)], "is a folder"),
    "folder to auc": (lambda tmp: ["auc", str(tmp), "--truth", "t", "--score", "s"],
                      "is a folder"),
    "audit --expect-head garbage": (lambda tmp: ["audit", "--expect-head", "garbage"],
                                    "'--expect-head' must be SEQ:HASH"),
    "approver with a newline": (lambda tmp: ["protocol", "lock",
                                             str(make_study(tmp / "s", lock=False)),
                                             "--approver", "Eve <e@x.org>\nFORGED",
                                             "--meaning", "approved SAP"],
                                "without control characters"),
    "operating point 2 for probabilities": (
        lambda tmp: ["run", str(make_study(tmp / "s", protocol=lambda p: p["model"].update(
            operating_point=2))), "--out", str(tmp / "runs"), "--quiet"],
        "'model.operating_point' must be in [0, 1]"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_refused_cleanly(name: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from validation.cli import main

    setup, fragment = CASES[name]
    argv = setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["validation", *argv])
    t0 = time.perf_counter()
    with pytest.raises(SystemExit) as exc:
        main()
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert elapsed < HANG_S, f"{name}: took {elapsed:.1f} s (a hang)"
    assert "Traceback" not in err, f"{name}: traceback\n{err}"
    assert exc.value.code == 2, f"{name}: exit {exc.value.code}\n{err}"
    assert fragment in err, f"{name}: message\n{err}"
