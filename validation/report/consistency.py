"""View models of the consistency assessments: the report's section and the SAP's plan.

:func:`consistency_view` formats ``results.json['consistency']`` (per-level tables, pooling and
heterogeneity, interaction tests, gaps, equalized odds, rule decisions and the plain-language
paragraph on the groups left behind); :func:`consistency_plan_view` states the pre-specified
plan from the locked protocol for the SAP. Neither computes a statistic: every number is one
value of its source, formatted with the declared rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from validation.report.context import (
    KIND_LABELS,
    NA,
    fmt_ci,
    fmt_count,
    fmt_df,
    fmt_estimate,
    fmt_p,
    fmt_percent,
    fmt_statistic,
    fmt_variance,
    humanize,
)

POOLING_LABELS = {
    "reml": "restricted maximum likelihood (REML)",
    "dl": "DerSimonian-Laird",
    "pm": "Paule-Mandel",
}
DECISION_LABELS = {"pass": "PASS", "fail": "FAIL", "not_evaluable": "NOT EVALUABLE"}


def _label(kind: str) -> str:
    return KIND_LABELS.get(kind, humanize(kind))


def _factor_label(fid: str, parts: list[str] | None = None) -> str:
    if parts and len(parts) == 2:
        return f"{humanize(parts[0])} x {humanize(parts[1]).lower()}"
    return humanize(fid)


def rule_text(rule: Mapping[str, Any], endpoint_label: str, factor_label: str,
              threshold: Any = None) -> str:
    """The rule in words (shared by the SAP and the report)."""
    kind = rule.get("type")
    if kind == "prediction_lower_bound":
        return (f"the lower bound of the prediction interval for a new level of {factor_label} "
                f"for {endpoint_label.lower()} is at least {fmt_estimate(rule.get('threshold'))}")
    if kind == "level_lower_bound":
        if rule.get("margin") is not None and threshold is None:
            bound = f"the performance goal minus {fmt_estimate(rule.get('margin'))}"
        else:
            bound = fmt_estimate(threshold if threshold is not None else rule.get("threshold"))
            if rule.get("margin") is not None:
                bound += (f" (goal {fmt_estimate(rule.get('goal'))} minus margin "
                          f"{fmt_estimate(rule.get('margin'))})")
        return (f"no compared level of {factor_label} has a lower confidence bound for "
                f"{endpoint_label.lower()} below {bound}")
    return (f"the interaction test of {endpoint_label.lower()} across {factor_label} has p above "
            f"{fmt_estimate(rule.get('p_above'))}, or the upper confidence bound of the largest gap "
            f"between levels is below {fmt_estimate(rule.get('gap_below'))}")


def _levels(entry: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for r in entry.get("levels") or []:
        kind = entry.get("kind")
        denom = r.get("n_positive") if kind == "sensitivity" else r.get("n_negative")
        rows.append({
            "level": str(r.get("level")),
            "counts": (f"{fmt_count(r.get('successes'))}/{fmt_count(r.get('n'))}"
                       if r.get("successes") is not None and kind != "auc"
                       else f"{fmt_count(r.get('n_positive'))} pos. / {fmt_count(r.get('n_negative'))} neg."),
            "denominator": fmt_count(denom),
            "estimate": fmt_estimate(r.get("estimate")) if r.get("estimate") is not None
            else "not estimable",
            "ci": fmt_ci(r.get("ci")),
            "flag": "below minimum (shown, not compared)" if r.get("below_minimum") else "",
        })
    return rows


def _pooled(p: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not p:
        return None
    return {
        "fallback": str(p.get("fallback") or ""),
        "estimate": fmt_estimate(p.get("estimate")),
        "ci": fmt_ci(p.get("ci")),
        "pi": fmt_ci(p.get("prediction_interval")),
        "tau2": fmt_variance(p.get("tau2")),
        "tau2_ci": fmt_ci(p.get("tau2_ci")),
        "i2": fmt_percent(p.get("i2")),
        "has_estimate": p.get("estimate") is not None,
        "q": fmt_statistic(p.get("q")),
        "df": fmt_df(p.get("df")),
        "q_p": fmt_p(p.get("q_p_value")),
        "k": fmt_count(p.get("k")),
        "method": str(p.get("method") or ""),
        "excluded": [f"{lv}: {why}" for lv, why in sorted((p.get("excluded") or {}).items())],
        "notes": [str(n) for n in p.get("notes") or []],
    }


def _paragraph(cons: Mapping[str, Any], factors: Mapping[str, Any]) -> str:
    """Plain-language sentences on the groups left behind (from the recorded decisions)."""
    s = cons.get("summary") or {}
    rules = cons.get("rules") or []
    out: list[str] = []
    failed = [r for r in rules if r.get("decision") == "fail"]
    if not rules:
        out.append("The protocol states no consistency rule; the comparisons below are descriptive.")
    elif not failed:
        out.append(f"Every pre-specified consistency rule that could be evaluated was met "
                   f"({fmt_count(s.get('n_pass'))} of {fmt_count(s.get('n_rules'))}).")
    for r in failed:
        where = f" (lowest: {r['level']})" if r.get("level") else ""
        out.append(f"Rule {r['id']} was not met for {_label_of(r, cons).lower()} across "
                   f"{_factor_label(r['factor'], factors.get(r['factor'], {}).get('parts'))}"
                   f"{where}: {r.get('reason')}.")
    used = s.get("interaction_thresholds") or []
    if used:
        out.append(_threshold_sentence(used, s.get("alpha")))
    for d in s.get("differing") or []:
        why = (f"at or below the {d['source']} threshold of {fmt_p(d.get('p_threshold'))}"
               if d.get("source") else "")
        out.append(f"{_factor_label(d['factor'], factors.get(d['factor'], {}).get('parts'))}: "
                   f"{str(d['endpoint']).lower()} differs between levels (interaction p "
                   f"{fmt_p(d.get('p_value'))}{', ' + why if why else ''}); the lowest level is "
                   f"{d['level']} (gap {fmt_estimate(d.get('gap'))}).")
    ne = [r for r in rules if r.get("decision") == "not_evaluable"]
    for r in ne:
        out.append(f"Rule {r['id']} could not be evaluated: {r.get('reason')}.")
    if s.get("small_levels"):
        out.append("Levels too small to be compared (shown, not judged): "
                   + "; ".join(s["small_levels"]) + ".")
    if not failed and not s.get("differing"):
        out.append("No group is left behind by these pre-specified criteria; the gaps' intervals "
                   "below show how large a difference the study can exclude.")
    return " ".join(out)


def _threshold_sentence(used: list[Mapping[str, Any]], alpha: Any) -> str:
    """Which interaction p-value threshold decided 'differs between levels', and from where."""
    by_rule = sorted({(str(u["source"]).removeprefix("rule "), fmt_p(u.get("p_threshold")))
                      for u in used if str(u.get("source")).startswith("rule ")})
    plain = [u for u in used if u.get("source") == "alpha"]
    parts = []
    if by_rule:
        parts.append("the threshold of the pre-specified interaction-or-gap rule for that factor "
                     "and endpoint (" + ", ".join(f"rule {rid}: {p}" for rid, p in by_rule) + ")")
    if plain:
        parts.append(f"the protocol's alpha ({fmt_p(alpha)}) where no rule names them")
    return ("Levels are said to differ when the interaction p-value is at or below "
            + ", and otherwise ".join(parts) + ".")


def _label_of(rule: Mapping[str, Any], cons: Mapping[str, Any]) -> str:
    entry = ((cons.get("factors") or {}).get(rule.get("factor")) or {}).get("endpoints", {}).get(
        rule.get("endpoint")) or {}
    return _label(str(entry.get("kind", rule.get("endpoint"))))


def consistency_view(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """The report's consistency section (``None`` when ``results.json`` has none)."""
    cons = results.get("consistency")
    if not cons:
        return None
    factors = cons.get("factors") or {}
    fviews = []
    for fid, block in factors.items():
        eps = []
        for eid, e in (block.get("endpoints") or {}).items():
            inter = e.get("interaction") or {}
            gap = e.get("gap") or {}
            eps.append({
                "id": eid, "label": _label(str(e.get("kind"))), "kind": str(e.get("kind")),
                "unit": str(e.get("unit")), "levels": _levels(e),
                "fallback": str(e.get("fallback") or e.get("reason") or ""),
                "interaction": ({"statistic": fmt_statistic(inter.get("statistic")),
                                 "df": fmt_df(inter.get("df")), "p": fmt_p(inter.get("p_value"))}
                                if inter else None),
                "gap": ({"estimate": fmt_estimate(gap.get("estimate")), "ci": fmt_ci(gap.get("ci")),
                         "high": str(gap.get("highest_level")), "low": str(gap.get("lowest_level"))}
                        if gap else None),
                "pooled": _pooled(e.get("pooled")),
            })
        eo = block.get("equalized_odds")
        biv = block.get("bivariate")
        fviews.append({
            "id": fid, "anchor": "".join(ch if ch.isalnum() else "-" for ch in fid).lower(),
            "label": _factor_label(fid, block.get("parts")),
            "pooled": bool(block.get("pooled")), "endpoints": eps,
            "notes": [str(n) for n in block.get("notes") or []],
            "equalized_odds": ({"estimate": fmt_estimate(eo.get("estimate")), "ci": fmt_ci(eo.get("ci")),
                                "larger_of": str(eo.get("larger_of") or ""),
                                "sensitivity_gap": _gap_cells(eo.get("sensitivity_gap")),
                                "specificity_gap": _gap_cells(eo.get("specificity_gap"))}
                               if eo else None),
            "bivariate": _bivariate(biv),
        })
    fviews.sort(key=lambda f: (not f["pooled"], f["id"]))  # pooled factors (sites) first
    rules = []
    for r in cons.get("rules") or []:
        block = factors.get(r.get("factor")) or {}
        rules.append({
            "id": str(r.get("id")), "endpoint": str(r.get("endpoint")),
            "endpoint_label": _label_of(r, cons), "factor": _factor_label(str(r.get("factor")),
                                                                           block.get("parts")),
            "text": rule_text(r, _label_of(r, cons), _factor_label(str(r.get("factor")),
                                                                    block.get("parts")),
                              threshold=r.get("threshold")),
            "value": fmt_estimate(r.get("value")) if r.get("type") != "interaction_or_gap"
            else fmt_p(r.get("value")),
            "decision": DECISION_LABELS.get(str(r.get("decision")), str(r.get("decision"))),
            "reason": str(r.get("reason", "")),
        })
    return {
        "pooling": POOLING_LABELS.get(str((cons.get("pooling") or {}).get("method")), ""),
        "knha": bool((cons.get("pooling") or {}).get("knha")),
        "min_level_size": fmt_count(cons.get("min_level_size")),
        "level": fmt_percent(1.0 - float(cons["alpha"])) if cons.get("alpha") is not None else NA,
        "n_boot": fmt_count(cons.get("n_boot")),
        "seed": fmt_count(cons.get("seed")),
        "factors": fviews,
        "rules": rules,
        "paragraph": _paragraph(cons, factors),
    }


def _gap_cells(gap: Mapping[str, Any] | None) -> dict[str, str]:
    g = gap or {}
    return {"estimate": fmt_estimate(g.get("estimate")), "ci": fmt_ci(g.get("ci"))}


def _bivariate(biv: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not biv:
        return None
    if biv.get("fallback"):
        return {"fallback": str(biv.get("fallback")), "notes": [str(n) for n in biv.get("notes") or []]}
    se, sp = biv.get("sensitivity") or {}, biv.get("specificity") or {}
    return {
        "fallback": "",
        "sensitivity": fmt_estimate(se.get("estimate")), "sensitivity_ci": fmt_ci(se.get("ci")),
        "specificity": fmt_estimate(sp.get("estimate")), "specificity_ci": fmt_ci(sp.get("ci")),
        "tau2_sensitivity": fmt_variance(biv.get("tau2_sensitivity")),
        "tau2_specificity": fmt_variance(biv.get("tau2_specificity")),
        "rho": fmt_estimate(biv.get("rho")), "k": fmt_count(biv.get("k")),
        "notes": [str(n) for n in biv.get("notes") or []],
    }


def consistency_plan_view(protocol: Mapping[str, Any]) -> dict[str, Any] | None:
    """The SAP's statement of the pre-specified consistency plan (from the locked protocol)."""
    spec = protocol.get("consistency")
    if not spec:
        return None
    eps = {e.get("id"): e for e in protocol.get("endpoints") or []}
    factors = []
    for f in spec.get("factors") or []:
        pool = f.get("pool")
        pooled = bool(pool) if pool is not None else f.get("id") == "site"
        factors.append({"id": str(f.get("id")), "label": _factor_label(str(f.get("id")), f.get("cross")),
                        "pooled": "yes" if pooled else "no"})
    flabels = {f["id"]: f["label"] for f in factors}
    pooling = spec.get("pooling") or {}
    rules = []
    for r in spec.get("rules") or []:
        label = _label(str((eps.get(r.get("endpoint")) or {}).get("kind", r.get("endpoint"))))
        rules.append({"id": str(r.get("id")),
                      "text": rule_text(r, label, flabels.get(r.get("factor"), str(r.get("factor"))))})
    return {
        "endpoints": [str(e) for e in spec.get("endpoints") or []],
        "factors": factors,
        "pooling": POOLING_LABELS.get(str(pooling.get("method", "reml")), ""),
        "knha": bool(pooling.get("knha", True)),
        "min_level_size": fmt_count(spec.get("min_level_size")),
        "working_correlation": str(spec.get("working_correlation") or "exchangeable"),
        "rules": rules,
    }
