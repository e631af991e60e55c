"""Precomputed predictions: hash check, specification check and matching to the test set.

For a protocol whose model is ``kind: precomputed`` the locked artifact *is* the predictions
file: its sha256 must equal ``model.sha256`` before a single row is read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from validation.data.specs import is_text_table, load_spec, read_table_bytes, validate_table
from validation.data.testset import INDETERMINATE, TestSet
from validation.errors import DataError, LockedModelError
from validation.provenance.hashing import hash_mismatch_message, sha256_bytes

SPEC = "predictions"


def load_precomputed_predictions(
    path: str | os.PathLike[str], *, sha256: str, score_column: str = "score",
    executor: Any = None, progress: Any = None,
) -> pd.DataFrame:
    """Read a locked predictions file (CSV or Parquet) after checking its sha256.

    Parameters
    ----------
    path : the predictions file (``model.artifact`` of a precomputed model).
    sha256 : the locked hash from the protocol (64 lowercase hex digits).
    score_column : column holding the score; renamed to ``score``.
    executor : with ``validation run --dask``, a text file is read and checked in row
        partitions on it (:mod:`validation.data.partitioned`): same table, same messages.
    progress : ``update(done, total)`` of the partitions (with ``executor``).

    Returns
    -------
    DataFrame with ``case_id`` (string) and ``score`` (float, NaN where empty).

    Raises
    ------
    LockedModelError
        If the file is missing or its sha256 differs from the locked one (both shown).
    DataError
        If the file violates ``data_specs/predictions.yaml``.
    """
    p = Path(path)
    want = str(sha256).strip().lower()
    if executor is not None and is_text_table(p):
        return _load_partitioned(p, want, score_column, executor, progress)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise LockedModelError(f"the locked predictions file {str(p)!r} does not exist.") from None
    actual = sha256_bytes(data)
    if actual != want:
        raise LockedModelError(hash_mismatch_message(p, want, actual, "Predictions file"))
    # the bytes that were hashed are the bytes that are parsed
    df = read_table_bytes(data, name=p.name, what="predictions")
    df.columns = [str(c).strip() for c in df.columns]
    if score_column != "score" and score_column in df.columns:
        if "score" in df.columns:
            df = df.drop(columns=["score"])
        df = df.rename(columns={score_column: "score"})
    elif score_column != "score" and score_column not in df.columns:
        raise DataError(
            f"{p.name}: model.score_column names {score_column!r}, which the file does not "
            f"have; its columns are {', '.join(map(repr, df.columns))}."
        )
    return validate_table(df, load_spec(SPEC), source=p.name)


def _load_partitioned(p: Path, want: str, score_column: str, executor: Any,
                      progress: Any) -> pd.DataFrame:
    """:func:`load_precomputed_predictions` in row partitions: the file is hashed (whole and
    by partition) in one pass here, and every worker checks its bytes' hash before parsing."""
    from validation.data.partitioned import file_parts, header_columns, validate_parts

    if not p.is_file():
        raise LockedModelError(f"the locked predictions file {str(p)!r} does not exist.")
    parts = file_parts(p)
    if parts.sha256 != want:
        raise LockedModelError(hash_mismatch_message(p, want, parts.sha256, "Predictions file"))
    columns = header_columns(parts, p.name, "predictions")
    if score_column != "score" and score_column not in columns:
        raise DataError(
            f"{p.name}: model.score_column names {score_column!r}, which the file does not "
            f"have; its columns are {', '.join(map(repr, columns))}."
        )
    rename = None if score_column == "score" else (score_column, "score")
    return validate_parts(parts, load_spec(SPEC), executor=executor, source=p.name,
                          what="predictions", rename=rename, progress=progress)


def match_predictions(
    test_set: TestSet, predictions: pd.DataFrame, *, source: str, executor: Any = None,
    parts: int | None = None,
) -> pd.DataFrame:
    """Join the analysed cases with their scores, refusing any mismatch.

    Every case in ``predictions`` must exist in the manifest; every analysed case must have a
    prediction; every analysed case that is not indeterminate must have a finite score.
    Predictions of excluded cases are dropped unread.

    With an ``executor`` (``validation run --dask``) the predictions and the analysed cases are
    cut into ``parts`` row slices (default: one per million predictions, at least two), each
    checked and joined in a task against lookups shared
    once (the manifest's ids; the predictions' scores by id); the slices' answers are put back
    in row order, so the messages and the joined table are the in-process ones.

    Returns
    -------
    The analysed cases with a float ``score`` column (NaN only for indeterminate cases).

    Raises
    ------
    DataError
        Listing every mismatching case (up to the first 20 ids in each message, the count of
        all).
    """
    pred_ids = predictions["case_id"].astype(str)
    if parts is None:
        parts = 1 if executor is None else max(2, -(-len(pred_ids) // 1_000_000))
    analysed = test_set.analysed
    ids = analysed["case_id"].astype(str)
    share, run = _runner(executor)
    manifest_ids = share(pd.Index(test_set.manifest["case_id"].astype(str).unique()))
    unknown = run(_absent, manifest_ids, _slices(pred_ids, parts))
    have = share(pd.Index(pred_ids.unique()))
    missing = run(_absent, have, _slices(ids, parts))
    problems: list[str] = []
    for found, text in ((unknown, f"case(s) in {source} are not in the test-set manifest"),
                        (missing, f"analysed case(s) of the manifest have no prediction in {source}")):
        n = sum(k for k, _ in found)
        if n:
            shown = [c for _, first in found for c in first][:20]
            problems.append(f"{n} {text}: {', '.join(map(repr, shown))}{' ...' if n > 20 else ''}.")
    if problems:
        raise DataError(
            f"{source} and the test-set manifest do not match:", problems=problems
        )
    scores = share(predictions.set_index(pred_ids)["score"].astype("float64"))
    ind = analysed[INDETERMINATE].to_numpy(dtype=bool)
    joined = run(_scores, scores, _slices(ids, parts), _slices(pd.Series(ind), parts))
    out = analysed.copy()
    out["score"] = np.concatenate([s for s, _ in joined]) if joined else np.zeros(0)
    bad_ids = [c for _, bad in joined for c in bad]
    if bad_ids:
        raise DataError(
            f"{source}: {len(bad_ids)} case(s) have no finite score but are not marked "
            "non-diagnostic/indeterminate in the manifest:",
            problems=[f"case_id {c!r}: score is empty or not finite" for c in bad_ids],
        )
    return out


def _runner(executor: Any) -> tuple[Any, Any]:
    """``(share, run)``: here, or as tasks of ``executor`` (one per slice, in order)."""
    if executor is None:
        return (lambda obj: obj), (lambda fn, shared, *cols: [fn(shared, *a) for a in zip(*cols, strict=True)])

    def run(fn: Any, shared: Any, *cols: list[Any]) -> list[Any]:
        return list(executor.map(fn, [shared] * len(cols[0]), *cols))

    return executor.share, run


def _slices(values: pd.Series, parts: int) -> list[pd.Series]:
    """``values`` in ``parts`` consecutive row slices (one when ``parts`` is 1)."""
    n = len(values)
    k = max(1, min(int(parts), n))
    edges = np.linspace(0, n, k + 1).astype(int)
    return [values.iloc[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def _absent(known: pd.Index, ids: pd.Series) -> tuple[int, list[str]]:
    """How many of ``ids`` are not in ``known``, and the first 21 of them (in row order)."""
    gone = ids[~ids.isin(known)]
    return len(gone), gone.iloc[:21].tolist()


def _scores(scores: pd.Series, ids: pd.Series, indeterminate: pd.Series
            ) -> tuple[NDArray[np.float64], list[str]]:
    """The scores of ``ids`` and the ids without a finite score that are not indeterminate."""
    got = scores.reindex(ids).to_numpy(dtype=np.float64)
    bad = ~np.isfinite(got) & ~indeterminate.to_numpy(dtype=bool)
    return got, ids[bad].tolist()


def predictions_frame(
    scored: pd.DataFrame, *, model_sha256: str, input_sha256: pd.Series | None = None
) -> pd.DataFrame:
    """The ``predictions.parquet`` table of a run: case_id, score, model_sha256, input_sha256."""
    out = pd.DataFrame(
        {
            "case_id": scored["case_id"].astype(str).to_numpy(),
            "score": scored["score"].astype("float64").to_numpy(),
            "model_sha256": model_sha256,
        }
    )
    out["input_sha256"] = (
        input_sha256.astype("string").to_numpy() if input_sha256 is not None else None
    )
    out["input_sha256"] = out["input_sha256"].astype("string")
    return out.sort_values("case_id", kind="mergesort").reset_index(drop=True)
