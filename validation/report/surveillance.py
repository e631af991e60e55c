"""The periodic post-market surveillance report, rendered from a surveillance status dict.

``status`` (what :func:`validation.surveillance.surveillance_status` returns, ``status.json``) ->
view model (this module: labels and the declared rounding, no statistic) -> figures
(:mod:`.surveillance_figures`) -> ``surveillance.qmd`` (``reports/surveillance.qmd.j2``) -> HTML /
PDF / DOCX through the dossier's renderer (:func:`validation.report.render.render_qmd`).
The report formats numbers; it never computes one. Performance estimated without labels is
always labelled *estimated*.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from validation._atomic import write_text_atomic
from validation.errors import InputError, RenderError
from validation.report.context import fmt_ci, fmt_count, fmt_estimate, fmt_p
from validation.report.qmd import _environment, _tidy, copy_styles, templates_dir
from validation.report.render import check_formats, render_qmd
from validation.report.surveillance_figures import (
    METRIC_LABELS,
    chart_figure,
    metric_figure,
    scope_label,
    set_png,
    slug,
    subgroup_figure,
)

REQUIRED = ("schema_version", "plan", "registry", "periods", "metrics", "charts", "drift", "alarms")
PERFORMANCE = ("sensitivity", "specificity", "ppv", "positive_call_rate", "auc")
CHART_KINDS = {
    "bernoulli_cusum": "Bernoulli CUSUM (case by case)",
    "binomial_cusum": "binomial CUSUM (period counts)",
    "normal_cusum": "normal-theory CUSUM of the period metric",
    "ewma": "EWMA of the period proportion",
}
CHECK_LABELS = {"psi": "PSI", "ks": "KS", "chi2": "chi-square"}
SUBGROUP_METRIC = "sensitivity"


def _num(value: Any) -> str:
    """A figure of an alarm or a chart: counts as integers, other numbers to 3 decimals."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return fmt_count(value)
    if isinstance(value, float):
        return fmt_estimate(value)
    if value is None:
        return "NA"
    return str(value)


def _obs(cell: dict[str, Any] | None) -> str:
    if not cell or cell.get("estimate") is None:
        return "NA"
    return f"{fmt_estimate(cell['estimate'])} ({fmt_ci(cell.get('ci'))})"


def _trials(cell: dict[str, Any] | None) -> str:
    return fmt_count(cell.get("trials")) if cell and cell.get("trials") is not None else "NA"


def _est(cell: dict[str, Any] | None) -> str:
    if not cell or cell.get("estimate") is None:
        return "NA"
    return f"{fmt_estimate(cell['estimate'])} ({fmt_ci(cell.get('band'))})"


def check_status(status: Any) -> dict[str, Any]:
    """The status dict, checked for the keys the report reads."""
    if not isinstance(status, dict):
        raise InputError(f"'status' must be a surveillance status dict; got {type(status).__name__}.")
    missing = [k for k in REQUIRED if k not in status]
    if missing:
        raise InputError(f"'status' must have the keys {', '.join(REQUIRED)}; it lacks "
                         f"{', '.join(missing)}. Pass the dict of 'validation surveil status "
                         "--json'.")
    if str(status["schema_version"]).split(".")[0] != "1":
        raise InputError(f"'status.schema_version' must be 1.x; got {status['schema_version']!r}.")
    return status


def _periods(status: dict[str, Any]) -> list[str]:
    return [str(p["period"]) for p in status["periods"]]


def _scopes(status: dict[str, Any]) -> list[str]:
    sites = list(status["plan"].get("sites") or [])
    seen = sorted({m["site"] for m in status["metrics"] if m.get("site")} - set(sites))
    return ["all sites", *sites, *seen]


def _metric_rows(status: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """metric -> rows of the pooled and site cells (subgroups apart)."""
    out: dict[str, list[dict[str, Any]]] = {m: [] for m in PERFORMANCE}
    for m in status["metrics"]:
        if m.get("subgroup") or m["metric"] not in out:
            continue
        out[m["metric"]].append({**m, "scope": scope_label(m.get("site"), None)})
    return out


def _alarm_rows(status: dict[str, Any], chart_fig: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for a in sorted(status["alarms"], key=lambda a: (str(a.get("period")), str(a.get("rule")),
                                                      str(a.get("site")), repr(a.get("subgroup")))):
        figures = a.get("figures") or {}
        rows.append({"period": a.get("period"), "first_detected": a.get("first_detected"),
                     "scope": scope_label(a.get("site"), a.get("subgroup")),
                     "metric": METRIC_LABELS.get(str(a.get("metric")), str(a.get("metric"))),
                     "rule": a.get("rule"), "severity": a.get("severity"),
                     "figures": [{"name": str(k).replace("_", " "), "value": _num(v)}
                                 for k, v in sorted(figures.items())],
                     "chart": chart_fig.get(str(a.get("rule")))})
    return rows


def _chart_sections(status: dict[str, Any], periods: list[str], fig_dir: Path
                    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for c in status["charts"]:
        by_rule.setdefault(str(c["rule"]), []).append(c)
    sections: list[dict[str, Any]] = []
    fig_of_rule: dict[str, str] = {}
    for rule, charts in by_rule.items():
        main = [c for c in charts if not c.get("subgroup")]
        subs = [c for c in charts if c.get("subgroup")]
        first = charts[0]
        figs: list[dict[str, Any]] = []
        for part, group in (("scopes", main), ("subgroups", subs)):
            if any(c.get("points") for c in group):
                figs.append({"name": chart_figure(group, periods, fig_dir, f"chart-{slug(rule)}-{part}"),
                             "what": "pooled and per site" if part == "scopes" else "per subgroup",
                             "truncated": len(group) > 12})
        if figs:
            fig_of_rule[rule] = figs[0]["name"]
        rows = [{"scope": scope_label(c.get("site"), c.get("subgroup")),
                 "limit": _num(c.get("limit")), "arl0": _num(c.get("arl0")),
                 "arl1": _num(c.get("arl1")),
                 "points": fmt_count(len(c.get("points") or [])),
                 "signals": fmt_count(sum(1 for p in c.get("points") or [] if p.get("signal")))}
                for c in charts]
        sections.append({"rule": rule, "kind": CHART_KINDS.get(str(first["kind"]), first["kind"]),
                         "metric": METRIC_LABELS.get(str(first["metric"]), first["metric"]),
                         "figures": figs, "rows": rows})
    return sections, fig_of_rule


def surveillance_context(status: dict[str, Any], fig_dir: Path) -> dict[str, Any]:
    """The view model of the report (and its figures, drawn into ``fig_dir``)."""
    status = check_status(status)
    plan = status["plan"]
    periods = _periods(status)
    approval = plan.get("approval") or None
    signatures = [{"name": s.get("name"), "email": s.get("email"), "role": s.get("role"),
                   "meaning": s.get("meaning"), "time": s.get("time_utc")}
                  for s in (approval or {}).get("signatures") or []]
    charts, chart_fig = _chart_sections(status, periods, fig_dir)
    metric_rows = _metric_rows(status)
    scopes = _scopes(status)
    metric_figs = []
    for metric, rows in metric_rows.items():
        if rows:
            used = [s for s in scopes if any(r["scope"] == s for r in rows)]
            metric_figs.append({"metric": METRIC_LABELS[metric], "name": metric_figure(
                rows, periods, used, metric, fig_dir, f"metric-{slug(metric)}"),
                "estimated": any(r.get("estimated") for r in rows)})
    tables = []
    for scope in scopes:
        rows = []
        for p in status["periods"]:
            def cell(metric: str, scope: str = scope, period: str = str(p["period"])
                     ) -> dict[str, Any]:
                return next((r for r in metric_rows[metric] if r["scope"] == scope
                             and r["period"] == period), {})
            sens, spec = cell("sensitivity"), cell("specificity")
            if not (sens or spec):
                continue
            rows.append({"period": p["period"], "pos": _trials(sens.get("observed")),
                         "neg": _trials(spec.get("observed")),
                         "sens_obs": _obs(sens.get("observed")),
                         "sens_est": _est(sens.get("estimated")),
                         "spec_obs": _obs(spec.get("observed")),
                         "spec_est": _est(spec.get("estimated"))})
        if rows:
            tables.append({"scope": scope, "rows": rows})
    subgroup_figs = []
    factors = sorted({m["subgroup"]["factor"] for m in status["metrics"] if m.get("subgroup")})
    for factor in factors:
        rows = [{**m, "level": m["subgroup"]["level"]} for m in status["metrics"]
                if m.get("subgroup") and m["subgroup"]["factor"] == factor
                and m["metric"] == SUBGROUP_METRIC and m.get("site") is None]
        if any(r.get("observed") for r in rows):
            subgroup_figs.append({"factor": factor, "name": subgroup_figure(
                rows, periods, factor, SUBGROUP_METRIC, fig_dir, f"subgroup-{slug(factor)}")})
    drift = [{"period": d.get("period"), "scope": scope_label(d.get("site"), None),
              "check": CHECK_LABELS.get(str(d.get("check")), d.get("check")),
              "variable": d.get("variable"), "statistic": _num(d.get("statistic")),
              "p": fmt_p(d.get("p_value")), "p_adj": fmt_p(d.get("adjusted_p_value")),
              "threshold": _num(d.get("threshold")), "flag": bool(d.get("flag"))}
             for d in sorted(status["drift"], key=lambda d: (str(d.get("period")),
                                                             str(d.get("site") or ""),
                                                             str(d.get("check")),
                                                             str(d.get("variable"))))]
    adjustments = sorted({str(d["adjustment"]) for d in status["drift"] if d.get("adjustment")})
    registry = status["registry"]
    return {
        "study": {"id": plan.get("id"), "version": plan.get("version")},
        "plan": {"id": plan.get("id"), "title": plan.get("title"), "version": plan.get("version"),
                 "sha256": plan.get("sha256"), "period": plan.get("period"),
                 "model_sha256": plan.get("model_sha256"),
                 "threshold": _num(plan.get("threshold")),
                 "minimum_cases": _num(plan.get("minimum_cases")),
                 "sites": plan.get("sites") or [],
                 "monitors": plan.get("monitors") or {},
                 "baseline": [{"metric": METRIC_LABELS.get(k, k), "value": _num(v)}
                              for k, v in (plan.get("baseline") or {}).items()]},
        "approval": {"locked_utc": approval.get("locked_utc"), "signatures": signatures}
        if approval else None,
        "registry": {"url": registry.get("url"), "head_seq": _num(registry.get("head_seq")),
                     "head_hash": registry.get("head_hash")},
        "periods": [{"period": p["period"], "n_cases": fmt_count(p.get("n_cases")),
                     "n_labelled": fmt_count(p.get("n_labelled")),
                     "batches": ", ".join(map(str, p.get("batches") or [])) or "none"}
                    for p in status["periods"]],
        "first_period": periods[0] if periods else None,
        "last_period": periods[-1] if periods else None,
        "alarms": _alarm_rows(status, chart_fig),
        "charts": charts,
        "metric_figures": metric_figs,
        "tables": tables,
        "subgroup_figures": subgroup_figs,
        "subgroup_metric": METRIC_LABELS[SUBGROUP_METRIC],
        "drift": drift,
        "drift_flagged": sum(1 for d in drift if d["flag"]),
        "adjustments": adjustments,
        "doc_kind": "Post-market surveillance report",
    }


def render_surveillance_report(status: dict[str, Any], out_dir: str | os.PathLike[str], *,
                               formats: Sequence[str] | str) -> list[Path]:
    """Render the surveillance report of ``status`` into ``out_dir``.

    Writes ``surveillance.qmd``, ``figures/*.svg`` (``*.png`` too for DOCX), the Quarto project
    file and styles, and the documents, through the dossier's renderer (Quarto when installed,
    else pandoc + typst).

    Parameters
    ----------
    status : the surveillance status (``validation surveil status --json``).
    out_dir : folder of the report (created if needed).
    formats : {"html", "pdf", "docx"} (an iterable or a comma-separated string).

    Returns
    -------
    list of Path
        The rendered documents, in the order html, pdf, docx.
    """
    fmts = check_formats(formats)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    set_png("docx" in fmts)
    try:
        context = surveillance_context(status, out / "figures")
    finally:
        set_png(True)
    copy_styles(out)
    folder = templates_dir()
    if not (folder / "surveillance.qmd.j2").is_file():
        raise RenderError(f"the surveillance report template must be {folder / 'surveillance.qmd.j2'}; "
                          "got no such file.")
    text = _environment(folder).get_template("surveillance.qmd.j2").render(**context)
    qmd = write_text_atomic(out / "surveillance.qmd", _tidy(text))
    return render_qmd(qmd, fmts)
