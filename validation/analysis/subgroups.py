"""Subgroup levels: the values of a manifest column, or bands of a numeric column.

Level keys are strings, as written in the manifest (``results.json`` keys). A numeric column
with ``bins`` ``[b0, b1, ..., bk]`` is cut into the half-open bands ``[b0, b1)``, ...,
``[b(k-1), bk]`` (the last band includes its upper edge), labelled ``"b0-<b1"`` ... ``"b(k-1)-bk"``
unless ``labels`` are given. Empty cells, and values outside the bins, form the level
``"missing"`` and ``"outside bins"``: counted and reported, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from validation.errors import InputError

MISSING = "missing"
OUTSIDE = "outside bins"


def _num(x: float) -> str:
    return f"{x:g}"


def band_labels(bins: Sequence[float]) -> list[str]:
    """Default labels of the bands cut by ``bins``."""
    edges = [float(b) for b in bins]
    labels = [f"{_num(lo)}-<{_num(hi)}" for lo, hi in zip(edges[:-2], edges[1:-1], strict=True)]
    labels.append(f"{_num(edges[-2])}-{_num(edges[-1])}")
    return labels


def subgroup_levels(
    column: pd.Series,
    *,
    bins: Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
    name: str = "subgroup",
) -> pd.Series:
    """The level (a string) of every row for one subgroup definition.

    Parameters
    ----------
    column : the manifest column.
    bins : increasing band edges for a numeric column (at least two).
    labels : one label per band (``len(bins) - 1``); default :func:`band_labels`.
    name : subgroup id, for messages.

    Raises
    ------
    InputError
        If the bins are not increasing, the labels do not match, or the column is not numeric
        when bins are given.
    """
    if bins is None:
        codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=True)
        if not len(uniques) or pd.api.types.infer_dtype(uniques, skipna=False) == "string":
            # every distinct value a str: each stripped once
            names = np.array([u.strip() or MISSING for u in uniques] + [MISSING], dtype=object)
            return pd.Series(names[codes], index=column.index, dtype=object)
        text = column.astype("string").str.strip()
        return text.fillna(MISSING).replace("", MISSING).astype(object)
    edges = np.asarray([float(b) for b in bins], dtype=np.float64)
    if edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise InputError(
            f"'{name}.bins' must be at least two strictly increasing numbers; got {list(bins)!r}."
        )
    labs = list(labels) if labels is not None else band_labels(edges.tolist())
    if len(labs) != edges.size - 1:
        raise InputError(
            f"'{name}.labels' must have one label per band ({edges.size - 1}); got {len(labs)}."
        )
    values = pd.to_numeric(column, errors="coerce")
    if column.notna().any() and values.notna().sum() < column.notna().sum():
        raise InputError(
            f"subgroup {name!r} has bins, so its column must be numeric; got non-numeric values "
            f"such as {column[column.notna() & values.isna()].iloc[0]!r}."
        )
    v = values.to_numpy(dtype=np.float64, na_value=np.nan)
    idx = np.searchsorted(edges, v, side="right") - 1
    idx = np.where(v == edges[-1], edges.size - 2, idx)
    k = edges.size - 1  # bands 0..k-1, then "outside bins" (k) and "missing" (k + 1)
    which = np.where(np.isnan(v), k + 1, np.where((idx < 0) | (idx >= k), k, idx))
    names = np.array([str(x) for x in labs] + [OUTSIDE, MISSING], dtype=object)
    return pd.Series(names[which], index=column.index, dtype=object)
