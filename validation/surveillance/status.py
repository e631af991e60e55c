"""The surveillance status: plan, registry anchor, periods, metrics, charts, drift, alarms.

:func:`surveillance_status` returns plain JSON data (``status.json``; the report renders it
and computes nothing). Observed figures come from the labelled cases (Wilson 95% intervals);
estimated figures from every case of the cell, labelled or not, through the calibrator
fitted on the pivotal run's scores and truth (confidence-based performance estimation), and
are always labelled *estimated*.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import make_url

from validation import stats as vs
from validation.provenance.registry import Registry
from validation.surveillance.context import Context, open_context
from validation.surveillance.history import recorded_cases
from validation.surveillance.rules import evaluate, scopes

STATUS_SCHEMA_VERSION = "1.0"
PROPORTIONS = {
    "sensitivity": ("tp", ("tp", "fn")),
    "specificity": ("tn", ("tn", "fp")),
    "ppv": ("tp", ("tp", "fp")),
    "positive_call_rate": ("called_pos", ("n",)),
}


def _observed(row: pd.Series, metric: str) -> dict[str, Any] | None:
    num, den = PROPORTIONS[metric]
    trials = int(sum(int(row[c]) for c in den))
    if trials == 0:
        return None
    successes = int(row[num])
    r = vs.proportion_ci(successes, trials)
    return {"estimate": float(r.estimate), "ci": [float(r.ci[0]), float(r.ci[1])],
            "successes": successes, "trials": trials}


def _calibrator(ctx: Context) -> Any:
    bl = ctx.baseline
    if bl.truth is None or len(np.unique(bl.truth)) < 2:
        return None
    return vs.fit_calibrator(bl.scores, bl.truth)


def _estimated(cal: Any, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    if cal is None or len(scores) == 0:
        return {}
    prob = np.asarray(cal.predict(scores), dtype=float)
    # a monotone calibrator maps "score >= threshold" to "probability >= cal(threshold)"
    cut = float(np.asarray(cal.predict(np.array([threshold], dtype=float)))[0])
    res = vs.estimated_performance(prob, threshold=cut)
    out: dict[str, Any] = {}
    for metric in ("sensitivity", "specificity", "ppv"):
        r = getattr(res, metric, None)
        if r is not None and r.estimate is not None and np.isfinite(r.estimate):
            out[metric] = {"estimate": float(r.estimate),
                           "band": [float(r.band[0]), float(r.band[1])]}
    auc = getattr(res, "auc", None)
    if auc is not None and getattr(auc, "estimate", None) is not None:
        out["auc"] = {"estimate": float(auc.estimate),
                      "band": [float(auc.band[0]), float(auc.band[1])]}
    return out


def _metrics(ctx: Context, cases: pd.DataFrame, periods: list[str]) -> list[dict[str, Any]]:
    from validation.surveillance.aggregate import aggregate_cases

    factors = [f for f in ctx.plan.factors if f != "site"]
    agg = aggregate_cases(cases, threshold=ctx.threshold, factors=factors)
    cal = _calibrator(ctx)
    out: list[dict[str, Any]] = []
    for site, subgroup, cell in scopes(ctx, cases, ["pooled", "site", "subgroup"]):
        for p in periods:
            sel = agg["period"] == p
            if site is None:
                sel &= agg["site"].isna()
            else:
                sel &= agg["site"] == site
            if subgroup is None:
                sel &= agg["factor"].isna()
            else:
                sel &= (agg["factor"] == subgroup["factor"]) & (agg["level"] == subgroup["level"])
            rows = agg[sel]
            cur = cell[cell["period"] == p]
            if rows.empty and cur.empty:
                continue
            # the score column is the deployed model's probability scale: calibrate it
            est = _estimated(cal, cur["score"].to_numpy(dtype=float), ctx.threshold)
            for metric in ("sensitivity", "specificity", "ppv", "positive_call_rate", "auc"):
                observed = None
                if metric in PROPORTIONS and not rows.empty:
                    observed = _observed(rows.iloc[0], metric)
                elif metric == "auc" and subgroup is None:
                    lab = cur[cur["truth"].notna()]
                    t = lab["truth"].to_numpy(dtype=int)
                    if t.sum() >= 2 and (1 - t).sum() >= 2:
                        r = vs.auc_ci(t, lab["score"].to_numpy(dtype=float))
                        observed = {"estimate": float(r.estimate),
                                    "ci": [float(r.ci[0]), float(r.ci[1])],
                                    "successes": None, "trials": int(len(t))}
                estimated = est.get(metric)
                if observed is None and estimated is None:
                    continue
                out.append({"metric": metric, "site": site, "subgroup": subgroup, "period": p,
                            "observed": observed, "estimated": estimated})
    return out


def surveillance_status(plan_path: str | os.PathLike[str], *,
                        registry: Registry | str | None = None) -> dict[str, Any]:
    """The status dict of the plan (see docs/SURVEILLANCE.md for its fields)."""
    with open_context(plan_path, registry=registry, create=False) as ctx:
        return _status(ctx)


def _status(ctx: Context) -> dict[str, Any]:
    cases = recorded_cases(ctx)
    ev = evaluate(ctx, cases)
    records = ctx.registry.surveillance_data(ctx.plan_id)
    periods_info = []
    for p in ev.periods:
        cur = cases[cases["period"] == p]
        batches = sorted({r["source_id"] for r in records if r["kind"] == "cases"
                          and p in json.loads(r["periods"])})
        periods_info.append({"period": p, "n_cases": int(len(cur)),
                             "n_labelled": int(cur["truth"].notna().sum()),
                             "batches": batches})
    recorded = [e.payload for e in ctx.registry.entries_for("surveillance.alarm",
                                                              f"{ctx.plan_id}/")]
    head = ctx.registry.head()
    approvals = [a.to_dict() for a in ctx.plan_lock.approvals]
    plan = ctx.plan
    return {
        "schema_version": STATUS_SCHEMA_VERSION,
        "plan": {"id": plan.plan.id, "title": plan.plan.title, "version": plan.plan.version,
                 "sha256": ctx.plan_sha256,
                 "approval": {"locked_utc": ctx.plan_lock.locked_utc, "signatures": approvals}
                 if approvals else None,
                 "period": plan.period,
                 "monitors": {"protocol_id": ctx.protocol_lock.study_id,
                              "protocol_sha256": ctx.protocol_lock.protocol_sha256,
                              "baseline_results_sha256": plan.monitors.results_sha256},
                 "model_sha256": ctx.model_sha256,
                 "threshold": ctx.threshold,
                 "minimum_cases": plan.minimum_cases,
                 "sites": list(plan.sites),
                 "baseline": dict(sorted(ctx.baseline.rates.items()))},
        "registry": {"url": _no_credentials(ctx.registry.url),
                     "head_seq": head.seq if head else 0,
                     "head_hash": head.entry_hash if head else None},
        "periods": periods_info,
        "metrics": _metrics(ctx, cases, ev.periods),
        "charts": ev.charts,
        "drift": ev.drift,
        "alarms": [*recorded, *ev.alarms],
    }


def _no_credentials(url: str) -> str:
    u = make_url(url)
    return u.set(username=None, password=None).render_as_string(hide_password=True)
