"""Consistency benchmark (one core), against the obvious alternative in the same run:

* the logistic GEE with an exchangeable working correlation behind the interaction test
  (``validation.stats._gee_logit.logistic_gee``, vectorised over clusters) against statsmodels'
  ``GEE`` (a Python loop over clusters) on the same rows: 20 levels, patients of one or two
  findings, at 10,000 and 100,000 rows;
* ``subgroup_consistency`` for one factor of 20 levels at 100,000 cases (sensitivity and
  specificity interaction tests, the three gaps with 2,000 cluster-bootstrap replicates, the
  equalized-odds interval), against the same bootstrap done by ``bootstrap_statistic``'s
  per-replicate loop on 200 replicates, scaled to 2,000.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from benchmarks._timing import best_of


def _time(fn: Callable[[], object], repeat: int = 1) -> float:
    return best_of(fn, repeat)


def _study(n: int, k: int = 20, seed: int = 1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n_pat = int(n / 1.15)
    size = np.where(rng.random(n_pat) < 0.15, 2, 1)
    patient = np.repeat(np.arange(n_pat), size)
    level = rng.integers(0, k, n_pat)[patient]
    effect = rng.normal(0.0, 0.8, n_pat)[patient]
    truth = (rng.random(patient.size) < 0.3).astype(np.int8)
    latent = -1.0 + truth * (1.5 + 0.02 * level) + effect + rng.normal(size=patient.size)
    score = np.round(1.0 / (1.0 + np.exp(-latent)), 6)
    called = (score >= 0.5).astype(np.int8)
    return truth, called, score, level, patient


def run() -> list[dict]:
    import statsmodels.api as sm
    from threadpoolctl import threadpool_limits

    from validation.stats import subgroup_consistency
    from validation.stats._gee_logit import logistic_gee
    from validation.stats.bootstrap import bootstrap_statistic

    rows: list[dict] = []
    with threadpool_limits(limits=1):
        for n in (10_000, 100_000):
            truth, called, _, level, patient = _study(n)
            sel = truth == 1
            y = called[sel].astype(float)
            x = np.column_stack([np.ones(sel.sum())] + [(level[sel] == j).astype(float) for j in range(1, 20)])
            g = patient[sel]
            t_ours = _time(lambda: logistic_gee(y, x, g, correlation="exchangeable"))  # noqa: B023

            def statsmodels_fit() -> object:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return sm.GEE(y, x, groups=g, family=sm.families.Binomial(),  # noqa: B023
                                  cov_struct=sm.cov_struct.Exchangeable()).fit(maxiter=200)

            t_sm = _time(statsmodels_fit)
            rows.append({"name": f"logistic GEE, exchangeable, n={n // 1000}k positives-only rows "
                                 "(vs statsmodels GEE)", "value": t_ours, "unit": "s", "ratio": t_ours / t_sm})
        truth, called, score, level, patient = _study(100_000)
        names = np.array([f"L{j:02d}" for j in range(20)])[level]
        t_all = _time(lambda: subgroup_consistency(truth, called, names, score=score, cluster=patient,
                                                   min_level_size=10, n_boot=2000, seed=5))

        def sens_gap(t: np.ndarray, c: np.ndarray, lv: np.ndarray) -> float:
            r = np.bincount(lv[t == 1], weights=c[t == 1], minlength=20) / np.bincount(lv[t == 1], minlength=20)
            return float(r.max() - r.min())

        t_loop = _time(lambda: bootstrap_statistic(sens_gap, truth, called, level, cluster=patient,
                                                   n_boot=200, seed=5)) * 10.0
        rows.append({"name": "subgroup_consistency, 20 levels, n=100k, 2,000 cluster replicates, three gaps "
                             "(vs the per-replicate loop for the sensitivity gap alone, x10 from 200)",
                     "value": t_all, "unit": "s", "ratio": t_all / t_loop})
    return rows
