"""Two readings of the same clustered findings (Obuchowski 1998) and the paired planning inputs.

References: the ratio-estimator variance of the paired difference equals statsmodels' OLS of
the per-finding difference on a constant with a cluster-robust covariance (CR1: the factor
G/(G-1) for one parameter), to 1e-12; with one finding per cluster it equals
``I/(I-1) [(b + c)/N - Delta^2] / N`` (the unconditional McNemar variance) exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from validation.errors import InputError
from validation.stats.clustered import clustered_paired_difference
from validation.stats.hypotheses import clustered_paired_proportion_test
from validation.stats.sample_size import discordant_probabilities


def _clustered(seed: int, n_patients: int = 120, max_findings: int = 4):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_findings + 1, n_patients)
    cluster = np.repeat([f"p{i:03d}" for i in range(n_patients)], sizes)
    frailty = np.repeat(rng.normal(0, 1, n_patients), sizes)
    a = rng.random(cluster.size) < 1 / (1 + np.exp(-(1.6 + frailty)))
    b = rng.random(cluster.size) < 1 / (1 + np.exp(-(1.2 + frailty)))
    return a, b, cluster


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_statsmodels_cluster_robust(seed):
    a, b, cluster = _clustered(seed)
    diff, var, n_cl, n = clustered_paired_difference(a, b, cluster)
    fit = sm.OLS(a.astype(float) - b.astype(float), np.ones(a.size)).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(cluster)[0]})
    assert diff == pytest.approx(float(fit.params[0]), abs=1e-14)
    assert math.sqrt(var) == pytest.approx(float(fit.bse[0]), abs=1e-12)
    assert (n_cl, n) == (len(set(cluster)), a.size)


def test_one_finding_per_cluster_is_the_mcnemar_variance():
    rng = np.random.default_rng(9)
    a = rng.random(200) < 0.8
    b = rng.random(200) < 0.7
    diff, var, n_cl, n = clustered_paired_difference(a, b, np.arange(200))
    disc = int((a & ~b).sum() + (~a & b).sum())
    assert diff == pytest.approx((a.sum() - b.sum()) / 200, abs=1e-15)
    assert var == pytest.approx(200 / 199 * (disc / 200 - diff**2) / 200, rel=1e-12)


def test_wald_test_uses_the_clustered_se():
    a, b, cluster = _clustered(4)
    diff, var, _, _ = clustered_paired_difference(a, b, cluster)
    t = clustered_paired_proportion_test(a, b, cluster, type="noninferiority", margin=0.05,
                                         alpha=0.025)
    z = (diff + 0.05) / math.sqrt(var)
    assert t.statistic == pytest.approx(z, abs=1e-12)
    assert t.p_value == pytest.approx(float(sps.norm.sf(z)), abs=1e-14)
    q = sps.norm.ppf(0.975)
    assert t.ci == pytest.approx((diff - q * math.sqrt(var), diff + q * math.sqrt(var)), abs=1e-14)
    assert "Obuchowski" in " ".join(t.references)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000))
def test_antisymmetric_and_label_free(seed):
    a, b, cluster = _clustered(seed, n_patients=30)
    d1, v1, _, _ = clustered_paired_difference(a, b, cluster)
    d2, v2, _, _ = clustered_paired_difference(b, a, cluster)
    assert d1 == pytest.approx(-d2, abs=1e-15) and v1 == pytest.approx(v2, rel=1e-12, abs=1e-18)
    relabel = np.array([c[::-1] + "x" for c in cluster])  # another label order
    d3, v3, _, _ = clustered_paired_difference(a, b, relabel)
    assert d3 == d1 and v3 == pytest.approx(v1, rel=1e-12, abs=1e-18)


def test_bad_input():
    with pytest.raises(InputError, match="same length"):
        clustered_paired_difference([True, False], [True], [1, 2])
    with pytest.raises(InputError, match="at least two clusters"):
        clustered_paired_difference([True, False], [False, True], ["p", "p"])
    with pytest.raises(InputError, match="0/1"):
        clustered_paired_difference([2, 0], [1, 0], [1, 2])
    with pytest.raises(InputError, match="variance of the difference is zero"):
        clustered_paired_proportion_test([True, False, True], [True, False, True], [1, 2, 3],
                                         type="superiority")


@settings(max_examples=100, deadline=None)
@given(st.floats(0.05, 0.95), st.floats(0.05, 0.95), st.floats(-0.3, 0.9))
def test_discordant_probabilities_reproduce_the_correlation(p1, p2, phi):
    try:
        p10, p01 = discordant_probabilities(p1, p2, phi)
    except InputError:
        return  # impossible for these marginals; the message says which range is possible
    p11 = p1 - p10
    p00 = 1 - p11 - p10 - p01
    assert min(p11, p10, p01, p00) >= -1e-12
    assert p11 + p01 == pytest.approx(p2, abs=1e-12)
    back = (p11 * p00 - p10 * p01) / math.sqrt(p1 * (1 - p1) * p2 * (1 - p2))
    assert back == pytest.approx(phi, abs=1e-9)


def test_impossible_correlation_names_the_range():
    with pytest.raises(InputError, match=r"must lie in \[-?\d\.\d{4}, \d\.\d{4}\]"):
        discordant_probabilities(0.95, 0.2, 0.9)
