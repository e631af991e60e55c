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


def test_site_confusion_on_dask_equals_a_brute_force_count() -> None:
    pytest.importorskip("distributed")
    import numpy as np
    import pandas as pd

    from validation.models.dask_runner import site_confusion

    rng = np.random.default_rng(4)
    n = 300
    table = pd.DataFrame(
        {
            "site": rng.choice(["S1", "S2", "S3"], n),
            "truth": rng.integers(0, 2, n),
            "score": np.where(rng.random(n) < 0.05, np.nan, rng.random(n)),
        }
    )
    got = site_confusion(table, 0.4, npartitions=5, n_workers=1, processes=False)
    for site in ("S1", "S2", "S3"):
        want = {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "n": 0}
        for row in table.itertuples():
            if row.site != site or row.score != row.score:
                continue
            call = row.score >= 0.4
            key = ("tp" if row.truth else "fp") if call else ("fn" if row.truth else "tn")
            want[key] += 1
            want["n"] += 1
        assert got[site] == want
