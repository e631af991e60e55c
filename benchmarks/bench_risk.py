"""Risk-output benchmark (one core), each against the obvious alternative in the same run:

* ``concordance_index`` (Harrell's C with per-subject counts for the infinitesimal-jackknife
  standard error; sorted passes, O(n log^2 n)) against ``lifelines.utils.concordance_index``
  (estimate only, O(n log n)) at n = 10,000, 30,000 and 100,000, 70% events, tied times;
* ``calibration_summary`` (two logistic fits, Brier, calibration-in-the-large) against one
  statsmodels logistic fit at n = 100,000 -- target under 3x;
* ``time_dependent_auc`` (Uno's AUC at 3 horizons, 200 bootstrap replicates) at n = 10,000.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from benchmarks._timing import best_of as _best

C_SIZES = (10_000, 30_000, 100_000)


def run() -> list[dict]:
    import statsmodels.api as sm
    from lifelines.utils import concordance_index as lifelines_c
    from threadpoolctl import threadpool_limits

    from validation.stats import calibration_summary, concordance_index, time_dependent_auc

    rng = np.random.default_rng(1)
    survival = {}
    for size in C_SIZES:
        sc = rng.normal(size=size)
        survival[size] = (np.round(rng.exponential(1 / np.exp(0.5 * sc)), 2) + 0.01,
                          (rng.random(size) < 0.7).astype(int), sc)
    t, e, s = survival[10_000]
    m = 100_000
    lp = rng.normal(-0.5, 1.2, m)
    y = rng.binomial(1, 1 / (1 + np.exp(-lp)))
    p = 1 / (1 + np.exp(-(0.2 + 1.3 * lp)))
    rows: list[dict] = []
    with threadpool_limits(limits=1):
        for size, (tc, ec, sc) in survival.items():
            t_c = _best(lambda: concordance_index(tc, ec, sc))  # noqa: B023 (called at once)
            t_l = _best(lambda: lifelines_c(tc, -sc, ec))  # noqa: B023
            rows.append({"name": f"concordance_index n={size // 1000}k with IJ se (vs lifelines, estimate only)",
                         "value": t_c, "unit": "s", "ratio": t_c / t_l})
        t_cal = _best(lambda: calibration_summary(y, p))
        x = sm.add_constant(np.log(p / (1 - p)))
        t_glm = _best(lambda: sm.GLM(y.astype(float), x, family=sm.families.Binomial()).fit())
        rows.append({"name": "calibration_summary n=100k (vs one statsmodels logistic fit)", "value": t_cal,
                     "unit": "s", "ratio": t_cal / t_glm, "target": 3.0})
        t_auc = _best(lambda: time_dependent_auc(t, e, s, horizons=[0.5, 1.0, 2.0], n_boot=200), repeat=1)
        rows.append({"name": "time_dependent_auc n=10k, 3 horizons, 200 bootstrap", "value": t_auc, "unit": "s"})
    return rows
