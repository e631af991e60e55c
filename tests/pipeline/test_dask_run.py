"""``validation run --dask``: the analysis's tasks on a LocalCluster give the same results.json bytes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from validation.analysis.executor import InProcess, make_executor
from validation.errors import InputError
from validation.pipeline import run_protocol


def test_dask_local_cluster_results_are_byte_identical(study: Callable[..., Path], tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    proto = study()
    local = run_protocol(proto, out_dir=tmp_path / "local", progress=False)
    dask = run_protocol(proto, out_dir=tmp_path / "dask", progress=False, dask="local")
    a, b = (local / "results.json").read_bytes(), (dask / "results.json").read_bytes()
    assert len(a) > 1000
    assert a == b


def test_in_process_executor_keeps_order() -> None:
    ex = make_executor(None)
    assert isinstance(ex, InProcess)
    assert ex.map(lambda h, x, y: h + x * y, [1, 1, 1], [1, 2, 3], [4, 5, 6]) == [5, 11, 19]
    with pytest.raises(ValueError):
        ex.map(lambda x, y: x, [1, 2], [1])


def test_bad_scheduler_address_is_refused() -> None:
    pytest.importorskip("distributed")
    with pytest.raises(InputError, match="'scheduler' must be 'local' or an address"):
        make_executor("myhost:8786")
