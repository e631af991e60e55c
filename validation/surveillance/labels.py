"""Late labels: merged into the periods their cases belong to, each amendment audited.

A labels file (``data_specs/surveillance_labels.yaml``: ``case_id``, ``truth``, optionally
``labelled_at``) names cases already ingested. Unknown case ids are refused (every one listed
with its row; nothing is merged). A case whose truth changes (pending -> known, or a
correction) is an *amendment*: the file's rows are kept as Parquet in the store, and one
registry transaction records the file with the change of the per-period counts it causes and
one ``surveillance.label`` audit entry per amendment (case, batch, period, old and new
truth). The same file again changes nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from validation._atomic import canonical_json
from validation.data.specs import load_spec, read_table_bytes, validate_table
from validation.errors import DataError, InputError
from validation.provenance.hashing import sha256_bytes
from validation.provenance.registry import Registry, SurveillanceDataRecord, utc_now
from validation.surveillance.context import Context, open_context
from validation.surveillance.history import recorded_cases
from validation.surveillance.ingest import _rows, operator_name, write_alarms
from validation.surveillance.store import write_frame

LABELS_SPEC = "surveillance_labels"
COUNTS = ("n", "n_labelled", "n_pos", "n_neg", "tp", "fn", "tn", "fp", "called_pos")


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelsResult:
    """What one labels file did."""

    labels_sha256: str
    new: bool
    n_labels: int
    n_changed: int
    periods: tuple[str, ...]
    alarms: tuple[dict[str, Any], ...] = ()


def _delta(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in before.columns if c not in COUNTS]
    b = before.set_index(keys)[[c for c in COUNTS if c in before.columns]]
    a = after.set_index(keys)[[c for c in COUNTS if c in after.columns]]
    d = a.subtract(b, fill_value=0)
    d = d[(d != 0).any(axis=1)]
    return d.reset_index()


def merge_labels(plan_path: str | os.PathLike[str], labels_path: str | os.PathLike[str], *,
                 registry: Registry | str | None = None) -> LabelsResult:
    """Merge a file of late labels into the cases already ingested.

    Raises
    ------
    DataError
        The file breaks its spec, or names cases that were never ingested (every row listed).
    """
    with open_context(plan_path, registry=registry) as ctx:
        return _merge(ctx, labels_path)


def _merge(ctx: Context, labels_path: str | os.PathLike[str]) -> LabelsResult:
    from validation.surveillance.aggregate import aggregate_cases
    from validation.surveillance.rules import evaluate

    lp = Path(labels_path)
    if not lp.is_file():
        raise InputError(f"'labels' must be a file; got {os.fspath(labels_path)!r}.")
    data = lp.read_bytes()
    sha = sha256_bytes(data)
    raw = read_table_bytes(data, name=lp.name, what="surveillance labels")
    lab = validate_table(raw, load_spec(LABELS_SPEC), source=lp.name)
    lab = pd.DataFrame({"case_id": lab["case_id"].astype("string"),
                        "truth": lab["truth"].astype("Int8")})
    cases = recorded_cases(ctx)
    ids = cases["case_id"].astype(str)
    unknown = ~lab["case_id"].astype(str).isin(ids)
    if unknown.any():
        idx = [int(i) for i in lab.index[unknown]]
        raise DataError(
            f"{lp.name}: labels for cases that were never ingested under plan {ctx.plan_id}:",
            problems=[f"rows {_rows(idx)}, column case_id: unknown case ids (first: "
                      f"{lab['case_id'].iloc[idx[0]]!r}); ingest their batch first."])
    current = cases.set_index(cases["case_id"].astype(str))
    old = current.loc[lab["case_id"].astype(str)]
    changed = (old["truth"].astype("Int8").to_numpy() != lab["truth"].to_numpy()) | \
        old["truth"].isna().to_numpy()
    lab["batch_id"] = old["batch_id"].to_numpy()
    lab["period"] = old["period"].to_numpy()
    lab["old_truth"] = old["truth"].astype("Int8").to_numpy()
    amend = lab[changed]
    periods = tuple(sorted(set(amend["period"].astype(str))))
    factors = [f for f in ctx.plan.factors if f != "site"]
    affected = current.loc[amend["case_id"].astype(str)].reset_index(drop=True)
    after = affected.copy()
    after["truth"] = amend["truth"].to_numpy()
    if len(affected):
        delta = _delta(aggregate_cases(affected, threshold=ctx.threshold, factors=factors),
                       aggregate_cases(after, threshold=ctx.threshold, factors=factors))
        agg = canonical_json(json.loads(delta.to_json(orient="records")))
    else:
        agg = canonical_json([])
    parquet_sha = write_frame(ctx.store, ctx.plan_id, "labels", lab)
    events = tuple(
        ("surveillance.label", f"{ctx.plan_id}/{r.batch_id}/{r.case_id}",
         {"plan_id": ctx.plan_id, "labels_sha256": sha, "case_id": str(r.case_id),
          "batch_id": str(r.batch_id), "period": str(r.period),
          "old_truth": None if pd.isna(r.old_truth) else int(r.old_truth),
          "new_truth": int(r.truth)})
        for r in amend.itertuples(index=False))
    record = SurveillanceDataRecord(
        plan_id=ctx.plan_id, plan_sha256=ctx.plan_sha256, kind="labels", source_id=lp.name,
        source_sha256=sha, parquet_sha256=parquet_sha, n_rows=len(lab),
        periods=canonical_json(list(periods)), aggregates=agg, operator=operator_name(),
        received_utc=utc_now())
    stored, new = ctx.registry.record_surveillance_data(
        data=record, operator=record.operator, events=events if events else ())
    if not new:
        periods = tuple(json.loads(stored["periods"]))
    evaluation = evaluate(ctx, recorded_cases(ctx))
    for p in periods:
        write_alarms(ctx, p, [a for a in evaluation.alarms if a["period"] == p])
    return LabelsResult(labels_sha256=sha, new=new, n_labels=len(lab),
                        n_changed=int(len(amend)) if new else 0, periods=periods,
                        alarms=tuple(a for a in evaluation.alarms if a["period"] in periods))
