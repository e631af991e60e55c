"""Figures of the localization section: FROC and wAFROC curves per reader and modality."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validation.report.figures import ACCENT, MUTED, _plt, _save

_COLOURS = (MUTED, ACCENT, "#b5651d", "#2e7d32")


def localization_figures(results: Mapping[str, Any], out_dir: Path) -> dict[str, str] | None:
    """FROC (NLF vs LLF) and wAFROC (FPF vs wLLF) empirical curves; one line per reader,
    one colour per modality; the algorithm's curves in black when present."""
    loc = results.get("localization")
    if not loc:
        return None
    raw = dict(loc.get("curves") or {})
    order = [m for m in loc.get("modality_order") or [] if m in raw]
    curves = {m: raw[m] for m in order} or raw
    alg = (loc.get("algorithm") or {}).get("curves") or {}
    if not curves and not alg:
        return None
    plt = _plt()
    names: dict[str, str] = {}
    for key, (xk, yk), (xlabel, ylabel) in (
        ("froc", ("nlf", "llf"), ("Non-lesion localizations per case (NLF)",
                                  "Lesion-localization fraction (LLF)")),
        ("wafroc", ("fpf", "wllf"), ("False-positive fraction (non-diseased cases)",
                                     "Weighted lesion-localization fraction")),
    ):
        fig, ax = plt.subplots(figsize=(4.8, 3.8))
        for i, (mod, readers) in enumerate(curves.items()):
            colour = _COLOURS[i % len(_COLOURS)]
            for j, c in enumerate(readers.values()):
                ax.plot(c[key][xk], c[key][yk], color=colour, lw=0.9, alpha=0.8,
                        label=mod if j == 0 else None)
        for c in (next(iter(alg.values()), {}) or {}).values():
            ax.plot(c[key][xk], c[key][yk], color="black", lw=1.4, label="algorithm")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 1.02)
        if key == "wafroc":
            ax.set_xlim(0, 1.0)
            ax.plot([0, 1], [0, 1], color="#dde3e8", lw=0.6)
        ax.grid(color="#dde3e8", lw=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="lower right", frameon=False, fontsize=8)
        names[key] = _save(fig, out_dir, f"localization_{key}")
    return names
