"""Per-period counts of a surveillance batch: pooled, per site, per factor level.

:func:`aggregate_cases` turns case rows into one tidy frame of counts, the figures the
registry keeps for each batch and the status reads. It runs on pandas, or on Dask when asked
(a scheduler address, or ``"local"`` for an in-process LocalCluster) with the same frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from validation.errors import InputError

COUNTS = ("n", "n_labelled", "n_pos", "n_neg", "tp", "fn", "tn", "fp", "called_pos")
"""Count columns: cases, labelled cases, positives, negatives, the 2x2 cells, positive calls
(among all cases, labelled or not)."""
KEYS = ("period", "site", "factor", "level")
REQUIRED = ("period", "site", "score", "truth")


def _indicators(cases: pd.DataFrame, threshold: float, factors: Sequence[str]) -> pd.DataFrame:
    """One int8 column per count (plus the keys), the frame both paths group."""
    score = pd.to_numeric(cases["score"], errors="coerce").to_numpy(dtype=float)
    called = score >= threshold
    truth = pd.to_numeric(cases["truth"], errors="coerce").to_numpy(dtype=float)
    pos = truth == 1
    neg = truth == 0
    out = pd.DataFrame({
        "period": _key(cases["period"]),
        "site": _key(cases["site"]),
        "n": np.ones(len(cases), dtype=np.int8),
        "n_labelled": (pos | neg).astype(np.int8),
        "n_pos": pos.astype(np.int8),
        "n_neg": neg.astype(np.int8),
        "tp": (pos & called).astype(np.int8),
        "fn": (pos & ~called).astype(np.int8),
        "tn": (neg & ~called).astype(np.int8),
        "fp": (neg & called).astype(np.int8),
        "called_pos": called.astype(np.int8),
    })
    for f in factors:
        out[f"_f_{f}"] = _key(cases[f])
    return out


def _key(col: pd.Series) -> pd.Categorical:
    """A grouping key as a categorical of strings (missing stays missing)."""
    return text_categories(col).array


def text_categories(col: pd.Series) -> pd.Series:
    """``col`` as a categorical whose categories are its values' text, sorted (missing stays
    missing).

    Scopes, periods, levels and mixes compare values as text; on categories every comparison,
    grouping and count is done once per distinct value and then on integer codes, and sorting
    by the codes is sorting by the text.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes, uniques = col.cat.codes.to_numpy(), col.cat.categories
    else:
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
    text = np.array([str(u) for u in uniques], dtype=object)
    if len(set(text)) != len(text):  # distinct values with one text (1 and "1"): as text
        return text_categories(col.astype(str).where(col.notna()))
    order = np.argsort(text, kind="stable")
    rank = np.empty(len(order) + 1, dtype=np.intp)
    rank[order] = np.arange(len(order))
    rank[-1] = -1  # code -1 (missing) stays missing
    cats = pd.Index(text[order], dtype=object)
    return pd.Series(pd.Categorical.from_codes(rank[codes], categories=cats), index=col.index,
                     name=col.name)


def _check(cases: pd.DataFrame, threshold: float, factors: Sequence[str]) -> list[str]:
    if not isinstance(cases, pd.DataFrame):
        raise InputError(f"'cases' must be a pandas DataFrame; got {type(cases).__name__}.")
    missing = [c for c in REQUIRED if c not in cases.columns]
    if missing:
        raise InputError(f"'cases' must have the columns {', '.join(REQUIRED)}; missing "
                         f"{', '.join(missing)}.")
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise InputError(f"'threshold' must be a number; got {threshold!r}.") from None
    if not np.isfinite(t):
        raise InputError(f"'threshold' must be finite; got {threshold!r}.")
    fs = [str(f) for f in factors]
    bad = [f for f in fs if f not in cases.columns or f in KEYS]
    if bad:
        raise InputError(f"'factors' must name columns of 'cases' other than {', '.join(KEYS)}; "
                         f"got {', '.join(map(repr, bad))}.")
    if cases["period"].isna().any():
        i = int(np.flatnonzero(cases["period"].isna().to_numpy())[0])
        raise InputError(f"'cases' column 'period' must be set on every row; missing at row {i}.")
    return fs


def _grouped(ind: Any, factors: Sequence[str]) -> list[tuple[Any, str | None, bool]]:
    """The groupings: (summed frame, factor or None, grouped by site)."""
    cols = list(COUNTS)
    out: list[tuple[Any, str | None, bool]] = [
        (ind.groupby(["period"], observed=True)[cols].sum(), None, False),
        (ind.groupby(["period", "site"], observed=True)[cols].sum(), None, True),
    ]
    for f in factors:
        key = f"_f_{f}"
        out.append((ind.groupby(["period", key], observed=True)[cols].sum(), f, False))
        out.append((ind.groupby(["period", "site", key], observed=True)[cols].sum(), f, True))
    return out


def _tidy(parts: list[tuple[pd.DataFrame, str | None, bool]]) -> pd.DataFrame:
    keys: dict[str, list[str | None]] = {k: [] for k in KEYS}
    counts: dict[str, list[np.ndarray]] = {c: [] for c in COUNTS}

    def strings(values: Any, m: int) -> list[str | None]:
        if values is None:
            return [None] * m
        return [None if pd.isna(v) else str(v) for v in values]

    for summed, factor, by_site in parts:
        df = summed.reset_index()
        m = len(df)
        keys["period"] += strings(df["period"], m)
        keys["site"] += strings(df["site"] if by_site else None, m)
        keys["factor"] += [factor] * m
        keys["level"] += strings(df[f"_f_{factor}"] if factor else None, m)
        for c in COUNTS:
            counts[c].append(df[c].to_numpy(dtype=np.int64))
    out = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in keys.items()})
    for c in COUNTS:
        out[c] = np.concatenate(counts[c]) if counts[c] else np.zeros(0, dtype=np.int64)
    out = out.sort_values(list(KEYS), na_position="first", kind="mergesort")
    return out.reset_index(drop=True)


def aggregate_cases(cases: pd.DataFrame, *, threshold: float, factors: Sequence[str],
                    dask: str | None = None) -> pd.DataFrame:
    """Tidy counts per (period, site, factor, level).

    Parameters
    ----------
    cases : DataFrame
        Case rows with ``period`` (string label), ``site``, ``score``, ``truth`` (1, 0 or
        missing) and the ``factors`` columns.
    threshold : float
        A case is called positive when ``score >= threshold``.
    factors : sequence of str
        Columns whose levels get their own rows (e.g. ``manufacturer``, ``age_band``); rows
        with a missing level are left out of that factor's rows.
    dask : str, optional
        ``"local"`` for an in-process Dask LocalCluster, or a scheduler address
        (``tcp://host:8786``); None (default) computes with pandas.

    Returns
    -------
    DataFrame
        Columns ``period, site, factor, level`` and the counts ``n, n_labelled, n_pos, n_neg,
        tp, fn, tn, fp, called_pos`` (int64). Pooled rows have ``site``, ``factor`` and
        ``level`` None; site rows ``factor`` and ``level`` None; factor rows come pooled over
        sites (``site`` None) and per site. Sorted by the keys (None first), the same frame on
        both paths.
    """
    fs = _check(cases, threshold, factors)
    ind = _indicators(cases, float(threshold), fs)
    if dask is None:
        return _tidy(_grouped(ind, fs))
    return _tidy(_dask_grouped(ind, fs, str(dask)))


def _dask_grouped(ind: pd.DataFrame, factors: Sequence[str], address: str
                  ) -> list[tuple[pd.DataFrame, str | None, bool]]:
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    nparts = max(1, min(16, len(ind) // 250_000 + 1))
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = dd.from_pandas(ind, npartitions=nparts, sort=False)
        lazy = _grouped(ddf, factors)
        if address == "local":
            # the scheduler's HTTP server on a free port, not 8787, which another cluster on
            # the machine (a parallel test worker, say) may hold: distributed would warn
            with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                              dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                              ) as cluster, Client(cluster) as client:
                computed = client.compute([g for g, _, _ in lazy], sync=True)
        else:
            with Client(address) as client:
                computed = client.compute([g for g, _, _ in lazy], sync=True)
    return [(c, f, s) for c, (_, f, s) in zip(computed, lazy, strict=True)]
