"""A long-format split-plot reader study: its reader groups and case blocks, and its OR analysis.

:func:`split_plot_design` finds the groups of a table (readers who read the same cases, in
every modality, the blocks of different groups disjoint) and refuses, naming the reader, case
and row, a table that is no split plot: a reader without readings in a modality, a reader who
read other cases in one modality than in another, or two readers whose case sets overlap
without being equal. :func:`split_plot_mrmc` computes each group's figures of merit and their
covariance within its block (any figure of merit of :func:`~validation.stats.mrmc.fom_covariance`)
and runs :func:`~validation.stats.mrmc.or_split_plot`; its result has the layout of
:func:`~validation.stats.mrmc.mrmc_analysis`'s.

References
----------
1. Hillis SL (2014). Stat Med 33(2):330-360. doi:10.1002/sim.5926
2. Obuchowski NA, Gallas BD, Hillis SL (2012). Acad Radiol 19(12):1508-1517.
   doi:10.1016/j.acra.2012.09.012
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from validation.constants import DEFAULT_SEED
from validation.errors import DesignError, InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats.mrmc._design import _label, _sorted_levels
from validation.stats.mrmc.analysis import Difference, MRMCResult
from validation.stats.mrmc.covariance import COVARIANCES, ENDPOINTS, fom_covariance
from validation.stats.mrmc.or_split_plot import block_covariance, or_split_plot

_SHOW = 5


@dataclass(frozen=True, slots=True)
class SplitPlotDesign:
    """A split-plot reader study as arrays.

    ``ratings[i, j, k]`` is reader ``j``'s rating of case ``k`` in modality ``i`` (NaN where
    the case is outside the reader's block); ``reader_group[j]`` and ``case_group[k]`` are the
    group labels ("G1", "G2", ... in the order of the readers); ``truth[k]`` 1 = diseased.
    """

    ratings: NDArray[np.float64]
    truth: NDArray[np.int8]
    modalities: tuple[str, ...]
    readers: tuple[str, ...]
    cases: tuple[str, ...]
    reader_group: tuple[str, ...]
    case_group: tuple[str, ...]

    def group_indices(self) -> list[tuple[str, list[int], list[int]]]:
        """``(label, reader indices, case indices)`` of each group, in order."""
        out = []
        for g in dict.fromkeys(self.reader_group):
            out.append((g, [j for j, x in enumerate(self.reader_group) if x == g],
                        [k for k, x in enumerate(self.case_group) if x == g]))
        return out


def _row(df: pd.DataFrame, mask: pd.Series) -> str:
    """'data row N' (1-based, header not counted) of the first row where ``mask`` holds."""
    pos = int(np.flatnonzero(mask.to_numpy())[0])
    return f"data row {int(df['_row'].iloc[pos]) + 1}"


def split_plot_design(
    data: pd.DataFrame, *, reader: str = "reader", modality: str = "modality",
    case: str = "case", truth: str = "truth", rating: str = "rating",
    modalities: tuple[Any, ...] | list[Any] | None = None,
) -> SplitPlotDesign:
    """Check a long-format table as a split plot and return its arrays.

    Raises
    ------
    InputError
        A column is absent; truth not 0/1; a rating empty, non-numeric or infinite.
    DesignError
        Fewer than 2 modalities or readers; a reader without readings in a modality; a reader
        who read different cases in different modalities; overlapping case sets of two reader
        groups; a repeated reading; conflicting truth. The message names the reader, case and
        data row (1-based, header not counted).
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"'data' must be a pandas DataFrame; got {type(data).__name__}.")
    cols = [reader, modality, case, truth, rating]
    missing = [c for c in cols if c not in data]
    if missing:
        raise InputError(f"'data' must have the columns {', '.join(map(repr, cols))}; missing "
                         f"{', '.join(map(repr, missing))}.")
    df = data[cols].copy()
    df.columns = ["reader", "modality", "case", "truth", "rating"]
    df["_row"] = np.arange(len(df))
    for col, name in (("reader", reader), ("modality", modality), ("case", case)):
        if df[col].isna().any():
            raise DesignError(f"column {name!r} is empty at "
                              f"{_row(df, df[col].isna())}; every reading needs a {col}.")
        df[col] = df[col].map(_label)
    present = [_label(m) for m in _sorted_levels(df["modality"])]
    mods = [str(m) for m in modalities] if modalities is not None else present
    unknown = [m for m in mods if m not in present]
    if unknown:
        raise DesignError(f"modality {unknown[0]!r} is not in column {modality!r}; the data hold "
                          f"{', '.join(map(repr, present))}.")
    if len(mods) < 2 or len(set(mods)) != len(mods):
        raise DesignError(f"an MRMC comparison needs at least 2 distinct modalities; got {mods!r}.")
    df = df[df["modality"].isin(mods)]
    dup = df.duplicated(["reader", "modality", "case"])
    if dup.any():
        row = df[dup].iloc[0]
        raise DesignError(f"reader {row['reader']!r} read case {row['case']!r} in modality "
                          f"{row['modality']!r} more than once ({_row(df, dup)}); keep one "
                          "reading per reader, modality and case.")
    tnum = pd.to_numeric(df["truth"], errors="coerce")
    bad = ~tnum.isin((0.0, 1.0))
    if bad.any():
        raise InputError(f"'{truth}' must hold 0 (non-diseased) and 1 (diseased); got "
                         f"{df['truth'][bad].iloc[0]!r} at {_row(df, bad)}.")
    conflict = tnum.groupby(df["case"]).nunique() > 1
    if conflict.any():
        c = conflict[conflict].index[0]
        raise DesignError(f"case {c!r} has conflicting truth values in column {truth!r} "
                          f"(e.g. {_row(df, df['case'] == c)}).")
    num = pd.to_numeric(df["rating"], errors="coerce")
    bad = num.isna() | ~np.isfinite(num.fillna(0.0))
    if bad.any():
        raise InputError(f"'{rating}' must be a finite number; got {df['rating'][bad].iloc[0]!r} "
                         f"at {_row(df, bad)}.")
    readers = [_label(r) for r in _sorted_levels(df["reader"])]
    if len(readers) < 2:
        raise DesignError(f"an MRMC analysis needs at least 2 readers; column {reader!r} holds "
                          f"{len(readers)}.")
    sets = df.groupby(["reader", "modality"])["case"].agg(frozenset)
    block_of: dict[str, frozenset[str]] = {}
    for r in readers:
        for m in mods:
            if (r, m) not in sets.index:
                raise DesignError(
                    f"reader {r!r} has no readings in modality {m!r}: a split plot needs every "
                    "reader to read the block of cases in every modality. Add the readings or "
                    "leave the reader out; the U-statistic analysis (--method ustat) accepts "
                    "the AUC of such a design.")
        first = sets[(r, mods[0])]
        for m in mods[1:]:
            other = sets[(r, m)]
            if other != first:
                c = sorted(first ^ other)[0]
                where = mods[0] if c in first else m
                mask = (df["reader"] == r) & (df["case"] == c)
                raise DesignError(
                    f"reader {r!r} read case {c!r} in modality {where!r} only ({_row(df, mask)}): "
                    "in a split plot each reader reads the same cases in every modality.")
        block_of[r] = first
    blocks: dict[frozenset[str], list[str]] = {}
    for r in readers:
        blocks.setdefault(block_of[r], []).append(r)
    keys = list(blocks)
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):
            shared = keys[a] & keys[b]
            if shared:
                c = sorted(shared)[0]
                ra, rb = blocks[keys[a]][0], blocks[keys[b]][0]
                only = sorted(keys[a] ^ keys[b])[0]
                raise DesignError(
                    f"readers {ra!r} and {rb!r} both read case {c!r} "
                    f"({_row(df, (df['reader'] == rb) & (df['case'] == c))}) but not the same "
                    f"cases (e.g. case {only!r} is read by only one of them): the design is "
                    "neither fully crossed nor a split plot with disjoint case blocks. The "
                    "U-statistic analysis (--method ustat) accepts the AUC of such a design.")
    labels = {key: f"G{g + 1}" for g, key in enumerate(keys)}
    cases = [c for key in keys for c in sorted(key, key=_natural)]
    case_group = [labels[key] for key in keys for _ in key]
    case_truth = tnum.groupby(df["case"]).first().reindex(cases).to_numpy()
    tr = case_truth.astype(np.int8)
    mi = {m: i for i, m in enumerate(mods)}
    ri = {r: j for j, r in enumerate(readers)}
    ci = {c: k for k, c in enumerate(cases)}
    ratings = np.full((len(mods), len(readers), len(cases)), np.nan)
    ratings[df["modality"].map(mi).to_numpy(), df["reader"].map(ri).to_numpy(),
            df["case"].map(ci).to_numpy()] = num.to_numpy(np.float64)
    return SplitPlotDesign(ratings=ratings, truth=tr, modalities=tuple(mods),
                           readers=tuple(readers), cases=tuple(cases),
                           reader_group=tuple(labels[block_of[r]] for r in readers),
                           case_group=tuple(case_group))


def _natural(value: str) -> tuple[int, float, str]:
    """Numbers numerically, then strings: the case order of the other MRMC tables."""
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def split_plot_mrmc(
    data: pd.DataFrame,
    *,
    endpoint: str = "auc",
    covariance: str = "jackknife",
    modalities: tuple[Any, ...] | list[Any] | None = None,
    margin: float | None = None,
    alpha: float = 0.05,
    reader: str = "reader",
    modality: str = "modality",
    case: str = "case",
    truth: str = "truth",
    rating: str = "rating",
    n_bootstrap: int = 2000,
    seed: int | None = DEFAULT_SEED,
) -> MRMCResult:
    """Obuchowski-Rockette comparison of two modalities in a split-plot study.

    H0: equal reader-averaged figures of merit (second modality minus first). Each group's
    figures of merit and covariance are computed on its own block by
    :func:`~validation.stats.mrmc.fom_covariance` (``endpoint`` "auc", "sensitivity",
    "specificity"; ``covariance`` "jackknife", "delong" for the AUC, or "bootstrap", seeded
    per block), the blocks' covariances assembled with zeros across groups and analysed by
    :func:`~validation.stats.mrmc.or_split_plot`. Parameters as in
    :func:`~validation.stats.mrmc.mrmc_analysis`. A fully crossed table (one group) gives
    that function's numbers.

    Returns
    -------
    MRMCResult
        ``analysis`` is "or_split_plot"; ``n_cases_used`` sums the cases behind each block's
        figure of merit; the notes name the groups.
    """
    check_choice(endpoint, "endpoint", ENDPOINTS)
    check_choice(covariance, "covariance", COVARIANCES)
    alpha = check_alpha(alpha)
    sp = split_plot_design(data, reader=reader, modality=modality, case=case, truth=truth,
                           rating=rating, modalities=modalities)
    if len(sp.modalities) != 2:
        raise DesignError(f"the data hold {len(sp.modalities)} modalities; choose the two to "
                          "compare with 'modalities'.")
    t, r = len(sp.modalities), len(sp.readers)
    fom = np.empty((t, r))
    blocks = []
    used = []
    for g, rdrs, cs in sp.group_indices():
        tr = sp.truth[cs]
        if tr.min() == tr.max():
            raise DesignError(f"reader group {g} (readers {', '.join(sp.readers[j] for j in rdrs)}) "
                              f"has only {'diseased' if tr[0] else 'non-diseased'} cases; each "
                              "block needs both.")
        try:
            fc = fom_covariance(sp.ratings[:, rdrs][:, :, cs], tr, endpoint=endpoint,
                                covariance=covariance, n_bootstrap=n_bootstrap, seed=seed)
        except InputError as exc:
            raise InputError(f"reader group {g}: {exc}") from None
        fom[:, rdrs] = fc.fom
        blocks.append((rdrs, fc.cov))
        used.append(fc.n_cases_used)
    cov = block_covariance(blocks, t=t, r=r)
    res = or_split_plot(fom, cov, reader_groups=sp.reader_group, n_cases=used,
                        reader_labels=sp.readers, alpha=alpha, margin=margin)
    single = {name: res.single[i] for i, name in enumerate(sp.modalities)}
    groups = "; ".join(f"{g}: readers {', '.join(sp.readers[j] for j in rd)} x {len(cs)} cases"
                       for g, rd, cs in sp.group_indices())
    return MRMCResult(
        endpoint=endpoint, analysis="or_split_plot", covariance=covariance, alpha=alpha,
        n_readers=r, n_cases=len(sp.cases), n_cases_used=int(sum(used)), modalities=single,
        difference=Difference(estimate=float(res.estimate or 0.0),
                              comparison=f"{sp.modalities[1]} - {sp.modalities[0]}"),
        rrrc=res.rrrc, frrc=res.frrc, rrfc=res.rrfc,
        variance_components=res.variance_components, noninferiority=res.noninferiority,
        notes=(f"reader groups ({groups})", *res.notes), method=res.method,
        references=res.references)


__all__ = ["SplitPlotDesign", "split_plot_design", "split_plot_mrmc"]
