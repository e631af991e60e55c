"""Hypothesis tests against R (tests/reference/hypotheses/make_reference.R).

Performance goals: base R ``prop.test(correct = FALSE)`` (score test, Wilson interval) and
``binom.test`` (exact test, Clopper-Pearson). AUC comparisons: pROC 1.18.0 DeLong variance and
covariance on the aSAH data (s100b vs ndka), the non-inferiority z written out in R from them.
R prints 15 significant digits, so the tolerance is 1e-12 (values and p-values are below 1).
Paired and unpaired differences reuse the reference cases of test_differences.py.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.errors import InputError
from validation.stats.hypotheses import (
    auc_comparison_test,
    auc_goal_test,
    normal_test,
    one_sided_alpha,
    performance_goal_test,
    proportion_difference_test,
)

TOL = 1e-12


@pytest.fixture(scope="module")
def ref(reference_dir):
    return json.loads((reference_dir / "hypotheses" / "hypotheses_reference.json").read_text())


@pytest.fixture(scope="module")
def asah(reference_dir):
    d = pd.read_csv(reference_dir / "data" / "aSAH.csv")
    return (d["outcome"] == "Poor").astype(int).to_numpy(), d["s100b"].to_numpy(), d[
        "ndka"
    ].to_numpy()


def test_performance_goal_matches_r(ref):
    for case in ref["performance_goal"]:
        x, n, g, a = case["x"], case["n"], case["goal"], case["alpha_one_sided"]
        w = performance_goal_test(x, n, g, alpha=a, ci="wilson")
        assert w.statistic == pytest.approx(case["score_z"], abs=TOL)
        assert w.p_value == pytest.approx(case["score_p"], abs=TOL)
        assert w.ci == pytest.approx(tuple(case["wilson95"]), abs=TOL)
        e = performance_goal_test(x, n, g, alpha=a, ci="clopper-pearson")
        assert e.p_value == pytest.approx(case["exact_p"], abs=TOL)
        assert e.ci == pytest.approx(tuple(case["clopper_pearson95"]), abs=1e-10)
        for r in (w, e):
            assert (r.decision == "pass") == (r.ci[0] > g) == (r.p_value <= a)
            assert r.goal == g and r.confidence == pytest.approx(0.95)


def test_auc_noninferiority_matches_proc(ref, asah):
    truth, s100b, ndka = asah
    rc = ref["auc_comparison_aSAH_s100b_vs_ndka"]
    sup = auc_comparison_test(truth, s100b, ndka, type="superiority", alpha=0.025)
    assert sup.estimate == pytest.approx(rc["difference"], abs=TOL)
    assert sup.statistic == pytest.approx(rc["superiority_z"], abs=1e-10)
    assert sup.p_value == pytest.approx(rc["superiority_p_one_sided"], abs=1e-10)
    assert sup.decision == "fail"
    for ni in rc["noninferiority"]:
        r = auc_comparison_test(truth, s100b, ndka, type="noninferiority", margin=ni["margin"],
                                alpha=0.025)
        assert r.statistic == pytest.approx(ni["z"], abs=1e-10)
        assert r.p_value == pytest.approx(ni["p"], abs=1e-10)
        assert r.ci[0] == pytest.approx(ni["ci95_lower"], abs=1e-10)
        assert r.null_value == -ni["margin"]
    g = rc["goal"]
    r = auc_goal_test(truth, s100b, g["goal"], alpha=0.025)
    assert r.estimate == pytest.approx(g["auc"], abs=TOL)
    assert r.statistic == pytest.approx(g["z"], abs=1e-10)
    assert r.p_value == pytest.approx(g["p"], abs=1e-10)


def test_proportion_differences_use_the_score_tests():
    # Tango (1998) 4/9/3/16 with margin 0.05: z = 2.1487777822817242 (05b reference)
    r = proportion_difference_test({"a": 4, "b": 9, "c": 3, "d": 16}, design="paired",
                                   type="noninferiority", margin=0.05, alpha=0.025)
    assert r.statistic == pytest.approx(2.1487777822817242, abs=TOL)
    assert r.decision == "pass" and r.ci[0] > -0.05
    # Newcombe (1998) (a) 56/70 vs 48/80, FM z = 3.2920907901513616 (05a reference)
    u = proportion_difference_test({"x1": 56, "n1": 70, "x2": 48, "n2": 80}, design="unpaired",
                                   type="noninferiority", margin=0.05, alpha=0.025)
    assert u.statistic == pytest.approx(3.2920907901513616, abs=TOL)
    # the default interval is Mee's, which inverts the FM test (05a reference, R)
    assert u.ci == pytest.approx((0.053333849291325265, 0.33772946374114116), abs=1e-9)
    assert "Mee score interval" in u.test
    mn = proportion_difference_test({"x1": 56, "n1": 70, "x2": 48, "n2": 80},
                                    design="unpaired", type="noninferiority", margin=0.05,
                                    alpha=0.025, ci="mn")
    assert mn.ci == pytest.approx((0.05282971324584478, 0.33817294001586806), abs=1e-9)
    s = proportion_difference_test({"x1": 56, "n1": 70, "x2": 48, "n2": 80}, design="unpaired",
                                   type="superiority", alpha=0.025)
    assert s.margin is None and s.null_value == 0.0 and s.decision == "pass"
    with pytest.raises(InputError, match="superiority margin"):
        proportion_difference_test({"x1": 56, "n1": 70, "x2": 48, "n2": 80},
                                   design="unpaired", type="superiority", margin=0.02)


def test_interval_that_does_not_invert_the_test_is_flagged():
    """42/47 vs 40/47, margin 0.10: FM p = 0.0247 passes at 0.025 while the MN bound
    (-0.10037, with its N/(N-1) factor) is below -0.10; the reason says the test decides."""
    counts = {"x1": 42, "n1": 47, "x2": 40, "n2": 47}
    mn = proportion_difference_test(counts, design="unpaired", type="noninferiority",
                                    margin=0.10, alpha=0.025, ci="mn")
    assert mn.decision == "pass" and mn.ci[0] < -0.10
    assert "decision follows the test" in mn.reason
    mee = proportion_difference_test(counts, design="unpaired", type="noninferiority",
                                     margin=0.10, alpha=0.025)
    assert mee.p_value == mn.p_value and mee.ci[0] > -0.10
    assert "decision follows the test" not in mee.reason


@settings(max_examples=60, deadline=None)
@given(st.integers(5, 120), st.integers(5, 120), st.data(),
       st.sampled_from([0.05, 0.1, 0.15]), st.sampled_from(["noninferiority", "superiority"]))
def test_default_intervals_agree_with_the_tests(n1, n2, data, margin, kind):
    """Mee's interval inverts the FM test and Tango's interval Tango's test: bound and p-value
    decide alike (away from floating-point ties at the bound)."""
    x1 = data.draw(st.integers(0, n1))
    x2 = data.draw(st.integers(0, n2))
    m = margin if kind == "noninferiority" else None
    u = proportion_difference_test({"x1": x1, "n1": n1, "x2": x2, "n2": n2}, design="unpaired",
                                   type=kind, margin=m, alpha=0.025)
    if abs(u.p_value - 0.025) > 1e-7:
        assert (u.ci[0] > u.null_value) == (u.decision == "pass"), (x1, n1, x2, n2)
    b, c = data.draw(st.integers(0, 40)), data.draw(st.integers(0, 40))
    a, d = data.draw(st.integers(0, 40)), data.draw(st.integers(0, 40))
    if a + b + c + d == 0:
        return
    p = proportion_difference_test({"a": a, "b": b, "c": c, "d": d}, design="paired",
                                   type=kind, margin=m, alpha=0.025)
    if abs(p.p_value - 0.025) > 1e-7:
        assert (p.ci[0] > p.null_value) == (p.decision == "pass"), (a, b, c, d)


def test_equivalence_is_two_one_sided_tests():
    counts = {"x1": 56, "n1": 70, "x2": 48, "n2": 80}
    r = proportion_difference_test(counts, design="unpaired", type="equivalence", margin=0.25)
    ni = proportion_difference_test(counts, design="unpaired", type="noninferiority", margin=0.25)
    swapped = {"x1": 48, "n1": 80, "x2": 56, "n2": 70}
    ni_rev = proportion_difference_test(swapped, design="unpaired", type="noninferiority",
                                        margin=0.25)
    assert r.p_value == pytest.approx(max(ni.p_value, ni_rev.p_value), abs=TOL)
    assert r.decision == "fail"
    z = normal_test(0.01, 0.02, type="equivalence", margin=0.05, alpha=0.05)
    assert z.decision == "pass" and -0.05 < z.ci[0] and z.ci[1] < 0.05


def test_one_sided_alpha():
    assert one_sided_alpha(0.05, "two-sided") == 0.025
    assert one_sided_alpha(0.025, "one-sided") == 0.025
    with pytest.raises(InputError, match="'sidedness'"):
        one_sided_alpha(0.05, "both")


def test_t_reference_for_mrmc():
    z = normal_test(0.03, 0.02, type="noninferiority", margin=0.05)
    t = normal_test(0.03, 0.02, type="noninferiority", margin=0.05, df=12.0)
    assert t.df == 12.0 and t.p_value > z.p_value and "t test" in t.test
    assert t.statistic == pytest.approx(4.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"type": "noninferiority", "margin": -0.05}, "'margin'"),
        ({"type": "noninferiority", "margin": 5.0}, "'margin'"),
        ({"type": "noninferiority"}, "'margin'"),
        ({"type": "performance_goal", "goal": 80}, "'goal'"),
        ({"type": "sideways"}, "'type'"),
    ],
)
def test_bad_hypothesis_input(kwargs, match):
    with pytest.raises(InputError, match=match):
        normal_test(0.8, 0.02, **kwargs)


def test_bad_counts_and_se():
    with pytest.raises(InputError, match="'counts'"):
        proportion_difference_test({"x1": 1, "n1": 2}, design="unpaired", type="superiority")
    with pytest.raises(InputError, match="'counts'"):
        proportion_difference_test({"x1": 1, "n1": 2, "x2": 1, "n2": 2}, design="paired",
                                   type="superiority")
    with pytest.raises(InputError, match="'se'"):
        normal_test(0.1, 0.0, type="superiority")
    with pytest.raises(InputError, match="'successes'"):
        performance_goal_test(11, 10, 0.8)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 400), st.floats(0.0, 1.0), st.floats(0.05, 0.95),
       st.sampled_from([0.025, 0.05]), st.sampled_from(["wilson", "clopper-pearson"]))
def test_goal_interval_and_test_agree(n, frac, goal, alpha, ci):
    x = int(round(frac * n))
    r = performance_goal_test(x, n, goal, alpha=alpha, ci=ci)
    assert 0.0 <= r.p_value <= 1.0
    assert r.ci[0] <= r.estimate <= r.ci[1]
    # the bound and the test can only disagree at exact ties of floating point
    if abs(r.ci[0] - goal) > 1e-9:
        assert (r.ci[0] > goal) == (r.p_value <= alpha)


@settings(max_examples=80, deadline=None)
@given(st.floats(-0.3, 0.3), st.floats(0.001, 0.2), st.floats(0.01, 0.2),
       st.sampled_from(["noninferiority", "superiority", "equivalence"]),
       st.one_of(st.none(), st.floats(2.0, 200.0)))
def test_normal_test_interval_and_test_agree(est, se, margin, kind, df):
    r = normal_test(est, se, type=kind, margin=None if kind == "superiority" else margin,
                    df=df, alpha=0.025)
    if kind == "equivalence":
        inside = -margin < r.ci[0] and r.ci[1] < margin
        edge = min(abs(r.ci[0] + margin), abs(r.ci[1] - margin))
    else:
        inside = r.ci[0] > r.null_value
        edge = abs(r.ci[0] - r.null_value)
    if edge > 1e-9:
        assert inside == (r.decision == "pass")
    assert np.isfinite(r.p_value) and 0.0 <= r.p_value <= 1.0


@pytest.mark.parametrize("alpha", [0.5, 0.7])
def test_one_sided_level_must_leave_an_interval(alpha):
    """A one-sided level of 0.5 or more has no 1 - 2 alpha interval: refused everywhere."""
    with pytest.raises(InputError, match="one-sided level and must be below 0.5"):
        performance_goal_test(40, 50, goal=0.7, alpha=alpha)
    with pytest.raises(InputError, match="below 0.5"):
        normal_test(0.1, 0.05, type="superiority", alpha=alpha)
    with pytest.raises(InputError, match="below 0.5"):
        proportion_difference_test({"a": 4, "b": 9, "c": 3, "d": 16}, design="paired",
                                   type="superiority", alpha=alpha)
    with pytest.raises(InputError, match="below 0.5"):
        one_sided_alpha(alpha, "one-sided")
    assert one_sided_alpha(alpha, "two-sided") == alpha / 2


def test_normal_test_refuses_bad_input():
    with pytest.raises(InputError, match="superiority margin"):
        normal_test(0.1, 0.05, type="superiority", margin=0.02)
    with pytest.raises(InputError, match="'estimate' and 'se' must be numbers"):
        normal_test("high", 0.05, type="superiority")
    with pytest.raises(InputError, match="'se' must be a positive"):
        normal_test(0.1, 0.0, type="superiority")
