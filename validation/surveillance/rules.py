"""Evaluating a plan's rules over the whole history of its cases.

Every evaluation starts from the recorded cases (labels applied), so it is deterministic and
needs no state between ingests: the same registry gives the same charts and alarms.

Scopes: ``pooled`` (all cases), ``site`` (each expected site) and ``subgroup`` (each level of
each factor other than site). Charts and the statistics behind them come from
:mod:`validation.stats` (the surveillance functions); this module only selects the cases,
counts and decides.

* ``bernoulli_cusum``: case by case in acquisition order. Sensitivity watches misses among
  labelled positives (in-control rate ``p0 = 1 - sensitivity``, out-of-control ``p0 + shift``),
  specificity false positives among labelled negatives, the positive-call rate positive calls
  among all cases. The limit reaches the rule's ARL0 (in cases). A period's point is the
  largest statistic in it; it signals when any of its cases does.
* ``binomial_cusum`` and ``ewma``: the same counts per period.
* ``normal_cusum``: the period's AUC (labelled cases, both classes present).
* ``psi``, ``ks``, ``chi2``: drift of the period's scores against the pivotal run's and of its
  input mix against the pivotal test set's; the family of drift p-values of one period is
  adjusted together (the method is named in each row).

A point or a drift check is judged only when its scope has at least ``minimum_cases`` cases
(labelled cases for accuracy metrics) in the period (for a Bernoulli CUSUM: in the history so
far); below that it is shown, never an alarm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from validation import stats as vs
from validation.surveillance.aggregate import text_categories
from validation.surveillance.context import Context
from validation.surveillance.plan import Rule

ACCURACY = ("sensitivity", "specificity", "ppv", "auc")


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """Charts, drift rows and alarms of a plan over its whole history."""

    periods: list[str]
    charts: list[dict[str, Any]] = field(default_factory=list)
    drift: list[dict[str, Any]] = field(default_factory=list)
    alarms: list[dict[str, Any]] = field(default_factory=list)


class ScopeIndex:
    """The rows of every scope cell of ``cases``, found once (one factorisation per column).

    :func:`scopes` with an index returns the same cells as without, without comparing every
    row's text once per site, level and rule.
    """

    def __init__(self, cases: pd.DataFrame) -> None:
        self.cases = cases
        self._groups: dict[str, tuple[np.ndarray, dict[str, int]]] = {}
        self._rows: dict[tuple[str, str], np.ndarray] = {}
        self._periods: dict[tuple[str, str], dict[str, np.ndarray]] = {}
        self._levels: dict[str, list[str]] = {}

    def levels(self, factor: str) -> list[str]:
        """The sorted levels (as text) of a factor."""
        if factor not in self._levels:
            col = self.cases[factor]
            if isinstance(col.dtype, pd.CategoricalDtype):
                codes = col.cat.codes.to_numpy()
                seen = np.unique(codes[codes >= 0])
                self._levels[factor] = sorted(str(c) for c in col.cat.categories[seen])
            else:
                self._levels[factor] = sorted(col.dropna().astype(str).unique())
        return self._levels[factor]

    def _codes(self, column: str, values: Callable[[], pd.Series] | None
               ) -> tuple[np.ndarray, dict[str, int]]:
        if column not in self._groups:
            col = self.cases[column] if values is None else values()
            if isinstance(col.dtype, pd.CategoricalDtype):
                codes = col.cat.codes.to_numpy()
                uniques: Any = col.cat.categories
            else:
                codes, uniques = pd.factorize(col.to_numpy(dtype=object), use_na_sentinel=True)
            self._groups[column] = (codes, {str(u): k for k, u in enumerate(uniques)})
        return self._groups[column]

    def rows(self, column: str, value: str, values: Callable[[], pd.Series] | None = None
             ) -> np.ndarray:
        """Positions of the rows whose ``column`` (or ``values()``) equals ``value``."""
        key = (column, value)
        if key not in self._rows:
            codes, where = self._codes(column, values)
            k = where.get(value)
            self._rows[key] = (np.flatnonzero(codes == k) if k is not None
                               else np.zeros(0, dtype=np.intp))
        return self._rows[key]

    def cell(self, column: str, value: str, values: Callable[[], pd.Series] | None = None
             ) -> pd.DataFrame:
        return self.cases.iloc[self.rows(column, value, values)]

    def by_period(self, key: tuple[str, str], cell: pd.DataFrame) -> dict[str, np.ndarray]:
        """Positions (within ``cell``) of each period's rows."""
        if key not in self._periods:
            per = cell["period"]
            if isinstance(per.dtype, pd.CategoricalDtype):
                codes, uniques = per.cat.codes.to_numpy(), per.cat.categories
            else:
                codes, uniques = pd.factorize(per.to_numpy(dtype=object), use_na_sentinel=True)
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
            self._periods[key] = {str(u): order[bounds[k]:bounds[k + 1]]
                                  for k, u in enumerate(uniques)}
        return self._periods[key]


def scopes(ctx: Context, cases: pd.DataFrame, wanted: list[str], index: ScopeIndex | None = None
           ) -> list[tuple[str | None, dict[str, str] | None, pd.DataFrame]]:
    """``(site, subgroup, cases)`` for each cell of the scopes wanted."""
    idx = index if index is not None and index.cases is cases else ScopeIndex(cases)
    out: list[tuple[str | None, dict[str, str] | None, pd.DataFrame]] = []
    if "pooled" in wanted:
        out.append((None, None, cases))
    if "site" in wanted:
        for s in ctx.plan.sites:
            out.append((s, None, idx.cell("site", s)))
    if "subgroup" in wanted:
        for f in ctx.plan.factors:
            if f == "site" or f not in cases.columns:
                continue
            def text(f: str = f) -> pd.Series:
                col = cases[f]
                return col if isinstance(col.dtype, pd.CategoricalDtype) else col.astype(str)

            for level in idx.levels(f):
                out.append((None, {"factor": f, "level": level}, idx.cell(f"{f}:text", level, text)))
    return out


def _outcomes(metric: str, cell: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """The Bernoulli events of a metric: rows observed and ``event`` (the bad outcome)."""
    called = cell["score"].to_numpy(dtype=float) >= threshold
    truth = cell["truth"]
    if metric == "sensitivity":
        keep = (truth == 1).fillna(False).to_numpy(dtype=bool)
        event = ~called
    elif metric == "specificity":
        keep = (truth == 0).fillna(False).to_numpy(dtype=bool)
        event = called
    elif metric == "ppv":  # false positives among positive calls
        keep = called & truth.notna().to_numpy(dtype=bool)
        event = (truth == 0).fillna(False).to_numpy(dtype=bool)
    else:  # positive_call_rate
        keep = np.ones(len(cell), dtype=bool)
        event = called
    return pd.DataFrame({"period": cell["period"].to_numpy()[keep],
                         "event": event[keep].astype(np.int8)})


def _rates(rule: Rule, base: dict[str, float]) -> tuple[float, float]:
    """(in-control, out-of-control) rate of the rule's bad event."""
    b = rule.baseline if rule.baseline is not None else base.get(rule.metric)
    if b is None:
        raise ValueError(f"rule {rule.id!r}: the baseline has no {rule.metric}; set 'baseline'")
    shift = rule.shift or 0.0
    if rule.metric == "positive_call_rate":
        p0 = b
        return p0, min(p0 + shift, 0.999)
    p0 = 1.0 - b
    return p0, min(p0 + shift, 0.999)


def _width(rule: Rule) -> float:
    far = rule.false_alarm_rate if rule.false_alarm_rate is not None else 1.0 / float(rule.arl0 or 370)
    return float(sps.norm.ppf(1.0 - far / 2.0))


def _alarm(rule: Rule, period: str, site: str | None, subgroup: dict[str, str] | None,
           figures: dict[str, Any]) -> dict[str, Any]:
    return {"period": period, "site": site, "subgroup": subgroup, "metric": rule.metric,
            "rule": rule.id, "severity": rule.severity, "figures": figures,
            "first_detected": period}


def _chart(ctx: Context, rule: Rule, site: str | None, subgroup: dict[str, str] | None,
           cell: pd.DataFrame, periods: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    minimum = ctx.plan.minimum_cases
    threshold = ctx.threshold
    base = ctx.baseline.rates
    chart: dict[str, Any] = {"rule": rule.id, "kind": rule.chart, "metric": rule.metric,
                             "site": site, "subgroup": subgroup, "limit": None,
                             "arl0": rule.target_arl0, "arl1": None, "points": []}
    alarms: list[dict[str, Any]] = []
    if rule.chart == "bernoulli_cusum":
        p0, p1 = _rates(rule, base)
        lim = vs.cusum_limit(p0=p0, p1=p1, arl0=float(rule.target_arl0 or 0))
        chart.update(limit=float(lim.limit), arl0=float(lim.arl0), arl1=float(lim.arl1))
        ev = _outcomes(rule.metric, cell, threshold)
        if len(ev) == 0:
            return chart, alarms
        res = vs.bernoulli_cusum(ev["event"].to_numpy(), p0=p0, p1=p1, limit=float(lim.limit))
        stat = np.asarray(res.statistic, dtype=float)
        sig = np.asarray(res.signals, dtype=bool)
        seen = 0
        for p in periods:
            m = (ev["period"] == p).to_numpy()
            if not m.any():
                continue
            seen += int(m.sum())
            s_max = float(stat[m].max())
            signal = bool(sig[m].any()) and seen >= minimum
            chart["points"].append({"period": p, "statistic": s_max, "lower": None,
                                    "upper": float(lim.limit), "signal": signal})
            if signal:
                alarms.append(_alarm(rule, p, site, subgroup, {
                    "statistic": s_max, "limit": float(lim.limit), "p0": p0, "p1": p1,
                    "arl0": float(lim.arl0), "arl1": float(lim.arl1),
                    "events": int(ev["event"].to_numpy()[m].sum()), "n": int(m.sum())}))
        return chart, alarms
    if rule.chart in ("binomial_cusum", "ewma"):
        ev = _outcomes(rule.metric, cell, threshold)
        counts = ev.groupby("period", observed=True)["event"].agg(["sum", "count"])
        used = [p for p in periods if p in counts.index and counts.loc[p, "count"] >= minimum]
        if not used:
            return chart, alarms
        events = counts.loc[used, "sum"].to_numpy(dtype=int)
        trials = counts.loc[used, "count"].to_numpy(dtype=int)
        if rule.chart == "binomial_cusum":
            p0, p1 = _rates(rule, base)
            lim = vs.binomial_cusum_limit(p0=p0, p1=p1, n=int(np.median(trials)),
                                          arl0=float(rule.target_arl0 or 0))
            res = vs.binomial_cusum(events, trials, p0=p0, p1=p1, limit=float(lim.limit))
            chart.update(limit=float(lim.limit), arl0=float(lim.arl0), arl1=float(lim.arl1))
            for i, p in enumerate(used):
                signal = bool(np.asarray(res.signals)[i])
                st = float(np.asarray(res.statistic)[i])
                chart["points"].append({"period": p, "statistic": st, "lower": None,
                                        "upper": float(lim.limit), "signal": signal})
                if signal:
                    alarms.append(_alarm(rule, p, site, subgroup, {
                        "statistic": st, "limit": float(lim.limit), "p0": p0, "p1": p1,
                        "events": int(events[i]), "n": int(trials[i])}))
            return chart, alarms
        # EWMA of the metric itself (good outcomes), target the baseline figure
        good = trials - events if rule.metric != "positive_call_rate" else events
        b = rule.baseline if rule.baseline is not None else base.get(rule.metric)
        if b is None:
            return chart, alarms
        width = _width(rule)
        ew = vs.ewma_proportion(good, trials, target=float(b), lam=rule.lam, width=width)
        z, lo, hi = (np.asarray(x, dtype=float) for x in (ew.statistic, ew.lower, ew.upper))
        for i, p in enumerate(used):
            # accuracy: only a drop is a signal; the positive-call rate: either direction
            signal = bool(z[i] < lo[i] or (rule.metric == "positive_call_rate" and z[i] > hi[i]))
            chart["points"].append({"period": p, "statistic": float(z[i]), "lower": float(lo[i]),
                                    "upper": float(hi[i]), "signal": signal})
            if signal:
                alarms.append(_alarm(rule, p, site, subgroup, {
                    "statistic": float(z[i]), "lower": float(lo[i]), "upper": float(hi[i]),
                    "target": float(b), "lam": rule.lam, "width": width,
                    "successes": int(good[i]), "n": int(trials[i])}))
        return chart, alarms
    # normal_cusum of the period AUC
    b = rule.baseline if rule.baseline is not None else base.get("auc")
    values, used = [], []
    for p in periods:
        sub = cell[(cell["period"] == p) & cell["truth"].notna()]
        t = sub["truth"].to_numpy(dtype=int)
        if len(sub) < minimum or t.sum() < 2 or (1 - t).sum() < 2:
            continue
        values.append(float(vs.auc_ci(t, sub["score"].to_numpy(dtype=float)).estimate))
        used.append(p)
    if b is None or not used:
        return chart, alarms
    sd = _baseline_auc_sd(ctx)
    nc = vs.normal_cusum(np.asarray(values), mean=float(b), sd=sd, shift=-float(rule.shift or 0),
                         arl0=float(rule.target_arl0 or 0))
    chart.update(limit=float(nc.limit), arl0=float(nc.arl0), arl1=float(nc.arl1))
    for i, p in enumerate(used):
        st = float(np.asarray(nc.statistic)[i])
        signal = bool(np.asarray(nc.signals)[i])
        chart["points"].append({"period": p, "statistic": st, "lower": None,
                                "upper": float(nc.limit), "signal": signal})
        if signal:
            alarms.append(_alarm(rule, p, site, subgroup, {
                "statistic": st, "limit": float(nc.limit), "auc": values[i],
                "baseline_auc": float(b), "sd": sd}))
    return chart, alarms


def _baseline_auc_sd(ctx: Context) -> float:
    """In-control SD of a period's AUC: the pivotal AUC's SE scaled to a period's size."""
    bl = ctx.baseline
    if bl.truth is None or len(bl.truth) < 4:
        return 0.05
    se = float(vs.auc_ci(bl.truth, bl.scores).se)
    return max(se, 1e-6)


def _drift(ctx: Context, rules: list[Rule], cases: pd.DataFrame, periods: list[str],
           index: ScopeIndex | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    owners: list[Rule] = []
    subgroups: list[Any] = []
    minimum = ctx.plan.minimum_cases
    bl = ctx.baseline
    idx = index if index is not None and index.cases is cases else ScopeIndex(cases)
    none = np.zeros(0, dtype=np.intp)
    for p in periods:
        first = len(rows)
        for rule in rules:
            wanted = [s for s in rule.scopes if s != "subgroup"]
            for site, _sg, cell in scopes(ctx, cases, wanted, idx):
                cur = cell.iloc[idx.by_period(("site", site or ""), cell).get(p, none)]
                if len(cur) < minimum:
                    continue
                if rule.chart == "psi":
                    psi = vs.population_stability_index(bl.scores, cur["score"].to_numpy(float))
                    thr = rule.threshold if rule.threshold is not None else 0.25
                    rows.append({"period": p, "site": site, "check": "psi", "variable": "score",
                                 "statistic": float(psi.estimate), "p_value": None,
                                 "adjusted_p_value": None, "threshold": thr,
                                 "flag": bool(psi.estimate > thr)})
                elif rule.chart == "ks":
                    r = vs.ks_drift(bl.scores, cur["score"].to_numpy(float))
                    rows.append({"period": p, "site": site, "check": "ks", "variable": "score",
                                 "statistic": float(r.statistic), "p_value": float(r.p_value),
                                 "adjusted_p_value": None,
                                 "threshold": float(rule.false_alarm_rate or 0.01), "flag": False})
                else:
                    for factor in ctx.plan.factors:
                        if factor == "site" and site is not None:
                            continue
                        ref = bl.mix.get(factor)
                        if not ref:
                            continue
                        counts = cur[factor].dropna().astype(str).value_counts()
                        counts = counts[counts > 0]  # a categorical lists every category
                        r = vs.chi2_mix(ref, {str(k): int(v) for k, v in counts.items()})
                        rows.append({"period": p, "site": site, "check": "chi2",
                                     "variable": factor, "statistic": float(r.statistic),
                                     "p_value": float(r.p_value), "adjusted_p_value": None,
                                     "threshold": float(rule.false_alarm_rate or 0.01),
                                     "flag": False})
                owners.extend([rule] * (len(rows) - len(owners)))
                subgroups.extend([None] * (len(rows) - len(subgroups)))
        tested = [i for i in range(first, len(rows)) if rows[i]["p_value"] is not None]
        if tested:
            adj = vs.adjust_drift_pvalues([rows[i]["p_value"] for i in tested])
            for j, i in enumerate(tested):
                rows[i]["adjusted_p_value"] = float(np.asarray(adj.adjusted)[j])
                rows[i]["adjustment"] = str(adj.method)
                rows[i]["flag"] = bool(rows[i]["adjusted_p_value"] < rows[i]["threshold"])
    alarms = []
    for row, rule in zip(rows, owners, strict=True):
        if row["flag"]:
            figures = {k: row[k] for k in ("check", "variable", "statistic", "p_value",
                                            "adjusted_p_value", "threshold")}
            alarms.append(_alarm(rule, row["period"], row["site"], None, figures))
    return rows, alarms


def _first_detected(alarms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set ``first_detected`` to the first period each rule signalled for its cell."""
    first: dict[tuple[Any, ...], str] = {}
    for a in sorted(alarms, key=lambda a: a["period"]):
        key = (a["rule"], a["site"], repr(a["subgroup"]), a["metric"],
               a["figures"].get("variable"))
        first.setdefault(key, a["period"])
        a["first_detected"] = first[key]
    return alarms


def evaluate(ctx: Context, cases: pd.DataFrame) -> Evaluation:
    """Charts, drift rows and alarms of every rule over ``cases`` (all periods)."""
    periods = sorted(cases["period"].dropna().astype(str).unique().tolist())
    ev = Evaluation(periods=periods)
    if not periods:
        return ev
    # only the columns the rules read, so that a cell does not copy case ids and the like
    needed = {"period", "score", "truth", "site", *ctx.plan.factors}
    cases = cases[[c for c in cases.columns if c in needed]]
    cases = cases.assign(**{c: text_categories(cases[c]) for c in cases.columns
                            if c not in ("score", "truth")})
    index = ScopeIndex(cases)
    for rule in ctx.plan.rules:
        if rule.chart in ("psi", "ks", "chi2"):
            continue
        for site, subgroup, cell in scopes(ctx, cases, list(rule.scopes), index):
            chart, alarms = _chart(ctx, rule, site, subgroup, cell, periods)
            ev.charts.append(chart)
            ev.alarms.extend(alarms)
    drift_rules = [r for r in ctx.plan.rules if r.chart in ("psi", "ks", "chi2")]
    if drift_rules:
        rows, alarms = _drift(ctx, drift_rules, cases, periods, index)
        ev.drift.extend(rows)
        ev.alarms.extend(alarms)
    _first_detected(ev.alarms)
    return ev


def evaluate_plan(ctx: Context) -> Evaluation:
    """:func:`evaluate` over every recorded case of the plan."""
    from validation.surveillance.history import recorded_cases

    return evaluate(ctx, recorded_cases(ctx))
