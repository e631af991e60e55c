"""Reshape a long-format reader-study table into arrays, refusing designs MRMC cannot analyse.

The analysis functions of this package work on a fully crossed design: every reader read every
case in every modality, once. :func:`crossed_design` turns a long table (one row per reader x
modality x case) into a ``(t, r, c)`` array of ratings and a ``(c,)`` array of truth, and raises
:class:`~validation.errors.DesignError` naming what is missing when the design is not complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from validation.errors import DesignError, InputError

_SHOW = 10


def _sorted_levels(values: pd.Series) -> list[Any]:
    """Distinct values in natural order (numbers numerically, otherwise as strings)."""
    levels = pd.unique(values)
    try:
        return sorted(levels.tolist())
    except TypeError:
        return sorted(levels.tolist(), key=str)


def _label(value: Any) -> str:
    """A level as written in the file: 1.0 read from a float column is shown as '1'."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True, slots=True)
class CrossedDesign:
    """A fully crossed reader study as arrays.

    ``ratings[i, j, k]`` is reader ``j``'s rating of case ``k`` in modality ``i``; ``truth[k]``
    is 1 for a diseased case, 0 otherwise. Labels are the values as written, as strings.
    """

    ratings: NDArray[np.float64]
    truth: NDArray[np.int8]
    modalities: tuple[str, ...]
    readers: tuple[str, ...]
    cases: tuple[str, ...]


def crossed_design(
    data: pd.DataFrame,
    *,
    reader: str = "reader",
    modality: str = "modality",
    case: str = "case",
    truth: str = "truth",
    rating: str = "rating",
    modalities: tuple[Any, ...] | list[Any] | None = None,
) -> CrossedDesign:
    """Check a long-format reader study and return it as a :class:`CrossedDesign`.

    Parameters
    ----------
    data : DataFrame with one row per reader x modality x case.
    reader, modality, case, truth, rating : column names.
    modalities : the modalities to keep, in order (matched against the values as strings);
        ``None`` keeps all, sorted.

    Raises
    ------
    InputError
        A named column is absent, or truth or rating values are not usable.
    DesignError
        Fewer than 2 readers or modalities, a case without truth or with conflicting truth,
        duplicate readings, or a reader who did not read every case in every modality.
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"'data' must be a pandas DataFrame; got {type(data).__name__}.")
    cols = {"reader": reader, "modality": modality, "case": case, "truth": truth,
            "rating": rating}
    missing = [f"{role} column {name!r}" for role, name in cols.items() if name not in data]
    if missing:
        raise InputError(
            f"'data' must have the columns {', '.join(map(repr, cols.values()))}; missing "
            f"{', '.join(missing)}. Name the columns with the reader/modality/case/truth/"
            "rating options."
        )
    df = data[[reader, modality, case, truth, rating]].copy()
    df.columns = ["reader", "modality", "case", "truth", "rating"]
    for role in ("reader", "modality", "case"):
        if df[role].isna().any():
            row = int(np.flatnonzero(df[role].isna().to_numpy())[0])
            raise DesignError(f"column {cols[role]!r} is empty at row {row}; every reading "
                              f"needs a {role}.")

    mod_levels = _sorted_levels(df["modality"])
    mod_labels = [_label(m) for m in mod_levels]
    if modalities is not None:
        wanted = [str(m) for m in modalities]
        unknown = [m for m in wanted if m not in mod_labels]
        if unknown:
            raise DesignError(
                f"modality {unknown[0]!r} is not in column {modality!r}; the data hold "
                f"{', '.join(map(repr, mod_labels))}."
            )
        if len(set(wanted)) != len(wanted):
            raise InputError(f"'modalities' must not repeat a modality; got {list(modalities)!r}.")
        keep = [mod_levels[mod_labels.index(m)] for m in wanted]
        df = df[df["modality"].isin(keep)]
        mod_levels, mod_labels = keep, wanted
    if len(mod_levels) < 2:
        raise DesignError(
            f"an MRMC comparison needs at least 2 modalities; column {modality!r} holds "
            f"{len(mod_levels)} ({', '.join(map(repr, mod_labels))})."
        )
    reader_levels = _sorted_levels(df["reader"])
    if len(reader_levels) < 2:
        raise DesignError(
            f"an MRMC analysis needs at least 2 readers; column {reader!r} holds "
            f"{len(reader_levels)}. Use a single-reader analysis instead."
        )
    case_levels = _sorted_levels(df["case"])

    # truth: one value per case, 0 or 1, never missing
    tr = df.groupby("case", sort=False)["truth"]
    no_truth = tr.count() == 0
    if no_truth.any():
        bad = [_label(c) for c in no_truth[no_truth].index[:_SHOW]]
        raise DesignError(
            f"{int(no_truth.sum())} case(s) have no truth (column {truth!r}): "
            f"{', '.join(bad)}. Every case needs its reference standard."
        )
    numeric_truth = pd.to_numeric(df["truth"], errors="coerce")
    invalid = df["truth"].notna() & ~numeric_truth.isin((0.0, 1.0))
    if invalid.any():
        row = df[invalid].iloc[0]
        value = row["truth"]
        shown = repr(value) if isinstance(value, str) else str(value)
        raise InputError(
            f"'{truth}' must hold 0 (non-diseased) and 1 (diseased); got "
            f"{shown} for case {_label(row['case'])!r} "
            f"({int(invalid.sum())} row(s) with another value)."
        )
    conflicting = tr.nunique(dropna=True) > 1
    if conflicting.any():
        bad = [_label(c) for c in conflicting[conflicting].index[:_SHOW]]
        raise DesignError(
            f"{int(conflicting.sum())} case(s) have conflicting truth values in column "
            f"{truth!r}: {', '.join(bad)}."
        )
    case_truth = tr.first().reindex(case_levels)
    try:
        tvals = case_truth.astype(float).to_numpy()
    except (TypeError, ValueError):
        raise InputError(f"'{truth}' must hold 0 (non-diseased) and 1 (diseased); got "
                         f"values such as {case_truth.iloc[0]!r}.") from None
    if not np.isin(tvals, (0.0, 1.0)).all():
        i = int(np.flatnonzero(~np.isin(tvals, (0.0, 1.0)))[0])
        raise InputError(f"'{truth}' must hold only 0 and 1; got {case_truth.iloc[i]!r} for "
                         f"case {_label(case_levels[i])!r}.")
    truth_arr = tvals.astype(np.int8)
    if truth_arr.min() == truth_arr.max():
        raise DesignError(
            f"all {truth_arr.size} cases have truth {int(truth_arr[0])}; the analysis needs "
            "diseased (1) and non-diseased (0) cases."
        )

    dup = df.duplicated(["reader", "modality", "case"], keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        raise DesignError(
            f"{int(dup.sum())} rows repeat a reading; e.g. reader {_label(first['reader'])!r} "
            f"read case {_label(first['case'])!r} in modality {_label(first['modality'])!r} "
            "more than once. Keep one reading per reader, modality and case."
        )

    t, r, c = len(mod_levels), len(reader_levels), len(case_levels)
    if len(df) != t * r * c:
        full = pd.MultiIndex.from_product([mod_levels, reader_levels, case_levels],
                                          names=["modality", "reader", "case"])
        have = pd.MultiIndex.from_frame(df[["modality", "reader", "case"]])
        absent = full.difference(have)
        shown = "; ".join(
            f"reader {_label(rd)!r} did not read case {_label(cs)!r} in modality {_label(md)!r}"
            for md, rd, cs in absent[:_SHOW]
        )
        more = len(absent) - _SHOW
        tail = f"; and {more} more" if more > 0 else ""
        raise DesignError(
            f"the design is not fully crossed: {len(absent)} of {t * r * c} readings are "
            f"missing ({shown}{tail}). OR/DBM analysis needs every reader to read every case "
            "in every modality."
        )
    if df["rating"].isna().any():
        row = df[df["rating"].isna()].iloc[0]
        raise InputError(
            f"'{rating}' must not be empty; reader {_label(row['reader'])!r}, case "
            f"{_label(row['case'])!r}, modality {_label(row['modality'])!r} has no rating."
        )
    numeric = pd.to_numeric(df["rating"], errors="coerce")
    if numeric.isna().any():
        row = df[numeric.isna()].iloc[0]
        raise InputError(
            f"'{rating}' must be numeric; reader {_label(row['reader'])!r}, case "
            f"{_label(row['case'])!r}, modality {_label(row['modality'])!r} has "
            f"{row['rating']!r} ({int(numeric.isna().sum())} non-numeric rating(s))."
        )
    df["rating"] = numeric.astype(np.float64)
    if not np.isfinite(df["rating"].to_numpy()).all():
        raise InputError(f"'{rating}' must be finite; remove infinite ratings.")

    mi = {m: i for i, m in enumerate(mod_levels)}
    ri = {m: i for i, m in enumerate(reader_levels)}
    ci = {m: i for i, m in enumerate(case_levels)}
    ratings = np.empty((t, r, c), dtype=np.float64)
    ratings[df["modality"].map(mi).to_numpy(), df["reader"].map(ri).to_numpy(),
            df["case"].map(ci).to_numpy()] = df["rating"].to_numpy()
    return CrossedDesign(
        ratings=ratings,
        truth=truth_arr,
        modalities=tuple(mod_labels),
        readers=tuple(_label(x) for x in reader_levels),
        cases=tuple(_label(x) for x in case_levels),
    )
