"""Governance: a run refused for a bad argument spends no test-set access (issue 23)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from validation.provenance.registry import AccessRecord, open_registry


def cli(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> tuple[int, str, str]:
    from validation.cli import main

    monkeypatch.setattr(sys, "argv", ["validation", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    out, err = capsys.readouterr()
    code = exc.value.code
    return (0 if code is None else int(code)), out, err


def _accesses(url: str) -> int:
    reg = open_registry(url)
    try:
        return reg.count(AccessRecord)
    finally:
        reg.close()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--format", "xls"], "'--format' must be one or more of html, pdf, docx"),
        (["--format", "pdfx"], "got 'pdfx'"),
        (["--seed", "-5"], "'--seed' must be a whole number from 0 to 4294967295"),
        (["--seed", str(2**32)], "got 4294967296"),
        (["--operator", "eve\nFORGED\x1b[31m"], "U+000A (control character) at position 4"),
    ],
)
def test_bad_arguments_are_refused_before_the_test_set_is_read(
        study: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], args: list[str], fragment: str) -> None:
    proto = study()
    url = f"sqlite:///{tmp_path / 'reg.sqlite'}"
    out = tmp_path / "runs"
    before = _accesses(url)
    code, _, err = cli(["run", str(proto), "--out", str(out), "--registry", url, "--quiet",
                        *args], monkeypatch, capsys)
    assert code == 2, err
    assert fragment in err and "Traceback" not in err
    assert _accesses(url) == before == 0
    assert not out.exists()  # no study folder, no .incomplete run


@pytest.mark.parametrize("where", ["file", "under_file", "unwritable"])
def test_out_that_cannot_be_a_folder_is_one_message(
        study: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], where: str) -> None:
    proto = study()
    url = f"sqlite:///{tmp_path / 'reg.sqlite'}"
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    out = {"file": a_file, "under_file": a_file / "runs",
           "unwritable": Path("/proc/validation-runs")}[where]
    code, _, err = cli(["run", str(proto), "--out", str(out), "--registry", url, "--quiet"],
                       monkeypatch, capsys)
    assert code == 2 and "'--out' must be a folder" in err and "Traceback" not in err
    assert _accesses(url) == 0


@pytest.mark.parametrize("command", [["demo", "--tabular", "--format", "none"],
                                     ["protocol", "sap", "PROTO", "--format", "html"]])
def test_other_commands_refuse_an_out_at_a_file(
        study: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    argv = [str(study()) if c == "PROTO" else c for c in command]
    for out in (a_file, a_file / "sub"):
        code, _, err = cli([*argv, "--out", str(out)], monkeypatch, capsys)
        assert code == 2 and "'--out' must be a folder" in err and "Traceback" not in err
        assert err.strip().count("\n") == 0


def test_demo_refuses_a_negative_seed_before_writing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    code, _, err = cli(["demo", "--tabular", "--seed", "-5", "--out", str(out)], monkeypatch,
                       capsys)
    assert code == 2 and "'--seed' must be a whole number" in err
    assert not out.exists()


def test_operating_point_outside_0_1_for_probability_scores_is_refused(
        study: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def op2(p: dict[str, Any]) -> None:
        p["model"]["operating_point"] = 2

    proto = study(protocol=op2)
    url = f"sqlite:///{tmp_path / 'reg.sqlite'}"
    out = tmp_path / "runs"
    code, _, err = cli(["run", str(proto), "--out", str(out), "--registry", url, "--quiet"],
                       monkeypatch, capsys)
    assert code == 2 and "'model.operating_point' must be in [0, 1]" in err and "got 2" in err
    assert _accesses(url) == 0 and not out.exists()


def test_a_training_site_differing_only_in_case_is_recorded_not_fatal(
        study: Callable[..., Path], tmp_path: Path) -> None:
    from validation.analysis.results import load_results
    from validation.pipeline import run_protocol

    def lower_site(p: dict[str, Any]) -> None:
        p["model"]["training_sites"] = ["site-a", "T2"]

    run = run_protocol(study(protocol=lower_site), out_dir=tmp_path / "runs", progress=False)
    notes = load_results(run / "results.json")["flow"]["notes"]
    assert len(notes) == 1 and "'SITE-A'" in notes[0] and "'site-a'" in notes[0]
    assert "only in letter case" in notes[0]


def test_a_card_refuses_an_operating_point_outside_its_score_range(tmp_path: Path) -> None:
    from validation.errors import LockedModelError
    from validation.models.card import ModelCard, check_card

    card = ModelCard.model_validate({
        "name": "m", "version": "1", "kind": "onnx", "artifact": "m.onnx", "sha256": "0" * 64,
        "training_sites": ["T1"], "operating_point": 2.0,
        "output": {"meaning": "probability of a lesion", "positive_class": "lesion"}})
    with pytest.raises(LockedModelError, match=r"outside the score range \[0, 1\]"):
        check_card(card, card_path=tmp_path / "card.yaml", kind="onnx", sha256="0" * 64,
                   training_sites=["T1"], operating_point=2.0)
