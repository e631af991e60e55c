"""Reading a case table (CSV or Parquet) for the calculator commands.

:func:`load_binary_outcome` returns the truth as 0/1, one or more score columns as finite
float64 arrays and an optional cluster column, after checking every row. Each problem is
reported as one line naming the file, the column and the row(s): a missing file or column, an
empty table, a truth value that is not 0/1 (or not one of two labels with a declared positive
label), a missing, non-numeric, NaN or infinite score, a missing cluster id, one class only.

Rows are numbered from 1 for the first data row (the header is not counted); for a CSV file
the line number in the file is given beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from validation.errors import DataError

_SHOW_ROWS = 5


@dataclass(frozen=True)
class BinaryOutcomeTable:
    """Checked columns of a case table: truth (0/1), scores, optional cluster ids."""

    path: Path
    truth: NDArray[np.int8]
    scores: dict[str, NDArray[np.float64]]
    cluster: NDArray[Any] | None
    truth_column: str
    positive_label: str | None

    @property
    def n_positive(self) -> int:
        return int(self.truth.sum())

    @property
    def n_negative(self) -> int:
        return int(self.truth.size - self.truth.sum())


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.tsv``/``.tab`` tab-separated) or Parquet file.

    Raises
    ------
    DataError
        The file does not exist, cannot be parsed, or has no data rows.
    """
    p = Path(path)
    name = str(p)
    if not p.is_file():
        from validation.preflight import why_not_a_file

        raise DataError(f"{name}: the file {why_not_a_file(p)}.")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        elif suffix in (".tsv", ".tab"):
            df = pd.read_csv(p, sep="\t")
        else:
            df = pd.read_csv(p)
    except pd.errors.EmptyDataError:
        raise DataError(f"{name}: the file is empty (no header, no rows).") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{name}: cannot be read as a table: {first}") from None
    if len(df) == 0:
        raise DataError(f"{name}: the file has a header but no data rows.")
    return df


def _show(value: Any) -> str:
    """repr of a cell value as the user wrote it (no numpy wrapper)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _is_csv(path: Path) -> bool:
    return path.suffix.lower() not in (".parquet", ".pq")


def _rows(path: Path, positions: NDArray[np.intp]) -> str:
    """'row 3 (line 4)' or 'rows 3, 7 (lines 4, 8) and 5 more'."""
    shown = [int(i) + 1 for i in positions[:_SHOW_ROWS]]
    more = int(positions.size) - len(shown)
    word = "row" if positions.size == 1 else "rows"
    text = f"{word} {', '.join(map(str, shown))}"
    if _is_csv(path):
        lw = "line" if positions.size == 1 else "lines"
        text += f" ({lw} {', '.join(str(r + 1) for r in shown)})"
    if more > 0:
        text += f" and {more} more"
    return text


def _fail(path: Path, column: str, positions: NDArray[np.intp], what: str) -> DataError:
    return DataError(f"{path}: column '{column}', {_rows(path, positions)}: {what}")


def _truth(
    path: Path, df: pd.DataFrame, column: str, positive_label: str | None
) -> NDArray[np.int8]:
    col = df[column]
    missing = col.isna().to_numpy()
    if missing.any():
        raise _fail(path, column, np.flatnonzero(missing), "truth is missing; every case needs "
                    "a reference-standard value.")
    if positive_label is None:
        num = pd.to_numeric(col, errors="coerce") if col.dtype != bool else col.astype(int)
        bad = ~np.isin(num.to_numpy(dtype=np.float64, na_value=np.nan), (0.0, 1.0))
        if bad.any():
            rows = np.flatnonzero(bad)
            raise _fail(
                path, column, rows,
                f"truth must be 0 or 1; got {_show(col.iloc[int(rows[0])])}. Map the values to 0/1 "
                "or declare the positive class with --positive-label.",
            )
        return num.to_numpy(dtype=np.float64).astype(np.int8)
    values = col.to_numpy()
    if pd.api.types.is_numeric_dtype(col) and col.dtype != bool:
        try:
            label_num = float(positive_label)
        except ValueError:
            raise DataError(
                f"{path}: column '{column}' is numeric but the positive label is "
                f"{positive_label!r}; give one of its values."
            ) from None
        is_pos = col.to_numpy(dtype=np.float64) == label_num
    else:
        is_pos = col.astype(str).to_numpy() == str(positive_label)
    if not is_pos.any():
        levels = ", ".join(map(_show, pd.unique(values)[:10].tolist()))
        raise DataError(
            f"{path}: column '{column}': the positive label {positive_label!r} does not occur; "
            f"values are {levels}."
        )
    levels_all = pd.unique(values)
    if len(levels_all) > 2:
        neg_label = values[np.flatnonzero(~is_pos)[0]]
        third = np.flatnonzero(~is_pos & (col.to_numpy() != neg_label))
        raise _fail(
            path, column, third,
            f"truth must take two values (positive {positive_label!r} and one negative label, "
            f"here {_show(neg_label)}); got also {_show(values[int(third[0])])}.",
        )
    return is_pos.astype(np.int8)


def _score(path: Path, df: pd.DataFrame, column: str) -> NDArray[np.float64]:
    col = df[column]
    if col.dtype == bool:
        col = col.astype(int)
    num = pd.to_numeric(col, errors="coerce")
    arr = num.to_numpy(dtype=np.float64, na_value=np.nan)
    originally_missing = col.isna().to_numpy()
    unparsable = np.isnan(arr) & ~originally_missing
    if unparsable.any():
        rows = np.flatnonzero(unparsable)
        raise _fail(path, column, rows,
                    f"score must be a number; got {_show(col.iloc[int(rows[0])])}.")
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise _fail(
            path, column, rows,
            f"score must be a finite number; got {_show(arr[int(rows[0])])}. Remove or impute "
            "missing scores before the analysis.",
        )
    return arr


def load_binary_outcome(
    path: str | Path,
    *,
    truth: str,
    scores: Sequence[str],
    cluster: str | None = None,
    positive_label: str | None = None,
) -> BinaryOutcomeTable:
    """Read and check a case table for a binary-outcome statistic.

    Parameters
    ----------
    path : CSV or Parquet file, one row per case (finding)
    truth : name of the reference-standard column: 0/1 (1 = positive), or two labels of
        which ``positive_label`` is the positive one
    scores : names of the score columns (higher = more likely positive)
    cluster : name of the patient (or site) id column, optional
    positive_label : the truth value that marks a positive case

    Returns
    -------
    BinaryOutcomeTable

    Raises
    ------
    DataError
        One line naming the file, column and row(s) of the first problem found.
    """
    p = Path(path)
    df = read_table(p)
    wanted = [truth, *scores] + ([cluster] if cluster is not None else [])
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns[:30]))
        cols = ", ".join(f"'{c}'" for c in missing)
        word = "column" if len(missing) == 1 else "columns"
        raise DataError(f"{p}: {word} {cols} not found; the file has columns: {have}.")
    t = _truth(p, df, truth, positive_label)
    sc = {name: _score(p, df, name) for name in scores}
    cl = None
    if cluster is not None:
        miss = df[cluster].isna().to_numpy()
        if miss.any():
            raise _fail(p, cluster, np.flatnonzero(miss),
                        "cluster id is missing; every finding needs its patient id.")
        cl = df[cluster].to_numpy()
    n_pos = int(t.sum())
    if n_pos == 0 or n_pos == t.size:
        which = "positive" if n_pos == 0 else "negative"
        have = "negative" if n_pos == 0 else "positive"
        raise DataError(
            f"{p}: column '{truth}' has no {which} cases (all {t.size} rows are {have}); "
            "both classes are needed."
        )
    return BinaryOutcomeTable(
        path=p, truth=t, scores=sc, cluster=cl, truth_column=truth,
        positive_label=positive_label,
    )
