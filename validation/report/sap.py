"""View model of the statistical analysis plan (SAP), from the locked protocol alone.

Like the report's context it formats and never computes: the sample-size justification is the
plain plan the analysis layer produced (``results.json['sample_size']`` of a run, or the plan of
the locked protocol for ``validation protocol sap``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validation.report.context import (
    HYPOTHESIS_LABELS,
    KIND_LABELS,
    PROCEDURE_LABELS,
    ROUNDING,
    fmt_count,
    fmt_estimate,
    humanize,
    lcfirst,
    lock_parts,
    read_json,
)
from validation.report.segmentation import segmentation_plan_view


def _planned_difference(h: Mapping[str, Any], ep: Mapping[str, Any], reader: Any) -> str:
    """What Delta is for a comparative hypothesis, and the planned test (SAP wording)."""
    kind = str(ep.get("kind", ""))
    label = lcfirst(KIND_LABELS.get(kind, humanize(kind)))
    clustered = str(ep.get("unit") or "patient") == "finding"
    if kind.startswith("mrmc_"):
        mods = [str(m) for m in (reader or {}).get("modalities") or []]
        comp = str(h.get("comparator") or (mods[0] if mods else "the first modality"))
        test = next((m for m in reversed(mods) if m != comp), "the test modality")
        return (f"the reader-averaged {label} with {test} minus that with {comp} "
                "(Obuchowski-Rockette, random readers and cases, Hillis degrees of freedom)")
    col = h.get("comparator_column")
    if col:
        if kind == "auc":
            how = ("paired z test with Obuchowski's clustered DeLong covariance" if clustered
                   else "paired DeLong test")
        else:
            how = ("clustered paired Wald test with the ratio-estimator variance (Obuchowski "
                   "1998)" if clustered else "Tango's paired score test")
        return (f"the model's {label} minus that of the comparator read on the same cases "
                f"(manifest column {col}), tested by {how}")
    if h.get("goal") is not None:
        return f"the {label} minus the reference value {fmt_estimate(h.get('goal'))}"
    return f"the difference in {label}"


def _sample_size_view(plan: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The justification as the SAP shows it, formatted from the plain plan (the
    ``sample_size`` key of ``results.json``, or the plan the analysis layer computed from the
    locked protocol for ``validation protocol sap``); nothing is computed here."""
    if not plan:
        return None
    empty: dict[str, Any] = {"items": [], "required": None, "planned": None,
                              "adequate": None, "verdict": "", "joint": "", "enriched": "",
                              "multiplicity": "",
                              "error": None}
    if plan.get("error"):
        return {**empty, "error": str(plan["error"])}
    items = []
    for it in plan["items"]:
        items.append({
            "hypothesis": str(it["hypothesis"]),
            "text": str(it.get("justification") or it.get("note") or ""),
            "n_enrol": fmt_count(it.get("n_enrol")) if it.get("n_enrol") is not None else None,
        })
    joint = plan.get("joint_power") or {}
    return {
        **empty,
        "items": items,
        "required": (fmt_count(plan["required_cases"])
                     if plan.get("required_cases") is not None else None),
        "planned": (fmt_count(plan["planned_cases"])
                    if plan.get("planned_cases") is not None else None),
        "adequate": plan.get("adequate"),
        "verdict": str(plan.get("verdict") or ""),
        "joint": str(joint.get("text", "")),
        "enriched": str((plan.get("enriched") or {}).get("note") or ""),
        "multiplicity": " ".join(str(plan[k]) for k in ("multiplicity_note", "units_note")
                                 if plan.get(k)),
        "error": None,
    }


def consistency_plan_view(protocol: Mapping[str, Any]) -> dict[str, Any] | None:
    from validation.report.consistency import consistency_plan_view as view

    return view(protocol)


def _localization_sap(protocol: Mapping[str, Any]) -> dict[str, Any] | None:
    from validation.report.localization import localization_sap_view

    return localization_sap_view(protocol)


def _robustness_sap(protocol: Mapping[str, Any], plan: Mapping[str, Any] | None
                    ) -> dict[str, Any] | None:
    from validation.report.robustness import robustness_sap_view

    return robustness_sap_view(protocol, plan)


def sap_context(lock_path: str | Path, sample_size: Mapping[str, Any] | None = None,
                *, robustness_plan: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """View model of the statistical analysis plan, from the locked protocol alone.

    ``sample_size`` is the plain sample-size plan (``results.json['sample_size']`` of a run, or
    the analysis layer's plan of the locked protocol); without it the SAP shows the planning
    assumptions but no computed justification.
    """
    lock_path = Path(lock_path)
    lock = read_json(lock_path)
    protocol, approval, sha = lock_parts(lock)
    study = protocol.get("study") or {}
    endpoints = protocol.get("endpoints") or []
    ep_by_id = {e.get("id"): e for e in endpoints}
    reader = protocol.get("reader_study")
    hyps = []
    for h in protocol.get("hypotheses") or []:
        ep = ep_by_id.get(h.get("endpoint"), {})
        hyps.append({
            "delta": _planned_difference(h, ep, reader),
            "id": str(h.get("id")),
            "endpoint": str(h.get("endpoint")),
            "endpoint_label": KIND_LABELS.get(str(ep.get("kind")), humanize(ep.get("kind", ""))),
            "type": str(h.get("type")),
            "type_label": HYPOTHESIS_LABELS.get(str(h.get("type")), humanize(h.get("type", ""))),
            "goal": fmt_estimate(h.get("goal")) if h.get("goal") is not None else None,
            "margin": fmt_estimate(h.get("margin")) if h.get("margin") is not None else None,
            "comparator": str(h.get("comparator") or ""),
            "comparator_column": str(h.get("comparator_column") or ""),
        })
    subgroups = []
    for g in protocol.get("subgroups") or []:
        bins = g.get("bins")
        subgroups.append({"id": str(g.get("id")), "column": str(g.get("column")),
                          "bins": [fmt_count(b) for b in bins] if bins else None,
                          "labels": [str(x) for x in g.get("labels") or []]})
    test_set = protocol.get("test_set") or {}
    exclusions = [{"reason": humanize(e.get("reason", "")), "column": str(e.get("column", "")),
                   "excluding": ", ".join(str(v).lower() if isinstance(v, bool) else str(v)
                                       for v in e.get("values") or [])}
                  for e in test_set.get("exclusions") or []]
    sample = protocol.get("sample_size") or {}
    sample_rows = []
    for k, v in sample.items():
        if v is None or k == "assumptions":
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            sample_rows.append({"item": humanize(k), "value": str(v)})
        elif isinstance(v, int):
            sample_rows.append({"item": humanize(k), "value": fmt_count(v)})
        else:
            sample_rows.append({"item": humanize(k), "value": fmt_estimate(v)})
    sample_plan = _sample_size_view(sample_size)
    model = protocol.get("model") or {}
    multiplicity = protocol.get("multiplicity") or {}
    analysis = protocol.get("analysis") or {}
    return {
        "kind": "sap",
        "study": {"id": str(study.get("id", "")), "title": str(study.get("title", "")),
                  "version": str(study.get("version", "")), "sponsor": str(study.get("sponsor", "")),
                  "sha256": str(sha or "")},
        "yaml_sha256": str(lock.get("yaml_sha256", "")),
        "approval": {k: str(v) for k, v in (approval or {}).items()} or None,
        "device": {k: str(v) for k, v in (protocol.get("device") or {}).items()},
        "model": {"kind": str(model.get("kind", "")), "sha256": str(model.get("sha256", "")),
                  "operating_point": fmt_estimate(model.get("operating_point")),
                  "training_sites": [str(s) for s in model.get("training_sites") or []]},
        "reference_standard": str(test_set.get("reference_standard", "")),
        "exclusions": exclusions,
        "reader": ({"modalities": [str(m) for m in reader.get("modalities") or []],
                    "washout": fmt_count(reader.get("washout_days_min"))
                    if reader.get("washout_days_min") is not None else None}
                   if reader else None),
        "endpoints": [{"id": str(e.get("id")), "kind": str(e.get("kind")),
                       "label": KIND_LABELS.get(str(e.get("kind")), humanize(e.get("kind", ""))),
                       "unit": str(e.get("unit") or "patient"), "ci": str(e.get("ci") or ""),
                       "role": str(e.get("role") or "secondary")} for e in endpoints],
        "hypotheses": hyps,
        "alpha": fmt_estimate(protocol.get("alpha")),
        "sidedness": str(protocol.get("sidedness", "")),
        "multiplicity": {"procedure": PROCEDURE_LABELS.get(str(multiplicity.get("procedure")),
                                                           humanize(multiplicity.get("procedure",
                                                                                     "none"))),
                         "order": [str(x) for x in multiplicity.get("order") or []]},
        "multiplicity_key": str(multiplicity.get("procedure", "none")),
        "subgroups": subgroups,
        "populations": [humanize(p) for p in protocol.get("populations") or []],
        "sample_size": sample_rows,
        "sample_plan": sample_plan,
        "robustness": _robustness_sap(protocol, robustness_plan),
        "seed": fmt_count(analysis.get("seed")) if analysis.get("seed") is not None else None,
        "bootstrap_replicates": (fmt_count(analysis.get("bootstrap_replicates"))
                                 if analysis.get("bootstrap_replicates") is not None else None),
        "rounding": ROUNDING,
        "segmentation": segmentation_plan_view(protocol),
        "consistency": consistency_plan_view(protocol),
        "risk_plan": _risk_plan(protocol),
        "localization": _localization_sap(protocol),
    }


def _risk_plan(protocol: Mapping[str, Any]) -> dict[str, Any] | None:
    from validation.report.risk import risk_sap_view

    return risk_sap_view(protocol)
