"""The protocol's pre-specified consistency assessments: ``results.json['consistency']``.

For every factor of ``protocol.consistency`` (the sites, a subgroup, or two of them crossed)
and every endpoint it names (sensitivity, specificity, AUC, each at its own unit of analysis
and indeterminate handling), :func:`consistency_section` reports the per-level table (counts,
estimate, CI, small-level flags), the logistic-GEE interaction test, the largest gap between
compared levels with its cluster-bootstrap interval and, for a pooled factor, the
random-effects pooling over the levels (tau2 with its Q-profile interval, I2, Q and its p,
the prediction interval for a new level) and the bivariate model of sensitivity and
specificity (summary point, confidence and prediction regions, SROC curve). Then it decides
each acceptance rule: ``pass``, ``fail`` or ``not_evaluable`` with the reason.

Degenerate inputs never give NaN: a single level, a level without positives (or negatives),
zero between-level spread or every level below the minimum give a stated fallback (the
level's own estimate, no pooling, fixed-effect equivalent, no comparison) with its reason in
the block's ``fallback`` / ``notes``.

Everything is seeded with the run's seed, so two runs give the same bytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from validation.analysis.endpoints import analysis_scenario, score_bounds, unit_data
from validation.analysis.subgroups import subgroup_levels
from validation.data.testset import INDETERMINATE
from validation.errors import InputError
from validation.protocol.consistency import SITE_FACTOR
from validation.stats.bivariate import bivariate_accuracy
from validation.stats.pooled_logit import pooled_auc, pooled_proportion
from validation.stats.subgroup_consistency import level_table, subgroup_consistency

#: the decisions a rule can take
DECISIONS = ("pass", "fail", "not_evaluable")


def _factor_columns(protocol: Any, cases: pd.DataFrame) -> dict[str, pd.Series]:
    cols = {SITE_FACTOR: cases["site"].astype(str)}
    for sg in protocol.subgroups:
        cols[sg.id] = subgroup_levels(cases[sg.column], bins=sg.bins, labels=sg.labels, name=sg.id)
    return cols


def _aligned(cases: pd.DataFrame, labels: pd.Series, unit: str, scenario: str) -> np.ndarray:
    """Labels aligned with :func:`unit_data`'s rows (a patient takes its first finding's level)."""
    lab = labels.astype(str).to_numpy()
    if scenario == "determinate":
        lab = lab[~cases[INDETERMINATE].to_numpy(dtype=bool)]
        patient = cases["patient_id"].astype(str).to_numpy()[~cases[INDETERMINATE].to_numpy(dtype=bool)]
    else:
        patient = cases["patient_id"].astype(str).to_numpy()
    if unit == "patient":
        frame = pd.DataFrame({"p": patient, "l": lab})
        return frame.groupby("p", sort=True)["l"].first().to_numpy(dtype=str)
    return lab


def _level_row(row: Any, endpoint: str, minimum: int) -> dict[str, Any]:
    stat = getattr(row, endpoint)
    small = {"sensitivity": row.below_minimum_positives, "specificity": row.below_minimum_negatives,
             "auc": row.below_minimum}[endpoint]
    out: dict[str, Any] = {
        "level": row.level, "n": row.n, "n_positive": row.n_positive, "n_negative": row.n_negative,
        "below_minimum": bool(small), "compared": not small,
    }
    if stat is None:
        out.update({"estimate": None, "ci": [None, None], "method": None,
                    "note": f"no {'positive' if endpoint == 'sensitivity' else 'negative'} case"
                    if endpoint != "auc" else "fewer than two positives or two negatives"})
    else:
        d = stat.to_dict()
        d.pop("references", None)
        d.pop("alpha", None)
        out.update(d)
    return out


def _gap(g: Any) -> dict[str, Any] | None:
    if g is None:
        return None
    b = g.bootstrap
    return {
        "estimate": g.estimate, "ci": list(g.ci), "highest_level": g.highest_level,
        "lowest_level": g.lowest_level, "levels": list(g.levels), "n_boot": b.n_boot,
        "seed": b.seed, "n_dropped": b.n_dropped, "resampling": b.resampling, "method": g.method,
    }


def _pool_dict(res: Any, levels: list[str], excluded: dict[str, str], notes: list[str]) -> dict[str, Any]:
    d = res.to_dict()
    d.pop("logit", None)
    d.update({"levels": levels, "excluded": excluded, "fallback": None,
              "notes": [*notes, *d.get("notes", [])]})
    if res.prediction_interval is None:
        d["prediction_interval"] = [None, None]
    return d


def _not_pooled(reason: str, excluded: dict[str, str], single: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "estimate": None, "ci": [None, None], "prediction_interval": [None, None], "tau2": None,
        "i2": None, "q": None, "q_p_value": None, "k": 0, "levels": [], "excluded": excluded,
        "fallback": "not pooled", "notes": [reason], "method": None,
    }
    if single is not None:
        out.update({"estimate": single.get("estimate"), "ci": single.get("ci"), "k": 1,
                    "levels": [single["level"]],
                    "fallback": "single level: its own estimate and interval, no heterogeneity "
                                "or prediction interval"})
    return out


def _pool(endpoint: str, rows: list[Any], spec: Any, alpha: float, unit: str) -> dict[str, Any]:
    """Random-effects pooling of one endpoint over the levels of a pooled factor.

    A finding-unit proportion pools each level's Rao-Scott effective counts (the design effect
    of its clustered interval), so findings of one patient are not counted as independent; a
    patient-unit proportion pools the plain counts."""
    excluded: dict[str, str] = {}
    use: list[Any] = []
    for r in rows:
        stat = getattr(r, endpoint)
        if stat is None:
            excluded[r.level] = ("no reference-positive case" if endpoint == "sensitivity" else
                                 "no reference-negative case" if endpoint == "specificity" else
                                 "AUC not estimable (fewer than two positives or negatives)")
        elif endpoint == "auc" and not (0.0 < stat.estimate < 1.0 and stat.se > 0.0):
            excluded[r.level] = (f"AUC of {stat.estimate:g} has no finite logit or variance "
                                 "(perfect or null separation)")
        else:
            use.append(r)
    if len(use) < 2:
        single = None
        if len(use) == 1:
            s = getattr(use[0], endpoint)
            single = {"level": use[0].level, "estimate": s.estimate, "ci": list(s.ci)}
        return _not_pooled(f"fewer than two levels with an estimable {endpoint} "
                           f"({len(use)}); nothing to pool.", excluded, single)
    levels = [r.level for r in use]
    notes: list[str] = []

    def fit(knha: bool) -> Any:
        if endpoint == "auc":
            st = [r.auc for r in use]
            return pooled_auc([s.estimate for s in st], [s.se**2 for s in st],
                              method=spec.pooling.method, knha=knha, alpha=alpha)
        st = [getattr(r, endpoint) for r in use]
        deff = [s.design_effect or 1.0 for s in st] if unit == "finding" else None
        return pooled_proportion([s.successes for s in st], [s.n for s in st],
                                 method=spec.pooling.method, knha=knha, alpha=alpha,
                                 design_effect=deff)

    knha = spec.pooling.knha
    if endpoint == "auc":
        raw = [r.auc.estimate for r in use]
    else:
        raw = [getattr(r, endpoint).estimate for r in use]
    if knha and max(raw) - min(raw) <= 1e-12:
        knha = False
        notes.append("every level has the same estimate (zero spread between levels), so the "
                     "Knapp-Hartung factor is 0 and its interval would have no width; pooled "
                     "without it (normal interval).")
    try:
        res = fit(knha)
    except InputError as exc:
        if not spec.pooling.knha:
            return _not_pooled(f"pooling not possible: {exc}", excluded, None)
        notes.append(f"Knapp-Hartung adjustment not applicable ({exc}); pooled without it "
                     "(normal interval).")
        res = fit(False)
    if endpoint != "auc" and unit == "finding":
        notes.append("findings are clustered in patients: each level's logit variance is that of "
                     "its Rao-Scott effective counts (successes and failures divided by the level's "
                     "design effect, as in its interval).")
    return _pool_dict(res, levels, excluded, notes)


def _bivariate(rows: list[Any], alpha: float) -> dict[str, Any]:
    excluded = {r.level: "no reference-positive or no reference-negative case" for r in rows
                if r.sensitivity is None or r.specificity is None}
    use = [r for r in rows if r.level not in excluded]
    if len(use) < 3:
        return {"fallback": "not fitted", "excluded": excluded, "k": len(use),
                "notes": [f"the bivariate model needs at least three levels with positives and "
                          f"negatives; got {len(use)}. Sensitivity and specificity are pooled "
                          "separately above."]}
    tp = [r.sensitivity.successes for r in use]
    fn = [r.sensitivity.n - r.sensitivity.successes for r in use]
    tn = [r.specificity.successes for r in use]
    fp = [r.specificity.n - r.specificity.successes for r in use]
    try:
        res = bivariate_accuracy(tp, fn, tn, fp, alpha=alpha, n_points=60)
    except InputError as exc:
        return {"fallback": "not fitted", "excluded": excluded, "k": len(use),
                "notes": [f"bivariate model not fitted: {exc}"]}
    d = res.to_dict()
    d.update({"levels": [r.level for r in use], "excluded": excluded, "fallback": None})
    return d


def _factor(protocol: Any, spec: Any, factor: Any, cases: pd.DataFrame, cols: dict[str, pd.Series],
            *, alpha: float, seed: int, n_boot: int) -> dict[str, Any]:
    eps = [protocol.endpoint(e) for e in spec.endpoints]
    groups: dict[tuple[str, str], list[Any]] = {}
    for ep in eps:
        groups.setdefault((str(ep.unit), analysis_scenario(protocol, ep)), []).append(ep)
    op = float(protocol.model.operating_point)
    bounds = score_bounds(cases)
    block: dict[str, Any] = {
        "parts": list(factor.parts), "pooled": factor.pooled, "endpoints": {}, "notes": [],
        "equalized_odds": None, "bivariate": None,
    }
    for (unit, scenario), members in groups.items():
        d = unit_data(cases, unit=unit, operating_point=op, scenario=scenario, score_bounds=bounds)
        first = _aligned(cases, cols[factor.parts[0]], unit, scenario)
        second = _aligned(cases, cols[factor.parts[1]], unit, scenario) if len(factor.parts) > 1 else None
        kinds = {ep.kind for ep in members}
        kwargs: dict[str, Any] = dict(
            second_factor=second, score=d.score if "auc" in kinds else None, cluster=d.cluster,
            factor_name=factor.id, working_correlation=spec.working_correlation, n_boot=n_boot,
            seed=seed, alpha=alpha,
        )
        fallback = None
        present = sorted(set(first) if second is None else {f"{a} x {b}" for a, b in zip(first, second,
                                                                                         strict=True)})
        res: Any = None
        if len(present) < 2:
            fallback = (f"only one level ({', '.join(present) or 'none'}): nothing to compare or "
                        "pool; the level's own estimate and interval are shown.")
        else:
            try:
                res = subgroup_consistency(d.truth, d.called.astype(np.int8), first,
                                           min_level_size=spec.min_level_size, **kwargs)
            except InputError as exc:
                if "min_level_size" not in str(exc):
                    for ep in members:
                        block["endpoints"][ep.id] = {
                            "kind": str(ep.kind), "unit": unit, "indeterminate_handling": scenario,
                            "levels": [], "fallback": "not assessed", "reason": str(exc),
                            "interaction": None, "gap": None,
                            "pooled": _not_pooled(str(exc), {}, None) if factor.pooled else None}
                    continue
                fallback = (f"every level is below the minimum of {spec.min_level_size} positives "
                            "and negatives: levels shown, not compared (no interaction test or gap).")
        if res is None:  # the table alone (nothing can be compared)
            res = level_table(d.truth, d.called.astype(np.int8), first, second_factor=second,
                              score=kwargs["score"], cluster=d.cluster,
                              min_level_size=spec.min_level_size, alpha=alpha)
            block["notes"].append(str(fallback))
        block["notes"].extend(res.notes)
        minimum = spec.min_level_size
        rows = list(res.levels)
        for ep in members:
            kind = str(ep.kind)
            inter = None if fallback else {"sensitivity": res.interaction_sensitivity,
                                           "specificity": res.interaction_specificity,
                                           "auc": None}[kind]
            gap = None if fallback else {"sensitivity": res.sensitivity_gap,
                                         "specificity": res.specificity_gap, "auc": res.auc_gap}[kind]
            entry: dict[str, Any] = {
                "kind": kind, "unit": unit, "indeterminate_handling": scenario,
                "min_level_size": minimum,
                "levels": [_level_row(r, kind, minimum) for r in rows],
                "interaction": None if inter is None else inter.to_dict(),
                "gap": _gap(gap),
                "fallback": fallback,
                "pooled": _pool(kind, rows, spec, alpha, unit) if factor.pooled else None,
            }
            if kind == "auc":
                entry["interaction_note"] = ("no interaction test for the AUC; read the gap's "
                                             "interval")
            block["endpoints"][ep.id] = entry
        if fallback is None and res.equalized_odds is not None:
            eo, eb = res.equalized_odds, res.equalized_odds.bootstrap
            block["equalized_odds"] = {
                "estimate": eo.estimate, "ci": list(eo.ci), "larger_of": eo.larger_of,
                "n_boot": eb.n_boot, "seed": eb.seed, "n_dropped": eb.n_dropped,
                "resampling": eb.resampling,
                "sensitivity_gap": _gap(res.sensitivity_gap),
                "specificity_gap": _gap(res.specificity_gap),
                "unit": unit, "indeterminate_handling": scenario,
                "method": "max of the sensitivity and specificity gaps (Hardt et al. 2016); percentile "
                          "interval of the replicate-wise max over the gaps' resamples",
            }
        if factor.pooled and {"sensitivity", "specificity"} <= kinds:
            block["bivariate"] = _bivariate(rows, alpha)
    return block


def _goal(protocol: Any, endpoint_id: str) -> float | None:
    for h in protocol.hypotheses:
        if h.endpoint == endpoint_id and h.type == "performance_goal" and h.goal is not None:
            return float(h.goal)
    return None


def _rule(protocol: Any, rule: Any, factors: dict[str, Any]) -> dict[str, Any]:
    entry = factors[rule.factor]["endpoints"].get(rule.endpoint) or {}
    out: dict[str, Any] = {"id": rule.id, "type": rule.type, "endpoint": rule.endpoint,
                           "factor": rule.factor, "role": "secondary", "pre_specified": True}

    def done(decision: str, reason: str, **extra: Any) -> dict[str, Any]:
        out.update(extra)
        out.update({"decision": decision, "reason": reason})
        return out

    if entry.get("fallback") == "not assessed":
        return done("not_evaluable", f"factor not assessed: {entry.get('reason')}")
    if rule.type == "prediction_lower_bound":
        pool = entry.get("pooled") or {}
        pi = pool.get("prediction_interval") or [None, None]
        out["threshold"] = float(rule.threshold)
        if pi[0] is None:
            why = "; ".join(pool.get("notes") or []) or "no prediction interval"
            return done("not_evaluable", f"no prediction interval for a new {rule.factor}: {why}",
                        value=None)
        ok = pi[0] >= rule.threshold
        return done("pass" if ok else "fail",
                    f"prediction-interval lower bound {pi[0]:.4f} {'>=' if ok else '<'} "
                    f"{rule.threshold:g} ({pool.get('k')} levels, {pool.get('method')})", value=pi[0])
    if rule.type == "level_lower_bound":
        if rule.threshold is not None:
            bound = float(rule.threshold)
        else:
            goal = _goal(protocol, rule.endpoint)
            if goal is None:  # the protocol check refuses this; a stated decision all the same
                return done("not_evaluable", "the endpoint has no performance goal to count the "
                            "margin from", value=None)
            bound = goal - float(rule.margin or 0.0)
            out.update({"goal": goal, "margin": float(rule.margin)})
        out["threshold"] = bound
        compared = [r for r in entry.get("levels", []) if r["compared"] and r["ci"][0] is not None]
        small = [r["level"] for r in entry.get("levels", []) if not r["compared"]]
        out["not_judged"] = small
        if not compared:
            return done("not_evaluable", "no level reaches the minimum size", value=None)
        worst = min(compared, key=lambda r: (r["ci"][0], r["level"]))
        ok = worst["ci"][0] >= bound
        extra = f"; {len(small)} level(s) below the minimum not judged" if small else ""
        return done("pass" if ok else "fail",
                    f"lowest lower bound {worst['ci'][0]:.4f} ({worst['level']}) "
                    f"{'>=' if ok else '<'} {bound:.4f}{extra}", value=worst["ci"][0],
                    level=worst["level"])
    inter = entry.get("interaction") or {}
    gap = entry.get("gap") or {}
    p = inter.get("p_value")
    upper = (gap.get("ci") or [None, None])[1]
    out.update({"p_above": float(rule.p_above), "gap_below": float(rule.gap_below),
                "p_value": p, "gap_upper": upper})
    if p is None and upper is None:
        return done("not_evaluable", "neither an interaction test nor a gap could be computed",
                    value=None)
    p_ok = p is not None and p > rule.p_above
    g_ok = upper is not None and upper < rule.gap_below
    parts = [f"interaction p {'not computed' if p is None else f'{p:.4f}'}"
             + ("" if p is None else (" > " if p_ok else " <= ") + f"{rule.p_above:g}"),
             f"gap upper bound {'not computed' if upper is None else f'{upper:.4f}'}"
             + ("" if upper is None else (" < " if g_ok else " >= ") + f"{rule.gap_below:g}")]
    return done("pass" if (p_ok or g_ok) else "fail", "; ".join(parts), value=p)


def consistency_section(protocol: Any, cases: pd.DataFrame, *, alpha: float, seed: int,
                        progress: Any = None) -> dict[str, Any] | None:
    """``results.json['consistency']`` for ``protocol`` (``None`` without the section).

    Parameters
    ----------
    protocol : validation.protocol.Protocol
    cases : the analysed cases with ``score`` (as for :func:`validation.analysis.engine.analyse`).
    alpha : two-sided alpha of every interval (the protocol's CI alpha).
    seed : seed of the gap bootstraps (the run's seed).
    progress : optional ``callable(done, total)`` told after each factor.
    """
    spec = protocol.consistency
    if spec is None:
        return None
    if "case_id" in cases.columns:  # the row order of the input never changes a number
        cases = cases.sort_values("case_id", kind="stable")
    cols = _factor_columns(protocol, cases)
    n_boot = int(protocol.analysis.bootstrap_replicates)
    factors: dict[str, Any] = {}
    for f in spec.factors:
        factors[f.id] = _factor(protocol, spec, f, cases, cols, alpha=alpha, seed=seed, n_boot=n_boot)
        if progress is not None:
            progress(len(factors), len(spec.factors))
    rules = [_rule(protocol, r, factors) for r in spec.rules]
    return {
        "endpoints": list(spec.endpoints),
        "min_level_size": int(spec.min_level_size),
        "pooling": {"method": spec.pooling.method, "knha": bool(spec.pooling.knha)},
        "working_correlation": spec.working_correlation,
        "alpha": float(alpha),
        "n_boot": n_boot,
        "seed": int(seed),
        "factors": factors,
        "rules": rules,
        "summary": left_behind(factors, rules, thresholds=interaction_thresholds(spec), alpha=alpha),
    }


def interaction_thresholds(spec: Any) -> dict[tuple[str, str], tuple[float, str]]:
    """``(factor, endpoint) -> (p threshold, rule id)`` from the pre-specified
    ``interaction_or_gap`` rules (the first such rule in protocol order for a pair)."""
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for r in spec.rules:
        if r.type == "interaction_or_gap":
            out.setdefault((r.factor, r.endpoint), (float(r.p_above), str(r.id)))
    return out


def left_behind(factors: dict[str, Any], rules: list[dict[str, Any]], *,
                thresholds: dict[tuple[str, str], tuple[float, str]], alpha: float) -> dict[str, Any]:
    """The groups the assessments single out, in plain data for the report's paragraph.

    Failed rules; and, for every interaction test, whether the levels differ: interaction p at
    or below the pre-specified rule's ``p_above`` where an ``interaction_or_gap`` rule names
    that factor and endpoint (``thresholds``), else at or below the protocol's ``alpha``. Each
    test's threshold and its source are recorded (``interaction_thresholds``).
    """
    failed = [r["id"] for r in rules if r["decision"] == "fail"]
    flagged: list[dict[str, Any]] = []
    used: list[dict[str, Any]] = []
    for fid, block in factors.items():
        for eid, entry in block["endpoints"].items():
            inter = entry.get("interaction") or {}
            p = inter.get("p_value")
            if p is None:
                continue
            limit, rule_id = thresholds.get((fid, eid), (float(alpha), None))
            source = f"rule {rule_id}" if rule_id is not None else "alpha"
            used.append({"factor": fid, "endpoint": eid, "p_threshold": limit, "source": source})
            gap = entry.get("gap") or {}
            if p <= limit and gap:
                flagged.append({"factor": fid, "endpoint": eid, "level": gap["lowest_level"],
                                "gap": gap["estimate"], "p_value": p, "p_threshold": limit,
                                "source": source})
    small = sorted({f"{fid}: {r['level']}" for fid, b in factors.items()
                    for e in b["endpoints"].values() for r in e.get("levels", []) if r["below_minimum"]})
    return {"failed_rules": failed, "differing": flagged, "interaction_thresholds": used,
            "alpha": float(alpha), "small_levels": small,
            "n_rules": len(rules),
            "n_pass": sum(r["decision"] == "pass" for r in rules),
            "n_not_evaluable": sum(r["decision"] == "not_evaluable" for r in rules)}
