"""Ingesting one surveillance batch: check, append exactly once, evaluate the rules.

:func:`ingest_batch`

1. checks the plan (its lock must match), the monitored protocol's lock and the baseline;
2. reads the batch (CSV, TSV or Parquet) and checks it against
   ``data_specs/surveillance_batch.yaml``, then against the plan: one batch id per file,
   every site expected, every acquisition date inside the monitored period and not in the
   future. Every problem is collected with its row and column and raised together
   (:class:`~validation.errors.DataError`, exit 2); nothing is written;
3. refuses a batch scored by a model whose sha256 is not the locked one, and records a
   critical alarm of its own in the registry (once per batch file);
4. writes the checked rows as Parquet into the store (named by their hash) and, in ONE
   registry transaction under a per-plan lock, checks that no case id is already in another
   batch and records the batch with its aggregates. A kill before the commit leaves the
   batch out (an unrecorded Parquet file is ignored and reused); after it, wholly in. The
   same bytes again are recognised by their hash and change nothing; another file under a
   used batch id is refused;
5. recomputes every period it touched (pooled, per site, per subgroup), evaluates every
   rule over the whole history and writes each touched period's ``alarms.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation._atomic import canonical_json, write_text_atomic
from validation.data.specs import load_spec, read_table_bytes, validate_table
from validation.errors import DataError, InputError
from validation.provenance.hashing import sha256_bytes
from validation.provenance.registry import Registry, SurveillanceDataRecord, utc_now
from validation.surveillance.aggregate import text_categories
from validation.surveillance.context import BASE_COLUMNS, Context, add_derived, open_context
from validation.surveillance.history import recorded_cases  # noqa: F401  (used by callers)
from validation.surveillance.plan import period_labels
from validation.surveillance.store import read_frame, write_frame

BATCH_SPEC = "surveillance_batch"
BATCH_SUFFIXES = (".csv", ".tsv", ".tab", ".parquet", ".pq")
MAX_LISTED = 50
CATEGORY_COLUMNS = ("batch_id", "site", "acquired_at", "model_sha256", "manufacturer",
                    "scanner_model", "sex", "period", "age_band")
"""Columns with few distinct values, kept as categoricals of text (sorted categories)."""


class ModelMismatchError(InputError):
    """A batch scored by another model than the locked one (refused; an alarm is recorded)."""

    def __init__(self, message: str, alarm: dict[str, Any]) -> None:
        super().__init__(message)
        self.alarm = alarm


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestResult:
    """What one ingest did."""

    batch_id: str
    new: bool
    periods: tuple[str, ...]
    alarms: list[dict[str, Any]] = field(default_factory=list)
    alarms_path: Path | None = None
    n_cases: int = 0
    batch_sha256: str = ""


def operator_name() -> str:
    """Who ingests: ``$VALIDATION_OPERATOR``, else the login name."""
    name = os.environ.get("VALIDATION_OPERATOR")
    if name:
        return name
    try:
        return os.getlogin()
    except OSError:
        import getpass

        return getpass.getuser() or "unknown"


def _rows(idx: list[int], limit: int = MAX_LISTED) -> str:
    shown = ", ".join(str(i + 1) for i in idx[:limit])
    return shown + (f" and {len(idx) - limit} more" if len(idx) > limit else "")


def read_batch(ctx: Context, data: bytes, name: str) -> pd.DataFrame:
    """Parse and check a batch's bytes; return its typed rows with ``period``, ``age_band``.

    Raises :class:`DataError` listing every violation (row numbered from 1, column named).
    """
    raw = read_table_bytes(data, name=name, what="surveillance batch")
    df = validate_table(raw, load_spec(BATCH_SPEC), source=name, categorical=CATEGORY_COLUMNS)
    problems: list[str] = []
    ids = [str(i) for i in df["batch_id"].dropna().unique()]
    if len(ids) != 1:
        problems.append(f"column batch_id: a batch file holds one batch; got {len(ids)} batch "
                        f"ids ({', '.join(map(repr, ids[:10]))}).")
    expected = set(ctx.plan.sites)
    site = df["site"]
    for s in sorted({str(v) for v in site.dropna().unique()} - expected):
        idx = [int(i) for i in df.index[site == s]]
        problems.append(f"rows {_rows(idx)}, column site: site {s!r} is not one the plan "
                        f"expects ({', '.join(ctx.plan.sites)}); amend the plan to add a site.")
    stamps = pd.to_datetime(df["acquired_at"])
    days = stamps.dt.normalize()  # compared as datetimes: no Python date per row

    def first(idx: list[int]) -> date:
        return days.iloc[idx[0]].date()

    start, end = ctx.plan.start, ctx.plan.end
    today = datetime.now(UTC).date()
    before = [int(i) for i in df.index[days < pd.Timestamp(start)]]
    if before:
        problems.append(f"rows {_rows(before)}, column acquired_at: dates before the plan's "
                        f"start {start.isoformat()} (first: {first(before)}).")
    if end is not None:
        after = [int(i) for i in df.index[days > pd.Timestamp(end)]]
        if after:
            problems.append(f"rows {_rows(after)}, column acquired_at: dates after the plan's "
                            f"end {end.isoformat()} (first: {first(after)}).")
    future = [int(i) for i in df.index[days > pd.Timestamp(today)]]
    if future:
        problems.append(f"rows {_rows(future)}, column acquired_at: dates in the future "
                        f"(after {today.isoformat()}, first: {first(future)}).")
    if problems:
        raise DataError(f"{name} breaks surveillance plan {ctx.plan_id} ({len(problems)} "
                        f"problem{'s' if len(problems) != 1 else ''}):", problems=problems)
    out = pd.DataFrame({c: df[c] if c in df.columns else pd.Series([None] * len(df), dtype=object)
                        for c in BASE_COLUMNS})
    for c in ("batch_id", "case_id", "site", "model_sha256", "manufacturer", "scanner_model",
              "sex"):
        if not isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype("string")
    codes, uniq = pd.factorize(days, use_na_sentinel=True)  # format each distinct day once
    iso = pd.Series(uniq).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    out["acquired_at"] = pd.Series(pd.array(np.append(iso, pd.NA)[codes], dtype="string"),
                                   index=out.index)
    out["truth"] = pd.to_numeric(out["truth"], errors="coerce").astype("Int8")
    out["age"] = pd.to_numeric(out["age"], errors="coerce").astype("float64")
    out["score"] = out["score"].astype("float64")
    out["period"] = period_labels(stamps, ctx.plan.period)
    out["row"] = range(1, len(out) + 1)
    out = add_derived(out, ctx.plan)
    for c in CATEGORY_COLUMNS:  # few distinct values: stored and compared as categories
        if c in out.columns:
            out[c] = text_categories(out[c])
    return out


def _mismatch(ctx: Context, df: pd.DataFrame, name: str, sha: str) -> None:
    """Refuse a batch scored by another model; record (once) and raise its critical alarm."""
    wrong = ~(df["model_sha256"] == ctx.model_sha256).to_numpy(dtype=bool)
    if not wrong.any():
        return
    idx = [int(i) for i in df.index[wrong]]
    models = sorted(set(df.loc[wrong, "model_sha256"].astype(str)))
    periods = sorted(set(df.loc[wrong, "period"].astype(str)))
    batch_id = str(df["batch_id"].iloc[0])
    decided = _decided_versions(ctx, models)
    rejected = [v for v in decided if v["decision"] == "rejected"]
    alarm = {
        "period": periods[0], "site": None, "subgroup": None, "metric": "model_sha256",
        "rule": "rejected-version" if rejected else "locked-model",
        "severity": ctx.plan.model_mismatch_severity,
        "figures": {"batch_id": batch_id, "batch_sha256": sha, "n_cases": len(idx),
                    "expected_model_sha256": ctx.model_sha256, "found_model_sha256": models,
                    "sites": sorted(set(df.loc[wrong, "site"].astype(str))),
                    "periods": periods, "change_control": decided},
        "first_detected": periods[0],
    }
    subject = f"{ctx.plan_id}/{batch_id}"
    seen = [e for e in ctx.registry.entries_for("surveillance.alarm", subject)
            if e.payload.get("figures", {}).get("batch_sha256") == sha]
    if not seen:
        ctx.registry.log(actor=operator_name(), action="surveillance.alarm", subject=subject,
                         payload=alarm)
    for p in periods:
        _merge_alarm_file(ctx, p, [alarm])
    lineage = "".join(
        f" Model {v['model_sha256'][:12]} is version {v['version']}, {v['decision'].upper()} "
        f"under change-control plan {v['plan_id']} on {v['decided_utc'][:10]}"
        + (": a rejected version must not be deployed." if v["decision"] == "rejected" else
           ": amend the surveillance plan's model to monitor it.")
        for v in decided)
    raise ModelMismatchError(
        f"{name}: refused: rows {_rows(idx)}, column model_sha256: scored by model "
        f"{', '.join(models)}, not the locked model {ctx.model_sha256}.{lineage} A "
        f"{ctx.plan.model_mismatch_severity} alarm was recorded for batch {batch_id!r}.", alarm)


def _decided_versions(ctx: Context, models: list[str]) -> list[dict[str, str]]:
    """The change-control decisions recorded in the registry for these model hashes: a
    version rejected against its modification protocol is named as such in the alarm."""
    from sqlalchemy import select

    from validation.provenance.registry_tables import ModelVersionRecord

    def work(session: Any) -> list[dict[str, str]]:
        rows = session.execute(select(ModelVersionRecord)
                               .where(ModelVersionRecord.model_sha256.in_(models))
                               .order_by(ModelVersionRecord.audit_seq)).scalars()
        return [{"plan_id": r.plan_id, "version": r.version, "model_sha256": r.model_sha256,
                 "decision": r.decision, "decided_by": r.decided_by,
                 "decided_utc": r.decided_utc} for r in rows]

    return list(ctx.registry.read(work))


def alarms_file(ctx: Context, period: str) -> Path:
    return ctx.store / ctx.plan_id / "periods" / period / "alarms.json"


def _merge_alarm_file(ctx: Context, period: str, extra: list[dict[str, Any]]) -> Path:
    path = alarms_file(ctx, period)
    current: list[dict[str, Any]] = []
    if path.is_file():
        current = json.loads(path.read_text(encoding="utf-8")).get("alarms", [])
    keyed = {canonical_json(a): a for a in [*current, *extra]}
    return write_alarms(ctx, period, list(keyed.values()))


def write_alarms(ctx: Context, period: str, alarms: list[dict[str, Any]]) -> Path:
    """Write ``periods/<period>/alarms.json`` (sorted, canonical)."""
    ordered = sorted(alarms, key=lambda a: (a["rule"], str(a["site"]), canonical_json(
        a["subgroup"]), a["metric"]))
    return write_text_atomic(alarms_file(ctx, period), canonical_json(
        {"plan_id": ctx.plan_id, "plan_sha256": ctx.plan_sha256, "period": period,
         "alarms": ordered}))


def aggregates_json(ctx: Context, cases: pd.DataFrame, dask: str | None = None) -> str:
    """The tidy per-period counts (pooled, per site, per factor level) as canonical JSON."""
    from validation.surveillance.aggregate import aggregate_cases

    factors = [f for f in ctx.plan.factors if f != "site"]
    agg = aggregate_cases(cases, threshold=ctx.threshold, factors=factors, dask=dask)
    records = json.loads(agg.to_json(orient="records"))
    return canonical_json(records)


def _check_case_ids(ctx: Context, df: pd.DataFrame, earlier: list[dict[str, Any]],
                    name: str) -> None:
    ids = pd.Index(df["case_id"].astype(str))
    problems: list[str] = []
    for rec in earlier:
        if rec["kind"] != "cases":
            continue
        other = read_frame(ctx.store, ctx.plan_id, "cases", rec["parquet_sha256"])
        taken = ids.isin(other["case_id"].astype(str))
        if taken.any():
            idx = [int(i) for i in df.index[taken]]
            problems.append(f"rows {_rows(idx)}, column case_id: case ids already in batch "
                            f"{rec['source_id']!r} (first: {ids[idx[0]]!r}).")
    if problems:
        raise DataError(f"{name}: case ids must be unique across batches of plan "
                        f"{ctx.plan_id}:", problems=problems)


def ingest_batch(plan_path: str | os.PathLike[str], batch_path: str | os.PathLike[str], *,
                 registry: Registry | str | None = None, dask: str | None = None,
                 _ctx: Context | None = None) -> IngestResult:
    """Check the batch, append it once, recompute its periods and evaluate every rule.

    Parameters
    ----------
    plan_path : the locked surveillance plan YAML.
    batch_path : a CSV, TSV or Parquet file following ``data_specs/surveillance_batch.yaml``.
    registry : a :class:`Registry` or URL (default: ``$VALIDATION_REGISTRY`` or the home one).
    dask : scheduler address (or ``"local"``) to aggregate on Dask.

    Returns
    -------
    IngestResult
        ``new`` is False when the same bytes were already in (nothing changed).

    Raises
    ------
    DataError, InputError, LockError
        Bad input (exit 2); nothing was ingested.
    """
    if _ctx is None:
        with open_context(plan_path, registry=registry) as ctx:
            return _ingest(ctx, batch_path, dask)
    return _ingest(_ctx, batch_path, dask)


def _ingest(ctx: Context, batch_path: str | os.PathLike[str], dask: str | None) -> IngestResult:
    bp = Path(batch_path)
    if not bp.is_file():
        raise InputError(f"'batch' must be a file; got {os.fspath(batch_path)!r} which "
                         f"{'is a folder' if bp.is_dir() else 'does not exist'}.")
    data = bp.read_bytes()
    sha = sha256_bytes(data)
    df = read_batch(ctx, data, bp.name)
    batch_id = str(df["batch_id"].iloc[0])
    _mismatch(ctx, df, bp.name, sha)
    periods = tuple(sorted(str(p) for p in df["period"].dropna().unique()))
    parquet_sha = write_frame(ctx.store, ctx.plan_id, "cases", df)
    record = SurveillanceDataRecord(
        plan_id=ctx.plan_id, plan_sha256=ctx.plan_sha256, kind="cases", source_id=batch_id,
        source_sha256=sha, parquet_sha256=parquet_sha, n_rows=len(df),
        periods=canonical_json(list(periods)), aggregates=aggregates_json(ctx, df, dask),
        operator=operator_name(), received_utc=utc_now())
    stored, new = ctx.registry.record_surveillance_data(
        data=record, operator=record.operator, batch_id=batch_id,
        check=lambda _s, earlier: _check_case_ids(ctx, df, earlier, bp.name))
    from validation.surveillance.rules import evaluate_plan

    evaluation = evaluate_plan(ctx)
    alarms = [a for a in evaluation.alarms if a["period"] in periods]
    path = None
    for p in periods:
        path = write_alarms(ctx, p, [a for a in evaluation.alarms if a["period"] == p])
    return IngestResult(batch_id=batch_id, new=new, periods=periods, alarms=alarms,
                        alarms_path=path, n_cases=int(stored["n_rows"]), batch_sha256=sha)


def ingest_inbox(plan_path: str | os.PathLike[str], inbox: str | os.PathLike[str], *,
                 registry: Registry | str | None = None, dask: str | None = None
                 ) -> list[IngestResult]:
    """Ingest every batch file of ``inbox`` not yet in, in name order.

    Files whose bytes are already recorded are skipped without being parsed. The first bad
    file stops the run (its error is raised; the files before it stay in).
    """
    folder = Path(inbox)
    if not folder.is_dir():
        raise InputError(f"'inbox' must be a folder; got {os.fspath(inbox)!r}.")
    with open_context(plan_path, registry=registry) as ctx:
        known = {r["source_sha256"] for r in ctx.registry.surveillance_data(ctx.plan_id)
                 if r["kind"] == "cases"}
        out = []
        for f in sorted(p for p in folder.iterdir()
                        if p.is_file() and p.suffix.lower() in BATCH_SUFFIXES
                        and not p.name.startswith(".")):
            if sha256_bytes(f.read_bytes()) in known:
                continue
            out.append(ingest_batch(plan_path, f, dask=dask, _ctx=ctx))
        return out


def _today() -> date:
    return datetime.now(UTC).date()
