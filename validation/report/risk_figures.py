"""Figures of the risk section, drawn from ``results.json['risk']`` alone.

* the reliability diagram: binned observed event rate against mean prediction (stated bins),
  the LOWESS calibration curve with its bootstrap band, the diagonal, and the distribution of
  predictions by outcome underneath;
* the Kaplan-Meier curves by risk group with the numbers at risk under the time axis.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validation.report.figures import ACCENT, BAND, INK, MUTED, _plt, _save

GROUP_COLOURS = ("#1f5f99", "#d08c2b", "#b5452b", "#4b8b3b", "#6f4e9c")


def reliability_diagram(risk: Mapping[str, Any], out_dir: Path) -> str | None:
    """Reliability diagram with the smoothed curve and its band (``None`` without calibration)."""
    cal = risk.get("calibration")
    if not cal:
        return None
    plt = _plt()
    fig, (ax, hx) = plt.subplots(
        2, 1, figsize=(4.8, 5.4), sharex=True, gridspec_kw={"height_ratios": [4, 1], "hspace": 0.06}
    )
    curve = cal["curve"]
    ax.plot([0, 1], [0, 1], color=MUTED, lw=0.8, ls="--", label="perfect calibration")
    ax.fill_between(
        curve["grid"],
        curve["low"],
        curve["high"],
        color=BAND,
        alpha=0.55,
        lw=0,
        label=f"{round(100 * curve['level'])}% bootstrap band",
    )
    ax.plot(curve["grid"], curve["estimate"], color=ACCENT, lw=1.6, label="LOWESS calibration curve")
    b = cal["bins"]
    ax.plot(
        b["mean_predicted"],
        b["observed_rate"],
        "o",
        color=INK,
        ms=4,
        label=f"observed rate, {len(b['n'])} {b['strategy']} bins",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("Observed event rate")
    ax.legend(loc="upper left", frameon=False, fontsize=7.5)
    h = cal["histogram"]
    edges = h["edges"]
    width = edges[1] - edges[0]
    left = edges[:-1]
    hx.bar(left, h["events"], width=width, align="edge", color=ACCENT, alpha=0.8, label="events")
    hx.bar(
        left, [-v for v in h["non_events"]], width=width, align="edge", color=MUTED, alpha=0.8, label="non-events"
    )
    hx.axhline(0, color=INK, lw=0.6)
    hx.set_yticks([])
    hx.set_xlabel("Predicted probability")
    hx.legend(loc="lower right", frameon=False, fontsize=7)
    return _save(fig, out_dir, "risk_reliability")


def km_figure(risk: Mapping[str, Any], out_dir: Path) -> str | None:
    """Kaplan-Meier curves by risk group, with numbers at risk (``None`` without them)."""
    prog = risk.get("prognostic") or {}
    surv = prog.get("survival")
    if not surv:
        return None
    plt = _plt()
    fig, (ax, tx) = plt.subplots(
        2, 1, figsize=(5.6, 4.9), sharex=True, gridspec_kw={"height_ratios": [4, 1.1], "hspace": 0.28}
    )
    curves = surv["curves"]
    for i, c in enumerate(curves):
        colour = GROUP_COLOURS[i % len(GROUP_COLOURS)]
        x = [0.0, *c["time"]]
        y = [1.0, *c["surv"]]
        ax.step(x, y, where="post", color=colour, lw=1.5, label=f"{c['group']} (n = {c['n']})")
        lo = [1.0, *[v if v is not None else float("nan") for v in c["low"]]]
        hi = [1.0, *[v if v is not None else float("nan") for v in c["high"]]]
        ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.12, lw=0)
        cens = [t for t, nc in zip(c["time"], c["n_censor"], strict=True) if nc > 0]
        at = [s for s, nc in zip(c["surv"], c["n_censor"], strict=True) if nc > 0]
        ax.plot(cens, at, "|", color=colour, ms=4)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("Event-free probability")
    ax.legend(loc="lower left", frameon=False, fontsize=7.5)
    times = surv["at_risk_times"]
    labels = [c["group"] for c in curves]
    for row, g in enumerate(labels):
        for t, n in zip(times, surv["at_risk"][g], strict=True):
            tx.text(
                t,
                len(labels) - 1 - row,
                str(n),
                ha="center",
                va="center",
                fontsize=7.5,
                color=GROUP_COLOURS[row % len(GROUP_COLOURS)],
            )
    tx.set_yticks(range(len(labels)))
    tx.set_yticklabels(list(reversed(labels)), fontsize=7.5)
    tx.set_ylim(-0.6, len(labels) - 0.4)
    tx.tick_params(axis="y", length=0)
    tx.spines["left"].set_visible(False)
    tx.set_title("Number at risk", fontsize=7.5, loc="left", color=INK)
    tx.set_xlabel(f"Time ({prog.get('time_unit', '')})")
    tx.set_xticks(times)
    return _save(fig, out_dir, "risk_km")


def risk_figures(results: Mapping[str, Any], out_dir: Path) -> dict[str, str | None]:
    """The risk section's figures by role (empty when the run has no risk block)."""
    risk = results.get("risk")
    if not risk:
        return {}
    return {"reliability": reliability_diagram(risk, out_dir), "km": km_figure(risk, out_dir)}
