"""ROC benchmark: AUC + DeLong CI and the paired DeLong test at n = 1,000,000 (one core).

Measured in the same run, float64 throughout, best of several repeats:

* ``auc_ci`` (AUC, DeLong SE and CI) against ``sklearn.metrics.roc_auc_score`` (point estimate
  only) -- target at most 0.5x -- and against one ``numpy.argsort`` of the scores, the floor of
  any sort-based method -- target within 3x;
* ``compare_auc`` (paired DeLong test) against two ``roc_auc_score`` calls -- target under 1x.

Scores are continuous (no ties) and, in a second pair of rows, rounded to 2 decimals (heavy
ties), at 30% prevalence.
"""

from __future__ import annotations

import os
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from benchmarks._timing import best_of

N = 1_000_000


def _best(fn: Callable[[], object], repeat: int = 5) -> float:
    return best_of(fn, repeat)


def _data(seed: int = 1, decimals: int | None = None) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    truth = (rng.random(N) < 0.3).astype(np.int64)
    common = rng.normal(size=N)
    a = truth * 1.0 + common + rng.normal(size=N)
    b = truth * 0.8 + common + rng.normal(size=N)
    if decimals is not None:
        a, b = np.round(a, decimals), np.round(b, decimals)
    return truth, a, b


def run() -> list[dict]:
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    from validation.stats.roc import auc_ci, compare_auc

    rows: list[dict] = []
    with threadpool_limits(limits=1):
        for label, decimals in (("continuous", None), ("rounded to 0.01 (ties)", 2)):
            truth, a, b = _data(decimals=decimals)
            t_ours = _best(lambda: auc_ci(truth, a))  # noqa: B023
            t_sk = _best(lambda: roc_auc_score(truth, a))  # noqa: B023
            t_sort = _best(lambda: np.argsort(a))  # noqa: B023
            t_paired = _best(lambda: compare_auc(truth, a, b), repeat=3)  # noqa: B023
            rows += [
                {"name": f"auc_ci DeLong n=1e6 {label}", "value": t_ours, "unit": "s",
                 "ratio": t_ours / t_sk, "target": "ratio vs roc_auc_score <= 0.5",
                 "baseline_s": t_sk},
                {"name": f"auc_ci DeLong n=1e6 {label} vs one np.argsort", "value": t_ours,
                 "unit": "s", "ratio": t_ours / t_sort, "target": "ratio vs argsort <= 3",
                 "baseline_s": t_sort},
                {"name": f"compare_auc paired DeLong n=1e6 {label}", "value": t_paired,
                 "unit": "s", "ratio": t_paired / (2 * t_sk),
                 "target": "ratio vs 2 x roc_auc_score < 1", "baseline_s": 2 * t_sk},
            ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
