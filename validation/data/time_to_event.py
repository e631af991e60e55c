"""Time-to-event outcomes of a prognostic risk output: hash, specification and match.

The table named by the protocol's ``risk.outcomes`` is locked by its sha256, checked against
``data_specs/time_to_event.yaml`` (every violation at once, with row and column), checked for a
censoring reason given on an event row, and matched to the analysed cases of the test set.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from validation.data.specs import load_spec, read_table_bytes, validate_table
from validation.data.testset import TestSet
from validation.errors import DataError, LockedModelError
from validation.provenance.hashing import hash_mismatch_message, sha256_bytes

SPEC = "time_to_event"


def load_outcomes(path: str | os.PathLike[str], *, sha256: str) -> pd.DataFrame:
    """Read the locked time-to-event table after checking its sha256 and its specification.

    Returns
    -------
    DataFrame with ``case_id`` (string), ``time`` (float) and ``event`` (0/1), plus any
    other columns of the file.

    Raises
    ------
    LockedModelError
        The file is missing or its sha256 is not the locked one.
    DataError
        Violations of ``data_specs/time_to_event.yaml`` (negative times, events not 0/1,
        duplicate cases, ...) or a censoring reason on an event row, all listed.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise LockedModelError(f"the locked outcomes file {str(p)!r} does not exist.") from None
    want = str(sha256).strip().lower()
    actual = sha256_bytes(data)
    if actual != want:
        raise LockedModelError(hash_mismatch_message(p, want, actual, "Outcomes file"))
    df = read_table_bytes(data, name=p.name, what="time-to-event outcomes")
    df.columns = [str(c).strip() for c in df.columns]
    out = validate_table(df, load_spec(SPEC), source=p.name)
    if "censoring_reason" in out.columns:
        bad = out["censoring_reason"].notna().to_numpy() & (out["event"].to_numpy() == 1)
        if bad.any():
            rows = np.flatnonzero(bad)
            raise DataError(
                f"{p.name}: a censoring reason is given on event rows (event = 1):",
                problems=[
                    f"row {int(i) + 1} (line {int(i) + 2}), column 'censoring_reason': must be empty "
                    f"when event is 1; got {out['censoring_reason'].iloc[i]!r}."
                    for i in rows
                ],
            )
    return out


def match_outcomes(test_set: TestSet, cases: pd.DataFrame, outcomes: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """``cases`` (analysed, with scores) joined with ``time`` and ``event``; every analysed case
    needs a row and every row a case of the manifest.

    Raises
    ------
    DataError
        Listing unknown cases and analysed cases without an outcome.
    """
    problems: list[str] = []
    all_ids = set(test_set.manifest["case_id"].astype(str))
    ids = outcomes["case_id"].astype(str)
    unknown = [c for c in ids if c not in all_ids]
    if unknown:
        problems.append(
            f"{len(unknown)} case(s) in {source} are not in the test-set manifest: "
            f"{', '.join(map(repr, unknown[:20]))}{' ...' if len(unknown) > 20 else ''}."
        )
    have = set(ids)
    missing = [c for c in cases["case_id"].astype(str) if c not in have]
    if missing:
        problems.append(
            f"{len(missing)} analysed case(s) have no outcome in {source}: "
            f"{', '.join(map(repr, missing[:20]))}{' ...' if len(missing) > 20 else ''}."
        )
    if problems:
        raise DataError(f"{source} and the test-set manifest do not match:", problems=problems)
    table = outcomes.set_index(ids)
    out = cases.copy()
    key = out["case_id"].astype(str)
    out["time"] = table["time"].astype("float64").reindex(key).to_numpy()
    out["event"] = table["event"].astype("int64").reindex(key).to_numpy()
    return out
