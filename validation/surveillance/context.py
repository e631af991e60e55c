"""Everything an ingest, a labels merge or a status needs: the checked plan, its lock, the
monitored protocol's lock, the baseline run and the registry with its store folder.

The plan's lock must match the YAML bytes; the monitored protocol's lock must carry the
``protocol_sha256`` the plan names; the baseline ``results.json`` must hash to
``results_sha256``. Any mismatch is a :class:`~validation.errors.LockError` (exit 2).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation.errors import InputError, LockError
from validation.protocol.lock import ProtocolLock, read_lock
from validation.provenance.hashing import sha256_file
from validation.provenance.registry import Registry, open_registry
from validation.surveillance.plan import SurveillancePlan, load_plan, verify_plan_lock
from validation.surveillance.store import store_root

BASE_COLUMNS = ("batch_id", "case_id", "site", "acquired_at", "score", "model_sha256", "truth",
                "manufacturer", "scanner_model", "age", "sex")
"""Columns kept from a batch (``age_band`` and ``period`` are added)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    """The pivotal run as the in-control reference."""

    rates: dict[str, float]
    """Pooled sensitivity, specificity, ppv, positive_call_rate, auc of results.json."""
    scores: np.ndarray
    """Scores of the pivotal run (drift reference)."""
    truth: np.ndarray | None
    """Truth of the same cases (for the calibrator), when the manifest is available."""
    mix: dict[str, dict[str, int]]
    """Case counts per factor level in the pivotal test set."""


@dataclass(kw_only=True)
class Context:
    """A checked plan with its lock, baseline and registry."""

    plan_path: Path
    plan: SurveillancePlan
    plan_lock: ProtocolLock
    protocol_path: Path
    protocol_lock: ProtocolLock
    results_path: Path
    registry: Registry
    store: Path
    owns_registry: bool = False
    _cache: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Close the registry connection if this context opened it."""
        if self.owns_registry:
            self.registry.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def plan_id(self) -> str:
        return self.plan.plan.id

    @property
    def plan_sha256(self) -> str:
        return self.plan_lock.protocol_sha256

    @property
    def model_sha256(self) -> str:
        return str(self.protocol_lock.protocol["model"]["sha256"])

    @property
    def threshold(self) -> float:
        return float(self.protocol_lock.protocol["model"]["operating_point"])

    @cached_property
    def baseline(self) -> Baseline:
        return load_baseline(self)


def open_context(plan_path: str | os.PathLike[str], *, registry: Registry | str | None = None,
                 create: bool = True) -> Context:
    """Load and check the plan (and what it names); open the registry."""
    p = Path(plan_path)
    plan = load_plan(p)
    lock = verify_plan_lock(p)
    base = p.parent
    protocol_path = base / plan.monitors.protocol
    proto_lock = read_lock(protocol_path)
    if proto_lock.protocol_sha256 != plan.monitors.protocol_sha256:
        raise LockError(
            f"the plan {p} monitors protocol sha256 {plan.monitors.protocol_sha256}, but the lock "
            f"of {protocol_path} is for {proto_lock.protocol_sha256}. The plan must name the "
            "locked pivotal protocol; amend and relock the plan if the protocol was amended.")
    if protocol_path.is_file():
        import hashlib

        if hashlib.sha256(protocol_path.read_bytes()).hexdigest() != proto_lock.yaml_sha256:
            raise LockError(f"the monitored protocol {protocol_path} changed after it was locked "
                            f"(its lock records yaml sha256 {proto_lock.yaml_sha256}).")
    results_path = base / plan.monitors.results
    got = sha256_file(results_path)
    if got != plan.monitors.results_sha256:
        raise LockError(
            f"the baseline {results_path} hashes to {got}, but the plan names results sha256 "
            f"{plan.monitors.results_sha256}. The baseline must be the pivotal run's unchanged "
            "results.json.")
    reg = open_registry(registry, create=create)
    return Context(plan_path=p, plan=plan, plan_lock=lock, protocol_path=protocol_path,
                   protocol_lock=proto_lock, results_path=results_path, registry=reg,
                   store=store_root(reg.url), owns_registry=reg is not registry)


def _rate(num: float, den: float) -> float | None:
    return float(num) / float(den) if den > 0 else None


def load_baseline(ctx: Context) -> Baseline:
    """Rates from results.json; scores (and truth, mix) from the pivotal run's files."""
    results = json.loads(ctx.results_path.read_text(encoding="utf-8"))
    rates: dict[str, float] = {}
    pooled = (results.get("confusion") or {}).get("pooled") or {}
    tp, fn, tn, fp = (float(pooled.get(k, 0)) for k in ("tp", "fn", "tn", "fp"))
    for name, value in (("sensitivity", _rate(tp, tp + fn)), ("specificity", _rate(tn, tn + fp)),
                        ("ppv", _rate(tp, tp + fp)),
                        ("positive_call_rate", _rate(tp + fp, tp + fp + tn + fn))):
        if value is not None:
            rates[name] = value
    for ep in (results.get("endpoints") or {}).values():
        if isinstance(ep, dict) and ep.get("kind") in rates.keys() | {"auc"}:
            est = (ep.get("pooled") or {}).get("estimate")
            if isinstance(est, (int, float)):
                rates[str(ep["kind"])] = float(est)
    run_dir = ctx.results_path.parent
    pred_file = run_dir / "predictions.parquet"
    if not pred_file.is_file():
        raise InputError(f"the baseline run folder {run_dir} must hold predictions.parquet (the "
                         "pivotal run's scores, the drift reference); it does not.")
    preds = pd.read_parquet(pred_file)
    score_col = str(ctx.protocol_lock.protocol["model"].get("score_column") or "score")
    if score_col not in preds.columns:
        score_col = "score"
    preds = preds[["case_id", score_col]].rename(columns={score_col: "score"})
    truth = None
    mix: dict[str, dict[str, int]] = {}
    manifest_name = (ctx.protocol_lock.protocol.get("test_set") or {}).get("manifest")
    manifest_file = ctx.protocol_path.parent / str(manifest_name) if manifest_name else None
    if manifest_file is not None and manifest_file.is_file():
        from validation.data.specs import read_table

        man = read_table(manifest_file, what="test-set manifest")
        man["case_id"] = man["case_id"].astype(str)
        if "truth" in man.columns:
            joined = preds.merge(man[["case_id", "truth"]], on="case_id", how="inner")
            t = pd.to_numeric(joined["truth"], errors="coerce")
            ok = t.isin([0, 1]).to_numpy()
            preds = joined.loc[ok, ["case_id", "score"]]
            truth = t[ok].to_numpy(dtype=np.int8)
        frame = add_derived(man, ctx.plan)
        for factor in ctx.plan.factors:
            if factor in frame.columns:
                counts = frame[factor].dropna().astype(str).value_counts()
                mix[factor] = {str(k): int(v) for k, v in sorted(counts.items())}
    scores = pd.to_numeric(preds["score"], errors="coerce").to_numpy(dtype=float)
    finite = np.isfinite(scores)  # cases without a score (non-diagnostic) carry no signal
    return Baseline(rates=rates, scores=scores[finite],
                    truth=None if truth is None else truth[finite], mix=mix)


def add_derived(df: pd.DataFrame, plan: SurveillancePlan) -> pd.DataFrame:
    """Add ``age_band`` (from the plan's bands) where the plan watches it."""
    out = df.copy()
    if plan.age_bands is not None and "age" in out.columns:
        age = pd.to_numeric(out["age"], errors="coerce")
        bins = plan.age_bands.bins
        labels = plan.age_bands.band_labels()
        band = pd.cut(age, bins=bins, labels=labels, right=False, include_lowest=True)
        last = age == bins[-1]
        band = band.astype("string")
        band[last] = labels[-1]
        out["age_band"] = band
    return out
