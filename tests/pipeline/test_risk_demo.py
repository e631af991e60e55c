"""The demo's risk lines: the risk example's calibration, C-index and rule decisions, equal to
the statistics computed from the example files and decided on the printed intervals."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from validation.risk_demo import print_risk_demo, risk_demo_lines
from validation.stats import calibration_summary, concordance_index

DATA = Path(__file__).resolve().parents[2] / "protocols" / "examples" / "risk_example"
NUM = r"(-?\d+\.\d+)"


def test_demo_prints_calibration_cindex_and_rules() -> None:
    lines = risk_demo_lines()
    printed: list[str] = []
    print_risk_demo(printed.append)
    assert printed == lines and len(lines) == 4
    cases = pd.read_csv(DATA / "manifest.csv").merge(pd.read_csv(DATA / "predictions.csv"), on="case_id").merge(
        pd.read_csv(DATA / "outcomes.csv"), on="case_id")
    cal = calibration_summary(cases["truth"], cases["score"])  # the protocol's 95% (one-sided 0.025)
    c = concordance_index(cases["time"], cases["event"], cases["score"])
    m = re.search(rf"slope {NUM} \(95% CI {NUM} to {NUM}\), intercept {NUM} \(95% CI {NUM} to {NUM}\), "
                  rf"Brier {NUM}", lines[0])
    assert m, lines[0]
    got = [float(g) for g in m.groups()]
    want = [cal.slope.estimate, *cal.slope.ci, cal.intercept.estimate, *cal.intercept.ci, cal.brier]
    assert all(abs(a - b) <= 5e-4 for a, b in zip(got, want, strict=True))  # printed to 3-4 decimals
    m = re.search(rf"Harrell's C for progression {NUM} \(95% CI {NUM} to {NUM}\)", lines[1])
    assert m, lines[1]
    assert all(abs(float(a) - b) <= 5e-4 for a, b in zip(m.groups(), [c.estimate, *c.ci], strict=True))
    slope_ok = 0.8 <= cal.slope.ci[0] and cal.slope.ci[1] <= 1.2
    assert lines[2].startswith("risk rule R1 (interval_inside, slope): " + ("pass" if slope_ok else "fail"))
    c_ok = c.ci[0] > 0.65
    assert lines[3].startswith("risk rule R2 (lower_bound_above, cindex): " + ("pass" if c_ok else "fail"))
