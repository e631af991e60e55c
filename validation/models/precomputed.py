"""Precomputed predictions: scores a sponsor computed elsewhere, locked by the file's sha256.

The file (CSV or Parquet) is hashed before it is read; the bytes that were hashed are the bytes
that are parsed. It is converted to the suite's ``predictions.parquet`` layout with
``model_sha256`` set to the predictions file's hash (the locked artifact of this kind) and
``input_sha256`` copied when the file has such a column. A missing score is accepted only for
cases the manifest marks ``non_diagnostic``; any other NaN, or a case without a row, is an
error naming the cases.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from validation._atomic import write_bytes_atomic
from validation.errors import DataError, LockedModelError
from validation.models.artifact import check_sha256_text, hash_mismatch_message, sha256_bytes
from validation.models.inference import predictions_table, table_bytes


def convert_precomputed(
    path: str | os.PathLike[str],
    sha256: str,
    case_ids: Sequence[str],
    out_path: str | os.PathLike[str],
    *,
    score_column: str = "score",
    non_diagnostic: Sequence[str] = (),
) -> Path:
    """Hash-check a precomputed predictions file and write ``predictions.parquet`` for the cases.

    Raises
    ------
    LockedModelError
        Missing file or hash mismatch (both hashes shown).
    DataError
        Unreadable file, missing columns, duplicate ids, cases without a row, NaN scores for
        cases that are not non-diagnostic (all listed at once).
    """
    import pandas as pd

    p = Path(path)
    out = Path(out_path)
    if out.exists():
        out.unlink()
    want = check_sha256_text(sha256)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise LockedModelError(f"Predictions file '{p}' does not exist.") from None
    got = sha256_bytes(data)
    if got != want:
        raise LockedModelError(hash_mismatch_message(p, want, got, "Predictions file"))
    try:
        if p.suffix.lower() == ".parquet":
            df = pd.read_parquet(io.BytesIO(data))
        else:
            df = pd.read_csv(io.BytesIO(data), dtype={"case_id": str})
    except Exception as exc:
        raise DataError(f"Predictions file '{p.name}' cannot be read: {exc}") from None
    problems: list[str] = []
    for col in ("case_id", score_column):
        if col not in df.columns:
            problems.append(
                f"column {col!r} is missing (columns: {', '.join(map(str, df.columns))})"
            )
    if problems:
        raise DataError(f"Predictions file '{p.name}' does not match its specification.", problems)
    df["case_id"] = df["case_id"].astype(str)
    dup = df.loc[df["case_id"].duplicated(), "case_id"].tolist()
    problems += [f"case {c!r}: more than one row" for c in dup]
    by_id = df.drop_duplicates("case_id").set_index("case_id")
    wanted = [str(c) for c in case_ids]
    missing = [c for c in wanted if c not in by_id.index]
    problems += [f"case {c!r}: no prediction" for c in missing]
    scores = pd.to_numeric(by_id[score_column], errors="coerce")
    nd = {str(c) for c in non_diagnostic}
    for c in wanted:
        if c not in scores.index:
            continue
        s = float(scores.loc[c])
        if np.isnan(s):
            raw = by_id.loc[c, score_column]
            if not pd.isna(raw):
                problems.append(f"case {c!r}: score {raw!r} is not a number")
            elif c not in nd:
                problems.append(
                    f"case {c!r}: score is missing (NaN); only non-diagnostic cases may lack one"
                )
        elif not np.isfinite(s):
            problems.append(f"case {c!r}: score {s!r} is not finite")
    if problems:
        raise DataError(
            f"Predictions file '{p.name}' has {len(problems)} problem(s); "
            "no predictions were written.",
            problems,
        )
    if "input_sha256" in by_id.columns:
        shas = [None if pd.isna(v) else str(v) for v in by_id.loc[wanted, "input_sha256"]]
    else:
        shas = [None] * len(wanted)
    values = [None if np.isnan(v) else float(v) for v in scores.loc[wanted].to_numpy(float)]
    table = predictions_table(
        {
            "case_id": wanted,
            "score": values,
            "model_sha256": [got] * len(wanted),
            "input_sha256": shas,
        }
    )
    write_bytes_atomic(out, table_bytes(table))
    return out
