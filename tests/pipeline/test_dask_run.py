"""``validation run --dask``: on a LocalCluster (2 workers), the manifest and the predictions are
read and checked in row partitions and joined in slices, the analysis's tasks run there, and
the run directory's results.json, predictions.parquet and inputs.json are byte-identical to
the in-process run's; a bad input gets the same message and exit code 2 on both paths."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from validation.analysis.executor import InProcess, make_executor
from validation.errors import InputError
from validation.pipeline import run_protocol

pytest.importorskip("distributed")

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"
SAME_FILES = ("results.json", "predictions.parquet", "inputs.json", "protocol.lock.json")


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Partitions of 1 KiB, so the tests' small files are cut into several."""
    monkeypatch.setattr("validation.data.partitioned.PARTITION_BYTES", 1024)


def _same_runs(proto: Path, tmp_path: Path) -> bytes:
    local = run_protocol(proto, out_dir=tmp_path / "local", progress=False)
    dask = run_protocol(proto, out_dir=tmp_path / "dask", progress=False, dask="local")
    for name in SAME_FILES:
        assert (local / name).read_bytes() == (dask / name).read_bytes(), name
    return (local / "results.json").read_bytes()


def test_dask_local_cluster_results_are_byte_identical(
        study: Callable[..., Path], tmp_path: Path, small_parts: None) -> None:
    from validation.data.partitioned import file_parts

    proto = study()
    assert len(file_parts(proto.parent / "manifest.csv").ranges) > 3
    assert len(_same_runs(proto, tmp_path)) > 1000


def test_demo_protocol_is_byte_identical_on_dask(tmp_path: Path, small_parts: None) -> None:
    from validation.demo_data import prepare_demo

    proto = prepare_demo(tmp_path / "demo", seed=20261204)
    results = _same_runs(proto, tmp_path)
    assert b'"consistency"' in results and b'"by_site"' in results


def test_cade_example_is_byte_identical_on_dask(tmp_path: Path, small_parts: None) -> None:
    from validation.demo_data import DEMO_APPROVER, DEMO_MEANING
    from validation.protocol import lock_path_for, lock_protocol

    shutil.copytree(PROTOCOLS, tmp_path / "protocols")
    proto = tmp_path / "protocols" / "cade_pneumothorax.yaml"
    lock_path_for(proto).unlink(missing_ok=True)
    lock_protocol(proto, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    _same_runs(proto, tmp_path)


def _cli(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
         ) -> tuple[int, str]:
    from validation.cli import main

    monkeypatch.setattr(sys, "argv", ["validation", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    _, err = capsys.readouterr()
    return int(exc.value.code or 0), err


def _bad_manifest(m: pd.DataFrame) -> pd.DataFrame:
    """Problems spread over the file: a type error, a value outside the set, an empty id, a
    duplicate case id far from its twin, an age out of range."""
    m = m.astype({"truth": object, "age": object, "patient_id": object, "case_id": object})
    n = len(m)
    m.loc[3, "truth"] = "yes"
    m.loc[n // 2, "truth"] = 2
    m.loc[n // 3, "patient_id"] = None
    m.loc[n - 2, "case_id"] = m.loc[5, "case_id"]
    m.loc[n - 1, "age"] = 400
    return m


def _mismatched_predictions(p: pd.DataFrame) -> pd.DataFrame:
    """Unknown case ids, analysed cases without a prediction."""
    extra = pd.DataFrame({"case_id": [f"X-{i}" for i in range(25)], "score": 0.5})
    return pd.concat([p.iloc[7:].reset_index(drop=True), extra], ignore_index=True)


def _blank_scores(p: pd.DataFrame) -> pd.DataFrame:
    """Empty scores of cases the manifest does not mark non-diagnostic."""
    p = p.copy()
    p.loc[np.arange(len(p)) % 9 == 4, "score"] = np.nan
    return p


@pytest.mark.parametrize("edit", [{"manifest": _bad_manifest},
                                  {"predictions": _mismatched_predictions},
                                  {"predictions": _blank_scores}],
                         ids=["manifest", "join", "scores"])
def test_a_bad_input_gets_the_same_message_on_both_paths(
        study: Callable[..., Path], tmp_path: Path, small_parts: None, edit: dict[str, object],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    proto = study(**edit)
    base = ["run", str(proto), "--format", "none", "--quiet"]
    local = _cli([*base, "--out", str(tmp_path / "a")], monkeypatch, capsys)
    dask = _cli([*base, "--out", str(tmp_path / "b"), "--dask", "local"], monkeypatch, capsys)
    assert local[0] == dask[0] == 2
    assert local[1] == dask[1]
    assert "row" in local[1] or "case" in local[1]
    assert "Traceback" not in dask[1]


def test_in_process_executor_keeps_order() -> None:
    ex = make_executor(None)
    assert isinstance(ex, InProcess)
    seen: list[tuple[int, int]] = []
    assert ex.map(lambda h, x, y: h + x * y, [1, 1, 1], [1, 2, 3], [4, 5, 6],
                  progress=lambda d, t: seen.append((d, t))) == [5, 11, 19]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(ValueError):
        ex.map(lambda x, y: x, [1, 2], [1])


def test_tasks_run_with_one_blas_thread() -> None:
    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"]

    assert all(n == 1 for n in InProcess().map(lambda _: blas_threads(), [0])[0])


def test_bad_scheduler_address_is_refused() -> None:
    with pytest.raises(InputError, match="'scheduler' must be 'local' or an address"):
        make_executor("myhost:8786")
