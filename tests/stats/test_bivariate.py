"""Bivariate (Reitsma) model against R metafor 3.8-1 ``rma.mv``.

Reference: ``tests/reference/meta_analysis/metafor_reference.json`` (``metafor_reference.R``):
``rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | study, struct = "UN",
method = "REML")`` on the logits of a generated 10-site table, 0.5 added to all four cells of
the one site with a zero cell. Tolerances: the restricted log-likelihood agrees to 1e-10 and
the summary logits to 1e-6 relative; the variance components to 1e-4 relative, because the
REML surface is flat near its maximum and metafor's nlminb stops at its default relative
tolerance (1e-10 in the objective, about 1e-6 in tau2); the observed differences are
8e-7 (tau2), 1e-7 (rho), 2e-8 (summary sensitivity).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from scipy.special import logit

from validation.stats import bivariate_accuracy


@pytest.fixture(scope="module")
def ref(reference_dir):
    with open(reference_dir / "meta_analysis" / "metafor_reference.json") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def fit(ref):
    a = ref["accuracy"]
    return bivariate_accuracy(a["tp"], a["fn"], a["tn"], a["fp"])


def test_matches_metafor_rma_mv(ref, fit):
    want = ref["bivariate"]
    assert fit.loglik_reml == pytest.approx(want["loglik_reml"], rel=1e-10)
    np.testing.assert_allclose(
        [fit.sensitivity.logit_estimate, fit.specificity.logit_estimate], want["logit_estimate"], rtol=1e-6)
    np.testing.assert_allclose([fit.sensitivity.logit_se, fit.specificity.logit_se], want["logit_se"], rtol=1e-5)
    assert fit.sensitivity.estimate == pytest.approx(want["sensitivity"], rel=1e-6)
    assert fit.specificity.estimate == pytest.approx(want["specificity"], rel=1e-6)
    np.testing.assert_allclose(fit.sensitivity.ci, want["sensitivity_ci"], rtol=1e-6)
    np.testing.assert_allclose(fit.specificity.ci, want["specificity_ci"], rtol=1e-6)
    assert fit.tau2_sensitivity == pytest.approx(want["tau2_sensitivity"], rel=1e-4)
    assert fit.tau2_specificity == pytest.approx(want["tau2_specificity"], rel=1e-4)
    assert fit.rho == pytest.approx(want["rho"], rel=1e-4)
    np.testing.assert_allclose(np.ravel(fit.covariance), want["vcov"], rtol=1e-4)
    assert fit.corrected_sites == (3,)
    assert fit.converged


def test_sroc_passes_through_the_summary_point(fit):
    """HSROC from the bivariate fit (Harbord et al. 2007): the curve contains (mu_se, mu_sp)."""
    s = fit.sroc
    fpr = 1 - fit.specificity.estimate
    at = s.lambda_ * np.exp(-s.beta / 2) + np.exp(-s.beta) * logit(fpr)
    assert at == pytest.approx(fit.sensitivity.logit_estimate, rel=1e-12)
    assert np.all(np.diff(s.sensitivity) > 0)  # a proper ROC curve: increasing in FPR
    # beta from the variances, as Harbord et al. (2007) eq. for the unified model
    assert s.beta == pytest.approx(0.5 * np.log(fit.tau2_specificity / fit.tau2_sensitivity), rel=1e-12)


def test_regions_are_ellipses_of_the_stated_covariance(fit):
    """Every point of the confidence region lies at Mahalanobis distance sqrt(chi2_2(0.95))."""
    cov = np.array(fit.covariance)
    t = np.array([[fit.tau2_sensitivity, fit.rho * np.sqrt(fit.tau2_sensitivity * fit.tau2_specificity)],
                  [fit.rho * np.sqrt(fit.tau2_sensitivity * fit.tau2_specificity), fit.tau2_specificity]])
    mu = np.array([fit.sensitivity.logit_estimate, fit.specificity.logit_estimate])
    r2 = sps.chi2.ppf(0.95, 2)
    for region, c in ((fit.confidence_region, cov), (fit.prediction_region, cov + t)):
        pts = np.column_stack([region.logit_sensitivity, region.logit_specificity]) - mu
        d2 = np.einsum("ij,jk,ik->i", pts, np.linalg.inv(c), pts)
        np.testing.assert_allclose(d2, r2, rtol=1e-10)
        assert region.logit_sensitivity[0] == region.logit_sensitivity[-1]  # closed polygon
    # the prediction region is wider than the confidence region
    assert np.ptp(fit.prediction_region.logit_sensitivity) > np.ptp(fit.confidence_region.logit_sensitivity)


def test_to_dict_is_plain_and_finite(fit):
    d = fit.to_dict()
    assert d["sensitivity"]["estimate"] == fit.sensitivity.estimate
    assert len(d["sroc"]["sensitivity"]) == 100
    json.dumps(d, allow_nan=False)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_permuting_sites_changes_nothing(ref, seed):
    a = {k: np.asarray(v) for k, v in ref["accuracy"].items()}
    base = bivariate_accuracy(a["tp"], a["fn"], a["tn"], a["fp"])
    p = np.random.default_rng(seed).permutation(a["tp"].size)
    got = bivariate_accuracy(a["tp"][p], a["fn"][p], a["tn"][p], a["fp"][p])
    assert got.loglik_reml == pytest.approx(base.loglik_reml, rel=1e-10)
    assert got.sensitivity.estimate == pytest.approx(base.sensitivity.estimate, rel=1e-6)
    assert got.tau2_sensitivity >= 0 and got.tau2_specificity >= 0 and -1 <= got.rho <= 1


def test_boundary_fit_matches_metafor_and_says_so(ref):
    """rho on +1 (metafor: 0.99999999999773): same log-likelihood and summary point; a note."""
    want = ref["bivariate_boundary"]
    got = bivariate_accuracy(want["tp"], want["fn"], want["tn"], want["fp"])
    assert got.loglik_reml == pytest.approx(want["loglik_reml"], rel=1e-10)
    np.testing.assert_allclose(
        [got.sensitivity.logit_estimate, got.specificity.logit_estimate], want["logit_estimate"], rtol=1e-6)
    np.testing.assert_allclose([got.tau2_sensitivity, got.tau2_specificity], want["tau2"], rtol=1e-4)
    assert got.rho == pytest.approx(1.0, abs=1e-6)
    assert any("boundary" in n for n in got.notes)
    assert got.corrected_sites == (6, 8)
