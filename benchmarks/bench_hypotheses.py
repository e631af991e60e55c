"""Hypothesis-testing benchmark: multiplicity adjustment, score intervals, exact sample size.

Rows (one core):
* Holm adjusted p-values for 10 hypotheses, calls per second, against statsmodels
  ``multipletests(method="holm")`` (which runs a full garbage collection on every call; the
  reason the suite computes the formula itself). Target 2,000 calls/s.
* Graphical procedure (Bretz et al. 2009) for 6 hypotheses, calls per second. Target 1,000/s.
* Miettinen-Nurminen and Tango score intervals (root search), microseconds per interval.
  Target 2,000 us.
* Exact-binomial sample size against a goal (Se 0.95 vs goal 0.90, power 0.9, saw-tooth
  handled), milliseconds per search, against a per-n scalar scipy loop. Target 50 ms.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def _rate(fn, seconds: float = 0.5) -> float:
    fn()
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def run() -> list[dict]:
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    from validation.stats.differences import miettinen_nurminen_interval, tango_interval
    from validation.stats.multiplicity import graphical, holm
    from validation.stats.sample_size import proportion_vs_goal_sample_size

    rows: list[dict] = []
    p = np.random.default_rng(1).uniform(0, 0.05, 10)
    ours = _rate(lambda: holm(p, alpha=0.05))
    theirs = _rate(lambda: multipletests(p, alpha=0.05, method="holm"), seconds=0.3)
    rows.append({"name": "holm adjusted p (m = 10)", "value": ours, "unit": "calls/s",
                 "ratio": ours / theirs, "target": 2_000})

    m = 6
    g = np.full((m, m), 1.0 / (m - 1))
    np.fill_diagonal(g, 0.0)
    w = np.full(m, 1.0 / m)
    pg = p[:m]
    rows.append({"name": "graphical procedure (m = 6)",
                 "value": _rate(lambda: graphical(pg, w, g, alpha=0.05)), "unit": "calls/s",
                 "target": 1_000})

    rate_mn = _rate(lambda: miettinen_nurminen_interval(56, 70, 48, 80))
    rows.append({"name": "Miettinen-Nurminen interval", "value": 1e6 / rate_mn,
                 "unit": "us/interval", "target": 2_000})
    rate_t = _rate(lambda: tango_interval(59, 6, 16, 80))
    rows.append({"name": "Tango interval", "value": 1e6 / rate_t, "unit": "us/interval",
                 "target": 2_000})

    def naive(upper: int) -> int:
        # per-n scalar loop, the same rule (smallest n keeping the power from there on)
        ok = []
        for n in range(1, upper + 1):
            k = int(stats.binom.isf(0.025, n, 0.90)) + 1
            while stats.binom.sf(k - 1, n, 0.90) > 0.025:
                k += 1
            ok.append(stats.binom.sf(k - 1, n, 0.95) >= 0.9)
        bad = [i for i, v in enumerate(ok) if not v]
        return bad[-1] + 2

    t0 = time.perf_counter()
    res = proportion_vs_goal_sample_size(0.95, 0.90, alpha=0.025, power=0.9)
    ours_ms = 1e3 * (time.perf_counter() - t0)
    t0 = time.perf_counter()
    n_naive = naive(int(res.assumptions["search_upper_bound"]))
    naive_ms = 1e3 * (time.perf_counter() - t0)
    if n_naive != res.n:
        raise RuntimeError(f"exact search disagrees with the scalar loop: {res.n} vs {n_naive}")
    rows.append({"name": "exact sample size search (0.95 vs 0.90)", "value": ours_ms,
                 "unit": "ms", "ratio": naive_ms / ours_ms, "target": 50})
    return rows


if __name__ == "__main__":
    import json

    for row in run():
        print(json.dumps(row))
