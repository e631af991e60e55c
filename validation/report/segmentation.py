"""Report views of the segmentation section: the SAR tables (from ``results.json['segmentation']``)
and the SAP text (from the locked protocol's ``segmentation`` section). Formats only; computes
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from validation.report.context import fmt_ci, fmt_count, fmt_estimate, humanize

KIND_LABELS = {
    "dice": "Dice coefficient", "iou": "Intersection over union (Jaccard)",
    "hausdorff95": "95th-percentile Hausdorff distance (mm)", "hausdorff": "Hausdorff distance (mm)",
    "assd": "Average symmetric surface distance (mm)", "surface_dice": "Surface Dice",
    "bland_altman": "Bland-Altman agreement", "ccc": "Lin's concordance correlation",
    "icc": "Intraclass correlation", "kappa": "Kappa",
}
HYPOTHESIS_TEXT = {
    "mean_above": "lower confidence bound of the mean above the goal",
    "mean_below": "upper confidence bound of the mean below the goal",
    "proportion_above": "lower confidence bound of the proportion of cases meeting the threshold above the goal",
    "limits_within": "both limits of agreement, with their confidence bounds, inside the clinical range",
    "estimate_above": "lower confidence bound above the goal",
}


def _stat(s: Mapping[str, Any] | None) -> dict[str, str]:
    if not s:
        return {"estimate": "·", "ci": "·", "note": ""}
    if s.get("estimate") is None:
        return {"estimate": "not estimable", "ci": "·", "note": str(s.get("note", ""))}
    return {"estimate": fmt_estimate(s.get("estimate")), "ci": fmt_ci(s.get("ci")), "note": ""}


def _mask_row(label: str, block: Mapping[str, Any]) -> dict[str, Any]:
    return {"label": label, "n": fmt_count(block.get("n")), "patients": fmt_count(block.get("n_patients")),
            "mean": _stat(block.get("mean")), "median": _stat(block.get("median")),
            "proportion": _stat(block.get("proportion")) if block.get("proportion") else None,
            "substituted": fmt_count(block.get("substituted_worst"))}


def _measure_row(label: str, s: Mapping[str, Any], kind: str) -> dict[str, Any]:
    row = {"label": label, "n": fmt_count(s.get("n")), **_stat(s)}
    if kind == "bland_altman" and s.get("estimate") is not None:
        row.update(lower=fmt_estimate(s.get("lower")), upper=fmt_estimate(s.get("upper")),
                   lower_ci=fmt_ci(s.get("lower_bound_ci")), upper_ci=fmt_ci(s.get("upper_bound_ci")),
                   sd=fmt_estimate(s.get("sd")))
    return row


def segmentation_view(
    results: Mapping[str, Any], figures: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """View model of the SAR's segmentation section (``None`` when the run has none)."""
    seg = results.get("segmentation")
    if not seg:
        return None
    figs = dict(figures or {})
    masks, measures = [], []
    all_eps = seg.get("endpoints") or {}
    order = [e for e in seg.get("endpoint_order") or [] if e in all_eps] or sorted(all_eps)
    for eid in order:
        ep = all_eps[eid]
        kind = str(ep.get("kind"))
        title = KIND_LABELS.get(kind, humanize(kind))
        if ep.get("family") == "mask":
            thr = ep.get("threshold")
            rows = [_mask_row("Pooled", ep["pooled"])]
            rows += [_mask_row(f"Site {s}", b) for s, b in sorted((ep.get("by_site") or {}).items())]
            subgroups = [{"id": sid, "rows": [_mask_row(str(k), b) for k, b in sorted(levels.items())]}
                         for sid, levels in sorted((ep.get("by_subgroup") or {}).items()) if sid != "site"]
            masks.append({
                "id": eid, "title": title, "role": str(ep.get("role", "")),
                "label": "all labels" if ep.get("label") is None else f"label {ep.get('label')}",
                "threshold": None if thr is None else fmt_estimate(thr),
                "direction": "at or above" if ep.get("higher_is_better", True) else "at or below",
                "rows": rows, "subgroups": subgroups, "figure": (figs.get("box") or {}).get(eid),
            })
        else:
            rows = [_measure_row("Pooled", ep["pooled"], kind)]
            rows += [_measure_row(f"Site {s}", b, kind) for s, b in sorted((ep.get("by_site") or {}).items())]
            extra: dict[str, Any] = {}
            if kind == "bland_altman":
                pb = ep.get("proportional_bias") or {}
                rep = ep.get("repeated")
                extra = {
                    "limits_ci": str(ep["pooled"].get("limits_ci", "")),
                    "proportional_bias": {"slope": fmt_estimate(pb.get("estimate")), "ci": fmt_ci(pb.get("ci")),
                                          "p": fmt_estimate(pb.get("p_value"))} if pb.get("estimate") is not None
                    else None,
                    "repeated": (
                        {"bias": fmt_estimate(rep.get("bias")), "sd": fmt_estimate(rep.get("sd")),
                         "lower": fmt_estimate(rep.get("lower")), "upper": fmt_estimate(rep.get("upper")),
                         "subjects": fmt_count(rep.get("n_subjects")), "pairs": fmt_count(rep.get("n_pairs"))}
                        if rep and rep.get("bias") is not None else None),
                    "figure": (figs.get("bland_altman") or {}).get(eid),
                }
            columns = ep.get("columns") or {}
            what = (f"{columns.get('device')} against {columns.get('reference')}" if "device" in columns
                    else ", ".join(columns.get("raters") or []))
            measures.append({"id": eid, "kind": kind, "title": title, "role": str(ep.get("role", "")),
                             "what": what, "method": str(ep["pooled"].get("method", "")), "rows": rows, **extra})
    cases = seg.get("cases") or {}
    flow = seg.get("flow") or {}
    hyps = [{"id": h["id"], "endpoint": h["endpoint"], "rule": HYPOTHESIS_TEXT.get(h["type"], h["type"]),
             "target": (f"[{fmt_estimate(h['lower'])}, {fmt_estimate(h['upper'])}]" if h["type"] == "limits_within"
                        else fmt_estimate(h.get("goal"))),
             "estimate": fmt_estimate(h.get("estimate")), "ci": fmt_ci(h.get("ci")), "decision": h["decision"]}
            for h in seg.get("hypotheses") or []]
    return {
        "tolerance": fmt_estimate(seg.get("tolerance_mm")),
        "conventions": dict(seg.get("conventions") or {}),
        "cases": {k: fmt_count(v) for k, v in cases.items() if k != "labels"},
        "labels": ", ".join(str(x) for x in cases.get("labels") or []),
        "flow": ({"eligible": fmt_count(flow.get("eligible")), "excluded": fmt_count(flow.get("excluded_total")),
                  "analysed": fmt_count(flow.get("analysed")), "exclude": flow.get("unreadable") == "exclude",
                  "cases": [f"case {e['case_id']} label {e['label']}: {e['reason']}"
                            for e in flow.get("excluded_cases") or []]} if flow else None),
        "masks": masks, "measures": measures, "hypotheses": hyps,
        "hypotheses_note": str(seg.get("hypotheses_note", "")),
    }


def segmentation_plan_view(protocol: Mapping[str, Any]) -> dict[str, Any] | None:
    """View model of the SAP's segmentation section (``None`` when the protocol has none)."""
    plan = protocol.get("segmentation")
    if not plan:
        return None
    eps = []
    for e in plan.get("endpoints") or []:
        kind = str(e.get("kind"))
        detail = ""
        if e.get("threshold") is not None:
            detail = f"clinical threshold {fmt_estimate(e['threshold'])}"
        if e.get("device"):
            detail = f"{e['device']} against {e['reference']}"
        if e.get("columns"):
            detail = ", ".join(e["columns"]) + (f" ({e['weights']} weights)" if e.get("weights") else "")
        if kind == "icc":
            detail += f"; form {e.get('form')}"
        if kind == "bland_altman":
            detail += f"; {e.get('limits_ci')} intervals of the limits"
        eps.append({"id": str(e.get("id")), "kind": KIND_LABELS.get(kind, humanize(kind)),
                    "label": "all" if e.get("label") is None else str(e.get("label")),
                    "role": str(e.get("role", "")), "detail": detail})
    hyps = [{"id": str(h.get("id")), "endpoint": str(h.get("endpoint")),
             "rule": HYPOTHESIS_TEXT.get(str(h.get("type")), str(h.get("type"))),
             "target": (f"[{fmt_estimate(h.get('lower'))}, {fmt_estimate(h.get('upper'))}]"
                        if h.get("type") == "limits_within" else fmt_estimate(h.get("goal")))}
            for h in plan.get("hypotheses") or []]
    return {"tolerance": fmt_estimate(plan.get("tolerance_mm")), "mask_format": str(plan.get("mask_format", "")),
            "reference_annotator": str(plan.get("reference_annotator") or ""), "endpoints": eps,
            "hypotheses": hyps}
