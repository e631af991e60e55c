"""Decision rules of the segmentation hypotheses (validation.analysis.segmentation)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from validation.analysis.segmentation import _decide, _hypothesis, _mask_summary, _subsets


def hyp(**kw):
    base = {"id": "S1", "endpoint": "e", "goal": None, "lower": None, "upper": None}
    return SimpleNamespace(**{**base, **kw})


def stat(estimate, lo, hi):
    return {"estimate": estimate, "ci": [lo, hi]}


@pytest.mark.parametrize(("type_", "goal", "ci", "decision"), [
    ("mean_above", 0.80, (0.81, 0.9), "pass"), ("mean_above", 0.80, (0.80, 0.9), "fail"),
    ("mean_below", 5.0, (3.0, 4.9), "pass"), ("mean_below", 5.0, (3.0, 5.0), "fail"),
])
def test_mean_bounds(type_: str, goal: float, ci: tuple[float, float], decision: str) -> None:
    res = {"pooled": {"mean": stat(0.5 * sum(ci), *ci)}}
    out = _hypothesis(hyp(type=type_, goal=goal), res)
    assert out["decision"] == decision
    assert out["bound"] == (ci[0] if type_ == "mean_above" else ci[1])


def test_limits_within_uses_the_outer_bounds_of_both_limits() -> None:
    pooled = {"bias": 0.1, "lower_bound_ci": [-2.5, -1.0], "upper_bound_ci": [1.0, 1.9], "limits_ci": "exact"}
    res = {"pooled": pooled}
    assert _hypothesis(hyp(type="limits_within", lower=-3.0, upper=2.0), res)["decision"] == "pass"
    assert _hypothesis(hyp(type="limits_within", lower=-2.0, upper=2.0), res)["decision"] == "fail"


def test_estimate_and_proportion_above() -> None:
    est = _hypothesis(hyp(type="estimate_above", goal=0.9), {"pooled": stat(0.95, 0.91, 0.97)})
    assert est["decision"] == "pass"
    prop = {**stat(0.9, 0.69, 0.97), "direction": "at or above", "threshold": 0.8}
    share = _hypothesis(hyp(type="proportion_above", goal=0.7), {"pooled": {"proportion": prop}})
    assert share["decision"] == "fail"


def test_summary_proportion_counts_distances_at_or_below_the_threshold() -> None:
    ep = SimpleNamespace(threshold=5.0, higher_is_better=False)
    values = np.array([1.0, 5.0, 6.0, 2.0, 9.0, 4.0])
    out = _mask_summary(values, np.array(["a", "a", "b", "c", "d", "e"]), ep, alpha=0.05, seed=1, n_boot=200,
                        interval="percentile", substituted=0, refs=False)
    assert out["proportion"]["successes"] == 4 and out["proportion"]["direction"] == "at or below"
    assert out["mean"]["estimate"] == pytest.approx(values.mean())
    assert out["mean"]["n_clusters"] == 5  # patients, not cases, are resampled
    one = _mask_summary(values[:1], np.array(["a"]), ep, alpha=0.05, seed=1, n_boot=200, interval="percentile",
                        substituted=0, refs=False)
    assert one["mean"]["estimate"] is None and "fewer than 2 patients" in one["mean"]["note"]
    assert one["proportion"]["estimate"] is None and "at least two clusters" in one["proportion"]["note"]


def test_subsets_cover_sites_and_subgroup_levels() -> None:
    frame = pd.DataFrame({"case_id": ["1", "2", "3"], "site": ["B", "A", "B"]})
    levels = {"sex": pd.Series(["F", "M", "F"], index=["1", "2", "3"])}
    got = [(f, k, m.tolist()) for f, k, m in _subsets(frame, levels)]
    assert got == [("site", "A", [False, True, False]), ("site", "B", [True, False, True]),
                   ("sex", "F", [True, False, True]), ("sex", "M", [False, True, False])]


def test_a_bound_that_cannot_be_estimated_fails_the_hypothesis_with_its_reason() -> None:
    res = {"pooled": {"mean": {"estimate": None, "ci": [None, None], "note": "fewer than 2 patients"}}}
    out = _decide(hyp(type="mean_above", goal=0.8), res)
    assert out["decision"] == "fail" and "fewer than 2 patients" in out["reason"]
