"""Precomputed predictions: hash check, specification check and matching to the test set.

For a protocol whose model is ``kind: precomputed`` the locked artifact *is* the predictions
file: its sha256 must equal ``model.sha256`` before a single row is read.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from validation.data.specs import load_spec, read_table_bytes, validate_table
from validation.data.testset import INDETERMINATE, TestSet
from validation.errors import DataError, LockedModelError
from validation.provenance.hashing import hash_mismatch_message, sha256_bytes

SPEC = "predictions"


def load_precomputed_predictions(
    path: str | os.PathLike[str], *, sha256: str, score_column: str = "score"
) -> pd.DataFrame:
    """Read a locked predictions file (CSV or Parquet) after checking its sha256.

    Parameters
    ----------
    path : the predictions file (``model.artifact`` of a precomputed model).
    sha256 : the locked hash from the protocol (64 lowercase hex digits).
    score_column : column holding the score; renamed to ``score``.

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
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise LockedModelError(f"the locked predictions file {str(p)!r} does not exist.") from None
    want = str(sha256).strip().lower()
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


def match_predictions(
    test_set: TestSet, predictions: pd.DataFrame, *, source: str
) -> pd.DataFrame:
    """Join the analysed cases with their scores, refusing any mismatch.

    Every case in ``predictions`` must exist in the manifest; every analysed case must have a
    prediction; every analysed case that is not indeterminate must have a finite score.
    Predictions of excluded cases are dropped unread.

    Returns
    -------
    The analysed cases with a float ``score`` column (NaN only for indeterminate cases).

    Raises
    ------
    DataError
        Listing every mismatching case (up to the first 50 in the message, the count of all).
    """
    problems: list[str] = []
    all_ids = set(test_set.manifest["case_id"].astype(str))
    pred_ids = predictions["case_id"].astype(str)
    unknown = [c for c in pred_ids if c not in all_ids]
    if unknown:
        problems.append(
            f"{len(unknown)} case(s) in {source} are not in the test-set manifest: "
            f"{', '.join(map(repr, unknown[:20]))}{' ...' if len(unknown) > 20 else ''}."
        )
    have = set(pred_ids)
    analysed = test_set.analysed
    missing = [c for c in analysed["case_id"].astype(str) if c not in have]
    if missing:
        problems.append(
            f"{len(missing)} analysed case(s) of the manifest have no prediction in {source}: "
            f"{', '.join(map(repr, missing[:20]))}{' ...' if len(missing) > 20 else ''}."
        )
    if problems:
        raise DataError(
            f"{source} and the test-set manifest do not match:", problems=problems
        )
    scores = predictions.set_index(pred_ids)["score"].astype("float64")
    out = analysed.copy()
    out["score"] = scores.reindex(out["case_id"].astype(str)).to_numpy(dtype=np.float64)
    bad = ~np.isfinite(out["score"].to_numpy()) & ~out[INDETERMINATE].to_numpy(dtype=bool)
    if bad.any():
        ids = out.loc[bad, "case_id"].astype(str).tolist()
        raise DataError(
            f"{source}: {len(ids)} case(s) have no finite score but are not marked "
            "non-diagnostic/indeterminate in the manifest:",
            problems=[f"case_id {c!r}: score is empty or not finite" for c in ids],
        )
    return out


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
