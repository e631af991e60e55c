"""Figures of the surveillance report, drawn with matplotlib from the status dict alone.

Every value plotted is one number of ``status.json`` (a chart point, a limit, an observed
estimate with its interval, an *estimated* figure with its band); nothing is computed here.
Written as SVG (HTML, PDF) and, when DOCX is asked for, PNG too (see :mod:`.figures`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from validation.report.figures import _PNG, ACCENT, GOAL, INK, MUTED, _plt, _save

METRIC_LABELS = {
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "ppv": "Positive predictive value",
    "positive_call_rate": "Positive-call rate",
    "auc": "Area under the ROC curve",
    "score_distribution": "Score distribution",
    "input_mix": "Input mix",
}
ESTIMATED = "#8a5a00"
MAX_PANELS = 12


def slug(text: str) -> str:
    """A file-name-safe form of a label (``SITE-A`` -> ``site-a``)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def scope_label(site: str | None, subgroup: dict[str, Any] | None) -> str:
    """``all sites``, ``SITE-A`` or ``manufacturer = GE`` (a label, never a number)."""
    if subgroup:
        return f"{subgroup.get('factor')} = {subgroup.get('level')}"
    return site if site else "all sites"


def _grid(n: int) -> tuple[int, int]:
    cols = 1 if n == 1 else 2 if n <= 6 else 3
    return (n + cols - 1) // cols, cols


def _axes(plt: Any, n: int, *, height: float = 2.1) -> tuple[Any, list[Any]]:
    rows, cols = _grid(n)
    fig, axes = plt.subplots(rows, cols, figsize=(7.2, max(2.4, height * rows)), squeeze=False,
                             sharex=True)
    flat = [ax for row in axes for ax in row]
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n]


def _period_ticks(ax: Any, periods: Sequence[str]) -> None:
    ax.set_xticks(range(len(periods)))
    ax.set_xticklabels(list(periods), rotation=60, fontsize=7)
    ax.set_xlim(-0.5, len(periods) - 0.5)


def chart_figure(charts: Sequence[dict[str, Any]], periods: Sequence[str], out_dir: Path,
                 name: str) -> str:
    """One panel per chart of a rule: the statistic per period, its limits, the signals."""
    plt = _plt()
    shown = list(charts)[:MAX_PANELS]
    fig, axes = _axes(plt, len(shown))
    index = {p: i for i, p in enumerate(periods)}
    for ax, chart in zip(axes, shown, strict=True):
        pts = [pt for pt in chart.get("points") or [] if pt.get("period") in index
               and pt.get("statistic") is not None]
        xs = [index[pt["period"]] for pt in pts]
        ax.plot(xs, [pt["statistic"] for pt in pts], color=ACCENT, marker="o", markersize=3,
                linewidth=1.2, label="statistic")
        for key in ("upper", "lower"):
            sel = [(index[pt["period"]], pt[key]) for pt in pts if pt.get(key) is not None]
            if sel:
                ax.plot([x for x, _ in sel], [y for _, y in sel], color=GOAL, linestyle="--",
                        linewidth=0.9, label="control limit" if key == "upper" else None)
        if chart.get("limit") is not None and not any(pt.get("upper") is not None for pt in pts):
            ax.axhline(chart["limit"], color=GOAL, linestyle="--", linewidth=0.9,
                       label="decision limit")
        sig = [(index[pt["period"]], pt["statistic"]) for pt in pts if pt.get("signal")]
        if sig:
            ax.scatter([x for x, _ in sig], [y for _, y in sig], color=GOAL, s=30, zorder=5,
                       marker="D", label="signal")
        ax.set_title(scope_label(chart.get("site"), chart.get("subgroup")), fontsize=8.5,
                     color=INK)
        _period_ticks(ax, periods)
    axes[0].legend(fontsize=7, frameon=False, loc="upper left")
    fig.tight_layout()
    return _save(fig, out_dir, name)


def metric_figure(rows: Sequence[dict[str, Any]], periods: Sequence[str], scopes: Sequence[str],
                  metric: str, out_dir: Path, name: str) -> str:
    """One panel per scope: observed (interval bars) and *estimated* (band) per period."""
    plt = _plt()
    shown = list(scopes)[:MAX_PANELS]
    fig, axes = _axes(plt, len(shown))
    index = {p: i for i, p in enumerate(periods)}
    for ax, scope in zip(axes, shown, strict=True):
        cell = [r for r in rows if r["scope"] == scope and r["period"] in index]
        obs = [r for r in cell if r.get("observed")]
        est = [r for r in cell if r.get("estimated")]
        if est:
            xs = [index[r["period"]] for r in est]
            ax.fill_between(xs, [r["estimated"]["band"][0] for r in est],
                            [r["estimated"]["band"][1] for r in est], color=ESTIMATED, alpha=0.15,
                            linewidth=0)
            ax.plot(xs, [r["estimated"]["estimate"] for r in est], color=ESTIMATED,
                    linestyle="--", linewidth=1.1, marker="s", markersize=2.5,
                    label="estimated (no labels)")
        if obs:
            xs = [index[r["period"]] for r in obs]
            ys = [r["observed"]["estimate"] for r in obs]
            lo = [r["observed"]["estimate"] - r["observed"]["ci"][0] for r in obs]
            hi = [r["observed"]["ci"][1] - r["observed"]["estimate"] for r in obs]
            ax.errorbar(xs, ys, yerr=[lo, hi], color=ACCENT, marker="o", markersize=3,
                        linewidth=1.1, capsize=2, elinewidth=0.8, label="observed (95% CI)")
        ax.set_title(scope, fontsize=8.5, color=INK)
        ax.set_ylim(-0.02, 1.02)
        _period_ticks(ax, periods)
    handles = [h for ax in axes for h in ax.get_legend_handles_labels()[0]]
    if handles:
        seen: dict[str, Any] = {}
        for ax in axes:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                seen.setdefault(lab, h)
        axes[0].legend(list(seen.values()), list(seen.keys()), fontsize=7, frameon=False,
                       loc="lower left")
    fig.suptitle(METRIC_LABELS.get(metric, metric), fontsize=9.5, color=INK)
    fig.tight_layout()
    return _save(fig, out_dir, name)


def subgroup_figure(rows: Sequence[dict[str, Any]], periods: Sequence[str], factor: str,
                    metric: str, out_dir: Path, name: str) -> str:
    """Observed ``metric`` per level of one factor over the periods (one line per level)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 3.0))
    index = {p: i for i, p in enumerate(periods)}
    levels = sorted({r["level"] for r in rows})
    cmap = plt.get_cmap("tab10")
    for k, level in enumerate(levels):
        pts = [r for r in rows if r["level"] == level and r.get("observed") and r["period"] in index]
        if not pts:
            continue
        ax.plot([index[r["period"]] for r in pts], [r["observed"]["estimate"] for r in pts],
                marker="o", markersize=3, linewidth=1.1, color=cmap(k % 10), label=str(level))
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel(f"{METRIC_LABELS.get(metric, metric)} (observed)", fontsize=8)
    _period_ticks(ax, periods)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              title=factor, title_fontsize=7)
    fig.tight_layout()
    return _save(fig, out_dir, name)


def set_png(on: bool) -> None:
    """Write PNG copies too (DOCX needs them)."""
    _PNG["on"] = on


__all__ = ["METRIC_LABELS", "MUTED", "chart_figure", "metric_figure", "scope_label", "set_png",
           "slug", "subgroup_figure"]
