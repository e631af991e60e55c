"""The demo's reader-study designs block: its numbers are those of the direct calls."""

from __future__ import annotations

import re

from validation.analysis.localization import choose_analysis
from validation.reader_designs_demo import MODALITIES, _example, reader_design_lines


def test_split_plot_lines_are_the_two_analyses() -> None:
    lines = reader_design_lines()
    assert len(lines) == 2
    split = _example("split_plot/ratings.csv")
    assert split["truth"].notna().all()  # every split-plot case has its truth
    design, ustat = choose_analysis(split, method="auto", endpoint="auc", modalities=MODALITIES)
    assert design["kind"] == "split-plot" and design["analysis"] == "ustat"
    _, orsp = choose_analysis(split, method="or", endpoint="auc", modalities=MODALITIES)
    assert f"p = {ustat.difference.p_value:.3f}" in lines[0]
    assert f"p = {orsp.rrrc.p_value:.3f}" in lines[0]
    power = re.search(r"simulated power .* (\d\.\d{3}) \(95% CI (\d\.\d{3}) to (\d\.\d{3}), 200", lines[1])
    assert power is not None
    est, lo, hi = (float(x) for x in power.groups())
    assert lo <= est <= hi and 0.0 < est < 1.0
    assert reader_design_lines() == lines  # seeded
