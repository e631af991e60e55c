"""The Dask runner gives the same bytes as the local runner (LocalCluster, in-process)."""

from __future__ import annotations

import pytest

from validation.errors import InputError
from validation.models import predict


def test_dask_local_cluster_equals_local_path(study) -> None:
    pytest.importorskip("distributed")
    protocol, root, cases = study
    local = predict(
        protocol, root, cases, root / "local" / "predictions.parquet", progress=False, batch_size=7
    )
    dask = predict(
        protocol,
        root,
        cases,
        root / "dask" / "predictions.parquet",
        progress=False,
        batch_size=7,
        scheduler="local",
        dask_workers=1,
        dask_processes=False,
    )
    assert dask.read_bytes() == local.read_bytes()


def test_bad_scheduler_address(study) -> None:
    protocol, root, cases = study
    with pytest.raises(InputError, match="'scheduler' must be 'local' or an address"):
        predict(protocol, root, cases, root / "p.parquet", progress=False, scheduler="myhost:8786")
