"""Study-conduct checks of a reader study, from its own data.

* ``fully_crossed``: every reader read every case in every modality, exactly once;
* ``washout``: when reading dates are given, the same reader read the same case in the two
  modalities at least ``washout_days_min`` days apart (FDA's guidance on CADe reader studies
  expects a memory washout of about four weeks between sessions);
* ``readers_not_truthers``: no study reader also established the reference standard.

Each check reports ``status`` ("pass", "fail" or "not checked") and every problem found, all at
once, so the study team sees the whole list.

References
----------
1. U.S. FDA (2022). Clinical Performance Assessment: Considerations for Computer-Assisted
   Detection Devices Applied to Radiology Images and Radiology Device Data in Premarket
   Notification (510(k)) Submissions. Guidance for Industry and FDA Staff.
2. Obuchowski NA (2004). How many observers are needed in clinical studies of medical imaging?
   AJR 182(4):867-869. doi:10.2214/ajr.182.4.1820867
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from validation.errors import InputError
from validation.stats._result import Result
from validation.stats.mrmc._design import _label, _sorted_levels

CONDUCT_REFERENCES = (
    "U.S. FDA (2022). Clinical Performance Assessment: Considerations for Computer-Assisted "
    "Detection Devices Applied to Radiology Images and Radiology Device Data in Premarket "
    "Notification (510(k)) Submissions.",
)
_SHOW = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class ConductCheck(Result):
    """One study-conduct check: ``status`` pass / fail / not checked, and its problems."""

    name: str
    status: str
    detail: str
    problems: tuple[str, ...]
    values: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConductResult(Result):
    """All study-conduct checks; ``passed`` is False when any check failed."""

    passed: bool
    checks: dict[str, ConductCheck]
    method: str = "reader-study conduct checks from the reading data"
    references: tuple[str, ...] = CONDUCT_REFERENCES


def study_conduct(
    data: pd.DataFrame,
    *,
    reader: str = "reader",
    modality: str = "modality",
    case: str = "case",
    date: str | None = None,
    washout_days_min: float = 28,
    truthers: Iterable[Any] | None = None,
) -> ConductResult:
    """Check that a reader study was conducted as an MRMC analysis assumes.

    Parameters
    ----------
    data : long-format DataFrame, one row per reading.
    reader, modality, case : column names.
    date : column with each reading's date (anything ``pandas.to_datetime`` reads), or
        ``None`` to skip the washout check.
    washout_days_min : the protocol's minimum washout in days (FDA expects about 28).
    truthers : identifiers of the people who set the reference standard, or ``None`` to skip.

    Returns
    -------
    ConductResult
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"'data' must be a pandas DataFrame; got {type(data).__name__}.")
    need = [reader, modality, case] + ([date] if date is not None else [])
    missing = [c for c in need if c not in data]
    if missing:
        raise InputError(f"'data' must have the columns {', '.join(map(repr, need))}; missing "
                         f"{', '.join(map(repr, missing))}.")
    try:
        wash = float(washout_days_min)
    except (TypeError, ValueError):
        raise InputError(f"'washout_days_min' must be a number of days; got "
                         f"{washout_days_min!r}.") from None
    if not (np.isfinite(wash) and wash >= 0):
        raise InputError(f"'washout_days_min' must be >= 0; got {washout_days_min!r}.")
    df = pd.DataFrame({
        "reader": data[reader].map(_label), "modality": data[modality].map(_label),
        "case": data[case].map(_label)})
    checks = {"fully_crossed": _crossed(df)}
    if date is None:
        checks["washout"] = ConductCheck(name="washout", status="not checked",
                                         detail="no reading dates given", problems=(),
                                         values={})
    else:
        dates = pd.to_datetime(data[date], errors="coerce")
        if dates.isna().any():
            row = int(np.flatnonzero(dates.isna().to_numpy())[0])
            raise InputError(f"'{date}' must hold a date for every reading; got "
                             f"{data[date].iloc[row]!r} at row {row}.")
        checks["washout"] = _washout(df.assign(date=dates.to_numpy()), wash)
    if truthers is None:
        checks["readers_not_truthers"] = ConductCheck(
            name="readers_not_truthers", status="not checked",
            detail="no list of truthers given", problems=(), values={})
    else:
        tset = {_label(x) for x in truthers}
        both = sorted(set(df["reader"]) & tset)
        checks["readers_not_truthers"] = ConductCheck(
            name="readers_not_truthers", status="fail" if both else "pass",
            detail=(f"{len(both)} reader(s) also set the reference standard" if both
                    else "no reader is a truther"),
            problems=tuple(f"reader {r!r} is also a truther" for r in both),
            values={"readers_and_truthers": both})
    return ConductResult(passed=all(c.status != "fail" for c in checks.values()), checks=checks)


def _crossed(df: pd.DataFrame) -> ConductCheck:
    readers = _sorted_levels(df["reader"])
    mods = _sorted_levels(df["modality"])
    cases = _sorted_levels(df["case"])
    problems: list[str] = []
    counts = df.groupby(["modality", "reader", "case"]).size()
    for (m, r, c), n in counts[counts > 1].items():
        problems.append(f"reader {r!r} read case {c!r} in modality {m!r} {n} times")
    full = pd.MultiIndex.from_product([mods, readers, cases])
    absent = full.difference(counts.index)
    problems.extend(f"reader {r!r} did not read case {c!r} in modality {m!r}"
                    for m, r, c in absent)
    n_prob = len(problems)
    return ConductCheck(
        name="fully_crossed", status="fail" if n_prob else "pass",
        detail=(f"{len(absent)} missing and {int((counts > 1).sum())} repeated readings"
                if n_prob else f"{len(readers)} readers x {len(mods)} modalities x "
                               f"{len(cases)} cases, each read once"),
        problems=tuple(problems[:_SHOW]) + ((f"... and {n_prob - _SHOW} more",)
                                             if n_prob > _SHOW else ()),
        values={"n_readers": len(readers), "n_modalities": len(mods), "n_cases": len(cases),
                "missing_readings": int(len(absent))})


def _washout(df: pd.DataFrame, minimum: float) -> ConductCheck:
    first = df.groupby(["reader", "case", "modality"])["date"].min().unstack("modality")
    if first.shape[1] < 2:
        return ConductCheck(name="washout", status="not checked",
                            detail="fewer than 2 modalities", problems=(), values={})
    first = first[first.notna().sum(axis=1) >= 2]  # pairs read in at least two modalities
    span = (first.max(axis=1) - first.min(axis=1)).dt.total_seconds() / 86400.0
    per_reader = span.groupby(level="reader").min()
    short = span[span < minimum]
    problems = [f"reader {r!r} read case {c!r} in two modalities {d:g} days apart "
                f"(minimum {minimum:g})" for (r, c), d in short.items()]
    n_prob = len(problems)
    return ConductCheck(
        name="washout", status="fail" if n_prob else "pass",
        detail=(f"{n_prob} reader-case pairs read less than {minimum:g} days apart" if n_prob
                else f"every reader-case pair at least {minimum:g} days apart"),
        problems=tuple(problems[:_SHOW]) + ((f"... and {n_prob - _SHOW} more",)
                                             if n_prob > _SHOW else ()),
        values={"minimum_days": minimum,
                "shortest_gap_days_by_reader": {str(k): float(v) for k, v in
                                                per_reader.items()}})
