"""Binormal ML ROC fit: against MRMCaov's published fits and an independent statsmodels fit.

Published: MRMCaov JSS manuscript (tests/reference/mrmc/published_vandyke.json, key
``binormal``): Van Dyke reader 1 AUCs to 8 digits, all readers' (a, b) and AUCs to 3 digits,
the modality means to 7 digits (reader 4 / modality 2 is degenerate: AUC 1).
Independent: the same likelihood written with diseased latent N(mu, sigma) and free
thresholds, maximised by statsmodels' GenericLikelihoodModel (Nelder-Mead) whose own numerical
Hessian gives the covariance for the delta-method SE.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.base.model import GenericLikelihoodModel

from validation.errors import InputError
from validation.stats.mrmc.binormal import binormal_auc


@pytest.fixture(scope="module")
def vandyke(reference_dir):
    return pd.read_csv(reference_dir / "mrmc" / "vandyke_1993_roc.csv")


@pytest.fixture(scope="module")
def pub(reference_dir):
    return json.loads((reference_dir / "mrmc" / "published_vandyke.json").read_text())["binormal"]


@pytest.fixture(scope="module")
def fits(vandyke):
    return {(str(m), int(r)): binormal_auc(g["truth"], g["rating"])
            for (m, r), g in vandyke.groupby(["modality", "reader"])}


def test_matches_mrmcaov(fits, pub):
    for mod in ("1", "2"):
        # reader 1: printed to 8 digits; our optimum agrees to 1e-7
        assert fits[(mod, 1)].estimate == pytest.approx(pub["reader1_auc"][mod], abs=1e-7)
        aucs = [fits[(mod, r)].estimate for r in range(1, 6)]
        np.testing.assert_allclose(aucs, pub["reader_auc_3dp"][mod], atol=5e-4)
        assert np.mean(aucs) == pytest.approx(pub["modality_mean"][mod], abs=1e-7)
        for r, ab in enumerate(pub["ab"][mod], start=1):
            if ab is None:
                assert fits[(mod, r)].degenerate and fits[(mod, r)].se is None
                continue
            assert fits[(mod, r)].a == pytest.approx(ab[0], abs=5e-3)
            assert fits[(mod, r)].b == pytest.approx(ab[1], abs=5e-4)
            assert not fits[(mod, r)].degenerate


class _Binormal(GenericLikelihoodModel):
    """Diseased latent N(mu, sigma), non-diseased N(0, 1), free ordered thresholds."""

    def __init__(self, cat, truth, k):
        names = ["mu", "sigma"] + [f"z{i}" for i in range(1, k)]
        super().__init__(endog=cat, exog=np.ones((cat.size, 1)),
                         extra_params_names=names[1:])
        self.cat, self.truth, self.k = cat, truth, k

    def loglike(self, params):
        mu, sigma, z = params[0], params[1], np.sort(params[2:])
        if sigma <= 0:
            return -1e10
        edges = np.concatenate(([-np.inf], z, [np.inf]))
        up, lo = edges[self.cat + 1], edges[self.cat]
        p = np.where(self.truth == 1,
                     stats.norm.cdf(up, mu, sigma) - stats.norm.cdf(lo, mu, sigma),
                     stats.norm.cdf(up) - stats.norm.cdf(lo))
        return float(np.log(np.maximum(p, 1e-300)).sum())


def test_independent_statsmodels_fit(vandyke, fits):
    for mod, rdr in (("1", 5), ("2", 2)):
        g = vandyke[(vandyke.modality == int(mod)) & (vandyke.reader == rdr)]
        levels, cat = np.unique(g["rating"], return_inverse=True)
        k = levels.size
        model = _Binormal(cat, g["truth"].to_numpy(), k)
        start = np.concatenate(([2.0, 1.5], np.linspace(-0.5, 1.5, k - 1)))
        res = model.fit(start_params=start, method="nm", maxiter=40000, disp=0,
                        xtol=1e-10, ftol=1e-12)
        mu, sigma = res.params[0], res.params[1]
        a, b = mu / sigma, 1.0 / sigma
        delta = a / np.sqrt(1 + b * b)
        ours = fits[(mod, rdr)]
        assert ours.estimate == pytest.approx(stats.norm.cdf(delta), abs=1e-5)
        assert ours.log_likelihood == pytest.approx(res.llf, abs=1e-6)
        # delta method in (mu, sigma): AUC = Phi(mu / sqrt(1 + sigma^2))
        s2 = 1 + sigma**2
        grad = np.zeros(res.params.size)
        grad[0] = stats.norm.pdf(delta) / np.sqrt(s2)
        grad[1] = -stats.norm.pdf(delta) * mu * sigma / s2**1.5
        se = float(np.sqrt(grad @ res.cov_params() @ grad))
        assert ours.se == pytest.approx(se, rel=2e-3)


def test_recovers_simulated_curve():
    rng = np.random.default_rng(7)
    a, b = 1.2, 0.7
    x0 = rng.normal(0, 1, 4000)
    x1 = rng.normal(a / b, 1 / b, 4000)
    cuts = [-0.5, 0.3, 1.0, 1.8]
    rating = np.digitize(np.r_[x0, x1], cuts) + 1
    truth = np.r_[np.zeros(4000), np.ones(4000)]
    fit = binormal_auc(truth, rating)
    true_auc = stats.norm.cdf(a / np.sqrt(1 + b * b))
    assert abs(fit.estimate - true_auc) < 4 * fit.se  # within sampling error
    np.testing.assert_allclose(fit.thresholds, cuts, atol=0.1)
    assert fit.ci[0] < fit.estimate < fit.ci[1]


def test_binary_rating_refused():
    with pytest.raises(InputError, match="at least 3 distinct values"):
        binormal_auc([0, 0, 1, 1], [0, 1, 0, 1])


def test_reported_beside_empirical_auc_in_mrmc_analysis():
    from validation.stats.mrmc import mrmc_analysis

    rng = np.random.default_rng(3)
    truth = np.r_[np.ones(30), np.zeros(30)].astype(int)
    rows = []
    for mod in ("A", "B"):
        for rdr in ("r1", "r2"):
            latent = rng.normal(truth * 1.5, 1.0)
            rows.append(pd.DataFrame({"reader": rdr, "modality": mod, "case": range(60),
                                      "truth": truth,
                                      "rating": np.digitize(latent, [-0.5, 0.5, 1.2, 2.0])}))
    df = pd.concat(rows)
    res = mrmc_analysis(df, binormal=True)
    assert set(res.binormal) == {"A", "B"}
    g = df[(df.modality == "B") & (df.reader == "r2")]
    assert res.binormal["B"]["r2"].estimate == binormal_auc(g["truth"], g["rating"]).estimate
    assert "binormal" in res.to_dict() and "binormal" not in mrmc_analysis(df).to_dict()
    with pytest.raises(InputError, match="'binormal' applies to the AUC"):
        mrmc_analysis(df.assign(rating=(df.rating > 2).astype(int)), endpoint="sensitivity",
                      binormal=True)
