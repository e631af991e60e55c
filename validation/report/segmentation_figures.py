"""Figures of the segmentation section: per-case metric distributions by site (box plots with
the cases as points) and Bland-Altman plots with the bias, the limits and their intervals. Every
plotted number is read from ``results.json['segmentation']``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validation.report.figures import ACCENT, BAND, GOAL, INK, MUTED, _plt, _save
from validation.report.segmentation import KIND_LABELS


def metric_box_plot(eid: str, ep: Mapping[str, Any], out_dir: Path) -> str | None:
    """Box plot of one mask endpoint's per-case values by site, the threshold dashed."""
    values = ep.get("values_by_site") or {}
    if not values:
        return None
    plt = _plt()
    sites = sorted(values)
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    data = [values[s] for s in sites]
    ax.boxplot(data, showfliers=False, widths=0.5, medianprops={"color": ACCENT},
               boxprops={"color": INK}, whiskerprops={"color": INK}, capprops={"color": INK})
    for i, v in enumerate(data, start=1):  # the cases, spread deterministically across the box
        xs = [i + 0.18 * ((k % 7) - 3) / 3.0 for k in range(len(v))]
        ax.scatter(xs, v, s=9, color=MUTED, alpha=0.8, zorder=3, linewidths=0)
    ax.set_xticks(range(1, len(sites) + 1), [f"{s}\n(n = {len(values[s])})" for s in sites])
    if ep.get("threshold") is not None:
        ax.axhline(float(ep["threshold"]), color=GOAL, linestyle="--", linewidth=1)
    ax.set_ylabel(KIND_LABELS.get(str(ep.get("kind")), str(ep.get("kind"))))
    return _save(fig, out_dir, f"seg_box_{eid}")


def bland_altman_plot(eid: str, ep: Mapping[str, Any], out_dir: Path) -> str | None:
    """Difference against mean, with the bias and limits of agreement and their intervals."""
    plot = ep.get("plot") or {}
    pooled = ep.get("pooled") or {}
    if not plot.get("mean") or pooled.get("estimate") is None:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    ax.scatter(plot["mean"], plot["difference"], s=12, color=INK, alpha=0.8, linewidths=0, zorder=3)
    x0, x1 = min(plot["mean"]), max(plot["mean"])
    for value, band, style in ((pooled["bias"], pooled["bias_ci"], "-"),
                               (pooled["lower"], pooled["lower_bound_ci"], "--"),
                               (pooled["upper"], pooled["upper_bound_ci"], "--")):
        ax.axhspan(float(band[0]), float(band[1]), color=BAND, alpha=0.45, linewidth=0)
        ax.axhline(float(value), color=ACCENT, linestyle=style, linewidth=1.1)
    ax.axhline(0.0, color=MUTED, linewidth=0.6)
    ax.set_xlim(x0 - 0.05 * (x1 - x0 or 1.0), x1 + 0.05 * (x1 - x0 or 1.0))
    cols = ep.get("columns") or {}
    ax.set_xlabel(f"Mean of {cols.get('device', 'device')} and {cols.get('reference', 'reference')}")
    ax.set_ylabel("Difference (device - reference)")
    return _save(fig, out_dir, f"seg_ba_{eid}")


def make_segmentation_figures(results: Mapping[str, Any], out_dir: Path) -> dict[str, dict[str, str]]:
    """Draw the segmentation figures; names by role and endpoint (empty when no section)."""
    seg = results.get("segmentation") or {}
    out: dict[str, dict[str, str]] = {"box": {}, "bland_altman": {}}
    for eid, ep in (seg.get("endpoints") or {}).items():
        if ep.get("family") == "mask":
            name = metric_box_plot(eid, ep, Path(out_dir))
            if name:
                out["box"][eid] = name
        elif ep.get("kind") == "bland_altman":
            name = bland_altman_plot(eid, ep, Path(out_dir))
            if name:
                out["bland_altman"][eid] = name
    return out
