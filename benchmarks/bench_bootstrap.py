"""Bootstrap benchmark: 2,000-replicate stratified bootstrap of the AUC at n = 100,000.

Reported as replicates per second (target 1,000/s) on one core, float64, with the baseline a
Python loop that resamples within each class and calls ``sklearn.metrics.roc_auc_score`` per
replicate; the baseline is timed on a few replicates and its rate extrapolated.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

N = 100_000
N_BOOT = 2000
N_BASELINE = 20


def run() -> list[dict]:
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    from validation.stats.bootstrap import bootstrap_auc

    rng = np.random.default_rng(3)
    truth = (rng.random(N) < 0.3).astype(np.int64)
    score = truth * 1.0 + rng.normal(size=N)
    rows: list[dict] = []
    with threadpool_limits(limits=1):
        best = np.inf
        for _ in range(2):
            t0 = time.perf_counter()
            bootstrap_auc(truth, score, n_boot=N_BOOT, seed=1)
            best = min(best, time.perf_counter() - t0)
        rate = N_BOOT / best

        pos = np.flatnonzero(truth == 1)
        neg = np.flatnonzero(truth == 0)
        brng = np.random.default_rng(1)
        t0 = time.perf_counter()
        for _ in range(N_BASELINE):
            idx = np.concatenate([brng.choice(neg, neg.size), brng.choice(pos, pos.size)])
            roc_auc_score(truth[idx], score[idx])
        base_rate = N_BASELINE / (time.perf_counter() - t0)
    rows.append({"name": f"stratified bootstrap AUC, {N_BOOT} replicates, n=1e5",
                 "value": rate, "unit": "replicates/s", "ratio": rate / base_rate,
                 "target": ">= 1000 replicates/s", "total_s": best})
    rows.append({"name": "baseline: loop of roc_auc_score per replicate, n=1e5",
                 "value": base_rate, "unit": "replicates/s",
                 "note": f"timed on {N_BASELINE} replicates, extrapolated"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
