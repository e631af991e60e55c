"""Figures of the consistency section, drawn from ``results.json['consistency']`` alone.

* a forest plot per pooled factor and endpoint: each level with its interval, the pooled
  random-effects estimate as a diamond spanning its interval, and the prediction interval for
  a new level as a bar under it;
* an SROC plot per pooled factor with the bivariate model: each level's (1 - specificity,
  sensitivity), the summary point, its confidence and prediction regions and the SROC curve.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validation.report.context import KIND_LABELS, humanize
from validation.report.figures import ACCENT, BAND, GOAL, INK, MUTED, _plt, _save


def figure_key(factor: str, endpoint: str) -> str:
    """Key of a forest plot in the figure names (``factor__endpoint``)."""
    return f"{factor}__{endpoint}"


def pooled_forest(fid: str, eid: str, entry: Mapping[str, Any], out_dir: Path) -> str | None:
    """Forest plot of one endpoint over a pooled factor's levels, with diamond and PI."""
    pooled = entry.get("pooled") or {}
    levels = [r for r in entry.get("levels") or [] if r.get("estimate") is not None]
    if not levels or pooled.get("estimate") is None or pooled.get("fallback"):
        return None
    plt = _plt()
    n = len(levels)
    fig, ax = plt.subplots(figsize=(6.2, 1.3 + 0.28 * (n + 2)))
    ys = list(range(n + 1, 1, -1))
    for y, r in zip(ys, levels, strict=True):
        lo, hi = r.get("ci") or [None, None]
        if lo is not None and hi is not None:
            ax.plot([lo, hi], [y, y], color=INK, lw=1.1)
        ax.plot([r["estimate"]], [y], marker="s", ms=4.5,
                color=MUTED if r.get("below_minimum") else INK)
    est = pooled["estimate"]
    lo, hi = pooled.get("ci") or [est, est]
    ax.fill([lo, est, hi, est], [0.8, 1.15, 0.8, 0.45], color=ACCENT, zorder=3)
    pi = pooled.get("prediction_interval") or [None, None]
    if pi[0] is not None and pi[1] is not None:
        ax.plot([pi[0], pi[1]], [0.0, 0.0], color=BAND, lw=4.0, solid_capstyle="butt")
        ax.plot([pi[0], pi[1]], [0.0, 0.0], color=ACCENT, lw=1.0, ls=":")
    ax.axvline(est, color=ACCENT, lw=0.8, ls=":")
    labels = [str(r["level"]) for r in levels] + ["Pooled (random effects)", "Prediction interval"]
    ax.set_yticks(ys + [0.8, 0.0])
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.6, n + 1.6)
    kind = str(entry.get("kind"))
    ax.set_xlabel(KIND_LABELS.get(kind, humanize(kind)) + f" by {humanize(fid)} (CI)")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.grid(axis="x", color="#dde3e8", lw=0.6)
    ax.set_axisbelow(True)
    return _save(fig, out_dir, f"consistency_forest_{fid}_{eid}")


def sroc_figure(fid: str, block: Mapping[str, Any], sens_entry: Mapping[str, Any] | None,
                spec_entry: Mapping[str, Any] | None, out_dir: Path) -> str | None:
    """SROC plot of a pooled factor's bivariate model (summary point, regions, curve)."""
    biv = block.get("bivariate") or {}
    if not biv or biv.get("fallback"):
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.8, 4.6))
    curve = biv.get("sroc") or {}
    if curve.get("false_positive_rate"):
        # drawn over the observed range of false-positive rates only (no extrapolation)
        lo, hi = curve.get("observed_fpr_range") or [0.0, 1.0]
        pts = [(x, y) for x, y in zip(curve["false_positive_rate"], curve["sensitivity"], strict=True)
               if x is not None and y is not None and lo <= x <= hi]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=MUTED, lw=1.2,
                    label="SROC curve (observed range)")
    for key, style, name in (("prediction_region", ":", "prediction region"),
                             ("confidence_region", "-", "confidence region")):
        reg = biv.get(key) or {}
        if reg.get("false_positive_rate"):
            ax.plot(reg["false_positive_rate"], reg["sensitivity"], color=ACCENT, lw=1.0, ls=style,
                    label=name)
    if sens_entry and spec_entry:
        spec_by = {r["level"]: r.get("estimate") for r in spec_entry.get("levels") or []}
        xs, ys = [], []
        for r in sens_entry.get("levels") or []:
            sp = spec_by.get(r["level"])
            if r.get("estimate") is not None and sp is not None:
                xs.append(1.0 - sp)
                ys.append(r["estimate"])
        ax.scatter(xs, ys, s=22, facecolors="none", edgecolors=INK, label="levels")
    se, sp = (biv.get("sensitivity") or {}).get("estimate"), (biv.get("specificity") or {}).get("estimate")
    if se is not None and sp is not None:
        ax.plot([1.0 - sp], [se], marker="D", ms=6, color=GOAL, ls="none", label="summary point")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("Sensitivity")
    ax.legend(loc="lower right", frameon=False, fontsize=7.5)
    ax.grid(color="#dde3e8", lw=0.6)
    ax.set_axisbelow(True)
    return _save(fig, out_dir, f"consistency_sroc_{fid}")


def consistency_figures(results: Mapping[str, Any], out_dir: Path) -> dict[str, Any]:
    """Draw the consistency figures; returns ``{"forest": {key: name}, "sroc": {factor: name}}``."""
    names: dict[str, Any] = {"forest": {}, "sroc": {}}
    cons = results.get("consistency") or {}
    for fid, block in (cons.get("factors") or {}).items():
        if not block.get("pooled"):
            continue
        eps = block.get("endpoints") or {}
        for eid, entry in eps.items():
            name = pooled_forest(fid, eid, entry, Path(out_dir))
            if name:
                names["forest"][figure_key(fid, eid)] = name
        sens = next((e for e in eps.values() if e.get("kind") == "sensitivity"
                     and e.get("unit") == (block.get("equalized_odds") or {}).get("unit", e.get("unit"))), None)
        spec = next((e for e in eps.values() if e.get("kind") == "specificity"
                     and (sens is None or e.get("unit") == sens.get("unit"))), None)
        name = sroc_figure(fid, block, sens, spec, Path(out_dir))
        if name:
            names["sroc"][fid] = name
    return names


def consistency_parts(results: Mapping[str, Any], out_dir: Path) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The report's consistency view and its figures (``(None, empty names)`` without the key)."""
    from validation.report.consistency import consistency_view

    return consistency_view(results), consistency_figures(results, out_dir)
