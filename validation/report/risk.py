"""View models of the risk section: the report's calibration and prognostic tables (from
``results.json['risk']``) and the SAP's risk-analysis text (from the locked protocol).

Formatting only: every number is one value of ``results.json`` or of the protocol, written with
the report's rounding rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from validation.report.context import fmt_ci, fmt_count, fmt_df, fmt_estimate, fmt_p, fmt_percent, fmt_statistic

RISK_KIND_LABELS = {
    "calibration_slope": "Calibration slope",
    "calibration_intercept": "Calibration intercept",
    "brier": "Brier score",
    "ece": "Expected calibration error",
    "c_index": "Harrell's C-index",
    "time_auc": "Time-dependent AUC (Uno)",
    "hazard_ratio": "Cox hazard ratio of the score",
}
RULE_TEXT = {
    "interval_inside": "interval inside [{a}, {b}]",
    "lower_bound_above": "lower bound above {g}",
    "upper_bound_below": "upper bound below {g}",
}


def _num(x: Any) -> str:
    """A protocol constant (a bound or goal) as written, without trailing zeros."""
    return f"{float(x):g}"


def rule_text(rule: Mapping[str, Any]) -> str:
    bounds = rule.get("bounds") or [None, None]
    return RULE_TEXT[str(rule["rule"])].format(
        a=_num(bounds[0]) if bounds[0] is not None else "",
        b=_num(bounds[1]) if bounds[1] is not None else "",
        g=_num(rule["goal"]) if rule.get("goal") is not None else "",
    )


def _endpoint_row(eid: str, ep: Mapping[str, Any]) -> dict[str, str]:
    label = RISK_KIND_LABELS.get(str(ep.get("kind")), str(ep.get("kind")))
    if ep.get("kind") == "time_auc" and ep.get("horizon") is not None:
        label += f" at {_num(ep['horizon'])}"
    if ep.get("kind") == "hazard_ratio" and ep.get("per") is not None:
        label += f" (per {_num(ep['per'])} of score)"
    return {
        "id": eid,
        "label": label,
        "role": str(ep.get("role", "")),
        "estimate": fmt_estimate(ep.get("estimate")),
        "ci": fmt_ci(ep.get("ci")),
        "method": str(ep.get("method", "")),
    }


def _site_rows(endpoints: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    ids = [eid for eid, ep in endpoints.items() if ep.get("by_site")]
    sites = sorted({s for eid in ids for s in endpoints[eid]["by_site"]})
    rows = []
    for s in sites:
        cells = []
        for eid in ids:
            r = endpoints[eid]["by_site"].get(s) or {}
            est = fmt_estimate(r.get("estimate"))
            ci = fmt_ci(r.get("ci"))
            cells.append(est if ci == fmt_ci(None) else f"{est} ({ci})")
        rows.append({"site": s, "cells": cells})
    return ids, rows


def _calibration_view(cal: Mapping[str, Any]) -> dict[str, Any]:
    s = cal["summary"]
    b = cal["brier"]
    e = cal["ece"]
    hl = cal["hosmer_lemeshow"]
    citl = s["calibration_in_the_large"]
    coef = [
        {"label": "Calibration intercept (H0: 0)", **_coef(s["intercept"])},
        {"label": "Calibration slope (H0: 1)", **_coef(s["slope"])},
    ]
    return {
        "n": fmt_count(s["n"]),
        "events": fmt_count(s["n_events"]),
        "level": fmt_percent(1 - s["alpha"]),
        "coefficients": coef,
        "mean_predicted": fmt_estimate(citl["mean_predicted"]),
        "observed_rate": fmt_estimate(citl["observed_rate"]),
        "oe_ratio": fmt_estimate(citl["oe_ratio"]),
        "brier": fmt_estimate(b["estimate"]),
        "brier_scaled": fmt_estimate(b["scaled"]),
        "reliability": fmt_estimate(b["reliability"]),
        "resolution": fmt_estimate(b["resolution"]),
        "uncertainty": fmt_estimate(b["uncertainty"]),
        "spiegelhalter_z": fmt_statistic(b["spiegelhalter_z"]),
        "spiegelhalter_p": fmt_p(b["spiegelhalter_p"]),
        "ece": fmt_estimate(e["estimate"]),
        "ece_method": str(e["method"]),
        "hl": (
            {
                "statistic": fmt_statistic(hl["statistic"]),
                "df": fmt_df(hl["df"]),
                "p": fmt_p(hl["p_value"]),
                "caveat": str(hl["caveat"]),
            }
            if hl.get("statistic") is not None
            else None
        ),
        "curve_method": str(cal["curve"]["method"]),
        "bins": [
            {
                "range": f"{fmt_estimate(lo)}{'–'}{fmt_estimate(hi)}",
                "n": fmt_count(n),
                "mean": fmt_estimate(m),
                "observed": fmt_estimate(o),
            }
            for lo, hi, n, m, o in zip(
                cal["bins"]["low"],
                cal["bins"]["high"],
                cal["bins"]["n"],
                cal["bins"]["mean_predicted"],
                cal["bins"]["observed_rate"],
                strict=True,
            )
        ],
    }


def _coef(c: Mapping[str, Any]) -> dict[str, str]:
    return {
        "estimate": fmt_estimate(c["estimate"]),
        "se": fmt_estimate(c["se"]),
        "ci": fmt_ci(c["ci"]),
        "z": fmt_statistic(c["statistic"]),
        "p": fmt_p(c["p_value"]),
    }


def _prognostic_view(prog: Mapping[str, Any]) -> dict[str, Any]:
    c = prog["concordance"]
    out: dict[str, Any] = {
        "n": fmt_count(prog["n"]),
        "events": fmt_count(prog["n_events"]),
        "time_unit": str(prog["time_unit"]),
        "c": {
            "estimate": fmt_estimate(c["estimate"]),
            "se": fmt_estimate(c["se"]),
            "ci": fmt_ci(c["ci"]),
            "concordant": fmt_count(c["concordant"]),
            "discordant": fmt_count(c["discordant"]),
            "tied": fmt_count(c["tied_score"]),
        },
        "time_auc": [
            {
                "horizon": _num(h["horizon"]),
                "estimate": fmt_estimate(h["estimate"]),
                "ci": fmt_ci(h["ci"]),
                "cases": fmt_count(h["n_cases"]),
                "controls": fmt_count(h["n_controls"]),
            }
            for h in (prog.get("time_auc") or {}).get("horizons", [])
        ],
    }
    cox = prog["cox_score"]
    hr = cox["hazard_ratios"][0]
    ph = cox["ph_tests"][0]
    out["cox"] = [
        {
            "term": f"score (per {_num(cox.get('per', 1.0))})",
            "hr": fmt_estimate(hr["estimate"]),
            "ci": fmt_ci(hr["ci"]),
            "p": fmt_p(hr["p_value"]),
            "ph": fmt_p(ph["p_value"]),
        }
    ]
    groups = prog.get("cox_groups") or {}
    if groups.get("hazard_ratios"):
        ph_g = groups["ph_tests"][0]
        out["cox"] += [
            {
                "term": str(h["term"]),
                "hr": fmt_estimate(h["estimate"]),
                "ci": fmt_ci(h["ci"]),
                "p": fmt_p(h["p_value"]),
                "ph": fmt_p(ph_g["p_value"]),
            }
            for h in groups["hazard_ratios"]
        ]
    surv = prog.get("survival")
    if surv:
        lr = surv["logrank"]
        out["km"] = [
            {
                "group": str(cv["group"]),
                "n": fmt_count(cv["n"]),
                "events": fmt_count(cv["n_events"]),
                "median": fmt_estimate(cv["median"]),
                "median_ci": fmt_ci(cv["median_ci"]),
                "observed": fmt_count(o),
                "expected": fmt_estimate(ex),
            }
            for cv, o, ex in zip(surv["curves"], lr["observed"], lr["expected"], strict=True)
        ]
        out["logrank"] = {
            "statistic": fmt_statistic(lr["statistic"]),
            "df": fmt_df(lr["df"]),
            "p": fmt_p(lr["p_value"]),
        }
        out["level"] = fmt_percent(surv["level"])
    return out


def risk_view(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """The SAR's risk section (``None`` when the run has no risk block)."""
    risk = results.get("risk")
    if not risk:
        return None
    eps = risk.get("endpoints") or {}
    site_ids, site_rows = _site_rows(eps)
    return {
        "level": fmt_percent(risk.get("ci_level")),
        "n": fmt_count(risk.get("n")),
        "left_out": fmt_count(risk.get("n_indeterminate_left_out")),
        "endpoints": [_endpoint_row(eid, eps[eid]) for eid in sorted(eps)],
        "rules": [
            {
                "id": r["id"],
                "endpoint": r["endpoint"],
                "text": rule_text(r),
                "ci": fmt_ci(r["ci"]),
                "decision": str(r["decision"]),
                "reason": str(r["reason"]),
            }
            for r in risk.get("rules") or []
        ],
        "note": str(risk.get("note", "")),
        "site_columns": [RISK_KIND_LABELS.get(str(eps[i]["kind"]), i) for i in site_ids],
        "site_rows": site_rows,
        "calibration": _calibration_view(risk["calibration"]) if risk.get("calibration") else None,
        "prognostic": _prognostic_view(risk["prognostic"]) if risk.get("prognostic") else None,
        "recalibration": _recalibration_view(risk["recalibration"]) if risk.get("recalibration") else None,
    }


def _recalibration_view(rc: Mapping[str, Any]) -> dict[str, Any]:
    """The fit on the tuning split and the locked and recalibrated models on the evaluation split."""
    m = rc["model"]
    rows = [
        {"label": f"{name}: calibration {part}", **_coef(ev[part])}
        for name, ev in (("Locked model", rc["evaluation"]["locked"]),
                         ("Recalibrated", rc["evaluation"]["recalibrated"]))
        for part in ("intercept", "slope")
    ]
    return {
        "split": f"{rc['column']} = {rc['tuning']}",
        "n_tuning": fmt_count(rc["n_tuning"]),
        "events_tuning": fmt_count(m["n_events"]),
        "n_evaluation": fmt_count(rc["n_evaluation"]),
        "fit": [{"label": "a (constant)", **_coef(m["intercept"])}, {"label": "b (coefficient of logit p)",
                                                                     **_coef(m["slope"])}],
        "rows": rows,
        "brier_locked": fmt_estimate(rc["evaluation"]["locked"]["brier"]),
        "brier_recalibrated": fmt_estimate(rc["evaluation"]["recalibrated"]["brier"]),
        "note": str(rc.get("note", "")),
    }


def risk_sap_view(protocol: Mapping[str, Any]) -> dict[str, Any] | None:
    """The SAP's risk-analysis plan (``None`` when the protocol has no risk section)."""
    risk = protocol.get("risk")
    if not isinstance(risk, Mapping):
        return None
    eps = [e for e in protocol.get("endpoints") or [] if e.get("kind") in RISK_KIND_LABELS]
    cal = risk.get("calibration") or {}
    outcomes = risk.get("outcomes") or {}
    groups = risk.get("risk_groups") or {}
    return {
        "score_is_probability": bool(risk.get("score_is_probability")),
        "endpoints": [
            {"id": str(e["id"]), "label": RISK_KIND_LABELS[str(e["kind"])], "role": str(e.get("role", ""))}
            for e in eps
        ],
        "bins": str(cal.get("bins", 10)),
        "strategy": str(cal.get("strategy", "uniform")),
        "span": _num(cal.get("smoother_span", 2 / 3)),
        "band": str(cal.get("band_replicates", 200)),
        "outcomes": str(outcomes.get("file", "")) if outcomes else "",
        "time_unit": str(outcomes.get("time_unit", "")) if outcomes else "",
        "horizons": [_num(h) for h in risk.get("horizons") or []],
        "groups": (
            [
                {"label": str(lab), "range": rng}
                for lab, rng in zip(groups["labels"], _ranges(groups["cuts"]), strict=True)
            ]
            if groups
            else []
        ),
        "hr_per": _num(risk.get("hazard_ratio_per", 1.0)),
        "rules": [
            {"id": str(r["id"]), "endpoint": str(r["endpoint"]), "text": rule_text(r)}
            for r in risk.get("rules") or []
        ],
        "recalibration": (
            {"column": str(risk["recalibration"]["column"]), "tuning": str(risk["recalibration"]["tuning"])}
            if isinstance(risk.get("recalibration"), Mapping)
            else None
        ),
    }


def _ranges(cuts: list[float]) -> list[str]:
    edges = [_num(c) for c in cuts]
    out = [f"score < {edges[0]}"]
    out += [f"{a} <= score < {b}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    out.append(f"score >= {edges[-1]}")
    return out
