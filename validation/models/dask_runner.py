"""The same inference on ``dask.distributed``: a LocalCluster by default, or a real scheduler.

Each fixed batch (the same boundaries as the local runner) is one task. The locked model's
bytes are hash-checked here, scattered to the workers once, and hash-checked again on each
worker before loading, so a worker can never score with anything but the locked artifact.
Workers read the images themselves: on a real cluster ``images_root`` must be a path every
worker sees (a shared file system). Completed batches go to the same checkpoint folder as the
local runner, so a run can be resumed by either runner, and the final ``predictions.parquet``
is byte-identical to the local path's (same platform and torch build on every worker).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from validation.constants import DEFAULT_SEED
from validation.errors import InputError, LockedModelError
from validation.models.artifact import LockedModel, load_model_bytes
from validation.models.card import InputSpec
from validation.models.inference import (
    DEFAULT_BATCH_SIZE,
    CaseImage,
    Checkpoint,
    batch_table,
    batches_of,
    check_cases,
    check_run_options,
    deterministic_torch,
    finish,
    progress_bar,
    read_case,
    resume_plan,
    run_state,
)

_MODEL_CACHE: dict[tuple[str, str], LockedModel] = {}


def _worker_model(kind: str, data: bytes, sha256: str) -> LockedModel:
    key = (kind, sha256)
    model = _MODEL_CACHE.get(key)
    if model is None:
        model = load_model_bytes(kind, data, sha256)
        _MODEL_CACHE[key] = model
    return model


def score_batch(
    b: int,
    model_data: bytes,
    kind: str,
    sha256: str,
    cases: list[tuple[str, str]],
    spec_json: dict[str, Any],
    seed: int,
) -> tuple[int, list[float] | None, list[str | None], list[str]]:
    """One batch on a worker: ``(batch number, scores or None, input hashes, errors)``."""
    spec = InputSpec.model_validate(spec_json)
    arrays: list[Any] = []
    shas: list[str | None] = []
    errors: list[str] = []
    for case_id, path in cases:
        arr, sha, err = read_case(CaseImage(case_id, Path(path)), spec)
        arrays.append(arr)
        shas.append(sha)
        if err is not None:
            errors.append(err)
    if errors:
        return b, None, shas, errors
    model = _worker_model(kind, model_data, sha256)
    with deterministic_torch(seed):
        scores = model.predict(np.stack(arrays))
    return b, [float(s) for s in scores], shas, []


def check_scheduler(scheduler: str | None) -> str | None:
    """``scheduler`` when it is ``None``, ``"local"`` or a scheduler address, else InputError."""
    if scheduler not in (None, "local") and not str(scheduler).startswith(
            ("tcp://", "tls://", "inproc://", "ucx://")):
        raise InputError(
            f"'scheduler' must be 'local' or an address such as tcp://host:8786; got {scheduler!r}."
        )
    return scheduler


def _client(scheduler: str | None, n_workers: int, processes: bool) -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    check_scheduler(scheduler)
    if scheduler in (None, "local"):
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            # no dashboard; its HTTP server (metrics) on a free port, not 8787, which another
            # cluster on the machine may hold (distributed then warns and moves)
            scheduler_kwargs={"dashboard_address": ":0"},
            silence_logs=logging.ERROR,
        )
        return Client(cluster), cluster
    return Client(str(scheduler)), None


def run_inference_dask(
    model_path: str | os.PathLike[str],
    kind: str,
    sha256: str,
    cases: Sequence[CaseImage],
    spec: InputSpec,
    out_path: str | os.PathLike[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    scheduler: str | None = None,
    n_workers: int = 2,
    processes: bool = True,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
) -> Path:
    """Score every case on a Dask cluster and write ``predictions.parquet``.

    Parameters
    ----------
    model_path, kind, sha256 : the locked artifact (hash-checked before anything is sent)
    cases, spec, out_path, batch_size, seed, progress : as for
        :func:`validation.models.inference.run_inference`
    scheduler : ``None`` or ``"local"`` for a LocalCluster, or a scheduler address
        (``tcp://host:8786``) of a running cluster
    n_workers, processes : size and kind of the LocalCluster (ignored for an address)

    Returns
    -------
    Path of the predictions file, byte-identical to the local runner's.
    """
    from distributed import as_completed

    check_run_options(batch_size, n_workers)
    cases = check_cases(cases)
    out = Path(out_path)
    try:
        data = Path(model_path).read_bytes()
    except OSError:
        raise LockedModelError(
            f"Model artifact '{model_path}' does not exist or cannot be read."
        ) from None
    local = load_model_bytes(kind, data, sha256, name=Path(model_path).name)  # fail fast, here
    if out.exists():
        out.unlink()
    checkpoint = Checkpoint(out, run_state(local.sha256, cases, spec, batch_size))
    pending, tables = resume_plan(checkpoint, cases, batch_size)
    n_batches = len(batches_of(len(cases), batch_size))
    spec_json = spec.model_dump(mode="json")
    failed: dict[int, list[str]] = {}
    client, cluster = _client(scheduler, n_workers, processes)
    try:
        model_future = client.scatter(data, broadcast=True, hash=False)
        futures = [
            client.submit(
                score_batch,
                idx[0] // batch_size,
                model_future,
                kind,
                local.sha256,
                [(cases[i].case_id, str(cases[i].path)) for i in idx],
                spec_json,
                seed,
                pure=False,
            )
            for idx in pending
        ]
        done_cases = sum(t.num_rows for t in tables.values())
        batches = batches_of(len(cases), batch_size)
        with progress_bar(progress) as bar:
            task = bar.add_task("inference (dask)", total=len(cases), completed=done_cases)
            for future in as_completed(futures):
                b, scores, shas, errors = future.result()
                idx = batches[b]
                if errors or scores is None:
                    failed[b] = errors
                else:
                    table = batch_table(idx, np.asarray(scores), shas, cases, local.sha256)
                    checkpoint.save(b, table)
                    tables[b] = table
                bar.advance(task, len(idx))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    # Errors are reported in case order whatever order the batches finished in.
    problems = [e for b in sorted(failed) for e in failed[b]]
    return finish(out, checkpoint, tables, n_batches, problems)


def site_confusion(
    table: Any,
    operating_point: float,
    *,
    scheduler: str | None = None,
    npartitions: int = 4,
    n_workers: int = 2,
    processes: bool = True,
) -> dict[str, dict[str, int]]:
    """Per-site confusion counts at the operating point, aggregated on Dask.

    ``table`` is a pandas DataFrame with ``site``, ``truth`` (0/1) and ``score``; a score at or
    above ``operating_point`` is a positive call; rows with a missing score are left out (the
    engine counts them as indeterminate). The counts are partial sums per partition, combined
    by Dask, so a table larger than one machine's memory can be split across workers. Returns
    ``{site: {tp, fp, fn, tn, n}}`` with sites as strings, in sorted order.
    """
    import dask.dataframe as dd
    import pandas as pd

    missing = [c for c in ("site", "truth", "score") if c not in table.columns]
    if missing:
        raise InputError(f"'table' must have columns site, truth and score; missing {missing}.")
    df = pd.DataFrame(
        {
            "site": table["site"].astype(str).to_numpy(),
            "truth": table["truth"].astype(int).to_numpy(),
            "score": table["score"].astype(float).to_numpy(),
        }
    ).dropna(subset=["score"])
    pos_call = df["score"] >= operating_point
    df = df.assign(
        tp=(pos_call & (df.truth == 1)).astype(int),
        fp=(pos_call & (df.truth == 0)).astype(int),
        fn=(~pos_call & (df.truth == 1)).astype(int),
        tn=(~pos_call & (df.truth == 0)).astype(int),
        n=1,
    )[["site", "tp", "fp", "fn", "tn", "n"]]
    client, cluster = _client(scheduler, n_workers, processes)
    try:
        ddf = dd.from_pandas(df, npartitions=max(1, min(npartitions, len(df) or 1)))
        sums = ddf.groupby("site").sum().compute()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return {
        str(site): {k: int(sums.loc[site, k]) for k in ("tp", "fp", "fn", "tn", "n")}
        for site in sorted(sums.index, key=str)
    }
