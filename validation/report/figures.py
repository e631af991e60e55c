"""Figures of the performance report, drawn with matplotlib from ``results.json`` alone.

Each figure is written twice beside the ``.qmd``: SVG (HTML, Typst/PDF) and PNG (DOCX). Text in
the SVG is drawn as paths, so the figures do not add numbers to the documents' extracted text;
every number they plot is one value read from ``results.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validation.report.context import KIND_LABELS, fmt_count, fmt_estimate, humanize

INK = "#1f2a36"
ACCENT = "#1f5f99"
MUTED = "#7a8794"
BAND = "#9ec3e6"
GOAL = "#b5452b"


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.edgecolor": INK,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.fonttype": "path",
        "svg.hashsalt": "validation-report",
    })
    return plt


#: also write PNG copies (DOCX needs them); set by :func:`make_figures`
_PNG = {"on": True}
#: resolution of the PNG copies; the thinning of curves is sized to its pixels
PNG_DPI = 160
#: size (inches) of the ROC figure
ROC_FIGSIZE = (4.8, 4.6)
#: data range of the ROC figure's axes (both)
ROC_LIMITS = (-0.01, 1.01)


def thin_curve(x: Any, y: Any, *, cell: float) -> tuple[Any, Any]:
    """The points of a polyline that drawing needs when ``cell`` is smaller than a pixel.

    Consecutive points in the same square cell of side ``cell`` (data units) form a run; only
    the first and last point of each run are kept. Every dropped point, and every dropped
    segment, lies in the cell of its run, as does the kept segment that replaces them, so no
    point moves by more than the cell's diagonal ``cell * sqrt(2)``. A curve of a million
    distinct thresholds becomes at most a few thousand points, the same drawing.
    """
    import numpy as np

    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.size <= 2:
        return xa, ya
    cx = np.floor(xa / cell)
    cy = np.floor(ya / cell)
    change = (cx[1:] != cx[:-1]) | (cy[1:] != cy[:-1])
    keep = np.concatenate(([True], change)) | np.concatenate((change, [True]))
    return xa[keep], ya[keep]


def roc_cell() -> float:
    """A cell size (data units) whose diagonal is at most one PNG pixel of the ROC figure.

    The axes are smaller than the figure, so one pixel spans more data than
    ``span / (largest side * dpi)``; dividing that by sqrt(2) keeps the diagonal under a pixel.
    """
    span = ROC_LIMITS[1] - ROC_LIMITS[0]
    return span / (max(ROC_FIGSIZE) * PNG_DPI) / 2**0.5


def _save(fig: Any, out_dir: Path, name: str) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_dir / f"{name}.svg", format="svg", bbox_inches="tight", metadata={"Date": None})
    if _PNG["on"]:
        fig.savefig(out_dir / f"{name}.png", format="png", dpi=PNG_DPI, bbox_inches="tight",
                    metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return name


def flow_diagram(flow: Mapping[str, Any], out_dir: Path) -> str:
    """STARD 2015 flow diagram: eligible, excluded by reason, analysed, reference classes."""
    plt = _plt()
    excluded = sorted((flow.get("excluded") or {}).items())
    by_ref = flow.get("by_reference") or {}
    fig, ax = plt.subplots(figsize=(7.2, 5.6))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")

    def box(x: float, y: float, text: str, *, strong: bool = False, ha: str = "center") -> Any:
        return ax.text(x, y, text, ha="center", va="center", multialignment=ha, fontsize=9.5,
                       color=INK, linespacing=1.45,
                       bbox={"boxstyle": "round,pad=0.7,rounding_size=0.4",
                             "facecolor": "#eef4fa" if strong else "white",
                             "edgecolor": ACCENT if strong else INK,
                             "linewidth": 1.3 if strong else 0.9})

    def link(src: Any, src_xy: tuple[float, float], dst: Any, dst_xy: tuple[float, float],
             *, dashed: bool = False, head: bool = True) -> None:
        ax.annotate("", xy=dst_xy, xycoords=dst.get_bbox_patch(), xytext=src_xy,
                    textcoords=src.get_bbox_patch(),
                    arrowprops={"arrowstyle": "-|>" if head else "-", "color": INK, "lw": 0.9,
                                "ls": (0, (3, 2)) if dashed else "-", "shrinkA": 0,
                                "shrinkB": 0})

    x0 = 0.33
    eligible = box(x0, 0.92, f"Eligible cases\nn = {fmt_count(flow.get('eligible'))}", strong=True)
    lines = "\n".join(f"{humanize(r)}: n = {fmt_count(n)}" for r, n in excluded) or "none"
    excl = box(0.77, 0.73, "Excluded, by reason\n" + lines, ha="left")
    analysed = box(x0, 0.52, "Analysed: index test and\nreference standard available\n"
                   f"n = {fmt_count(flow.get('analysed'))}", strong=True)
    indet = box(0.77, 0.52, f"Indeterminate index test\nn = {fmt_count(flow.get('indeterminate'))}"
                "\nanalysed as positive and as negative")
    pos = box(0.15, 0.10, f"Reference standard\npositive\nn = {fmt_count(by_ref.get('positive'))}")
    neg = box(0.51, 0.10, f"Reference standard\nnegative\nn = {fmt_count(by_ref.get('negative'))}")
    fig.canvas.draw()
    link(eligible, (0.5, 0.0), analysed, (0.5, 1.0))
    ax.annotate("", xy=(0.0, 0.5), xycoords=excl.get_bbox_patch(), xytext=(x0, 0.73), textcoords="data",
                arrowprops={"arrowstyle": "-|>", "color": INK, "lw": 0.9, "shrinkA": 0,
                            "shrinkB": 0})
    link(analysed, (1.0, 0.5), indet, (0.0, 0.5), dashed=True, head=False)
    link(analysed, (0.5, 0.0), pos, (0.5, 1.0))
    link(analysed, (0.5, 0.0), neg, (0.5, 1.0))
    return _save(fig, out_dir, "flow")


def forest_plot(eid: str, ep: Mapping[str, Any], out_dir: Path, *, goal: float | None) -> str | None:
    """Forest plot of one endpoint: pooled, per site and per subgroup level, with CIs."""
    rows: list[tuple[str, Mapping[str, Any] | None, bool]] = []
    pooled = ep.get("pooled")
    if pooled:
        rows.append(("Pooled", pooled, True))
    if ep.get("by_site"):
        rows.append(("Site", None, True))
        rows.extend((f"   {s}", st, False) for s, st in sorted(ep["by_site"].items()))
    for gid, levels in sorted((ep.get("by_subgroup") or {}).items()):
        if gid == "site":
            continue
        rows.append((humanize(gid), None, True))
        rows.extend((f"   {lv}", st, False) for lv, st in sorted(levels.items()))
    if len(rows) <= 1:
        return None
    plt = _plt()
    height = 0.9 + 0.24 * len(rows)
    fig, ax = plt.subplots(figsize=(6.6, height))
    ys = list(range(len(rows)))[::-1]
    for y, (label, st, _header) in zip(ys, rows, strict=True):
        if st is None:
            continue
        est, ci = st.get("estimate"), st.get("ci") or [None, None]
        if est is None:
            continue
        if ci[0] is not None and ci[1] is not None:
            ax.plot([ci[0], ci[1]], [y, y], color=INK, lw=1.1)
        ax.plot([est], [y], marker="D" if label == "Pooled" else "s",
                ms=6 if label == "Pooled" else 4.5,
                color=ACCENT if label == "Pooled" else INK)
    ax.set_yticks(ys)
    ax.set_yticklabels([r[0] for r in rows])
    for tick, (_, _, header) in zip(ax.get_yticklabels(), rows, strict=True):
        if header:
            tick.set_fontweight("bold")
    if pooled and pooled.get("estimate") is not None:
        ax.axvline(pooled["estimate"], color=ACCENT, lw=0.8, ls=":")
    if goal is not None:
        ax.axvline(goal, color=GOAL, lw=1.0, ls="--", label="performance goal")
        ax.legend(loc="lower left", frameon=False, fontsize=8)
    ax.set_xlabel(KIND_LABELS.get(str(ep.get("kind")), humanize(eid)) + " (CI)")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.grid(axis="x", color="#dde3e8", lw=0.6)
    ax.set_axisbelow(True)
    return _save(fig, out_dir, f"forest_{eid}")


def roc_figure(roc: Mapping[str, Any], out_dir: Path, *, auc: Mapping[str, Any] | None) -> str | None:
    """Empirical ROC curve, its CI band (when results.json holds one) and the operating point."""
    pooled = roc.get("pooled") or {}
    if not pooled.get("fpr"):
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=ROC_FIGSIZE)
    band = pooled.get("band")
    if band and band.get("fpr"):
        ax.fill_between(band["fpr"], band["tpr_low"], band["tpr_high"], color=BAND, alpha=0.55,
                        lw=0, step=None, label="confidence band")
    label = "empirical ROC"
    if auc and auc.get("estimate") is not None:
        label += f" (AUC {fmt_estimate(auc['estimate'])})"
    fpr, tpr = thin_curve(pooled["fpr"], pooled["tpr"], cell=roc_cell())
    ax.plot(fpr, tpr, color=ACCENT, lw=1.6, label=label, drawstyle="default")
    ax.plot([0, 1], [0, 1], color=MUTED, lw=0.7, ls=":")
    op = roc.get("operating_point") or {}
    if op.get("sensitivity") is not None and op.get("specificity") is not None:
        ax.plot([1 - op["specificity"]], [op["sensitivity"]], marker="o", ms=7, mfc="white",
                mec=GOAL, mew=1.8, ls="none",
                label=f"locked operating point (score >= {fmt_estimate(op.get('threshold'))})")
    ax.set_xlim(*ROC_LIMITS)
    ax.set_ylim(*ROC_LIMITS)
    ax.set_aspect("equal")
    ax.set_xlabel("1 - specificity (false positive rate)")
    ax.set_ylabel("Sensitivity (true positive rate)")
    ax.grid(color="#dde3e8", lw=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    return _save(fig, out_dir, "roc")


def reader_plot(rs: Mapping[str, Any], out_dir: Path) -> str | None:
    """Per-reader figure of merit in each modality, one line per reader."""
    modalities = list((rs.get("modalities") or {}).keys())
    if not modalities:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    readers: list[str] = []
    for m in modalities:
        for r in rs["modalities"][m].get("readers") or {}:
            if r not in readers:
                readers.append(r)
    xs = list(range(len(modalities)))
    for r in readers:
        vals = [(rs["modalities"][m].get("readers") or {}).get(r) for m in modalities]
        ax.plot(xs, vals, color=MUTED, lw=0.9, marker="o", ms=4)
        if vals[-1] is not None:
            ax.annotate(f"reader {r}", (xs[-1], vals[-1]), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=7, color=MUTED)
    means = [rs["modalities"][m].get("estimate") for m in modalities]
    ax.plot(xs, means, color=ACCENT, lw=2.0, marker="D", ms=6, label="mean over readers")
    ax.set_xticks(xs)
    ax.set_xticklabels(modalities)
    ax.set_xlim(-0.3, len(modalities) - 0.4)
    ax.set_ylabel(KIND_LABELS.get(str(rs.get("endpoint")), "Figure of merit"))
    ax.grid(axis="y", color="#dde3e8", lw=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="lower left", frameon=False, fontsize=8)
    return _save(fig, out_dir, "readers")


def make_figures(results: Mapping[str, Any], out_dir: Path, *, png: bool = True) -> dict[str, Any]:
    """Draw every figure the report needs (SVG, and PNG when ``png``); returns names by role."""
    out_dir = Path(out_dir)
    _PNG["on"] = png
    goals: dict[str, float] = {}
    for h in results.get("hypotheses") or []:
        if h.get("goal") is not None and h.get("endpoint") not in goals:
            goals[h["endpoint"]] = h["goal"]
    names: dict[str, Any] = {"flow": flow_diagram(results.get("flow") or {}, out_dir), "forest": {}}
    for eid, ep in (results.get("endpoints") or {}).items():
        name = forest_plot(eid, ep, out_dir, goal=goals.get(eid))
        if name:
            names["forest"][eid] = name
    auc = None
    for ep in (results.get("endpoints") or {}).values():
        if ep.get("kind") == "auc":
            auc = ep.get("pooled")
            break
    names["roc"] = roc_figure(results.get("roc") or {}, out_dir, auc=auc)
    rs = results.get("reader_study")
    names["readers"] = reader_plot(rs, out_dir) if rs else None
    names["localization"] = None  # drawn by render_report (report/localization_figures.py)
    return names
