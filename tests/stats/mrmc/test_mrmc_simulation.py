"""Roe-Metz simulation and the empirical type I error of the OR analysis.

Checks: the simulated empirical AUC averages to the model's closed form
``Phi(mu / sqrt((1 + 1/b^2) * case variance + 2 * reader variance))`` (Hillis 2012: only the
case components are divided by ``b^2``; Monte Carlo tolerance: 4 standard errors of the
mean); the OR RRRC test's rejection rate over null studies lies in the central 99% binomial band
of alpha (2,000 studies, marked slow; a 300-study version runs always).
"""

from __future__ import annotations

import numpy as np
import pytest

from validation.errors import InputError
from validation.stats.mrmc.covariance import fom_covariance
from validation.stats.mrmc.simulation import (
    RoeMetzComponents,
    expected_auc,
    roe_metz_ratings,
    simulate_or_rejections,
)


@pytest.mark.parametrize("b", [1.0, 0.7])
def test_mean_empirical_auc_matches_the_model(b):
    comp = RoeMetzComponents(b=b)
    x, truth = roe_metz_ratings([0.8, 1.4], n_readers=4, n_nondiseased=40, n_diseased=40,
                                components=comp, n_studies=300, seed=5)
    aucs = np.array([fom_covariance(x[s], truth, covariance="delong").fom.mean(axis=1)
                     for s in range(x.shape[0])])
    se = aucs.std(axis=0, ddof=1) / np.sqrt(aucs.shape[0])
    for i, mu in enumerate((0.8, 1.4)):
        assert abs(aucs[:, i].mean() - expected_auc(mu, comp)) < 4 * se[i]


def test_simulation_is_seeded_and_shaped():
    a, t = roe_metz_ratings([1.0, 1.0], n_readers=3, n_nondiseased=4, n_diseased=5, seed=3)
    b, _ = roe_metz_ratings([1.0, 1.0], n_readers=3, n_nondiseased=4, n_diseased=5, seed=3)
    assert a.shape == (1, 2, 3, 9) and t.tolist() == [0] * 4 + [1] * 5
    assert np.array_equal(a, b)
    with pytest.raises(InputError, match="'mu' must be finite"):
        roe_metz_ratings([np.nan], n_readers=2, n_nondiseased=2, n_diseased=2)


def _check_null(n_studies: int, seed: int) -> None:
    res = simulate_or_rejections([1.0, 1.0], n_readers=4, n_nondiseased=30, n_diseased=30,
                                 n_studies=n_studies, alpha=0.05, band_alpha=0.01, seed=seed)
    assert res.band[0] <= res.estimate <= res.band[1], res.to_dict()
    assert res.ci[0] <= res.estimate <= res.ci[1]


def test_or_type_i_error_small():
    _check_null(300, seed=11)


@pytest.mark.slow
def test_or_type_i_error_2000_null_studies():
    _check_null(2000, seed=2026)
