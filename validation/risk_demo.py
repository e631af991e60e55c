"""The demo's risk part: ``protocols/risk_example.yaml`` on its synthetic data (seeded, 600
nodules, ``protocols/examples/make_risk_example_data.py``), the locked model's calibration
(intercept and slope with Wald intervals, Brier score), Harrell's C with its
infinitesimal-jackknife interval, and the protocol's acceptance rules decided on those intervals
as ``validation run`` decides them. Direct statistics only (no bootstrap, no report): well under
a second."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EXAMPLE = "protocols/risk_example.yaml"
DATA = "protocols/examples/risk_example"


def risk_demo_lines() -> list[str]:
    """Three or four lines: calibration, discrimination of progression, each rule's decision."""
    import pandas as pd

    from validation._resources import resource
    from validation._yaml import safe_load
    from validation.analysis.risk import _rule
    from validation.protocol.risk import Risk
    from validation.protocol.vocabulary import ci_alpha
    from validation.stats import calibration_summary, concordance_index

    data = safe_load(resource(EXAMPLE).read_text(encoding="utf-8"))
    risk = Risk.model_validate(data["risk"])
    alpha = ci_alpha(float(data["alpha"]), str(data["sidedness"]))
    folder = resource(DATA)
    cases = (
        pd.read_csv(folder / "manifest.csv")
        .merge(pd.read_csv(folder / "predictions.csv"), on="case_id")
        .merge(pd.read_csv(folder / "outcomes.csv"), on="case_id")
    )
    y = cases["truth"].to_numpy(dtype="int8")
    p = cases["score"].to_numpy(dtype="float64")
    cal = calibration_summary(y, p, alpha=alpha)
    c = concordance_index(cases["time"].to_numpy(dtype="float64"), cases["event"].to_numpy(), p, alpha=alpha)
    level = 1.0 - alpha
    blocks: dict[str, dict[str, Any]] = {}
    by_kind: dict[str, Any] = {
        "calibration_slope": cal.slope, "calibration_intercept": cal.intercept, "c_index": c}
    for ep in data["endpoints"]:
        src = by_kind.get(ep["kind"])
        if src is not None:
            blocks[ep["id"]] = {"estimate": src.estimate, "ci": list(src.ci), "ci_level": level}
    pct = f"{100 * level:g}%"

    def ci(r: Any) -> str:
        return f"{r.estimate:.3f} ({pct} CI {r.ci[0]:.3f} to {r.ci[1]:.3f})"

    lines = [
        f"risk example ({cal.n} nodules, {cal.n_events} malignant): calibration slope {ci(cal.slope)}, "
        f"intercept {ci(cal.intercept)}, Brier {cal.brier:.4f}",
        f"risk example: Harrell's C for progression {ci(c)} ({c.n_events} events)",
    ]
    for rule in risk.rules:
        r = _rule(rule, blocks[rule.endpoint])
        lines.append(f"risk rule {r['id']} ({r['rule']}, {r['endpoint']}): {r['decision']} - {r['reason']}")
    return lines


def print_risk_demo(echo: Callable[[str], Any]) -> None:
    """Echo :func:`risk_demo_lines`."""
    for line in risk_demo_lines():
        echo(line)
