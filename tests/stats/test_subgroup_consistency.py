"""Subgroup consistency: GEE interaction tests against R geepack, gaps against fairlearn.

Reference: ``tests/reference/subgroups/geepack_reference.R`` generated
``subgroup_cases.csv`` (300 patients, 1-3 findings each, three levels) and fitted
``geeglm(y ~ factor(level), id = patient, family = binomial, corstr = ...)`` among positives
(y = called) and among negatives (y = correct negative call), with the Wald chi-square of the
level terms from the robust (``san.se``) covariance. Both geepack and statsmodels use the plain
sandwich without a small-sample factor, so with the independence working correlation the
figures agree to round-off (tolerance 1e-8). With the exchangeable working correlation the two
packages' moment estimators of the correlation differ slightly (for sensitivity: geepack
0.1941, statsmodels 0.1989; they scale the residual cross-products differently), which moves
the coefficients in the third decimal, so the Wald chi-square agrees to 0.5% relative
(observed 0.18% for sensitivity, 0.002% for specificity) and the p-value to 0.005 absolute.

Point gaps are checked against fairlearn's ``MetricFrame(...).difference()`` (max minus min
over the groups) to 1e-12.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, equalized_odds_difference
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import recall_score, roc_auc_score

from validation.errors import InputError, SmallSampleWarning
from validation.stats import subgroup_consistency


@pytest.fixture(scope="module")
def cases(reference_dir):
    return pd.read_csv(reference_dir / "subgroups" / "subgroup_cases.csv")


@pytest.fixture(scope="module")
def gee_ref(reference_dir):
    with open(reference_dir / "subgroups" / "geepack_reference.json") as f:
        return json.load(f)


def _run(cases, **kw):
    kw.setdefault("n_boot", 200)
    kw.setdefault("seed", 3)
    return subgroup_consistency(cases.truth, cases.called, cases.level, cluster=cases.patient,
                                score=cases.score, min_level_size=10, **kw)


@pytest.mark.parametrize(("corr", "rtol", "ptol"), [("independence", 1e-8, 1e-8), ("exchangeable", 5e-3, 5e-3)])
def test_interaction_tests_match_geepack(cases, gee_ref, corr, rtol, ptol):
    r = _run(cases, working_correlation=corr)
    for endpoint, test in (("sensitivity", r.interaction_sensitivity), ("specificity", r.interaction_specificity)):
        want = gee_ref[corr][endpoint]
        assert test.df == want["df"] == 2
        assert test.statistic == pytest.approx(want["statistic"], rel=rtol)
        assert test.p_value == pytest.approx(want["p_value"], abs=ptol)
        assert test.working_correlation == corr
        assert test.n_clusters <= 300


def test_point_gaps_match_fairlearn(cases):
    r = _run(cases)
    y, c, g = cases.truth.to_numpy(), cases.called.to_numpy(), cases.level.to_numpy()
    sens = MetricFrame(metrics=recall_score, y_true=y, y_pred=c, sensitive_features=g)
    spec = MetricFrame(metrics=lambda t, p: recall_score(t, p, pos_label=0), y_true=y, y_pred=c,
                       sensitive_features=g)
    assert r.sensitivity_gap.estimate == pytest.approx(sens.difference(method="between_groups"), abs=1e-12)
    assert r.specificity_gap.estimate == pytest.approx(spec.difference(method="between_groups"), abs=1e-12)
    assert r.equalized_odds_difference == pytest.approx(
        equalized_odds_difference(y, c, sensitive_features=g), abs=1e-12)
    by_level = sens.by_group
    assert r.sensitivity_gap.highest_level == by_level.idxmax()
    assert r.sensitivity_gap.lowest_level == by_level.idxmin()
    for row in r.levels:
        assert row.sensitivity.estimate == pytest.approx(by_level[row.level], abs=1e-12)
        m = g == row.level
        assert row.auc.estimate == pytest.approx(roc_auc_score(y[m], cases.score.to_numpy()[m]), abs=1e-12)
        assert row.n == m.sum() and row.n_positive == y[m].sum()


def test_gap_intervals_reuse_the_project_bootstrap(cases):
    r = _run(cases, n_boot=300, seed=11)
    g = r.sensitivity_gap
    assert g.bootstrap.resampling == "cluster" and g.bootstrap.n_boot + g.bootstrap.n_dropped == 300
    assert g.ci[0] <= g.estimate <= g.ci[1] or g.ci[0] > 0  # max-min is biased upward
    assert r.auc_gap is not None and r.auc_gap.ci[0] <= r.auc_gap.ci[1]
    again = _run(cases, n_boot=300, seed=11)
    assert again.to_dict() == r.to_dict()  # same seed, same result
    unclustered = subgroup_consistency(cases.truth, cases.called, cases.level, min_level_size=10,
                                       n_boot=50, seed=1)
    assert unclustered.sensitivity_gap.bootstrap.resampling == "stratified"


@pytest.mark.parametrize("clustered", [True, False])
def test_equalized_odds_interval_is_the_replicatewise_max_of_the_gaps(cases, clustered):
    kw = {"cluster": cases.patient} if clustered else {}
    r = subgroup_consistency(cases.truth, cases.called, cases.level, min_level_size=10, n_boot=300,
                             seed=5, **kw)
    eo, sg, pg = r.equalized_odds, r.sensitivity_gap, r.specificity_gap
    y, c, g = cases.truth.to_numpy(), cases.called.to_numpy(), cases.level.to_numpy()
    # point estimate: fairlearn's equalized_odds_difference (max of the two between-group gaps)
    assert eo.estimate == pytest.approx(equalized_odds_difference(y, c, sensitive_features=g), abs=1e-12)
    assert eo.estimate == r.equalized_odds_difference == max(sg.estimate, pg.estimate)
    assert eo.larger_of == ("sensitivity" if sg.estimate >= pg.estimate else "specificity")
    # same resamples as the component gaps: every replicate is the larger of theirs, exactly
    assert sg.bootstrap.n_dropped == pg.bootstrap.n_dropped == eo.bootstrap.n_dropped == 0
    np.testing.assert_array_equal(
        eo.bootstrap.replicates, np.maximum(sg.bootstrap.replicates, pg.bootstrap.replicates))
    assert eo.bootstrap.resampling == ("cluster" if clustered else "stratified")
    assert eo.bootstrap.seed == sg.bootstrap.seed == 5 and eo.bootstrap.n_boot == 300
    want = np.quantile(eo.bootstrap.replicates, [0.025, 0.975])
    assert eo.ci == pytest.approx(tuple(want), abs=1e-12)
    assert eo.ci[0] <= eo.estimate <= eo.ci[1]
    # the max is at least each component, replicate by replicate, so are its bounds
    assert eo.ci[1] >= max(sg.ci[1], pg.ci[1]) - 1e-12
    again = subgroup_consistency(cases.truth, cases.called, cases.level, min_level_size=10,
                                 n_boot=300, seed=5, **kw)
    assert again.equalized_odds.to_dict() == eo.to_dict()
    np.testing.assert_array_equal(again.equalized_odds.bootstrap.replicates, eo.bootstrap.replicates)
    json.dumps(r.to_dict(), allow_nan=False)


def test_small_levels_are_flagged_not_hidden(cases):
    d = cases.copy()
    d.loc[d.index[:6], "level"] = "D"  # a tiny level
    r = subgroup_consistency(d.truth, d.called, d.level, cluster=d.patient, min_level_size=10,
                             n_boot=50, seed=1)
    tiny = [row for row in r.levels if row.level == "D"]
    assert tiny and tiny[0].below_minimum
    assert "D" not in r.sensitivity_gap.levels and "D" not in r.interaction_sensitivity.levels
    assert any("below the minimum" in n for n in r.notes)


def test_intersectional_levels(cases):
    sex = np.where(cases.patient % 2 == 0, "F", "M")
    r = subgroup_consistency(cases.truth, cases.called, cases.level, second_factor=sex,
                             cluster=cases.patient, min_level_size=10, n_boot=50, seed=1,
                             factor_name="site")
    assert {row.level for row in r.levels} == {f"{a} x {b}" for a in "ABC" for b in "FM"}
    assert sum(row.n for row in r.levels) == len(cases)
    assert r.factor == "site (crossed)"


def test_all_levels_below_the_minimum_is_refused(cases):
    with pytest.raises(InputError, match="'min_level_size' must be reached by at least two levels"):
        subgroup_consistency(cases.truth, cases.called, cases.level, min_level_size=10_000)


def test_a_level_with_perfect_sensitivity_states_why_there_is_no_test():
    truth = np.r_[np.ones(40), np.zeros(40), np.ones(40), np.zeros(40)].astype(int)
    called = np.r_[np.ones(40), np.zeros(35), np.ones(5), np.ones(30), np.zeros(10), np.zeros(36),
                   np.ones(4)].astype(int)
    level = np.repeat(["a", "b"], 80)
    r = subgroup_consistency(truth, called, level, min_level_size=10, n_boot=50, seed=1)
    assert r.interaction_sensitivity is None
    assert any("no finite estimate" in n for n in r.notes)
    assert r.interaction_specificity is not None
    json.dumps(r.to_dict(), allow_nan=False)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_reordering_cases_changes_nothing_but_the_resamples(cases, seed):
    p = np.random.default_rng(seed).permutation(len(cases))
    d = cases.iloc[p]
    a = subgroup_consistency(cases.truth, cases.called, cases.level, cluster=cases.patient,
                             min_level_size=10, working_correlation="independence", n_boot=20, seed=1)
    b = subgroup_consistency(d.truth, d.called, d.level, cluster=d.patient,
                             min_level_size=10, working_correlation="independence", n_boot=20, seed=1)
    assert b.sensitivity_gap.estimate == pytest.approx(a.sensitivity_gap.estimate, abs=1e-15)
    assert b.interaction_sensitivity.statistic == pytest.approx(a.interaction_sensitivity.statistic, rel=1e-8)
    assert 0 <= b.interaction_specificity.p_value <= 1


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 60), st.integers(1, 4))
def test_per_level_auc_paths_match_sklearn(seed: int, n: int, k: int) -> None:
    """The two vectorised per-level AUCs (one sort; counts of tie groups in a resample) equal
    scikit-learn's roc_auc_score level by level, ties included (exact: ranks are halves)."""
    from validation.stats._subgroup_gaps import _TieGroups
    from validation.stats.subgroup_consistency import _auc_levels

    rng = np.random.default_rng(seed)
    codes = rng.integers(0, k, n).astype(np.intp)
    score = np.round(rng.normal(size=n), 1)  # coarse: many ties
    truth = rng.integers(0, 2, n).astype(np.int8)
    idx = rng.integers(0, n, n)  # a bootstrap resample
    ties = _TieGroups(codes, score, k)
    got = ties.auc(truth[idx], ties.ids[idx])
    one_sort = _auc_levels(truth[idx], score[idx], codes[idx], k)
    for j in range(k):
        m = codes[idx] == j
        t = truth[idx][m]
        if t.size and 0 < t.sum() < t.size:
            expected = roc_auc_score(t, score[idx][m])
            assert got[j] == pytest.approx(expected, abs=1e-12)
            assert one_sort[j] == pytest.approx(expected, abs=1e-12)
        else:
            assert np.isnan(got[j]) and np.isnan(one_sort[j])


def test_level_table_is_the_comparison_table_and_exists_for_one_level() -> None:
    """level_table gives subgroup_consistency's rows; it also exists where nothing can be
    compared (one level; every level below the minimum), where subgroup_consistency refuses."""
    from validation.stats.subgroup_consistency import level_table

    rng = np.random.default_rng(11)
    n = 300
    y = rng.integers(0, 2, n)
    c = np.where(rng.random(n) < 0.8, y, 1 - y)
    g = rng.choice(["a", "b", "c"], n)
    pid = rng.integers(0, 200, n)
    full = subgroup_consistency(y, c, g, cluster=pid, min_level_size=10, n_boot=50, seed=1)
    table = level_table(y, c, g, cluster=pid, min_level_size=10)
    assert table.levels == full.levels
    one = level_table(y, c, np.full(n, "only"), cluster=pid, min_level_size=10)
    assert [r.level for r in one.levels] == ["only"]
    assert one.levels[0].sensitivity is not None
    assert one.levels[0].sensitivity.successes == int(np.sum((y == 1) & (c == 1)))
    with pytest.raises(InputError, match="min_level_size"):
        subgroup_consistency(y, c, g, min_level_size=1000, n_boot=50, seed=1)
    small = level_table(y, c, g, min_level_size=1000)
    assert all(r.below_minimum for r in small.levels)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_all_gap_replicates_equal_the_per_replicate_loop(seed: int, clustered: bool) -> None:
    """The vectorised gaps (drawn once for sensitivity, specificity and AUC; rates summed per
    cluster; tie groups by running sums) equal bootstrap_statistic's loop over the same
    resamples exactly, replicate by replicate, ties and clusters included."""
    from validation.stats.bootstrap import bootstrap_statistic
    from validation.stats.subgroup_consistency import _auc_levels, _rate

    rng = np.random.default_rng(seed)
    n_pat = 60
    size = rng.integers(1, 4, n_pat)
    patient = np.repeat(np.arange(n_pat), size)
    n = patient.size
    level = rng.integers(0, 3, n_pat)[patient]
    truth = (rng.random(n) < 0.5).astype(np.int8)
    called = np.where(rng.random(n) < 0.8, truth, 1 - truth).astype(np.int8)
    score = np.round(rng.normal(truth, 1.0), 1)  # coarse: ties
    names = np.array(["a", "b", "c"])[level]
    kw = {"cluster": patient} if clustered else {}
    r = subgroup_consistency(truth, called, names, score=score, min_level_size=1, n_boot=40,
                             seed=seed, **kw)
    boot_kw = {"cluster": patient} if clustered else {"strata": level * 2 + truth}

    def gap(values: np.ndarray) -> float:
        return float(values.max() - values.min()) if np.all(np.isfinite(values)) else float("nan")

    def sens(y, c, lv):
        sel = y == 1
        return gap(_rate((c[sel] == 1).astype(float), lv[sel], 3))

    def spec(y, c, lv):
        sel = y == 0
        return gap(_rate((c[sel] == 0).astype(float), lv[sel], 3))

    def auc(y, s, lv):
        return gap(_auc_levels(y, s, lv, 3))

    for got, fn, arrays in ((r.sensitivity_gap, sens, (truth, called, level)),
                            (r.specificity_gap, spec, (truth, called, level)),
                            (r.auc_gap, auc, (truth, score, level))):
        if got is None:
            continue
        with warnings.catch_warnings():  # an undefined replicate is dropped on both paths
            warnings.simplefilter("ignore", SmallSampleWarning)
            want = bootstrap_statistic(fn, *arrays, n_boot=40, seed=seed, **boot_kw)
        np.testing.assert_array_equal(got.bootstrap.replicates, want.replicates)
        assert got.ci == want.ci
