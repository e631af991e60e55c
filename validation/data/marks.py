"""Free-response marks and lesion truth: specification checks and cross-file checks.

``load_marks`` reads a marks file (``data_specs/reader_marks.yaml``) and a lesion-truth file
(``data_specs/lesion_truth.yaml``), checks each against its specification, then checks them
against each other and collects every problem with its file and row:

* a mark on a case the truth does not list;
* a mark naming a lesion its case does not have;
* a mark outside its case's image (when the truth gives ``image_width``/``image_height``);
* a mark with a location on a case whose lesions have no centre or radius;
* a reader with marks in one modality and none in another (no readings there);
* with a ``reader_group`` column in the truth (a split-plot study): a case without a group or
  with two, and a reader whose marks fall in the cases of two groups.

The tables come back with the column names the statistics layer uses (``case``, ``reader``,
``modality``, ``lesion``, ``rating``, ``x``, ``y``; truth ``case``, ``lesion``, ``x``, ``y``,
``radius``, ``weight``, ``patient``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation.data.specs import _row_label, load_table
from validation.errors import DataError

MARKS_SPEC = "reader_marks"
TRUTH_SPEC = "lesion_truth"
_MARK_COLS = {"case_id": "case", "reader_id": "reader", "modality": "modality",
              "lesion_id": "lesion", "rating": "rating", "x": "x", "y": "y"}
_TRUTH_COLS = {"case_id": "case", "lesion_id": "lesion", "x": "x", "y": "y", "radius": "radius",
               "weight": "weight", "image_width": "image_width",
               "image_height": "image_height", "patient_id": "patient",
               "reader_group": "reader_group"}


@dataclass(frozen=True, slots=True)
class MarkTables:
    """Checked marks and lesion truth, renamed for the statistics layer."""

    marks: pd.DataFrame
    truth: pd.DataFrame
    marks_file: str
    truth_file: str


def _plain(df: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for src, dst in names.items():
        if src not in df:
            continue
        col = df[src]
        if str(col.dtype) == "string":
            out[dst] = col.astype(object).where(col.notna(), None)
        else:
            out[dst] = col.astype(np.float64)
    return out


def load_marks(marks_path: str | os.PathLike[str], truth_path: str | os.PathLike[str],
               *, reader_groups: bool = True) -> MarkTables:
    """Read and check a marks file and its lesion truth (see the module docstring).

    ``reader_groups=False`` skips the split-plot group checks (a standalone algorithm's marks
    cover every case whatever the readers' groups).

    Raises
    ------
    DataError
        Every problem at once, each naming the file, row and column.
    """
    mp, tp = Path(marks_path), Path(truth_path)
    raw_m = load_table(mp, MARKS_SPEC, what="marks")
    raw_t = load_table(tp, TRUTH_SPEC, what="lesion truth")
    marks, truth = _plain(raw_m, _MARK_COLS), _plain(raw_t, _TRUTH_COLS)
    if "lesion" not in marks:
        marks["lesion"] = None
    csv_m = mp.suffix.lower() in (".csv", ".tsv", ".txt")
    problems: list[str] = []

    def where(i: Any) -> str:
        return f"{mp.name} {_row_label(int(i), csv_m)}"

    # truth: a case is either non-diseased (one row, empty lesion) or has lesions
    dis = truth["lesion"].notna()
    both = set(truth.loc[dis, "case"]) & set(truth.loc[~dis, "case"])
    for c in sorted(both):
        problems.append(f"{tp.name}: case {c!r} has a row without lesion_id (non-diseased) and "
                        "rows with lesions; a case is one or the other.")
    cases = set(truth["case"])
    lesions = set(zip(truth.loc[dis, "case"], truth.loc[dis, "lesion"], strict=True))
    unknown = ~marks["case"].isin(cases)
    for i in np.flatnonzero(unknown.to_numpy())[:50]:
        problems.append(f"{where(i)}, column 'case_id': case {marks.at[i, 'case']!r} is not in "
                        f"{tp.name}.")
    named = marks["lesion"].notna() & ~unknown
    for i in np.flatnonzero(named.to_numpy()):
        key = (marks.at[i, "case"], marks.at[i, "lesion"])
        if key not in lesions:
            problems.append(f"{where(i)}, column 'lesion_id': case {key[0]!r} has no lesion "
                            f"{key[1]!r} in {tp.name}.")
    if {"x", "y"} <= set(marks):
        size = truth.groupby("case")[[c for c in ("image_width", "image_height")
                                      if c in truth]].max()
        has_xy = marks["x"].notna() & marks["y"].notna() & ~unknown
        for i in np.flatnonzero(has_xy.to_numpy()):
            c = marks.at[i, "case"]
            x, y = float(marks.at[i, "x"]), float(marks.at[i, "y"])
            w = size.at[c, "image_width"] if "image_width" in size else np.nan
            h = size.at[c, "image_height"] if "image_height" in size else np.nan
            outside = x < 0 or y < 0 or (pd.notna(w) and x > w) or (pd.notna(h) and y > h)
            if outside:
                dims = f"{w:g} x {h:g}" if pd.notna(w) and pd.notna(h) else "its bounds"
                problems.append(f"{where(i)}, columns 'x', 'y': mark ({x:g}, {y:g}) lies outside "
                                f"the image of case {c!r} ({dims}).")
        need_radius = has_xy & marks["lesion"].isna() & marks["case"].isin(truth.loc[dis, "case"])
        if need_radius.any():
            geo = [c for c in ("x", "y", "radius") if c in truth]
            les_rows = truth[dis]
            bad_cases = set(les_rows["case"]) if len(geo) < 3 else set(
                les_rows.loc[les_rows[geo].isna().any(axis=1), "case"])
            for i in np.flatnonzero((need_radius & marks["case"].isin(bad_cases)).to_numpy())[:50]:
                problems.append(f"{where(i)}: the mark has a location but case "
                                f"{marks.at[i, 'case']!r} has a lesion without x, y and radius "
                                f"in {tp.name}; give them or name the lesion.")
    mods = sorted(set(marks["modality"]))
    per_reader = marks.groupby("reader")["modality"].agg(lambda s: set(s))
    for rdr, seen in per_reader.items():
        for m in mods:
            if m not in seen:
                problems.append(f"{mp.name}: reader {rdr!r} has no readings (no marks) in "
                                f"modality {m!r}; every reader reads every modality.")
    csv_t = tp.suffix.lower() in (".csv", ".tsv", ".txt")
    if reader_groups:
        problems.extend(_group_problems(marks, truth, unknown, where,
                                        lambda i: f"{tp.name} {_row_label(int(i), csv_t)}"))
    if problems:
        n = len(problems)
        raise DataError(f"{mp.name} and {tp.name} do not agree ({n} problem{'s' if n > 1 else ''}):",
                        problems=problems)
    return MarkTables(marks=marks, truth=truth, marks_file=mp.name, truth_file=tp.name)


def _group_problems(marks: pd.DataFrame, truth: pd.DataFrame, unknown: pd.Series,
                    where: Any, twhere: Any) -> list[str]:
    """Split-plot groups: one per case, and each reader's marks within one group's cases."""
    if "reader_group" not in truth or truth["reader_group"].isna().all():
        return []
    out: list[str] = []
    per_case = truth.groupby("case", sort=False)["reader_group"]
    for c, n in per_case.nunique().items():
        if n != 1 or per_case.get_group(c).isna().any():
            i = truth.index[truth["case"] == c][0]
            out.append(f"{twhere(i)}, column 'reader_group': case {c!r} must "
                       "name exactly one reader group on every row; got "
                       f"{sorted(map(str, per_case.get_group(c).dropna().unique()))!r}.")
    group = per_case.first()
    known = ~unknown
    first: dict[Any, tuple[Any, Any]] = {}
    for i in np.flatnonzero(known.to_numpy()):
        rdr, c = marks.at[i, "reader"], marks.at[i, "case"]
        g = group.get(c)
        if rdr not in first:
            first[rdr] = (g, c)
        elif g != first[rdr][0]:
            out.append(f"{where(i)}, column 'case_id': reader {rdr!r} marked case {c!r} of "
                       f"reader group {g!r}, but also case {first[rdr][1]!r} of group "
                       f"{first[rdr][0]!r}; in a split plot each reader reads one group's cases.")
            first[rdr] = (g, c)
            if len(out) >= 50:
                break
    return out


@dataclass(frozen=True, slots=True)
class LocalizationInputs:
    """The files of a protocol's ``localization`` section, checked."""

    readers: MarkTables | None
    algorithm: MarkTables | None
    paths: dict[str, Path]


def load_localization(section: Any, base_dir: str | os.PathLike[str],
                      case_ids: set[str] | None = None) -> LocalizationInputs:
    """Load the readers' and the algorithm's marks of a protocol's ``localization`` section.

    ``case_ids``: the test set's cases; every case of the lesion truth must be one of them.
    The readers' marks must hold exactly the section's modalities.
    """
    base = Path(base_dir)
    lesions = base / section.lesions
    paths = {"lesion_truth": lesions}
    readers = algorithm = None
    if section.marks is not None:
        paths["marks"] = base / section.marks
        readers = load_marks(paths["marks"], lesions)
        seen = sorted(set(readers.marks["modality"]))
        want = [str(m) for m in section.modalities]
        if sorted(want) != seen:
            raise DataError(f"{readers.marks_file}: the marks hold modalities "
                            f"{', '.join(map(repr, seen))}; the protocol's "
                            f"localization.modalities are {', '.join(map(repr, want))}.")
    if section.algorithm_marks is not None:
        paths["algorithm_marks"] = base / section.algorithm_marks
        algorithm = load_marks(paths["algorithm_marks"], lesions, reader_groups=False)
    source = readers if readers is not None else algorithm
    truth = source.truth if source is not None else None
    if truth is not None and case_ids is not None:
        unknown = sorted(set(truth["case"]) - set(case_ids))
        if unknown:
            raise DataError(f"{lesions.name}: {len(unknown)} case(s) are not in the test-set "
                            f"manifest: {', '.join(map(repr, unknown[:20]))}.")
    return LocalizationInputs(readers=readers, algorithm=algorithm, paths=paths)
