"""The recorded history of a plan: every ingested case with its current truth.

Read from the case-level Parquet store in registry order, with the late labels applied in the
order they were merged; used by the rules, the labels merge and the status.
"""

from __future__ import annotations

import pandas as pd
from pandas.api.types import union_categoricals

from validation.surveillance.context import BASE_COLUMNS, Context
from validation.surveillance.store import read_frame


def recorded_cases(ctx: Context) -> pd.DataFrame:
    """Every ingested case with its current truth (labels applied in order) and ``_order``."""
    records = ctx.registry.surveillance_data(ctx.plan_id)
    frames = []
    for rec in records:
        if rec["kind"] == "cases":
            f = read_frame(ctx.store, ctx.plan_id, "cases", rec["parquet_sha256"])
            f["_batch_seq"] = rec["audit_seq"]
            frames.append(f)
    if not frames:
        return pd.DataFrame(columns=[*BASE_COLUMNS, "period", "row", "_batch_seq"])
    cases = pd.concat(frames, ignore_index=True)
    for c in frames[0].columns:  # concat keeps a categorical only when categories agree
        if all(isinstance(f[c].dtype, pd.CategoricalDtype) for f in frames) and \
                not isinstance(cases[c].dtype, pd.CategoricalDtype):
            cases[c] = union_categoricals([f[c] for f in frames], sort_categories=True)
    for rec in records:
        if rec["kind"] == "labels":
            lab = read_frame(ctx.store, ctx.plan_id, "labels", rec["parquet_sha256"])
            new = dict(zip(lab["case_id"].astype(str), lab["truth"], strict=True))
            hit = cases["case_id"].astype(str).map(new)
            mask = hit.notna()
            cases.loc[mask, "truth"] = hit[mask].astype("Int8")
    cases["truth"] = cases["truth"].astype("Int8")
    cases = cases.sort_values(["acquired_at", "_batch_seq", "row"], kind="stable")
    return cases.reset_index(drop=True)
