"""Reading designs: what a reader study's table holds, and the analysis that fits it.

:func:`reading_design` classifies a long-format reader study (one row per reading):

* ``fully crossed`` - every reader read every case in every modality: Obuchowski-Rockette /
  DBM (:func:`~validation.stats.mrmc.mrmc_analysis`) apply, and the U-statistic analysis
  gives Gallas's one-shot estimate;
* ``split-plot`` - readers fall into groups, each group reads its own block of cases (every
  reader of a group reads every case of its block in every modality), blocks disjoint;
* ``partially missing`` - any other pattern in which every reader read, in every modality,
  at least one non-diseased and one diseased case.

:func:`ustat_analysis` runs the U-statistic analysis (valid for all three) on such a table.

References
----------
1. Gallas BD, Bandos A, Samuelson FW, Wagner RF (2009). Commun Stat Theory Methods
   38(15):2586-2603. doi:10.1080/03610920802610084
2. Obuchowski NA (2009). Reducing the number of reader interpretations in MRMC studies.
   Acad Radiol 16(2):209-217. doi:10.1016/j.acra.2008.05.014
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from validation.errors import DesignError, InputError
from validation.stats._result import Result
from validation.stats.mrmc._design import _label, _sorted_levels
from validation.stats.mrmc.ustat import UStatMRMC, ustat_binary_mrmc, ustat_mrmc

DESIGNS = ("fully crossed", "split-plot", "partially missing")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingDesign(Result):
    """Who read what: the design's kind and, per reader, the cases read in each modality.

    ``groups`` lists the reader groups of a split-plot design (one group when fully
    crossed, empty when partially missing) with their number of cases.
    """

    kind: str
    modalities: tuple[str, ...]
    readers: tuple[str, ...]
    n_cases: int
    readings: dict[str, dict[str, int]]
    groups: tuple[dict[str, Any], ...]
    n_readings: int
    n_possible: int
    method: str = "reading-design classification"


def _table(data: pd.DataFrame, reader: str, modality: str, case: str) -> pd.DataFrame:
    need = [c for c in (reader, modality, case) if c not in data]
    if need:
        raise InputError(f"'data' must have the columns {reader!r}, {modality!r}, {case!r}; "
                         f"missing {', '.join(map(repr, need))}.")
    df = data[[reader, modality, case]].copy()
    df.columns = ["reader", "modality", "case"]
    for col in df.columns:
        df[col] = df[col].map(_label)
    return df


def reading_design(data: pd.DataFrame, *, reader: str = "reader", modality: str = "modality",
                   case: str = "case") -> ReadingDesign:
    """Classify the reading design of a long-format reader study (see the module docstring)."""
    df = _table(data, reader, modality, case)
    mods = tuple(_label(m) for m in _sorted_levels(df["modality"]))
    rdrs = tuple(_label(r) for r in _sorted_levels(df["reader"]))
    cases = tuple(_label(c) for c in _sorted_levels(df["case"]))
    counts = df.groupby(["reader", "modality"]).size().unstack(fill_value=0)
    counts = counts.reindex(index=list(rdrs), columns=list(mods), fill_value=0)
    readings = {r: {m: int(counts.at[r, m]) for m in mods} for r in rdrs}
    n_read = int(len(df.drop_duplicates()))
    n_possible = len(mods) * len(rdrs) * len(cases)
    sets = df.groupby(["reader", "modality"])["case"].agg(frozenset)
    groups: list[dict[str, Any]] = []
    kind = "partially missing"
    if n_read == n_possible:
        kind = "fully crossed"
        groups = [{"readers": list(rdrs), "n_cases": len(cases)}]
    else:
        per_reader = {}
        same_across = True
        for r in rdrs:
            s = {sets.get((r, m), frozenset()) for m in mods}
            same_across &= len(s) == 1
            per_reader[r] = next(iter(s))
        blocks: dict[frozenset[str], list[str]] = {}
        for r, s in per_reader.items():
            blocks.setdefault(s, []).append(r)
        disjoint = sum(len(b) for b in blocks) == len(set().union(*blocks)) if blocks else False
        if same_across and disjoint and len(blocks) > 1:
            kind = "split-plot"
            groups = [{"readers": rs, "n_cases": len(b)} for b, rs in blocks.items()]
    return ReadingDesign(kind=kind, modalities=mods, readers=rdrs, n_cases=len(cases),
                         readings=readings, groups=tuple(groups), n_readings=n_read,
                         n_possible=n_possible)


def ustat_analysis(
    data: pd.DataFrame, *, modalities: tuple[Any, ...] | list[Any] | None = None,
    alpha: float = 0.05, reader: str = "reader", modality: str = "modality",
    case: str = "case", truth: str = "truth", rating: str = "rating",
    require_both_modalities: bool = True, endpoint: str = "auc",
) -> UStatMRMC:
    """U-statistic MRMC analysis of the reader-averaged AUC from a long-format table.

    Valid for fully crossed, split-plot and partially missing designs (Gallas et al. 2009).
    ``endpoint="sensitivity"`` or ``"specificity"`` analyses the readers' binary decisions
    (``rating`` 0/1) instead (:func:`~validation.stats.mrmc.ustat.ustat_binary_mrmc`).
    ``modalities`` gives the two to compare (second minus first); by default the two present,
    sorted. Raises :class:`DesignError` for fewer than two readers, duplicate readings and,
    unless ``require_both_modalities=False``, a reader without readings in one modality
    (the estimator itself allows such unpaired readers, as iMRMC does; a protocol that
    planned every reader in both modalities should not silently accept one).
    """
    if endpoint not in ("auc", "sensitivity", "specificity"):
        raise InputError(f"'endpoint' must be auc, sensitivity or specificity; got {endpoint!r}.")
    need = [c for c in (reader, modality, case, truth, rating) if c not in data]
    if need:
        raise InputError(f"'data' must have the columns {reader!r}, {modality!r}, {case!r}, "
                         f"{truth!r}, {rating!r}; missing {', '.join(map(repr, need))}.")
    df = data[[reader, modality, case, truth, rating]].copy()
    df.columns = ["reader", "modality", "case", "truth", "rating"]
    for col in ("reader", "modality", "case"):
        df[col] = df[col].map(_label)
    present = tuple(_label(m) for m in _sorted_levels(df["modality"]))
    mods = tuple(str(m) for m in modalities) if modalities is not None else present
    if len(mods) != 2 or any(m not in present for m in mods):
        raise DesignError(f"choose two modalities among {', '.join(map(repr, present))}; got "
                          f"{mods!r}.")
    df = df[df["modality"].isin(mods)]
    dup = df.duplicated(["reader", "modality", "case"])
    if dup.any():
        row = df[dup].iloc[0]
        raise DesignError(f"reader {row['reader']!r} read case {row['case']!r} in modality "
                          f"{row['modality']!r} more than once; keep one reading.")
    rating_num = pd.to_numeric(df["rating"], errors="coerce")
    if rating_num.isna().any() or not np.isfinite(rating_num).all():
        row = df[rating_num.isna() | ~np.isfinite(rating_num.fillna(0))].iloc[0]
        raise InputError(f"'{rating}' must be a finite number; reader {row['reader']!r}, case "
                         f"{row['case']!r} has {row['rating']!r}.")
    tnum = pd.to_numeric(df["truth"], errors="coerce")
    if not tnum.isin((0, 1)).all():
        raise InputError(f"'{truth}' must hold 0 and 1; got {df['truth'][~tnum.isin((0, 1))].iloc[0]!r}.")
    per_case = tnum.groupby(df["case"]).nunique()
    if (per_case > 1).any():
        raise DesignError(f"case {per_case[per_case > 1].index[0]!r} has conflicting truth values.")
    rdrs = tuple(_label(r) for r in _sorted_levels(df["reader"]))
    cases = tuple(_label(c) for c in _sorted_levels(df["case"]))
    for r in rdrs if require_both_modalities else ():
        for m in mods:
            if not ((df["reader"] == r) & (df["modality"] == m)).any():
                raise DesignError(f"reader {r!r} has no readings in modality {m!r}; the "
                                  "U-statistic analysis compares readers who read in both "
                                  "modalities. Remove the reader or add the readings.")
    tr = tnum.groupby(df["case"]).first().reindex(list(cases)).to_numpy().astype(np.int8)
    mi = {m: i for i, m in enumerate(mods)}
    ri = {r: j for j, r in enumerate(rdrs)}
    ci = {c: k for k, c in enumerate(cases)}
    score = np.zeros((2, len(rdrs), len(cases)))
    read = np.zeros_like(score, dtype=bool)
    ii = df["modality"].map(mi).to_numpy()
    jj = df["reader"].map(ri).to_numpy()
    kk = df["case"].map(ci).to_numpy()
    score[ii, jj, kk] = rating_num.to_numpy(np.float64)
    read[ii, jj, kk] = True
    if endpoint != "auc":
        return ustat_binary_mrmc(score, read, tr, endpoint=endpoint,
                                 modalities=(mods[0], mods[1]), alpha=alpha, reader_labels=rdrs)
    return ustat_mrmc(score, read, tr, modalities=(mods[0], mods[1]), alpha=alpha,
                      reader_labels=rdrs)
