"""`validation run` end to end: byte-identical results, and every refused input exits 2 cleanly."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pipeline_study import complete_runs

from validation.pipeline import FAILED_FILE, run_protocol


def cli(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> tuple[int, str, str]:
    from validation.cli import main

    monkeypatch.setattr(sys, "argv", ["validation", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    out, err = capsys.readouterr()
    code = exc.value.code
    return (0 if code is None else int(code)), out, err


def test_results_byte_identical_across_runs(study: Callable[..., Path], tmp_path: Path) -> None:
    proto = study()
    out = tmp_path / "runs"
    a = run_protocol(proto, out_dir=out, progress=False)
    b = run_protocol(proto, out_dir=out, progress=False)
    assert a != b  # two runs, two run ids
    assert (a / "results.json").read_bytes() == (b / "results.json").read_bytes()
    assert (a / "predictions.parquet").read_bytes() == (b / "predictions.parquet").read_bytes()
    assert sorted(p.name for p in complete_runs(out)) == sorted([a.name, b.name])
    for run in (a, b):
        assert (run / "protocol.lock.json").read_bytes() == proto.with_name(
            proto.name + ".lock.json").read_bytes()
        assert not (run / FAILED_FILE).exists()


def test_run_command_writes_results(study: Callable[..., Path], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    proto = study()
    out = tmp_path / "runs"
    code, stdout, _ = cli(["run", str(proto), "--out", str(out), "--quiet"], monkeypatch, capsys)
    assert code == 0
    run_dir = Path(stdout.strip().splitlines()[-1])
    assert run_dir.parent == out / "TEST-001"
    res = json.loads((run_dir / "results.json").read_text())
    assert res["schema_version"] == "1.1"
    assert res["seed"] == 11 and res["deviations"] == []
    from validation.protocol import load_protocol, protocol_sha256

    assert res["protocol"]["sha256"] == protocol_sha256(load_protocol(proto))
    # the run folder name is <UTC timestamp>-<8 hex of the inputs>-<4 hex random tag>
    stamp, short, tag = run_dir.name.split("-")
    assert len(stamp) == 16 and stamp.endswith("Z") and len(short) == 8 and len(tag) == 4
    int(short + tag, 16)


def test_seed_override_is_a_deviation(study: Callable[..., Path], tmp_path: Path) -> None:
    proto = study()
    run = run_protocol(proto, out_dir=tmp_path / "runs", seed=99, progress=False)
    res = json.loads((run / "results.json").read_text())
    assert res["seed"] == 99
    assert [d["kind"] for d in res["deviations"]] == ["seed"]


def _drop_rename(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns={"truth": "truht"})


def _non_binary(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["truth"] = df["truth"].astype(object)
    df.loc[2, "truth"] = 2
    df.loc[4, "truth"] = "yes"
    return df


def _duplicate(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df.loc[5, "case_id"] = df.loc[4, "case_id"]
    return df


def _training_site(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df.loc[df["site"] == "SITE-B", "site"] = "T2"
    return df


def _unknown_and_missing(df: pd.DataFrame) -> pd.DataFrame:
    df = df.iloc[1:].copy()  # the first case loses its prediction
    extra = pd.DataFrame({"case_id": ["NOT-IN-MANIFEST"], "score": [0.3]})
    return pd.concat([df, extra], ignore_index=True)


def _nan_score(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["score"] = df["score"].astype(float)
    df.loc[0, "score"] = np.nan  # case 0 is diagnostic in the simulated data (checked below)
    return df


def _subgroup(p: dict[str, Any]) -> None:
    p["subgroups"].append({"id": "scanner", "column": "manufacturerr"})


def _comparator(column: str) -> Callable[[dict[str, Any]], None]:
    def edit(p: dict[str, Any]) -> None:
        p["hypotheses"] = [{"id": "H1", "endpoint": "spec", "type": "superiority",
                            "comparator_column": column}]
    return edit


def _bad_reader(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["reader_call"] = df["truth"].astype(object)
    analysed = df.index[~df["consent_withdrawn"].astype(bool) & ~df["ai_opt_out"].astype(bool)]
    df.loc[analysed[0], "reader_call"] = "maybe"
    df.loc[analysed[1], "reader_call"] = None
    return df


BAD_INPUTS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("misspelt manifest column", {"manifest": _drop_rename},
     ["column 'truth'", "required but missing", "Did you mean 'truht'?"]),
    ("missing manifest column", {"manifest": lambda d: d.drop(columns=["patient_id"])},
     ["column 'patient_id'", "missing"]),
    ("non-binary truth", {"manifest": _non_binary},
     ["row 3 (line 4), column 'truth': must be one of 0, 1; got 2",
      "row 5 (line 6), column 'truth': must be a whole number; got 'yes'"]),
    ("duplicate case ids", {"manifest": _duplicate}, ["duplicate case_id", "at rows 5, 6"]),
    ("training site in the test set", {"manifest": _training_site},
     ["site 'T2'", "training sites", "must be external"]),
    ("subgroup column that does not exist", {"protocol": _subgroup},
     ["subgroup 'scanner'", "'manufacturerr'", "Did you mean 'manufacturer'?"]),
    ("predictions and manifest mismatch", {"predictions": _unknown_and_missing},
     ["'NOT-IN-MANIFEST'", "not in the test-set manifest", "have no prediction"]),
    ("missing score of a diagnostic case", {"predictions": _nan_score},
     ["no finite score", "not marked non-diagnostic"]),
    ("comparator column that does not exist", {"protocol": _comparator("reader_cal")},
     ["hypothesis 'H1'", "comparator column 'reader_cal'", "manifest.csv does not have"]),
    ("comparator reading that is not a call",
     {"protocol": _comparator("reader_call"), "manifest": _bad_reader},
     ["comparator column 'reader_call'", "2 analysed case(s) without a call", "('maybe')",
      "(empty)"]),
]


@pytest.mark.parametrize("label,edits,expected", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_exit_2_and_nothing_complete(
    label: str, edits: dict[str, Any], expected: list[str], study: Callable[..., Path],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    proto = study(**edits)
    out = tmp_path / "runs"
    code, _, err = cli(["run", str(proto), "--out", str(out), "--quiet"], monkeypatch, capsys)
    assert code == 2, err
    assert err.startswith("error: ")
    assert "Traceback" not in err
    for text in expected:
        assert text in err, f"{label}: {text!r} not in {err!r}"
    assert complete_runs(out) == []
    assert list(out.rglob("results.json")) == []


def test_simulated_case_zero_is_diagnostic() -> None:
    from validation.demo_data import simulate

    m, _ = simulate(5, scale=0.12)
    assert not m.loc[0, "non_diagnostic"]


def test_hash_mismatch_of_locked_predictions(
    study: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proto = study()
    locked = proto.parent / "predictions.csv"
    from validation.provenance.hashing import sha256_file

    before = sha256_file(locked)
    text = locked.read_text().replace("0.", "0.9", 1)
    locked.write_text(text)
    after = sha256_file(locked)
    out = tmp_path / "runs"
    code, _, err = cli(["run", str(proto), "--out", str(out), "--quiet"], monkeypatch, capsys)
    assert code == 2
    assert before in err and after in err and "locked" in err
    assert not out.exists()  # refused before a run folder was made


def test_protocol_changed_after_lock(
    study: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import hashlib

    proto = study()
    locked_sha = hashlib.sha256(proto.read_bytes()).hexdigest()
    proto.write_text(proto.read_text().replace("operating_point: 0.5", "operating_point: 0.4"))
    now_sha = hashlib.sha256(proto.read_bytes()).hexdigest()
    out = tmp_path / "runs"
    code, _, err = cli(["run", str(proto), "--out", str(out), "--quiet"], monkeypatch, capsys)
    assert code == 2
    assert locked_sha in err and now_sha in err
    assert complete_runs(out) == []


def test_unlocked_protocol_refused(
    study: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proto = study(lock=False)
    code, _, err = cli(["run", str(proto), "--out", str(tmp_path / "r"), "--quiet"],
                       monkeypatch, capsys)
    assert code == 2 and "not locked" in err


def test_reader_endpoint_without_reader_study(
    study: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def add_mrmc(p: dict[str, Any]) -> None:
        p["endpoints"].append({"id": "mrmc", "kind": "mrmc_auc", "role": "exploratory"})

    proto = study(protocol=add_mrmc, lock=False)
    code, _, err = cli(["run", str(proto), "--out", str(tmp_path / "r"), "--quiet"],
                       monkeypatch, capsys)
    assert code == 2 and "reader_study" in err


def test_failure_after_run_dir_leaves_only_incomplete(
    study: Callable[..., Path], tmp_path: Path
) -> None:
    proto = study()
    out = tmp_path / "runs"

    def boom(ctx: Any) -> None:
        assert (ctx.run_dir / "results.json").is_file()
        raise RuntimeError("report step crashed")

    with pytest.raises(RuntimeError):
        run_protocol(proto, out_dir=out, progress=False, post_steps=[boom])
    assert complete_runs(out) == []
    (incomplete,) = list(out.glob("*/*.incomplete"))
    assert "report step crashed" in (incomplete / FAILED_FILE).read_text()


def test_post_steps_and_finaliser_hooks(study: Callable[..., Path], tmp_path: Path) -> None:
    proto = study()
    seen: list[str] = []

    def step(ctx: Any) -> None:
        seen.append(ctx.run_dir.name)
        assert ctx.results is not None and ctx.run_dir.name.endswith(".incomplete")

    run = run_protocol(proto, out_dir=tmp_path / "runs", progress=False, post_steps=[step])
    assert seen == [run.name + ".incomplete"]


def test_binned_subgroup_on_text_column_refused_before_run_folder(
    study: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def bins_on_sex(p: dict[str, Any]) -> None:
        p["subgroups"].append({"id": "sexbin", "column": "sex", "bins": [0, 1, 2]})

    proto = study(protocol=bins_on_sex)
    out = tmp_path / "runs"
    code, _, err = cli(["run", str(proto), "--out", str(out), "--quiet"], monkeypatch, capsys)
    assert code == 2 and "subgroup 'sexbin' has bins, so its column must be numeric" in err
    assert not out.exists()


def test_registry_lock_conflict_is_refused_before_any_run_folder(
        study: Callable[..., Path], tmp_path: Path) -> None:
    """The same protocol content locked again from a different file: refused up front."""
    from validation.demo_data import DEMO_APPROVER, DEMO_MEANING
    from validation.errors import ProvenanceError
    from validation.protocol import lock_path_for, lock_protocol

    proto = study()
    out = tmp_path / "runs"
    run_protocol(proto, out_dir=out, progress=False)  # records the lock in the registry
    proto.write_text("# reformatted after locking\n" + proto.read_text())
    lock_path_for(proto).unlink()
    lock_protocol(proto, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    before = sorted(p.name for p in (out / "TEST-001").iterdir())
    with pytest.raises(ProvenanceError) as err:
        run_protocol(proto, out_dir=out, progress=False)
    msg = str(err.value)
    assert "already records study 'TEST-001'" in msg and "different text" in msg
    assert sorted(p.name for p in (out / "TEST-001").iterdir()) == before
