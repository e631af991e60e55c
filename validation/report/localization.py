"""Report view of the ``localization`` block: JAFROC reader study, marks flow, the algorithm.

Formats what results.json holds (never recomputes): the matching counts (marks, lesion and
non-lesion localizations, duplicates ignored), the design table (marks per reader and
modality), the per-reader figure of merit and the OR/DBM analyses (the reader-study view of
the report), and the algorithm's figure of merit and lesion-localization fraction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from validation.report.context import (
    _reader_view,
    fmt_ci,
    fmt_count,
    fmt_estimate,
)


def localization_view(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """The localization section of the statistical report, or ``None`` without one."""
    loc = results.get("localization")
    if not loc:
        return None
    by_ep = loc.get("by_endpoint") or {}
    first = next(iter(by_ep.values()), None)
    if first:
        vc = {k: v for k, v in (first.get("variance_components") or {}).items()
              if isinstance(v, (int, float)) and not isinstance(v, bool)}
        order = [m for m in loc.get("modality_order") or [] if m in (first.get("modalities") or {})]
        mods_in_order = {m: first["modalities"][m] for m in order} or first.get("modalities")
        first = {**first, "variance_components": vc, "modalities": mods_in_order}
    match = loc.get("match") or {}
    design = loc.get("design") or {}
    marks = design.get("marks") or {}
    mods = list(design.get("modalities") or [])
    rows = [{"reader": r, "marks": [fmt_count((marks.get(m) or {}).get(r)) for m in mods]}
            for r in design.get("readers") or []]
    alg = loc.get("algorithm")
    algorithm = None
    if alg:
        est = alg.get("estimate") or {}
        op = alg.get("operating_point") or {}
        llf = alg.get("llf_bootstrap") or {}
        algorithm = {
            "fom": fmt_estimate(est.get("estimate")), "ci": fmt_ci(est.get("ci")),
            "method": str(est.get("method", "")),
            "threshold": fmt_estimate(op.get("threshold")) if op else None,
            "llf": fmt_estimate(op.get("llf")) if op else None,
            "llf_ci": fmt_ci(llf.get("ci")) if llf else None,
            "nlf": fmt_estimate(op.get("nlf")) if op else None,
            "lesions": fmt_count(op.get("n_lesions")) if op else None,
        }
    return {
        "fom": str(loc.get("figure_of_merit", "wAFROC")),
        "reader": _reader_view(first) if first else None,
        "match": {k: fmt_count(match.get(k)) for k in (
            "n_marks", "n_lesion_localizations", "n_non_lesion_localizations", "n_duplicates",
            "n_cases", "n_diseased", "n_lesions")} | {"rule": str(match.get("rule", ""))},
        "design": {"modalities": mods, "rows": rows, "kind": str(design.get("kind", ""))},
        "algorithm": algorithm,
    }


def localization_sap_view(protocol: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the SAP states about the localization analysis, from the locked protocol."""
    sec = protocol.get("localization")
    if not sec:
        return None
    return {"fom": str(sec.get("figure_of_merit") or "wAFROC"),
            "modalities": [str(m) for m in sec.get("modalities") or []],
            "threshold": (fmt_estimate(sec.get("llf_threshold"))
                          if sec.get("llf_threshold") is not None else None),
            "readers": bool(sec.get("marks")), "algorithm": bool(sec.get("algorithm_marks"))}
