"""View models of the robustness section: the report's (``results.json['robustness']``) and
the SAP's (the locked protocol's ``robustness`` section). Formatting only: every number shown
is one value of ``results.json`` (or of the lock) under the declared rounding, or a label
string recorded there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from validation.report.context import (
    KIND_LABELS,
    NA,
    fmt_ci,
    fmt_count,
    fmt_estimate,
    fmt_p,
    fmt_percent,
    humanize,
)


def _value(v: Any) -> str:
    """A protocol number under the declared rounding: integers as counts, else 3 decimals."""
    return fmt_count(int(v)) if float(v).is_integer() else fmt_estimate(float(v))


def _level_label(levels: list[Mapping[str, Any]], level: Any) -> str:
    for lv in levels:
        if lv.get("level") == level:
            return f"level {fmt_count(level)} ({lv.get('label', '')})"
    return "held at every level"


def robustness_view(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """The report's robustness section, or None when the run has no robustness key."""
    rob = results.get("robustness")
    if not rob:
        return None
    fams: Mapping[str, Any] = rob.get("families") or {}
    eps = rob.get("endpoints") or []
    label = {e["id"]: KIND_LABELS.get(str(e.get("kind")), humanize(e.get("kind", ""))) for e in eps}
    tables = []
    for name, fam in fams.items():
        rows = []
        for lv in fam.get("levels") or []:
            for e in eps:
                stat = (lv.get("endpoints") or {}).get(e["id"]) or {}
                pair = (lv.get("paired") or {}).get(e["id"])
                rows.append({
                    "level": fmt_count(lv.get("level")), "setting": str(lv.get("label", "")),
                    "endpoint": label[e["id"]], "estimate": fmt_estimate(stat.get("estimate")),
                    "ci": fmt_ci(stat.get("ci")),
                    "difference": fmt_estimate(pair.get("estimate")) if pair else NA,
                    "diff_ci": fmt_ci(pair.get("ci")) if pair else NA,
                    "p": fmt_p(pair.get("p_value")) if pair and pair.get("p_value") is not None
                    else NA,
                    "test": str(pair.get("test") or pair.get("note") or NA) if pair else NA,
                })
        tables.append({"family": name, "slug": name.replace("_", "-"), "title": humanize(name),
                       "parameter": str(fam.get("parameter")),
                       "unit": str(fam.get("unit")), "description": str(fam.get("description")),
                       "rows": rows})
    first = []
    for c in rob.get("claims") or []:
        for name, f in (c.get("first_lost") or {}).items():
            first.append({"what": f"claim {c['hypothesis']}", "endpoint": label.get(c["endpoint"], c["endpoint"]),
                          "criterion": f"CI lower bound > {fmt_estimate(c.get('null_value'))}",
                          "family": humanize(name),
                          "first": _level_label(fams[name]["levels"], f.get("level"))})
    rules = []
    for r in rob.get("rules") or []:
        name = str(r.get("family"))
        what = "CI lower bound" if r.get("bound") == "lower" else "estimate"
        rules.append({"id": str(r["id"]), "endpoint": label.get(r["endpoint"], r["endpoint"]),
                      "criterion": f"{what} >= {fmt_estimate(r.get('threshold'))} up to level "
                                   f"{fmt_count(r.get('up_to'))}",
                      "family": humanize(name),
                      "first": _level_label(fams[name]["levels"],
                                            (r.get("first_failing") or {}).get("level")),
                      "decision": str(r.get("decision", "")).upper(), "reason": str(r.get("reason", ""))})
    plan = rob.get("plan") or {}
    return {
        "tables": tables, "first": first, "rules": rules,
        "level": fmt_percent(rob.get("ci_level")), "n_cases": fmt_count(rob.get("n_cases")),
        "plan_sha256": str(plan.get("sha256", "")),
        "implementations": [{"family": humanize(f.get("family", "")),
                             "implementation": str(f.get("implementation", ""))}
                            for f in plan.get("families") or []],
        "comparison": str(rob.get("comparison", "")), "assessment": str(rob.get("assessment", "")),
    }


def robustness_sap_view(protocol: Mapping[str, Any], plan: Mapping[str, Any] | None = None
                        ) -> dict[str, Any] | None:
    """The SAP's robustness text from the locked protocol's section (None without one).

    ``plan`` (the perturbation plan recorded in ``results.json``) adds each family's
    description, unit and allowed range; the report layer does not read the protocol layer's
    family table itself.
    """
    sec = protocol.get("robustness")
    if not sec:
        return None
    described = {str(f.get("family")): f for f in (plan or {}).get("families") or []}
    eps = {e.get("id"): e for e in protocol.get("endpoints") or []}
    families = []
    for f in sec.get("families") or []:
        info = described.get(str(f.get("family"))) or {}
        values = ", ".join(_value(v) for v in f.get("severities") or [])
        allowed = info.get("allowed")
        families.append({
            "family": humanize(f.get("family", "")),
            "description": str(info.get("description") or NA),
            "severities": f"{info.get('parameter', 'value')} = {values}"
                          + (f" {info['unit']}" if info.get("unit") else ""),
            "range": f"[{_value(allowed[0])}, {_value(allowed[1])}]" if allowed else NA,
        })
    rules = []
    for r in sec.get("rules") or []:
        what = "lower bound of the interval" if r.get("bound", "lower") == "lower" else "estimate"
        fam = humanize(r["family"]) if r.get("family") else "every listed family (one decision each)"
        rules.append(f"{r['id']}: the {what} of "
                     f"{KIND_LABELS.get(str(eps.get(r['endpoint'], {}).get('kind')), r['endpoint'])} "
                     f"stays at or above {fmt_estimate(r['threshold'])} at every severity level up to "
                     f"{fmt_count(r['up_to'])} of {fam}")
    return {"endpoints": [KIND_LABELS.get(str(eps.get(e, {}).get("kind")), str(e))
                          for e in sec.get("endpoints") or []],
            "families": families, "rules": rules, "examples": fmt_count(sec.get("examples", 1))}
