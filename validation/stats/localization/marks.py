"""Marks to lesions: the matching rule and the per-reader arrays the figures of merit use.

Free-response (FROC) data are marks, each with a location (or a lesion identifier already
assigned by the truther) and a confidence rating. A mark is a *lesion localization* (LL) or a
*non-lesion localization* (NL). The rule applied here, stated once:

1. A mark that names a lesion (``lesion`` column not empty) is a localization of that lesion;
   the lesion must exist on the mark's case.
2. Otherwise, a mark with coordinates ``(x, y)`` is a localization of lesion ``l`` of its case
   when its Euclidean distance to the lesion's centre is at most the lesion's acceptance
   radius; a mark within the radius of several lesions goes to the nearest (ties: the lesion
   listed first). A mark within no radius, and every mark on a non-diseased case, is an NL.
3. Each lesion is counted once per reader and modality: the highest-rated of the marks matched
   to it is its LL; the other marks matched to the same lesion are *duplicates*, counted in
   the flow and ignored by every figure of merit (neither LL nor NL), as in Chakraborty's
   scoring, where a lesion is localized or not.

An unmarked lesion has LL rating ``-inf``; a case without NL marks has highest NL rating
``-inf``; two ``-inf`` compare as a tie (one half), as in the empirical AFROC.

References
----------
1. Chakraborty DP (1989). Maximum likelihood analysis of free-response receiver operating
   characteristic (FROC) data. Med Phys 16(4):561-568. doi:10.1118/1.596358
2. Chakraborty DP (2017). Observer Performance Methods for Diagnostic Imaging: Foundations,
   Modeling, and Applications with R-Based Examples. CRC Press. doi:10.1201/9781351228190
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._result import Result

MARK_KINDS = ("LL", "NL", "duplicate")
_SHOW = 5


def _text(values: pd.Series) -> pd.Series:
    """Identifiers as strings (1.0 read from a float column becomes '1'); empty stays NA."""
    def one(v: Any) -> Any:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return pd.NA
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        s = str(v).strip()
        return s if s else pd.NA
    return values.map(one).astype("object")


def _rows(mask: NDArray[np.bool_]) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in idx[:_SHOW])
    return shown + (f" and {idx.size - _SHOW} more" if idx.size > _SHOW else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkMatch(Result):
    """Marks matched to lesions under the stated rule (see the module docstring).

    ``marks`` is the input with ``lesion`` filled for lesion localizations and ``kind`` in
    {"LL", "NL", "duplicate"} (left out of ``to_dict()``); the counts are for the flow.
    """

    n_marks: int
    n_lesion_localizations: int
    n_non_lesion_localizations: int
    n_duplicates: int
    n_cases: int
    n_diseased: int
    n_lesions: int
    rule: str
    marks: pd.DataFrame = field(repr=False, compare=False)
    method: str = "mark-to-lesion matching (acceptance radius, each lesion counted once)"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in Result.to_dict(self).items() if k != "marks"}


def _truth_table(lesions: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(lesions, pd.DataFrame):
        raise InputError(f"'lesions' must be a pandas DataFrame; got {type(lesions).__name__}.")
    if "case" not in lesions or "lesion" not in lesions:
        raise InputError("'lesions' must have the columns 'case' and 'lesion' (empty lesion for "
                         "a non-diseased case); got columns "
                         f"{', '.join(map(repr, lesions.columns))}.")
    t = lesions.copy()
    t["case"] = _text(t["case"])
    t["lesion"] = _text(t["lesion"])
    if t["case"].isna().any():
        raise InputError(f"'lesions' has an empty case at row(s) {_rows(t['case'].isna().to_numpy())}.")
    dup = t.dropna(subset=["lesion"]).duplicated(["case", "lesion"])
    if dup.any():
        first = t.dropna(subset=["lesion"])[dup].iloc[0]
        raise InputError(f"'lesions' lists lesion {first['lesion']!r} of case {first['case']!r} "
                         "more than once; give each lesion one row.")
    both = t.groupby("case")["lesion"].agg(lambda s: (s.isna().any(), s.notna().any()))
    mixed = [c for c, (a, b) in both.items() if a and b]
    if mixed:
        raise InputError(f"case {mixed[0]!r} is listed both as non-diseased (empty lesion) and with "
                         "lesions; a case is either.")
    return t


def match_marks(marks: pd.DataFrame, lesions: pd.DataFrame) -> MarkMatch:
    """Assign each mark to a lesion or call it a non-lesion localization.

    Parameters
    ----------
    marks : DataFrame with columns ``case``, ``reader``, ``modality``, ``rating`` and either
        ``lesion`` (identifier, empty for a mark the truther did not assign) or ``x`` and
        ``y`` (mark location), or both.
    lesions : DataFrame with one row per lesion (``case``, ``lesion``, optional ``weight``,
        and ``x``, ``y``, ``radius`` for location matching) and one row with an empty
        ``lesion`` per non-diseased case.

    Returns
    -------
    MarkMatch

    Raises
    ------
    InputError
        A mark on a case not in ``lesions``, a mark naming a lesion its case does not have,
        a non-numeric rating, coordinates without lesion radii.
    """
    truth = _truth_table(lesions)
    if not isinstance(marks, pd.DataFrame):
        raise InputError(f"'marks' must be a pandas DataFrame; got {type(marks).__name__}.")
    need = [c for c in ("case", "reader", "modality", "rating") if c not in marks]
    if need:
        raise InputError(f"'marks' must have the columns case, reader, modality, rating; "
                         f"missing {', '.join(need)}.")
    m = marks.reset_index(drop=True).copy()
    for col in ("case", "reader", "modality"):
        m[col] = _text(m[col])
    m["lesion"] = _text(m["lesion"]) if "lesion" in m else pd.Series(pd.NA, index=m.index,
                                                                       dtype="object")
    rating = pd.to_numeric(m["rating"], errors="coerce")
    bad = rating.isna() | ~np.isfinite(rating.fillna(0.0))
    if bad.any():
        raise InputError(f"'rating' must be a finite number for every mark; not at mark row(s) "
                         f"{_rows(bad.to_numpy())}.")
    m["rating"] = rating.astype(np.float64)
    known = set(truth["case"])
    unknown = ~m["case"].isin(known)
    if unknown.any():
        raise InputError(f"marks name case(s) not in the truth: {m['case'][unknown].iloc[0]!r} at "
                         f"mark row(s) {_rows(unknown.to_numpy())}. Add the case to the truth "
                         "or drop the marks.")
    les = truth.dropna(subset=["lesion"])
    named = m["lesion"].notna()
    if named.any():
        pairs = set(zip(les["case"], les["lesion"], strict=True))
        bad_les = named & ~pd.Series([(c, lz) in pairs for c, lz in zip(m["case"], m["lesion"],
                                                                         strict=True)])
        if bad_les.any():
            first = m[bad_les].iloc[0]
            raise InputError(f"mark names lesion {first['lesion']!r} that case {first['case']!r} "
                             f"does not have (mark row(s) {_rows(bad_les.to_numpy())}).")
    has_xy = "x" in m and "y" in m
    rule = "lesion identifiers"
    if has_xy and (~named).any():
        if not {"x", "y", "radius"} <= set(truth.columns):
            raise InputError("marks with coordinates need lesion 'x', 'y' and 'radius' in the "
                             "truth to be matched by the acceptance radius.")
        rule = "acceptance radius (nearest lesion within its radius), else lesion identifiers"
        xy = m[["x", "y"]].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        todo = np.flatnonzero((~named).to_numpy() & np.isfinite(xy).all(axis=1))
        by_case = {c: g for c, g in les.groupby("case", sort=False)}
        for i in todo:
            g = by_case.get(m.at[i, "case"])
            if g is None:
                continue
            cx = pd.to_numeric(g["x"], errors="coerce").to_numpy(np.float64)
            cy = pd.to_numeric(g["y"], errors="coerce").to_numpy(np.float64)
            rad = pd.to_numeric(g["radius"], errors="coerce").to_numpy(np.float64)
            d = np.hypot(cx - xy[i, 0], cy - xy[i, 1])
            inside = d <= rad
            if inside.any():
                j = int(np.flatnonzero(inside)[np.argmin(d[inside])])
                m.at[i, "lesion"] = g["lesion"].iloc[j]
    # each lesion once per reader x modality: the highest-rated mark (first listed on ties)
    kind = np.where(m["lesion"].notna(), "LL", "NL").astype(object)
    ll = m[m["lesion"].notna()]
    if not ll.empty:
        order = ll.assign(_row=ll.index).sort_values(["rating", "_row"], ascending=[False, True],
                                                     kind="mergesort")
        dup = order.duplicated(["reader", "modality", "case", "lesion"], keep="first")
        kind[order.index[dup.to_numpy()]] = "duplicate"
    m["kind"] = kind
    counts = pd.Series(kind).value_counts()
    return MarkMatch(
        n_marks=len(m), n_lesion_localizations=int(counts.get("LL", 0)),
        n_non_lesion_localizations=int(counts.get("NL", 0)),
        n_duplicates=int(counts.get("duplicate", 0)), n_cases=int(truth["case"].nunique()),
        n_diseased=int(les["case"].nunique()), n_lesions=len(les), rule=rule, marks=m,
    )


@dataclass(frozen=True, slots=True)
class LocalizationData:
    """Scored marks of a study as arrays (cases in the order of the truth table).

    ``fp[i, j, k]``: reader ``j``'s highest NL rating on case ``k`` in modality ``i``
    (``-inf`` if none); ``ll[i, j, d, l]``: rating of lesion ``l`` of diseased case ``d``
    (``-inf`` if not localized; padding lesions beyond ``n_lesions[d]`` are ``-inf`` with
    weight 0); ``weights[d, l]`` sum to 1 over each case's lesions; ``nl[i][j]`` holds all NL
    ratings of reader ``j`` in modality ``i`` (for the FROC curve).
    """

    fp: NDArray[np.float64]
    ll: NDArray[np.float64]
    weights: NDArray[np.float64]
    n_lesions: NDArray[np.int64]
    diseased: NDArray[np.bool_]
    cases: tuple[str, ...]
    modalities: tuple[str, ...]
    readers: tuple[str, ...]
    nl: tuple[tuple[NDArray[np.float64], ...], ...]


def localization_arrays(match: MarkMatch, lesions: pd.DataFrame, *,
                        modalities: tuple[str, ...] | None = None,
                        readers: tuple[str, ...] | None = None) -> LocalizationData:
    """Turn matched marks into the arrays of :class:`LocalizationData`.

    Lesion weights come from a ``weight`` column of ``lesions`` when present (each case's
    weights must be positive and are normalised to sum to 1), otherwise equal weights
    ``1 / n_lesions``. ``modalities`` and ``readers`` fix the order (default: sorted).
    """
    truth = _truth_table(lesions)
    m = match.marks
    cases = tuple(pd.unique(truth["case"]))
    cidx = {c: k for k, c in enumerate(cases)}
    les = truth.dropna(subset=["lesion"])
    dcases = tuple(pd.unique(les["case"]))
    didx = {c: d for d, c in enumerate(dcases)}
    diseased = np.array([c in didx for c in cases])
    n_les = les.groupby("case", sort=False).size().reindex(list(dcases)).to_numpy(np.int64)
    lmax = int(n_les.max()) if n_les.size else 1
    lpos = les.groupby("case", sort=False).cumcount().to_numpy()
    lkey = {(c, lz): int(p) for c, lz, p in zip(les["case"], les["lesion"], lpos, strict=True)}
    w = np.zeros((len(dcases), lmax))
    raw = (pd.to_numeric(les["weight"], errors="coerce").to_numpy(np.float64)
           if "weight" in les else np.full(len(les), np.nan))
    rows = np.array([didx[c] for c in les["case"]], dtype=np.int64)
    if np.isnan(raw).all():
        w[rows, lpos] = 1.0 / n_les[rows]
    else:
        if np.isnan(raw).any() or (raw <= 0).any():
            raise InputError("'weight' must be positive for every lesion when given; got "
                             f"{raw[np.isnan(raw) | (raw <= 0)][0]!r}.")
        w[rows, lpos] = raw
        w /= w.sum(axis=1, keepdims=True)
    mods = modalities or tuple(sorted(pd.unique(m["modality"].dropna())))
    rdrs = readers or tuple(sorted(pd.unique(m["reader"].dropna())))
    t, r, k, kd = len(mods), len(rdrs), len(cases), len(dcases)
    fp = np.full((t, r, k), -np.inf)
    ll = np.full((t, r, kd, lmax), -np.inf)
    nl: list[list[NDArray[np.float64]]] = [[np.empty(0)] * r for _ in range(t)]
    mi = {x: i for i, x in enumerate(mods)}
    ri = {x: j for j, x in enumerate(rdrs)}
    sub = m[m["modality"].isin(mi) & m["reader"].isin(ri)]
    for (md, rd), g in sub.groupby(["modality", "reader"], sort=False):
        i, j = mi[md], ri[rd]
        nlg = g[g["kind"] == "NL"]
        kk = nlg["case"].map(cidx).to_numpy(np.int64)
        vals = nlg["rating"].to_numpy(np.float64)
        np.maximum.at(fp[i, j], kk, vals)
        nl[i][j] = vals
        llg = g[g["kind"] == "LL"]
        for c, lz, v in zip(llg["case"], llg["lesion"], llg["rating"], strict=True):
            ll[i, j, didx[c], lkey[(c, lz)]] = v
    return LocalizationData(
        fp=fp, ll=ll, weights=w, n_lesions=n_les, diseased=diseased, cases=cases,
        modalities=tuple(mods), readers=tuple(rdrs),
        nl=tuple(tuple(x) for x in nl),
    )
