"""View models for the dossier documents: ``results.json`` and the dossier files, formatted.

The report layer never computes a statistic. Every number a document shows is one number read
from ``results.json`` (the SAP: validation.report.sap), passed through exactly one of
the formatting rules declared in :data:`ROUNDING`. Tests rely on this: they extract every number
from the rendered HTML and PDF text and find each one among the source file's numbers formatted
by these rules.

Traceability values (hashes, dates, versions, run id, operator) are copied verbatim from their
own files (``protocol.lock.json``, ``inputs.json``, ``environment.json``,
``test_set_usage.json``, ``manifest.json``) and shown only in the title block and the
traceability appendix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validation.constants import ENVIRONMENT_FILE, INPUTS_FILE, LOCK_FILE, MANIFEST_FILE, RESULTS_FILE
from validation.errors import RenderError

#: The declared rounding: rule name -> how a number read from a source file is shown.
ROUNDING: dict[str, str] = {
    "estimate": "3 decimals (proportions, AUC, differences, CI bounds, goals, margins, "
    "thresholds, alpha)",
    "statistic": "3 decimals (z, F, chi-square test statistics)",
    "df": "2 decimals, integers without decimals (degrees of freedom)",
    "p_value": "4 decimals; below 0.0001 shown as '< 0.0001'",
    "variance": "3 significant digits (variance components)",
    "count": "integer, as recorded",
    "percent": "level x 100 without decimals (confidence level of a band or interval)",
}

NA = "\u2014"  # em dash: not applicable / not recorded
MINUS = "\u2212"  # typographic minus sign for negative numbers
DASH = "\u2013"  # en dash between CI bounds


def _neg(text: str) -> str:
    return MINUS + text[1:] if text.startswith("-") else text


def fmt_estimate(x: float | None) -> str:
    """Rule ``estimate``: 3 decimals; ``NA`` for a missing value."""
    if x is None:
        return NA
    out = f"{float(x):.3f}"
    return _neg("0.000" if out == "-0.000" else out)


def fmt_statistic(x: float | None) -> str:
    """Rule ``statistic``: 3 decimals."""
    return fmt_estimate(x)


def fmt_df(x: float | None) -> str:
    """Rule ``df``: integers as integers, otherwise 2 decimals."""
    if x is None:
        return NA
    x = float(x)
    if x.is_integer():
        return str(int(x))
    return f"{x:.2f}"


def fmt_p(x: float | None) -> str:
    """Rule ``p_value``: 4 decimals, ``< 0.0001`` below that."""
    if x is None:
        return NA
    x = float(x)
    if x < 0.0001:
        return "< 0.0001"
    return f"{x:.4f}"


def fmt_variance(x: float | None) -> str:
    """Rule ``variance``: 3 significant digits, fixed notation."""
    if x is None:
        return NA
    x = float(x)
    if x == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return _neg(f"{x:.{digits}f}")


def fmt_count(x: int | float | None) -> str:
    """Rule ``count``: integer."""
    if x is None:
        return NA
    return _neg(str(int(x)))


def fmt_percent(level: float | None) -> str:
    """Rule ``percent``: a level in (0, 1) as a whole percentage (0.95 -> '95')."""
    if level is None:
        return NA
    return f"{float(level) * 100:.0f}"


def fmt_ci(ci: Any) -> str:
    """Two CI bounds with the ``estimate`` rule, joined by an en dash."""
    if not ci or len(ci) != 2 or ci[0] is None or ci[1] is None:
        return NA
    return f"{fmt_estimate(ci[0])}{DASH}{fmt_estimate(ci[1])}"


#: rule name -> formatter; the tests format every source number with each of these.
FORMATTERS = {
    "estimate": fmt_estimate,
    "statistic": fmt_statistic,
    "df": fmt_df,
    "p_value": fmt_p,
    "variance": fmt_variance,
    "count": fmt_count,
    "percent": fmt_percent,
}

KIND_LABELS = {
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "ppv": "Positive predictive value",
    "npv": "Negative predictive value",
    "accuracy": "Accuracy",
    "auc": "Area under the ROC curve",
    "mrmc_auc": "MRMC area under the ROC curve",
    "mrmc_sensitivity": "MRMC sensitivity",
    "mrmc_specificity": "MRMC specificity",
    "mrmc_wafroc": "MRMC wAFROC figure of merit",
    "wafroc": "wAFROC figure of merit",
    "froc_llf": "Lesion-localization fraction",
}

HYPOTHESIS_LABELS = {
    "performance_goal": "Performance goal",
    "noninferiority": "Non-inferiority",
    "superiority": "Superiority",
    "equivalence": "Equivalence",
}

PROCEDURE_LABELS = {
    "fixed_sequence": "fixed-sequence (hierarchical) testing",
    "holm": "Holm step-down procedure",
    "hochberg": "Hochberg step-up procedure",
    "graphical": "graphical approach of Bretz et al. (2009)",
    "coprimary": "co-primary endpoints (all must succeed; no alpha split)",
    "none": "no multiplicity adjustment",
}


def lcfirst(text: str) -> str:
    """Lower-case the first word unless it is an acronym ("Area under" -> "area under")."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[1:].isupper():
        return text
    return text[:1].lower() + text[1:]


def humanize(key: str) -> str:
    """``consent_withdrawn`` -> ``Consent withdrawn`` (labels only, never numbers)."""
    words = str(key).replace("_", " ").split()
    words = [w.upper() if w.lower() in _ACRONYMS else w for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


_ACRONYMS = {"ai", "ct", "mri", "id", "ppv", "npv", "auc", "roc", "mrmc", "ni"}


def read_json(path: Path, *, required: bool = True) -> Any:
    """Read a dossier JSON file; a missing required file is a :class:`RenderError`."""
    if not path.is_file():
        if required:
            raise RenderError(f"'{path.name}' must exist in the run directory; got no such file "
                              f"in {path.parent.name!r}. Run the analysis first.")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RenderError(f"'{path.name}' must be valid JSON; got an error at line {exc.lineno}: "
                          f"{exc.msg}.") from exc


def lock_parts(lock: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """Split a protocol lock (as written to ``protocol.lock.json``) into (protocol dict, the last
    approval, protocol sha256), read by the one lock reader (:mod:`validation.lockfile`)."""
    from validation.errors import LockError
    from validation.lockfile import lock_from_mapping

    try:
        checked = lock_from_mapping(lock, source="protocol.lock.json")
    except LockError as exc:
        raise RenderError(str(exc)) from None
    approval = checked.approvals[-1].to_dict() if checked.approvals else None
    return dict(checked.protocol), approval, checked.protocol_sha256


# --------------------------------------------------------------------------------------- SAR


def _stat_row(label: str, stat: Mapping[str, Any] | None) -> dict[str, str]:
    stat = stat or {}
    frac = NA
    if stat.get("successes") is not None and stat.get("n") is not None:
        frac = f"{fmt_count(stat['successes'])}/{fmt_count(stat['n'])}"
    return {
        "label": label,
        "n": fmt_count(stat.get("n")),
        "fraction": frac,
        "estimate": fmt_estimate(stat.get("estimate")),
        "ci": fmt_ci(stat.get("ci")),
        "method": str(stat.get("method", "")),
    }


def _confusion_view(label: str, c: Mapping[str, Any]) -> dict[str, Any]:
    return {"label": label, **{k: fmt_count(c.get(k)) for k in ("tp", "fp", "fn", "tn", "n")}}


def _hypothesis_view(h: Mapping[str, Any], endpoints: Mapping[str, Any]) -> dict[str, str]:
    ep = endpoints.get(str(h.get("endpoint")), {})
    kind = ep.get("kind", h.get("endpoint", ""))
    if h.get("goal") is not None:
        target = f"goal {fmt_estimate(h['goal'])}"
    elif h.get("margin") is not None:
        target = f"margin {fmt_estimate(h['margin'])}"
    else:
        target = ""
    if h.get("comparator_column"):
        target = " ".join(filter(None, [target, f"vs comparator {h['comparator_column']}"]))
    return {
        "id": str(h.get("id", "")),
        "endpoint": str(h.get("endpoint", "")),
        "endpoint_label": KIND_LABELS.get(kind, humanize(kind)),
        "type": HYPOTHESIS_LABELS.get(str(h.get("type")), humanize(h.get("type", ""))),
        "target": target,
        "test": str(h.get("test", "")),
        "estimate": fmt_estimate(h.get("estimate")),
        "ci": fmt_ci(h.get("ci")),
        "statistic": fmt_statistic(h.get("statistic")),
        "df": fmt_df(h.get("df")),
        "p_value": fmt_p(h.get("p_value")),
        "p_adjusted": fmt_p(h.get("p_adjusted")),
        "alpha": fmt_estimate(h.get("alpha")),
        "decision": str(h.get("decision", "")).upper(),
        "reason": str(h.get("reason", "")),
    }


def _endpoint_view(eid: str, ep: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(ep.get("kind", eid))
    sites = [_stat_row(str(s), st) for s, st in sorted((ep.get("by_site") or {}).items())]
    subgroups = []
    for gid, levels in sorted((ep.get("by_subgroup") or {}).items()):
        subgroups.append({"id": gid, "label": humanize(gid),
                          "rows": [_stat_row(str(lv), st) for lv, st in sorted(levels.items())]})
    indet = ep.get("indeterminate")
    indet_rows = None
    if indet:
        indet_rows = [_stat_row("Indeterminate as positive", indet.get("as_positive")),
                      _stat_row("Indeterminate as negative", indet.get("as_negative"))]
    return {
        "id": eid,
        "kind": kind,
        "label": KIND_LABELS.get(kind, humanize(kind)),
        "role": str(ep.get("role") or "secondary"),
        "unit": str(ep.get("unit") or "patient"),
        "ci_method": str(ep.get("ci_method") or (ep.get("pooled") or {}).get("method", "")),
        "pooled": _stat_row("Pooled", ep.get("pooled")),
        "sites": sites,
        "subgroups": subgroups,
        "indeterminate": indet_rows,
        "has_counts": (ep.get("pooled") or {}).get("successes") is not None,
    }


def _reader_view(rs: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not rs:
        return None
    modalities = list((rs.get("modalities") or {}).keys())
    readers: list[str] = []
    for m in modalities:
        for r in (rs["modalities"][m].get("readers") or {}):
            if r not in readers:
                readers.append(r)
    rows = []
    for r in readers:
        rows.append({"reader": r, "foms": [
            fmt_estimate((rs["modalities"][m].get("readers") or {}).get(r)) for m in modalities]})
    means = [fmt_estimate(rs["modalities"][m].get("estimate")) for m in modalities]
    analyses = []
    for key, label in (("rrrc", "Random readers, random cases (RRRC)"),
                       ("frrc", "Fixed readers, random cases (FRRC)"),
                       ("rrfc", "Random readers, fixed cases (RRFC)")):
        a = rs.get(key)
        if not a:
            continue
        df = fmt_df(a.get("df_num"))
        if a.get("df_den") is not None:
            df = f"{df}, {fmt_df(a.get('df_den'))}"
        analyses.append({"label": label, "statistic": fmt_statistic(a.get("statistic")),
                         "df": df, "p_value": fmt_p(a.get("p_value")), "ci": fmt_ci(a.get("ci"))})
    vc = rs.get("variance_components") or {}
    components = [{"name": k, "value": fmt_variance(v)} for k, v in vc.items() if v is not None]
    conduct_rows = _conduct_rows(rs.get("conduct") or {})
    return {
        "endpoint": KIND_LABELS.get(str(rs.get("endpoint")), humanize(rs.get("endpoint", "auc"))),
        "modalities": modalities,
        "comparison": f"{modalities[-1]} minus {modalities[0]}" if len(modalities) >= 2 else "",
        "readers": rows,
        "means": means,
        "difference": fmt_estimate((rs.get("difference") or {}).get("estimate")),
        "analyses": analyses,
        "components": components,
        "conduct": conduct_rows,
        "method": str(rs.get("method", "")),
    }


def _conduct_rows(conduct: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per study-conduct check (status and what was found), then the overall verdict."""
    rows: list[dict[str, str]] = []
    for key, c in (conduct.get("checks") or {}).items():
        if not isinstance(c, Mapping):
            continue
        problems = list(c.get("problems") or [])
        more = f" ({len(problems)} problem(s), e.g. {problems[0]})" if problems else ""
        rows.append({"check": humanize(str(c.get("name") or key)),
                     "result": f"{c.get('status', '')}: {c.get('detail', '')}{more}"})
    if "passed" in conduct:
        rows.append({"check": "All conduct checks", "result": "passed" if conduct["passed"] else "failed"})
    return rows


def _references(results: Mapping[str, Any]) -> list[str]:
    """Every distinct reference string found anywhere in ``results`` (first-seen order)."""
    found: list[str] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, Mapping):
            for key, value in obj.items():
                if key == "references" and isinstance(value, list):
                    for ref in value:
                        if isinstance(ref, str) and ref not in found:
                            found.append(ref)
                else:
                    walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    walk(results)
    return found


def _first(mapping: Mapping[str, Any] | None, *keys: str) -> Any:
    if not mapping:
        return None
    for key in keys:
        if mapping.get(key) not in (None, ""):
            return mapping[key]
    return None


def traceability(run_dir: Path, results: Mapping[str, Any] | None) -> dict[str, Any]:
    """The traceability appendix: values copied verbatim from the dossier files."""
    lock = read_json(run_dir / LOCK_FILE, required=False) or {}
    inputs = read_json(run_dir / INPUTS_FILE, required=False)
    env = read_json(run_dir / ENVIRONMENT_FILE, required=False) or {}
    usage = read_json(run_dir / "test_set_usage.json", required=False)
    manifest = read_json(run_dir / MANIFEST_FILE, required=False)
    approval = None
    if lock:
        _, approval, _ = lock_parts(lock)
    rows: list[dict[str, str]] = []

    def add(item: str, value: Any, source: str) -> None:
        if value not in (None, ""):
            rows.append({"item": item, "value": str(value), "source": source})

    protocol = (results or {}).get("protocol") or {}
    add("Protocol sha256", protocol.get("sha256") or lock.get("sha256"), RESULTS_FILE)
    add("Protocol YAML sha256", lock.get("yaml_sha256"), LOCK_FILE)
    add("Model sha256", ((results or {}).get("model") or {}).get("sha256"), RESULTS_FILE)
    run_id = run_dir.name.removesuffix(".incomplete")
    add("Run id", run_id, "run directory name")
    add("Run date (UTC)", _first(env, "created_utc", "time_utc", "date_utc", "timestamp"),
        ENVIRONMENT_FILE)
    operator = _first(env, "operator")
    if operator is None and usage:
        entries = usage.get("entries") or usage.get("accesses") or []
        if entries:
            operator = _first(entries[-1], "operator", "who")
    add("Operator", operator, "environment.json / test_set_usage.json")
    add("Suite version", _first(env, "suite_version", "validation_version"), ENVIRONMENT_FILE)
    add("Code git commit", _first(env, "git_commit", "commit"), ENVIRONMENT_FILE)
    add("Python", _first(env, "python", "python_version"), ENVIRONMENT_FILE)
    add("Platform", _first(env, "platform"), ENVIRONMENT_FILE)
    add("Renderer", _first(env, "renderer"), ENVIRONMENT_FILE)
    add("Seed", (results or {}).get("seed"), RESULTS_FILE)

    files: list[dict[str, str]] = []
    if inputs:
        # inputs.json: {"inputs": {role: {path, size, sha256, ...}}}; older layouts kept
        entries = (inputs.get("inputs", inputs.get("files", inputs))
                   if isinstance(inputs, Mapping) else inputs)
        if isinstance(entries, Mapping):
            entries = [{"role": k, **(v if isinstance(v, Mapping) else {"sha256": v})}
                       for k, v in entries.items()]
        for entry in entries or []:
            files.append({"role": str(entry.get("role", "")), "path": str(entry.get("path", "")),
                          "size": str(entry.get("size", "")), "sha256": str(entry.get("sha256", ""))})
    packages = env.get("packages") or {}
    if isinstance(packages, list):
        packages = {p.get("name"): p.get("version") for p in packages if isinstance(p, Mapping)}
    usage_view = None
    if usage:
        entries = usage.get("entries") or usage.get("accesses") or []
        usage_view = {"uses": str(usage.get("uses", len(entries))),
                      "models": sorted({str(e.get("model_sha256")) for e in entries
                                        if e.get("model_sha256")}),
                      "test_set": str(usage.get("test_set_sha256", "")),
                      "accesses": [{"when": str(e.get("accessed_utc", "")),
                                    "run": str(e.get("run_id", "")),
                                    "model": str(e.get("model_sha256", ""))[:16],
                                    "status": str(e.get("status", ""))} for e in entries]}
    return {
        "rows": rows,
        "files": files,
        "packages": [{"name": str(k), "version": str(v)} for k, v in sorted(packages.items())],
        "approval": {k: str(v) for k, v in (approval or {}).items()} or None,
        "usage": usage_view,
        "manifest": bool(manifest),
    }


def _endpoint_order(endpoints: Mapping[str, Any], protocol: Mapping[str, Any]) -> list[str]:
    """Endpoints in the protocol's order (primary first when the protocol is not at hand)."""
    listed = [str(e.get("id")) for e in protocol.get("endpoints") or [] if isinstance(e, Mapping)]
    order = [e for e in listed if e in endpoints]
    rank = {"primary": 0, "secondary": 1}
    rest = sorted((e for e in endpoints if e not in order),
                  key=lambda e: (rank.get(str(endpoints[e].get("role")), 2), e))
    return order + rest


def _explanations_view(results: Mapping[str, Any]) -> dict[str, Any]:
    """The error-analysis section: saliency figures of sampled errors, or why there are none."""
    ex = results.get("explanations")
    kind = str((results.get("model") or {}).get("kind", ""))
    if not isinstance(ex, Mapping):
        why = ("the locked artifact is a file of precomputed predictions, with no image model to "
               "explain" if kind == "precomputed" else
               "the locked model's card defines no image input")
        return {"present": False, "why": why, "items": []}
    method = str(ex.get("method") or "grad-cam")
    items = []
    for it in ex.get("items") or []:
        items.append({
            "case_id": str(it.get("case", "")),
            "site": str(it.get("site", "")),
            "kind": "false negative" if it.get("kind") == "FN" else "false positive",
            "score": fmt_estimate(it.get("score")),
            "truth": fmt_count(it.get("truth")),
            "file": Path(str(it.get("image", ""))).name,
        })
    return {"present": True, "method": {"grad-cam": "Grad-CAM",
                                        "occlusion": "occlusion sensitivity"}.get(method, method),
            "disclaimer": str(ex.get("disclaimer", "")), "items": items,
            "why": "" if items else "the model made no error at the locked operating point"}


def sar_context(run_dir: str | Path) -> dict[str, Any]:
    """View model of the statistical / clinical performance report for ``run_dir``."""
    run_dir = Path(run_dir)
    results = read_json(run_dir / RESULTS_FILE)
    for key in ("protocol", "flow", "endpoints", "hypotheses"):
        if key not in results:
            raise RenderError(f"'results.json' must have the key {key!r}; got keys "
                              f"{sorted(results)!r}.")
    lock = read_json(run_dir / LOCK_FILE, required=False)
    protocol: dict[str, Any] = {}
    if lock:
        protocol, _, _ = lock_parts(lock)
    endpoints = results.get("endpoints") or {}
    flow = results.get("flow") or {}
    confusion = results.get("confusion") or {}
    roc = results.get("roc") or {}
    op = roc.get("operating_point") or {}
    model = results.get("model") or {}
    device = protocol.get("device") or {}
    test_set = protocol.get("test_set") or {}
    band = (roc.get("pooled") or {}).get("band")
    multiplicity = results.get("multiplicity") or {}
    deviations = []
    for i, d in enumerate(results.get("deviations") or []):
        if isinstance(d, Mapping):
            deviations.append({"id": str(d.get("id", f"D{i + 1}")),
                               "description": str(d.get("description", "")),
                               "impact": str(d.get("impact", "")),
                               "approved_by": str(d.get("approved_by", ""))})
        else:
            deviations.append({"id": f"D{i + 1}", "description": str(d), "impact": "",
                               "approved_by": ""})
    pooled_conf = confusion.get("pooled")
    return {
        "kind": "sar",
        "study": {
            "id": str(results["protocol"].get("study_id", "")),
            "title": str(results["protocol"].get("title", "")),
            "version": str(results["protocol"].get("version", "")),
            "sha256": str(results["protocol"].get("sha256", "")),
            "sponsor": str((protocol.get("study") or {}).get("sponsor", "")),
        },
        "device": {"name": str(device.get("name", "")), "version": str(device.get("version", "")),
                   "intended_use": str(device.get("intended_use", ""))},
        "reference_standard": str(test_set.get("reference_standard", "")),
        "model": {"kind": str(model.get("kind", "")), "sha256": str(model.get("sha256", "")),
                  "operating_point": fmt_estimate(model.get("operating_point"))},
        "flow": {
            "eligible": fmt_count(flow.get("eligible")),
            "excluded": [{"reason": humanize(r), "n": fmt_count(n)}
                         for r, n in sorted((flow.get("excluded") or {}).items())],
            "analysed": fmt_count(flow.get("analysed")),
            "indeterminate": fmt_count(flow.get("indeterminate")),
            "positive": fmt_count((flow.get("by_reference") or {}).get("positive")),
            "negative": fmt_count((flow.get("by_reference") or {}).get("negative")),
        },
        "confusion": {
            "pooled": _confusion_view("Pooled", pooled_conf) if pooled_conf else None,
            "sites": [_confusion_view(str(s), c)
                      for s, c in sorted((confusion.get("by_site") or {}).items())],
        },
        "endpoints": [_endpoint_view(eid, endpoints[eid])
                      for eid in _endpoint_order(endpoints, protocol)],
        "roc": {
            "present": bool((roc.get("pooled") or {}).get("fpr")),
            "threshold": fmt_estimate(op.get("threshold")),
            "sensitivity": fmt_estimate(op.get("sensitivity")),
            "specificity": fmt_estimate(op.get("specificity")),
            "band": ({"level": fmt_percent(band.get("level")), "method": str(band.get("method", ""))}
                     if band else None),
        },
        "reader": _reader_view(results.get("reader_study")),
        "localization": None,  # filled by render_report (validation.report.localization)
        "hypotheses": [_hypothesis_view(h, endpoints) for h in results.get("hypotheses") or []],
        "multiplicity": {
            "procedure": PROCEDURE_LABELS.get(str(multiplicity.get("procedure")),
                                              humanize(multiplicity.get("procedure", "none"))),
            "alpha": fmt_estimate(multiplicity.get("alpha")),
            "order": [str(x) for x in multiplicity.get("order") or []],
            "description": str(multiplicity.get("description", "")),
        },
        "deviations": deviations,
        "errors": _explanations_view(results),
        "references": _references(results),
        "traceability": traceability(run_dir, results),
        "rounding": ROUNDING,
    }
