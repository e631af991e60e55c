"""Prognostic statistics against R 4.2 + survival 3.5 and invariants.

Reference values: tests/reference/prognostic/prognostic_refs.json, written by
make_prognostic_refs.R from prognostic.csv (make_data.py: tied times, events tied with
censorings, tied scores). R calls::

    concordance(Surv(time, event) ~ score, reverse = TRUE)
    survfit(Surv(time, event) ~ group); quantile(fit, 0.5); summary(fit, times = ...)
    survdiff(Surv(time, event) ~ group)
    coxph(Surv(time, event) ~ score); cox.zph(fit, transform = "km" | "identity" | "rank")

Uno's AUC has no package on Debian's R; the script writes its formula out with ``survfit`` of
the censoring distribution.

Tolerances: counts exactly; C, its infinitesimal-jackknife se, Kaplan-Meier and log-rank 1e-12
(the same arithmetic; measured <= 3e-14); Cox coefficients 1e-9 and PH chi-squares 1e-8 (two
Newton-Raphson fits converged to 1e-9 or better; measured 6e-13 and 5e-13).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.utils import concordance_index as lifelines_cindex
from statsmodels.duration.survfunc import survdiff

from validation.errors import InputError
from validation.stats import (
    concordance_index,
    cox_group_hazard_ratios,
    cox_hazard_ratio,
    kaplan_meier,
    survival_by_group,
    time_dependent_auc,
)

REF = Path(__file__).resolve().parents[1] / "reference" / "prognostic"
R = json.loads((REF / "prognostic_refs.json").read_text())
D = pd.read_csv(REF / "prognostic.csv")
T, E, S, G = D["time"].to_numpy(), D["event"].to_numpy(), D["score"].to_numpy(), D["group"].to_numpy()
ORDER = ["low", "mid", "high"]


def _arr(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_concordance_matches_r_counts_estimate_and_ij_se() -> None:
    r = concordance_index(T, E, S)
    ref = R["concordance"]
    assert (r.concordant, r.discordant, r.tied_score) == (ref["concordant"], ref["discordant"], ref["tied_x"])
    assert r.tied_time == ref["tied_y"] + ref["tied_xy"]  # all pairs of events at one time
    assert r.estimate == pytest.approx(ref["estimate"], abs=1e-12)
    assert r.se == pytest.approx(ref["se"], abs=1e-12)
    small = concordance_index(T[:60], E[:60], S[:60])
    assert small.estimate == pytest.approx(R["concordance_first60"]["estimate"], abs=1e-12)
    assert small.se == pytest.approx(R["concordance_first60"]["se"], abs=1e-12)


def test_lifelines_concordance_agrees_with_r() -> None:
    """lifelines counts ties as R does: its C equals R's to rounding."""
    assert lifelines_cindex(T, -S, E) == pytest.approx(R["concordance"]["estimate"], abs=1e-12)


@pytest.mark.parametrize("group", ORDER)
def test_kaplan_meier_and_median_match_r_survfit(group: str) -> None:
    km = kaplan_meier(T[G == group], E[G == group], group=group)
    ref = R["km"][group]
    np.testing.assert_array_equal(km.time, ref["time"])
    np.testing.assert_array_equal(km.n_risk, ref["n_risk"])
    np.testing.assert_array_equal(km.n_event, ref["n_event"])
    np.testing.assert_allclose(km.surv, ref["surv"], atol=1e-12)
    np.testing.assert_allclose(km.std_err, _arr(ref["std_err"]), atol=1e-12)
    np.testing.assert_allclose(km.low, _arr(ref["lower"]), atol=1e-12)
    np.testing.assert_allclose(km.high, _arr(ref["upper"]), atol=1e-12)
    assert km.median == pytest.approx(ref["median"], abs=1e-12)
    assert km.median_ci == pytest.approx((ref["median_low"], ref["median_high"]), abs=1e-12)


def test_lifelines_kaplan_meier_agrees_with_r() -> None:
    fit = KaplanMeierFitter().fit(T[G == "low"], E[G == "low"])
    sf = fit.survival_function_.iloc[1:, 0].to_numpy()  # lifelines starts at time 0
    np.testing.assert_allclose(sf, R["km"]["low"]["surv"], atol=1e-12)
    assert fit.median_survival_time_ == pytest.approx(R["km"]["low"]["median"], abs=1e-12)


def test_logrank_and_numbers_at_risk_match_r() -> None:
    r = survival_by_group(T, E, G, order=ORDER, at_risk_times=R["n_at_risk"]["times"])
    ref = R["logrank"]
    assert r.logrank.statistic == pytest.approx(ref["statistic"], abs=1e-10)
    assert r.logrank.df == ref["df"]
    assert r.logrank.p_value == pytest.approx(ref["p_value"], rel=1e-9)
    assert list(r.logrank.observed) == ref["observed"]
    np.testing.assert_allclose(r.logrank.expected, ref["expected"], atol=1e-10)
    assert [n for g in ORDER for n in r.at_risk[g]] == R["n_at_risk"]["n_risk"]
    stat, _ = survdiff(T, E.astype(float), G)  # statsmodels on its own
    assert stat == pytest.approx(ref["statistic"], abs=1e-10)


def test_cox_score_and_ph_test_match_r() -> None:
    ref = R["cox_score"]
    r = cox_hazard_ratio(T, E, S)
    hr = r.hazard_ratios[0]
    assert hr.log_hr == pytest.approx(ref["coef"], abs=1e-9)
    assert hr.se == pytest.approx(ref["se"], abs=1e-9)
    assert hr.ci == pytest.approx((ref["hr_low"], ref["hr_high"]), abs=1e-8)
    assert r.loglik == pytest.approx(ref["loglik"][1], abs=1e-8)
    assert [p.statistic for p in r.ph_tests] == pytest.approx(ref["zph_chisq"], abs=1e-8)
    assert [p.p_value for p in r.ph_tests] == pytest.approx(ref["zph_p"], abs=1e-8)
    for transform, key in (("identity", "cox_score_zph_identity"), ("rank", "cox_score_zph_rank")):
        z = cox_hazard_ratio(T, E, S, transform=transform)
        assert [p.statistic for p in z.ph_tests] == pytest.approx(R[key]["chisq"], abs=1e-8)


def test_cox_groups_and_ph_test_match_r() -> None:
    ref = R["cox_group"]
    r = cox_group_hazard_ratios(T, E, G, order=ORDER)
    assert r.reference_group == "low"
    assert [h.log_hr for h in r.hazard_ratios] == pytest.approx(ref["coef"], abs=1e-9)
    assert [h.se for h in r.hazard_ratios] == pytest.approx(ref["se"], abs=1e-9)
    assert [h.p_value for h in r.hazard_ratios] == pytest.approx(ref["p_value"], rel=1e-6)
    assert [p.statistic for p in r.ph_tests] == pytest.approx(ref["zph_chisq"], abs=1e-8)
    assert [p.df for p in r.ph_tests] == ref["zph_df"]


def test_lifelines_and_statsmodels_cox_agree_with_r() -> None:
    fit = sm.PHReg(T, S[:, None], status=E.astype(float), ties="efron").fit()
    assert fit.params[0] == pytest.approx(R["cox_score"]["coef"], abs=1e-9)
    cph = CoxPHFitter().fit(pd.DataFrame({"t": T, "e": E, "score": S}), "t", "e")
    # lifelines' Newton-Raphson stops at a looser step tolerance: agreement to 1e-6
    assert cph.params_["score"] == pytest.approx(R["cox_score"]["coef"], abs=1e-6)
    assert cph.standard_errors_["score"] == pytest.approx(R["cox_score"]["se"], abs=1e-6)


def test_uno_auc_matches_r_formula() -> None:
    r = time_dependent_auc(T, E, S, horizons=R["uno_auc"]["horizons"], n_boot=50)
    assert [h.estimate for h in r.horizons] == pytest.approx(R["uno_auc"]["auc"], abs=1e-12)
    for h in r.horizons:
        assert h.ci[0] <= h.estimate <= h.ci[1]


# --- invariants ------------------------------------------------------------------------

survival_sets = st.integers(0, 2**32 - 1).map(lambda seed: np.random.default_rng(seed))


def _draw(rng: np.random.Generator, n: int, ties: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    score = rng.normal(size=n)
    time = rng.exponential(1 / np.exp(0.5 * score))
    event = rng.random(n) < 0.7
    event[0] = True
    if ties:
        time, score = np.round(time, 1), np.round(score, 1)
    return time, event.astype(int), score


@settings(max_examples=40, deadline=None)
@given(rng=survival_sets, n=st.integers(5, 80))
def test_c_of_negated_score_is_one_minus_c_without_ties(rng: np.random.Generator, n: int) -> None:
    t, e, s = _draw(rng, n, ties=False)
    try:
        a = concordance_index(t, e, s)
    except InputError:
        return  # no comparable pair
    b = concordance_index(t, e, -s)
    assert b.estimate == pytest.approx(1 - a.estimate, abs=1e-12)
    assert b.se == pytest.approx(a.se, abs=1e-12)
    assert 0 <= a.ci[0] <= a.estimate <= a.ci[1] <= 1


@settings(max_examples=40, deadline=None)
@given(rng=survival_sets, n=st.integers(5, 80))
def test_c_is_rank_invariant_order_free_and_equals_lifelines(rng: np.random.Generator, n: int) -> None:
    t, e, s = _draw(rng, n, ties=True)
    try:
        a = concordance_index(t, e, s)
    except InputError:
        return
    b = concordance_index(t, e, np.exp(3 * s))  # monotone transform
    perm = rng.permutation(n)
    c = concordance_index(t[perm], e[perm], s[perm])
    assert a.estimate == b.estimate == pytest.approx(c.estimate, abs=1e-15)
    assert a.se == pytest.approx(c.se, abs=1e-12)
    assert a.estimate == pytest.approx(lifelines_cindex(t, -s, e), abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(rng=survival_sets, n=st.integers(3, 60))
def test_kaplan_meier_is_a_survival_curve(rng: np.random.Generator, n: int) -> None:
    t, e, _ = _draw(rng, n, ties=True)
    km = kaplan_meier(t, e)
    assert np.all(np.diff(km.surv) <= 1e-15) and km.surv[0] <= 1 and km.surv[-1] >= 0
    ok = np.isfinite(km.low)
    assert np.all(km.low[ok] <= km.surv[ok] + 1e-15) and np.all(km.surv[ok] <= km.high[ok] + 1e-15)
    assert km.n_event.sum() == e.sum() and km.n_risk[0] == n


# --- bad input -------------------------------------------------------------------------


def test_negative_times_no_events_and_one_group_are_refused() -> None:
    with pytest.raises(InputError, match=r"'time' must be >= 0.*position 1"):
        concordance_index([1.0, -2.0, 3.0], [1, 0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="'event' has no events"):
        concordance_index([1.0, 2.0, 3.0], [0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="'event' must hold only 1"):
        kaplan_meier([1.0, 2.0], [1, 2])
    with pytest.raises(InputError, match="'group' must hold at least two risk groups"):
        survival_by_group(T, E, np.full(T.size, "high"))
    with pytest.raises(InputError, match="'group' must hold at least two risk groups"):
        cox_group_hazard_ratios(T, E, np.full(T.size, "high"))
    with pytest.raises(InputError, match="monotone likelihood"):
        cox_hazard_ratio(np.arange(1.0, 21), np.ones(20), -np.arange(20.0))
    with pytest.raises(InputError, match="'horizons' holds 1000"):
        time_dependent_auc(T, E, S, horizons=[1000.0])


def _pairwise(t: np.ndarray, e: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Per-subject credit and comparable pairs by looping over every pair (the definition)."""
    n = t.size
    credit, pairs = np.zeros(n), np.zeros(n)
    c = d = tx = ty = 0
    for i in range(n):
        for j in range(n):
            if i == j or not e[i]:
                continue
            if e[j] and t[j] == t[i]:
                ty += 1
                continue
            if not (t[j] > t[i] or (t[j] == t[i] and not e[j])):
                continue
            w = 1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0
            c, d, tx = c + (w == 1.0), d + (w == 0.0), tx + (w == 0.5)
            credit[i] += w
            credit[j] += w
            pairs[i] += 1
            pairs[j] += 1
    return credit, pairs, (c, d, tx, ty // 2)


@settings(max_examples=60, deadline=None)
@given(rng=survival_sets, n=st.integers(1, 40), digits=st.integers(0, 2))
def test_sorted_pair_counts_equal_the_pairwise_definition(rng: np.random.Generator, n: int, digits: int) -> None:
    """The O(n log^2 n) counts equal the pair loop exactly, with ties in time, score and both."""
    from validation.stats.concordance import _pair_counts

    t = np.round(rng.exponential(size=n), digits)
    e = rng.random(n) < rng.random()
    s = np.round(rng.normal(size=n), digits)
    credit, pairs, c, d, tx, ty = _pair_counts(t, e, s)
    want_credit, want_pairs, counts = _pairwise(t, e, s)
    assert (c, d, tx, ty) == counts
    assert np.array_equal(credit, want_credit) and np.array_equal(pairs, want_pairs)
