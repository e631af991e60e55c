"""Random-effects meta-analysis against R metafor 3.8-1.

Reference values: ``tests/reference/meta_analysis/metafor_reference.json``, made by
``metafor_reference.R`` in the same folder: ``rma(yi, vi, method=..., test="z"/"knha")`` on
metafor's ``dat.bcg`` log risk ratios, ``confint()`` for the tau2 Q-profile interval and the
Higgins et al. (2009) prediction interval written out in R; ``escalc(measure="PLO")`` + ``rma``
+ ``predict(transf=transf.ilogit)`` for a generated 10-site accuracy table (one zero cell).
The R script tightens metafor's convergence (threshold and root-finding tolerance 1e-14), so
the figures are exact to round-off and the tolerance is 1e-9 relative (observed: about 1e-13
at worst, for the Q-profile bounds).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from validation.errors import InputError
from validation.stats import auc_ci, auc_logit_scale, pooled_auc, pooled_proportion, random_effects

RTOL = 1e-9
FIELDS = ("estimate", "se", "ci", "tau2", "i2", "h2", "q", "q_p_value", "tau2_ci", "p_value",
          "statistic")


@pytest.fixture(scope="module")
def ref(reference_dir):
    with open(reference_dir / "meta_analysis" / "metafor_reference.json") as f:
        return json.load(f)


@pytest.mark.parametrize("method", ["REML", "DL", "PM"])
@pytest.mark.parametrize("test", ["z", "knha"])
def test_random_effects_matches_metafor_on_dat_bcg(ref, method, test):
    want = ref["bcg_fits"][f"{method}_{test}"]
    got = random_effects(ref["bcg"]["yi"], ref["bcg"]["vi"], method=method.lower(), knha=test == "knha")
    for name in FIELDS:
        np.testing.assert_allclose(getattr(got, name), want[name], rtol=RTOL, err_msg=name)
    # the prediction interval: Higgins et al. (2009), t on k - 2 df
    np.testing.assert_allclose(got.prediction_interval, want["pi_higgins"], rtol=RTOL)
    assert got.df == 12 and got.k == 13


def test_knha_is_the_untruncated_variant(ref):
    """Ours is metafor's test="knha" (no truncation of the KH factor at 1), not "adhoc"."""
    y, v = ref["bcg"]["yi"], ref["bcg"]["vi"]
    got = random_effects(y, v, knha=True)
    np.testing.assert_allclose(got.se, ref["bcg_fits"]["REML_knha"]["se"], rtol=RTOL)
    # here the KH factor exceeds 1, so adhoc coincides; the untruncated form is shown on
    # homogeneous data below, where the factor is below 1 and the KH interval is narrower
    homog = random_effects([0.10, 0.11, 0.09, 0.10], [0.04, 0.04, 0.04, 0.04], knha=True)
    plain = random_effects([0.10, 0.11, 0.09, 0.10], [0.04, 0.04, 0.04, 0.04])
    assert homog.se < plain.se


def test_metafor_prediction_interval_is_the_z_form(ref):
    """metafor 3.8's predict() uses z (t_{k-1} with knha), not t_{k-2}: ours is wider, by design."""
    for method in ("REML", "DL", "PM"):
        want = ref["bcg_fits"][f"{method}_z"]
        got = random_effects(ref["bcg"]["yi"], ref["bcg"]["vi"], method=method.lower())
        h = sps.norm.ppf(0.975) * np.sqrt(got.tau2 + got.se**2)
        np.testing.assert_allclose((got.estimate - h, got.estimate + h), want["pi_metafor"], rtol=RTOL)
        assert got.prediction_interval[0] < want["pi_metafor"][0]
        assert got.prediction_interval[1] > want["pi_metafor"][1]
        # with test="knha", metafor 3.8 uses t on k - 1 df (and the KH standard error)
        want = ref["bcg_fits"][f"{method}_knha"]
        got = random_effects(ref["bcg"]["yi"], ref["bcg"]["vi"], method=method.lower(), knha=True)
        h = sps.t.ppf(0.975, got.k - 1) * np.sqrt(got.tau2 + got.se**2)
        np.testing.assert_allclose((got.estimate - h, got.estimate + h), want["pi_metafor"], rtol=RTOL)


@pytest.mark.parametrize("method", ["REML", "DL", "PM"])
def test_pooled_proportion_matches_metafor(ref, method):
    acc = ref["accuracy"]
    want = ref["pooled_sensitivity"][method]
    got = pooled_proportion(acc["tp"], np.add(acc["tp"], acc["fn"]), method=method.lower())
    for name in ("estimate", "ci", "tau2", "i2", "q", "q_p_value", "tau2_ci"):
        np.testing.assert_allclose(getattr(got, name), want[name], rtol=RTOL, err_msg=name)
    np.testing.assert_allclose(got.prediction_interval, want["pi_higgins"], rtol=RTOL)
    np.testing.assert_allclose(got.logit.estimate, want["estimate_logit"], rtol=RTOL)
    np.testing.assert_allclose(got.se, want["se_logit"], rtol=RTOL)
    assert got.corrected_sites == (3,)  # site 4 (fn = 0): 0.5 added to both cells, only there


def test_pooled_auc_is_the_logit_pool_of_delong_aucs():
    rng = np.random.default_rng(7)
    aucs, variances = [], []
    for shift in (0.8, 1.0, 1.3, 0.9, 1.1):
        truth = np.r_[np.ones(40), np.zeros(60)].astype(int)
        score = rng.normal(size=100) + shift * truth
        r = auc_ci(truth, score)
        aucs.append(r.estimate)
        variances.append(r.se**2)
    a = np.array(aucs)
    inputs = auc_logit_scale(a, variances)
    np.testing.assert_allclose(inputs.estimates, np.log(a / (1 - a)), rtol=1e-14)
    np.testing.assert_allclose(inputs.variances, np.array(variances) / (a * (1 - a)) ** 2, rtol=1e-14)
    pooled = pooled_auc(a, variances)
    direct = random_effects(inputs.estimates, inputs.variances)
    assert pooled.estimate == pytest.approx(1 / (1 + np.exp(-direct.estimate)), rel=1e-14)
    assert pooled.ci[0] < pooled.estimate < pooled.ci[1]


def test_two_sites_have_no_prediction_interval_and_say_why():
    r = random_effects([0.1, 0.5], [0.01, 0.02])
    assert r.prediction_interval is None
    assert any("at least three sites" in n for n in r.notes)
    assert r.to_dict()["prediction_interval"] is None


def test_identical_sites_fall_back_to_the_fixed_effect_fit_with_a_note():
    r = random_effects([0.3, 0.3, 0.3], [0.01, 0.02, 0.03])
    assert r.tau2 == 0.0 and r.i2 == 0.0 and r.q == pytest.approx(0.0, abs=1e-30)
    assert any("fixed-effect" in n for n in r.notes)
    w = 1 / np.array([0.01, 0.02, 0.03])
    assert r.se == pytest.approx(np.sqrt(1 / w.sum()), rel=1e-14)


def test_pooled_proportion_with_a_site_without_failures_is_finite():
    r = pooled_proportion([10, 20, 15], [10, 25, 20])
    assert r.corrected_sites == (0,)
    assert all(np.isfinite(x) for x in (r.estimate, *r.ci, *r.prediction_interval, r.tau2))


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------

sites = st.integers(min_value=3, max_value=12).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(-3, 3, allow_nan=False), min_size=k, max_size=k),
        st.lists(st.floats(1e-3, 2.0, allow_nan=False), min_size=k, max_size=k),
    )
)


@settings(max_examples=60, deadline=None)
@given(data=sites, method=st.sampled_from(["reml", "dl", "pm"]), knha=st.booleans(),
       perm_seed=st.integers(0, 2**16))
def test_properties(data, method, knha, perm_seed):
    y, v = map(np.asarray, data)
    if knha and np.ptp(y) == 0:
        return  # refused with a message (KH standard error 0); covered in the bad-input test
    r = random_effects(y, v, method=method, knha=knha)
    assert r.tau2 >= 0.0
    assert 0.0 <= r.i2 <= 1.0
    assert 0.0 <= r.q_p_value <= 1.0
    assert r.tau2_ci[0] <= r.tau2_ci[1]
    # the prediction interval contains the confidence interval when the CI is z (t_{k-2} > z
    # whenever k - 2 < infinity); with knha the CI uses t_{k-1} < t_{k-2}, so it holds too
    assert r.prediction_interval[0] <= r.ci[0] + 1e-12
    assert r.prediction_interval[1] >= r.ci[1] - 1e-12
    perm = np.random.default_rng(perm_seed).permutation(y.size)
    p = random_effects(y[perm], v[perm], method=method, knha=knha)
    for name in ("estimate", "se", "tau2", "i2", "q"):
        assert getattr(p, name) == pytest.approx(getattr(r, name), rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(value=st.floats(-3, 3, allow_nan=False),
       v=st.lists(st.floats(1e-3, 2.0, allow_nan=False), min_size=2, max_size=10),
       method=st.sampled_from(["reml", "dl", "pm"]))
def test_identical_site_estimates_give_tau2_zero(value, v, method):
    r = random_effects([value] * len(v), v, method=method)
    assert r.tau2 == 0.0
    assert r.i2 == 0.0
    assert r.tau2_ci == (0.0, 0.0)


@settings(max_examples=40, deadline=None)
@given(data=st.integers(min_value=3, max_value=10).flatmap(
    lambda k: st.lists(st.tuples(st.integers(0, 60), st.integers(1, 60)), min_size=k, max_size=k)),
    method=st.sampled_from(["reml", "dl", "pm"]), perm_seed=st.integers(0, 2**16))
def test_pooled_proportion_properties(data, method, perm_seed):
    x = np.array([min(a, b) for a, b in data])
    n = np.array([b for _, b in data])
    r = pooled_proportion(x, n, method=method)
    assert 0.0 < r.ci[0] <= r.estimate <= r.ci[1] < 1.0
    assert r.prediction_interval[0] <= r.ci[0] + 1e-12 and r.prediction_interval[1] >= r.ci[1] - 1e-12
    assert r.tau2 >= 0.0 and 0.0 <= r.i2 <= 1.0
    perm = np.random.default_rng(perm_seed).permutation(x.size)
    p = pooled_proportion(x[perm], n[perm], method=method)
    assert p.estimate == pytest.approx(r.estimate, rel=1e-9)
    assert set(p.corrected_sites) == {int(np.flatnonzero(perm == i)[0]) for i in r.corrected_sites}


def test_pooled_proportion_with_design_effects_matches_a_hand_computation():
    """Findings clustered in patients: each site's cells are its Rao-Scott effective counts
    x/d and (n-x)/d, so its logit is unchanged and its variance is d (1/x + 1/(n-x)); the
    DerSimonian-Laird steps are written out here by hand (tolerance 1e-12: the same closed
    form, round-off only)."""
    from validation.stats import clustered_proportion_ci

    rng = np.random.default_rng(4)
    x, n, d = [], [], []
    for p_site, k_pat in ((0.7, 40), (0.85, 35), (0.6, 50)):
        sizes = rng.integers(1, 4, size=k_pat)
        patient = np.repeat(np.arange(k_pat), sizes)
        hit = (rng.random(k_pat) < p_site)[patient] ^ (rng.random(patient.size) < 0.1)
        r = clustered_proportion_ci(hit.astype(np.int8), patient)
        x.append(r.successes)
        n.append(r.n)
        d.append(r.design_effect)
    x, n, d = np.array(x, float), np.array(n, float), np.array(d)
    assert np.all(d > 1.0)  # the findings really are clustered here
    got = pooled_proportion(x, n, method="dl", design_effect=d)
    y = np.log(x / (n - x))
    v = d * (1.0 / x + 1.0 / (n - x))
    w = 1.0 / v
    mu_fe = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - mu_fe) ** 2)
    tau2 = max(0.0, (q - 2) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    ws = 1.0 / (v + tau2)
    mu = np.sum(ws * y) / np.sum(ws)
    se = 1.0 / np.sqrt(np.sum(ws))
    z = 1.959963984540054
    expit = lambda t: 1.0 / (1.0 + np.exp(-t))  # noqa: E731
    assert got.tau2 == pytest.approx(tau2, abs=1e-12)
    assert got.q == pytest.approx(q, rel=1e-12)
    assert got.estimate == pytest.approx(expit(mu), abs=1e-12)
    assert got.ci == pytest.approx((expit(mu - z * se), expit(mu + z * se)), abs=1e-12)
    assert got.method.endswith("-rao-scott")
    # design effects of 1 are the unadjusted fit, to the last bit
    plain = pooled_proportion(x, n, method="dl")
    ones = pooled_proportion(x, n, method="dl", design_effect=[1.0] * 3)
    assert (ones.estimate, ones.ci, ones.tau2) == (plain.estimate, plain.ci, plain.tau2)
    # larger design effects, wider interval, same site logits
    assert got.ci[1] - got.ci[0] > plain.ci[1] - plain.ci[0]
    with pytest.raises(InputError, match="'design_effect' must be one finite value >= 1 per site"):
        pooled_proportion(x, n, design_effect=[0.5, 1.0, 1.0])
