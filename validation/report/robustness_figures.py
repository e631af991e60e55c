"""Figures of the robustness section: degradation curves and the example-image panel.

Degradation curves: one panel per family, each listed endpoint's estimate against the severity
level (0 = unperturbed) with its confidence interval as a band, the pre-specified claims' null
values and the rules' thresholds as dashed lines. The example panel places the identifier-free
tiles the models layer wrote (``robustness/X<k>-<family>-<level>.png``: pixel data only) in a
grid, one row per family, one column per level. Every plotted number is read from
``results.json``; the tiles are copied images, not recomputed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validation.report.context import KIND_LABELS, humanize
from validation.report.figures import INK, MUTED, _plt, _save

COLOURS = ("#1f5f99", "#b5452b", "#2e7d4f", "#7b4fa0", "#a07a1f", "#4f8fa0")


def degradation_curves(rob: Mapping[str, Any], out_dir: Path) -> str | None:
    """Endpoint vs severity level with CI bands, one axis per family; the file name."""
    fams: Mapping[str, Any] = rob.get("families") or {}
    if not fams:
        return None
    plt = _plt()
    eps = rob.get("endpoints") or []
    n = len(fams)
    fig, axes = plt.subplots(1, n, figsize=(3.0 * n + 0.6, 3.2), sharey=True, squeeze=False)
    thresholds: dict[str, list[float]] = {}
    for c in rob.get("claims") or []:
        thresholds.setdefault(c["endpoint"], []).append(float(c["null_value"]))
    for ax, (name, fam) in zip(axes[0], fams.items(), strict=True):
        levels = fam.get("levels") or []
        xs = [int(lv["level"]) for lv in levels]
        for k, e in enumerate(eps):
            colour = COLOURS[k % len(COLOURS)]
            est = [(lv["endpoints"].get(e["id"]) or {}).get("estimate") for lv in levels]
            ci = [(lv["endpoints"].get(e["id"]) or {}).get("ci") or [None, None] for lv in levels]
            pts = [(x, y, c[0], c[1]) for x, y, c in zip(xs, est, ci, strict=True) if y is not None]
            if not pts:
                continue
            px = [p[0] for p in pts]
            ax.plot(px, [p[1] for p in pts], marker="o", ms=3.5, lw=1.4, color=colour,
                    label=KIND_LABELS.get(str(e.get("kind")), humanize(e.get("kind", ""))))
            lo = [p[2] if p[2] is not None else p[1] for p in pts]
            hi = [p[3] if p[3] is not None else p[1] for p in pts]
            ax.fill_between(px, lo, hi, color=colour, alpha=0.15, lw=0)
            for t in thresholds.get(e["id"], []):
                ax.axhline(t, color=colour, lw=0.8, ls="--", alpha=0.7)
        ax.set_xticks(xs)
        ax.set_xticklabels([str(lv.get("label", "")).replace(" ", "\n", 1) if lv["level"] else "none"
                            for lv in levels], fontsize=7)
        ax.set_title(humanize(name), fontsize=9, color=INK)
        ax.set_xlabel(f"severity ({fam.get('parameter')})", color=MUTED, fontsize=8)
        ax.grid(axis="y", color="#e3e8ee", lw=0.6)
    axes[0][0].set_ylabel("estimate with CI band")
    axes[0][0].legend(loc="lower left", fontsize=7, frameon=False)
    fig.tight_layout()
    return _save(fig, out_dir, "robustness_curves")


def example_panel(rob: Mapping[str, Any], run_dir: Path, out_dir: Path) -> str | None:
    """Grid of the example tiles: rows = families, columns = levels (first example only)."""
    items = [it for it in rob.get("examples") or [] if it.get("example") == "X1"]
    if not items:
        return None
    import numpy as np
    from PIL import Image

    plt = _plt()
    base = next((it for it in items if it.get("family") is None), None)
    fams = list((rob.get("families") or {}).keys())
    n_cols = 1 + max((int(it["level"]) for it in items), default=0)
    fig, axes = plt.subplots(len(fams), n_cols, figsize=(1.3 * n_cols + 0.8, 1.35 * len(fams) + 0.2),
                             squeeze=False)
    for r, name in enumerate(fams):
        row = {0: base} | {int(it["level"]): it for it in items if it.get("family") == name}
        for c in range(n_cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            it = row.get(c)
            if it is None:
                continue
            with Image.open(run_dir / str(it["image"])) as im:
                ax.imshow(np.asarray(im), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            if r == 0:
                ax.set_title("none" if c == 0 else f"level {c}", fontsize=8, color=INK)
        axes[r][0].set_ylabel(humanize(name), fontsize=8, color=INK)
    fig.tight_layout()
    return _save(fig, out_dir, "robustness_examples")


def robustness_figures(results: Mapping[str, Any], run_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Both figures' file names (``None`` where there is nothing to draw)."""
    rob = results.get("robustness")
    if not rob:
        return {"curves": None, "examples": None}
    return {"curves": degradation_curves(rob, out_dir),
            "examples": example_panel(rob, Path(run_dir), out_dir)}
