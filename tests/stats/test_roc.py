"""ROC statistics against R pROC, brute-force oracles and invariants.

References: ``tests/reference/expected/01_auc_delong_ci.json`` and ``02_delong_tests.json``
(pROC 1.18.0, the R calls are in each entry's ``how`` field), ``03_auc_bootstrap_ci.json``
(pROC stratified bootstrap, Monte Carlo) and ``tests/reference/roc/roc_extra.json`` (made by
``tests/reference/roc/make_roc_refs.R``). aSAH: negative class "Good", positive "Poor".
Closed-form DeLong quantities are compared to 1e-12 (the references carry 16-17 digits);
bootstrap bounds to 0.01 (Monte Carlo: R's and numpy's random streams differ; the 20-seed
spread in 03 has SD 0.002-0.003).
"""

from __future__ import annotations

import json
from itertools import product

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from validation.errors import InputError
from validation.stats import (
    auc_ci,
    compare_auc,
    compare_auc_unpaired,
    operating_point,
    placement_values,
    roc_curve_points,
)

TOL = 1e-12


@pytest.fixture(scope="module")
def asah(reference_dir):
    d = pd.read_csv(reference_dir / "data" / "aSAH.csv")
    d["y"] = (d["outcome"] == "Poor").astype(int)
    return d


def _expected(reference_dir, name):
    return json.loads((reference_dir / "expected" / name).read_text())


@pytest.fixture(scope="module")
def extra(reference_dir):
    return json.loads((reference_dir / "roc" / "roc_extra.json").read_text())


# --------------------------------------------------------------------------- brute-force oracles


def psi(x, y):
    return np.where(x > y, 1.0, np.where(x == y, 0.5, 0.0))


def brute_delong(truth, scores):
    """O(n^2) DeLong (1988): AUCs and covariance matrix straight from the definition."""
    t = np.asarray(truth).astype(bool)
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    m, n = int(t.sum()), int((~t).sum())
    v10, v01, aucs = [], [], []
    for s in scores:
        k = psi(s[t][:, None], s[~t][None, :])  # (m, n)
        aucs.append(k.mean())
        v10.append(k.mean(axis=1))
        v01.append(k.mean(axis=0))
    v10, v01 = np.array(v10), np.array(v01)
    s10 = np.atleast_2d(np.cov(v10))
    s01 = np.atleast_2d(np.cov(v01))
    return np.array(aucs), s10 / m + s01 / n


def brute_obuchowski(truth, scores, cluster):
    """Obuchowski (1997) clustered covariance, written out with loops over clusters."""
    t = np.asarray(truth).astype(bool)
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    cluster = np.asarray(cluster)
    labels = list(dict.fromkeys(cluster.tolist()))
    big_m, big_n = int(t.sum()), int((~t).sum())
    k = scores.shape[0]
    theta = np.empty(k)
    v10c = np.zeros((k, len(labels)))
    v01c = np.zeros((k, len(labels)))
    m_i = np.array([np.sum(t & (cluster == c)) for c in labels])
    n_i = np.array([np.sum(~t & (cluster == c)) for c in labels])
    for a, s in enumerate(scores):
        x, y = s[t], s[~t]
        theta[a] = psi(x[:, None], y[None, :]).mean()
        for ci, c in enumerate(labels):
            for xi in s[t & (cluster == c)]:
                v10c[a, ci] += psi(xi, y).sum() / big_n
            for yj in s[~t & (cluster == c)]:
                v01c[a, ci] += psi(x, yj).sum() / big_m
    i10, i01, ii = int(np.sum(m_i > 0)), int(np.sum(n_i > 0)), len(labels)
    cov = np.empty((k, k))
    for a, b in product(range(k), range(k)):
        s10 = i10 / ((i10 - 1) * big_m) * sum(
            (v10c[a, i] - m_i[i] * theta[a]) * (v10c[b, i] - m_i[i] * theta[b]) for i in range(ii)
        )
        s01 = i01 / ((i01 - 1) * big_n) * sum(
            (v01c[a, i] - n_i[i] * theta[a]) * (v01c[b, i] - n_i[i] * theta[b]) for i in range(ii)
        )
        s11ab = ii / (ii - 1) * sum(
            (v10c[a, i] - m_i[i] * theta[a]) * (v01c[b, i] - n_i[i] * theta[b]) for i in range(ii)
        )
        s11ba = ii / (ii - 1) * sum(
            (v10c[b, i] - m_i[i] * theta[b]) * (v01c[a, i] - n_i[i] * theta[a]) for i in range(ii)
        )
        cov[a, b] = s10 / big_m + s01 / big_n + (s11ab + s11ba) / (big_m * big_n)
    return theta, cov


# --------------------------------------------------------------------------- pROC references


@pytest.mark.parametrize("predictor", ["s100b", "ndka"])
def test_delong_ci_matches_proc(asah, reference_dir, predictor):
    ref = _expected(reference_dir, "01_auc_delong_ci.json")["subcases"][f"aSAH_{predictor}"]
    r = auc_ci(asah["y"], asah[predictor])
    assert r.n_positive == ref["n_cases"] and r.n_negative == ref["n_controls"]
    assert r.estimate == pytest.approx(ref["auc"], abs=TOL)
    assert r.se**2 == pytest.approx(ref["delong_var"], rel=TOL)
    assert r.se == pytest.approx(ref["delong_se"], rel=TOL)
    assert r.ci[0] == pytest.approx(ref["ci95_delong"]["lower"], abs=TOL)
    assert r.ci[1] == pytest.approx(ref["ci95_delong"]["upper"], abs=TOL)
    assert r.method == "delong"


def test_paired_delong_matches_proc(asah, reference_dir):
    ref = _expected(reference_dir, "02_delong_tests.json")["paired"]["aSAH_s100b_vs_ndka"]
    c = compare_auc(asah["y"], asah["s100b"], asah["ndka"])
    assert c.auc_a == pytest.approx(ref["auc1"], abs=TOL)
    assert c.auc_b == pytest.approx(ref["auc2"], abs=TOL)
    assert c.estimate == pytest.approx(ref["auc_difference"], abs=TOL)
    assert c.covariance == pytest.approx(ref["cov12"], rel=TOL)
    assert c.se == pytest.approx(ref["se_difference"], rel=TOL)
    assert c.statistic == pytest.approx(ref["Z"], rel=TOL)
    assert c.p_value == pytest.approx(ref["p_value_two_sided"], rel=1e-10)
    assert c.ci[0] == pytest.approx(ref["ci95_difference"]["lower"], abs=TOL)
    assert c.ci[1] == pytest.approx(ref["ci95_difference"]["upper"], abs=TOL)


@pytest.mark.parametrize("predictor", ["ndka", "wfns"])
def test_delong_90_percent_and_ties_match_proc(asah, extra, predictor):
    ref = extra[f"delong90_{predictor}"]
    r = auc_ci(asah["y"], asah[predictor].astype(float), alpha=0.10)
    assert r.estimate == pytest.approx(ref["auc"], abs=TOL)
    assert r.se**2 == pytest.approx(ref["var"], rel=TOL)
    assert r.ci == pytest.approx((ref["lower"], ref["upper"]), abs=TOL)


def test_paired_delong_with_ties_matches_proc(asah, extra):
    ref = extra["paired_s100b_wfns"]
    c = compare_auc(asah["y"], asah["s100b"], asah["wfns"].astype(float))
    assert c.auc_b == pytest.approx(ref["auc2"], abs=TOL)
    assert c.covariance == pytest.approx(ref["cov12"], rel=TOL)
    assert c.statistic == pytest.approx(ref["z"], rel=TOL)
    assert c.p_value == pytest.approx(ref["p_value"], rel=1e-10)
    assert c.ci == pytest.approx((ref["lower"], ref["upper"]), abs=TOL)


def test_unpaired_delong_matches_proc(asah, extra):
    ref = extra["unpaired_s100b_female_vs_male"]
    f = asah[asah["gender"] == "Female"]
    m = asah[asah["gender"] == "Male"]
    c = compare_auc_unpaired(f["y"], f["s100b"], m["y"], m["s100b"])
    assert c.auc_a == pytest.approx(ref["auc1"], abs=TOL)
    assert c.auc_b == pytest.approx(ref["auc2"], abs=TOL)
    assert c.se_a**2 == pytest.approx(ref["var1"], rel=TOL)
    assert c.se_b**2 == pytest.approx(ref["var2"], rel=TOL)
    assert c.statistic == pytest.approx(ref["z"], rel=TOL)
    assert c.p_value == pytest.approx(2 * norm.sf(abs(ref["z"])), rel=1e-10)
    assert not c.paired and c.covariance == 0.0 and c.df is None
    # pROC refers D to Student's t with Welch-Satterthwaite df
    w = compare_auc_unpaired(f["y"], f["s100b"], m["y"], m["s100b"], distribution="t-welch")
    assert w.statistic == c.statistic
    assert w.p_value == pytest.approx(ref["p_value"], rel=1e-10)


def test_operating_points_match_proc_coords(asah, extra):
    ref = extra["coords_s100b"]
    for thr, se, sp in zip(ref["threshold"], ref["sensitivity"], ref["specificity"], strict=True):
        op = operating_point(asah["y"], asah["s100b"], thr)
        assert op.sensitivity == pytest.approx(se, abs=TOL)
        assert op.specificity == pytest.approx(sp, abs=TOL)
        assert op.tp + op.fn == 41 and op.tn + op.fp == 72


def test_bootstrap_ci_agrees_with_proc_within_monte_carlo(asah, reference_dir):
    ref = _expected(reference_dir, "03_auc_bootstrap_ci.json")["subcases"]["aSAH_s100b"]
    r = auc_ci(asah["y"], asah["s100b"], method="bootstrap", n_boot=2000, seed=42)
    assert r.estimate == pytest.approx(ref["auc"], abs=TOL)
    assert r.ci[0] == pytest.approx(ref["ci95_bootstrap"]["lower"], abs=0.01)
    assert r.ci[1] == pytest.approx(ref["ci95_bootstrap"]["upper"], abs=0.01)
    assert r.method == "bootstrap-stratified-percentile" and r.n_boot == 2000 and r.seed == 42


# --------------------------------------------------------------------------- other methods


def test_logit_interval_is_the_delta_method_interval(asah):
    d = auc_ci(asah["y"], asah["s100b"])
    r = auc_ci(asah["y"], asah["s100b"], method="logit")
    a = d.estimate
    half = norm.ppf(0.975) * d.se / (a * (1 - a))
    expit = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    logit = np.log(a / (1 - a))
    assert r.ci == pytest.approx((expit(logit - half), expit(logit + half)), abs=TOL)
    assert r.se == d.se and r.method == "delong-logit"


def test_logit_refuses_perfect_separation():
    with pytest.raises(InputError, match="logit"):
        auc_ci([0, 0, 1, 1], [1, 2, 3, 4], method="logit")


def test_wald_interval_is_clipped_to_unit_interval():
    r = auc_ci([0, 0, 0, 1, 1, 1], [1, 2, 4, 3, 5, 6])
    assert r.ci[1] == 1.0 and r.ci[0] >= 0.0


@pytest.fixture(scope="module")
def clustered_sample():
    rng = np.random.default_rng(7)
    n_pat = 25
    sizes = rng.integers(1, 4, n_pat)
    cluster = np.repeat([f"p{i:02d}" for i in range(n_pat)], sizes)
    patient_effect = np.repeat(rng.normal(size=n_pat), sizes)
    truth = (rng.random(cluster.size) < 0.45).astype(int)
    truth[:2] = [0, 1]
    sa = np.round(truth * 1.0 + patient_effect + rng.normal(size=cluster.size), 1)
    sb = np.round(truth * 0.6 + patient_effect + rng.normal(size=cluster.size), 1)
    return truth, sa, sb, cluster


def test_obuchowski_matches_brute_force(clustered_sample):
    truth, sa, sb, cluster = clustered_sample
    theta, cov = brute_obuchowski(truth, [sa, sb], cluster)
    r = auc_ci(truth, sa, cluster=cluster)
    assert r.estimate == pytest.approx(theta[0], abs=TOL)
    assert r.se**2 == pytest.approx(cov[0, 0], rel=1e-10)
    assert r.method == "obuchowski-clustered" and r.n_clusters == 25
    c = compare_auc(truth, sa, sb, cluster=cluster)
    assert c.covariance == pytest.approx(cov[0, 1], rel=1e-10)
    var_diff = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    assert c.se**2 == pytest.approx(var_diff, rel=1e-10)


def test_obuchowski_with_one_finding_per_cluster_is_delong(asah):
    y, s, n = asah["y"], asah["s100b"], len(asah)
    assert auc_ci(y, s, cluster=np.arange(n)).se == pytest.approx(auc_ci(y, s).se, rel=TOL)
    a = compare_auc(y, s, asah["ndka"], cluster=np.arange(n))
    b = compare_auc(y, s, asah["ndka"])
    assert a.se == pytest.approx(b.se, rel=TOL)


def test_roc_curve_points_brute_force(asah):
    y, s = asah["y"].to_numpy().astype(bool), asah["s100b"].to_numpy()
    curve = roc_curve_points(y, s)
    assert np.isinf(curve.thresholds[0]) and curve.fpr[0] == 0 and curve.tpr[-1] == 1
    for thr, f, t in zip(curve.thresholds[1:], curve.fpr[1:], curve.tpr[1:], strict=True):
        assert t == pytest.approx(np.mean(s[y] >= thr), abs=TOL)
        assert f == pytest.approx(np.mean(s[~y] >= thr), abs=TOL)
    assert np.trapezoid(curve.tpr, curve.fpr) == pytest.approx(auc_ci(y, s).estimate, abs=TOL)
    assert curve.to_dict()["thresholds"][0] is None


def test_identical_scores_cannot_be_compared(asah):
    with pytest.raises(InputError, match="variance of the AUC difference is zero"):
        compare_auc(asah["y"], asah["s100b"], 2 * asah["s100b"] + 1)


def test_one_sided_p_values(asah):
    two = compare_auc(asah["y"], asah["s100b"], asah["ndka"])
    gt = compare_auc(asah["y"], asah["s100b"], asah["ndka"], alternative="greater")
    lt = compare_auc(asah["y"], asah["s100b"], asah["ndka"], alternative="less")
    assert gt.p_value == pytest.approx(two.p_value / 2, rel=TOL)
    assert gt.p_value + lt.p_value == pytest.approx(1.0, abs=TOL)


# --------------------------------------------------------------------------- properties

small = st.integers(min_value=2, max_value=12)


@st.composite
def samples(draw, max_n=40, tied=True):
    n_pos = draw(small)
    n_neg = draw(small)
    # untied: a grid fine enough for few ties, coarse enough that exp() keeps the order
    values = st.integers(0, 6) if tied else st.integers(-5000, 5000)
    s = draw(st.lists(values, min_size=n_pos + n_neg, max_size=n_pos + n_neg))
    if not tied:
        s = [v / 1000.0 for v in s]
    truth = np.array([1] * n_pos + [0] * n_neg)
    perm = draw(st.permutations(range(n_pos + n_neg)))
    return truth[list(perm)], np.asarray(s, dtype=float)


@settings(max_examples=60, deadline=None)
@given(samples())
def test_auc_and_delong_variance_equal_the_quadratic_definition(sample):
    truth, score = sample
    theta, cov = brute_delong(truth, score)
    r = auc_ci(truth, score)
    assert r.estimate == pytest.approx(theta[0], abs=TOL)
    assert r.estimate == pytest.approx(roc_auc_score(truth, score), abs=TOL)
    assert r.se**2 == pytest.approx(cov[0, 0], rel=1e-9, abs=1e-15)
    v10, v01 = placement_values(truth, score)
    k = psi(score[truth == 1][:, None], score[truth == 0][None, :])
    assert v10 == pytest.approx(k.mean(axis=1), abs=TOL)
    assert v01 == pytest.approx(k.mean(axis=0), abs=TOL)


@settings(max_examples=40, deadline=None)
@given(samples(), st.data())
def test_paired_covariance_equals_the_quadratic_definition(sample, data):
    truth, sa = sample
    sb = np.asarray(data.draw(st.lists(st.integers(0, 6), min_size=sa.size, max_size=sa.size)),
                    dtype=float)
    _, cov = brute_delong(truth, [sa, sb])
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    if var <= 1e-12:
        with pytest.raises(InputError):
            compare_auc(truth, sa, sb)
        return
    c = compare_auc(truth, sa, sb)
    assert c.covariance == pytest.approx(cov[0, 1], rel=1e-9, abs=1e-15)
    assert c.se**2 == pytest.approx(var, rel=1e-9)
    assert 0.0 <= c.p_value <= 1.0


@settings(max_examples=60, deadline=None)
@given(samples(tied=False), st.sampled_from(["delong", "logit"]))
def test_auc_invariants(sample, method):
    truth, score = sample
    if method == "logit":
        assume(0.0 < auc_ci(truth, score).estimate < 1.0)
    r = auc_ci(truth, score, method=method)
    assert 0.0 <= r.estimate <= 1.0
    assert r.ci[0] <= r.estimate <= r.ci[1]
    assert 0.0 <= r.ci[0] and r.ci[1] <= 1.0
    # monotone transform of the score changes nothing
    m = auc_ci(truth, np.exp(score / 3.0) * 5 - 2, method=method)
    assert m.estimate == pytest.approx(r.estimate, abs=TOL)
    assert m.se == pytest.approx(r.se, rel=1e-9, abs=1e-15)
    # reversing the score gives 1 - AUC with the same standard error
    f = auc_ci(truth, -score, method=method)
    assert f.estimate == pytest.approx(1.0 - r.estimate, abs=TOL)
    assert f.se == pytest.approx(r.se, rel=1e-9, abs=1e-15)
    # reordering the cases changes nothing
    perm = np.random.default_rng(0).permutation(truth.size)
    p = auc_ci(truth[perm], score[perm], method=method)
    assert p.estimate == r.estimate
    assert p.se == pytest.approx(r.se, rel=1e-12, abs=1e-16)


def test_to_dict_is_plain_json(asah):
    d = auc_ci(asah["y"], asah["s100b"]).to_dict()
    json.dumps(d, allow_nan=False)
    assert set(d) >= {"estimate", "se", "ci", "n_positive", "n_negative", "method", "references"}
    assert all("doi:" in ref for ref in d["references"])


@pytest.mark.slow
def test_obuchowski_interval_covers_under_clustering():
    """Coverage study: 1,000 studies of 150 patients with 1-4 correlated findings each.

    A patient is diseased with probability 0.4; a finding of a diseased patient is positive
    with probability 0.9, of a healthy one 0.05, so positive findings cluster in patients.
    Scores are ``truth * 1.0 + u_patient + e`` with ``u ~ N(0, 1)``, ``e ~ N(0, 1)``; the
    population AUC over findings of different patients is ``Phi(1 / sqrt(2 + 2))`` (pairs
    within a patient are under 1% of all pairs). The clustered interval should cover about
    95% (binomial SE 0.7 points); DeLong's, which ignores the clustering, covers less.
    """
    rng = np.random.default_rng(20261128)
    theta = norm.cdf(1.0 / np.sqrt(4.0))
    hits_cl = hits_dl = 0
    n_sim = 1000
    for _ in range(n_sim):
        sizes = rng.integers(1, 5, 150)
        cluster = np.repeat(np.arange(150), sizes)
        diseased = np.repeat(rng.random(150) < 0.4, sizes)
        truth = (rng.random(cluster.size) < np.where(diseased, 0.9, 0.05)).astype(int)
        score = truth + np.repeat(rng.normal(size=150), sizes) + rng.normal(size=cluster.size)
        lo, hi = auc_ci(truth, score, cluster=cluster).ci
        hits_cl += lo <= theta <= hi
        lo, hi = auc_ci(truth, score).ci
        hits_dl += lo <= theta <= hi
    assert 0.93 <= hits_cl / n_sim <= 0.97
    assert hits_dl < hits_cl


@pytest.mark.parametrize("distribution", ["normal", "t-welch"])
def test_unpaired_comparison_with_both_variances_zero_is_refused(distribution: str) -> None:
    """Both samples perfect (or one perfect and one constant): no test exists.

    Before the fix the Welch form divided 0 by 0 (ZeroDivisionError); both forms now refuse
    with a message about independent samples (not the paired 'score_a and score_b').
    """
    truth = np.array([0, 0, 0, 1, 1, 1])
    perfect = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    constant = np.full(6, 0.5)
    for other in (perfect, constant):
        with pytest.raises(InputError, match="both samples are zero") as err:
            compare_auc_unpaired(truth, perfect, truth, other, distribution=distribution)
        assert "score_b" not in str(err.value) and "independent" in str(err.value)


def test_unpaired_comparison_with_one_zero_variance_is_computed() -> None:
    """One perfect sample and one informative sample: the test uses the other variance."""
    truth = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    perfect = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    mixed = np.array([0.1, 0.6, 0.3, 0.4, 0.2, 0.7, 0.8, 0.9])
    for distribution in ("normal", "t-welch"):
        c = compare_auc_unpaired(truth, perfect, truth, mixed, distribution=distribution)
        assert np.isfinite(c.statistic) and c.se > 0
        assert c.estimate == pytest.approx(1.0 - auc_ci(truth, mixed).estimate, abs=TOL)


def test_paired_comparison_of_two_perfect_scores_is_refused() -> None:
    """Two perfect paired scores: zero variance; refused (pROC would print z = 0, p = 1)."""
    truth = np.array([0, 0, 0, 1, 1, 1])
    a = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    b = np.array([0.0, 0.1, 0.15, 0.5, 0.95, 0.99])
    with pytest.raises(InputError, match="variance of the AUC difference is zero"):
        compare_auc(truth, a, b)
