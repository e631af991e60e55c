"""Risk-output benchmark (one core), each against the obvious alternative in the same run:

* ``concordance_index`` (Harrell's C with per-subject counts for the infinitesimal-jackknife
  standard error; pairwise in blocks, O(n x events)) against ``lifelines.utils.concordance_index``
  (estimate only, O(n log n)) at n = 10,000, 70% events, tied times;
* ``calibration_summary`` (two logistic fits, Brier, calibration-in-the-large) against one
  statsmodels logistic fit at n = 100,000 -- target under 3x;
* ``time_dependent_auc`` (Uno's AUC at 3 horizons, 200 bootstrap replicates) at n = 10,000.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run() -> list[dict]:
    import statsmodels.api as sm
    from lifelines.utils import concordance_index as lifelines_c
    from threadpoolctl import threadpool_limits

    from validation.stats import calibration_summary, concordance_index, time_dependent_auc

    rng = np.random.default_rng(1)
    n = 10_000
    s = rng.normal(size=n)
    t = np.round(rng.exponential(1 / np.exp(0.5 * s)), 2) + 0.01
    e = (rng.random(n) < 0.7).astype(int)
    m = 100_000
    lp = rng.normal(-0.5, 1.2, m)
    y = rng.binomial(1, 1 / (1 + np.exp(-lp)))
    p = 1 / (1 + np.exp(-(0.2 + 1.3 * lp)))
    rows: list[dict] = []
    with threadpool_limits(limits=1):
        t_c = _best(lambda: concordance_index(t, e, s))
        t_l = _best(lambda: lifelines_c(t, -s, e))
        rows.append({"name": "concordance_index n=10k (vs lifelines, estimate only)", "value": t_c,
                     "unit": "s", "ratio": t_c / t_l})
        t_cal = _best(lambda: calibration_summary(y, p))
        x = sm.add_constant(np.log(p / (1 - p)))
        t_glm = _best(lambda: sm.GLM(y.astype(float), x, family=sm.families.Binomial()).fit())
        rows.append({"name": "calibration_summary n=100k (vs one statsmodels logistic fit)", "value": t_cal,
                     "unit": "s", "ratio": t_cal / t_glm, "target": 3.0})
        t_auc = _best(lambda: time_dependent_auc(t, e, s, horizons=[0.5, 1.0, 2.0], n_boot=200), repeat=1)
        rows.append({"name": "time_dependent_auc n=10k, 3 horizons, 200 bootstrap", "value": t_auc, "unit": "s"})
    return rows
