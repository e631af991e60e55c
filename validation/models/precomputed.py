"""Precomputed predictions: scores a sponsor computed elsewhere, locked by the file's sha256.

The file (CSV or Parquet) is hashed before it is read; the bytes that were hashed are the bytes
that are parsed. It is converted to the suite's ``predictions.parquet`` layout with
``model_sha256`` set to the predictions file's hash (the locked artifact of this kind) and
``input_sha256`` copied when the file has such a column. A missing score is accepted only for
cases the manifest marks ``non_diagnostic``; any other NaN, or a case without a row, is an
error naming the cases. Reading, hashing and the specification check are shared with the
analysis (:mod:`validation.data.predictions`), so both paths accept and refuse the same files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from validation._atomic import write_bytes_atomic
from validation.data.predictions import load_precomputed_predictions
from validation.errors import DataError
from validation.models.artifact import check_sha256_text
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

    The file is read by :func:`validation.data.predictions.load_precomputed_predictions` (the
    hashed bytes are the parsed bytes; ``data_specs/predictions.yaml`` enforced), then every
    requested case must have a row and a finite score unless it is non-diagnostic.

    Raises
    ------
    LockedModelError
        Missing file or hash mismatch (both hashes shown).
    DataError
        A file that violates its specification (every row and column named); cases without a
        row or with a missing score that are not non-diagnostic (all listed at once).
    """
    out = Path(out_path)
    if out.exists():
        out.unlink()
    want = check_sha256_text(sha256)
    df = load_precomputed_predictions(path, sha256=want, score_column=score_column)
    name = Path(path).name
    by_id = df.set_index(df["case_id"].astype(str))
    wanted = [str(c) for c in case_ids]
    nd = {str(c) for c in non_diagnostic}
    problems = [f"case {c!r}: no prediction" for c in wanted if c not in by_id.index]
    scores = by_id["score"].astype("float64")
    for c in wanted:
        if c in scores.index and not np.isfinite(scores.loc[c]) and c not in nd:
            problems.append(
                f"case {c!r}: score is missing (NaN); only non-diagnostic cases may lack one"
            )
    if problems:
        raise DataError(
            f"Predictions file '{name}' has {len(problems)} problem(s); "
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
            "model_sha256": [want] * len(wanted),
            "input_sha256": shas,
        }
    )
    write_bytes_atomic(out, table_bytes(table))
    return out
