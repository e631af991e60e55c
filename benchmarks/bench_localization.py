"""Localization benchmark: JAFROC (wAFROC) jackknife, 5 readers x 2 modalities x 400 cases.

The leave-one-case-out wAFROC values come from the row and column sums of each reader's
kernel matrix (one pass). The obvious alternative recomputes the figure of merit with each
case left out; it is timed in the same run and the ratio reported.
"""

from __future__ import annotations

import numpy as np

from benchmarks._timing import best_of as _best


def _study(n_readers: int, n_cases: int, seed: int = 3):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    k1 = n_cases // 2
    k2 = n_cases - k1
    lmax = 3
    n_les = rng.integers(1, lmax + 1, size=k2)
    w = np.zeros((k2, lmax))
    for d in range(k2):
        w[d, :n_les[d]] = 1.0 / n_les[d]
    fp = np.where(rng.random((2, n_readers, n_cases)) < 0.6,
                  rng.integers(1, 6, (2, n_readers, n_cases)).astype(float), -np.inf)
    ll = np.where(rng.random((2, n_readers, k2, lmax)) < 0.7,
                  rng.integers(2, 6, (2, n_readers, k2, lmax)).astype(float), -np.inf)
    ll[:, :, w == 0] = -np.inf
    diseased = np.r_[np.zeros(k1, bool), np.ones(k2, bool)]
    return fp, ll, w, diseased


def run() -> list[dict]:
    from validation.stats.localization import fom_kernel

    fp, ll, w, dis = _study(5, 400)

    def closed() -> None:
        fom_kernel(fp, ll, w, dis, fom="wAFROC").jackknife()

    def naive() -> None:
        out = np.empty((2, 5, dis.size))
        didx = np.cumsum(dis) - 1
        for c in range(dis.size):
            keep = np.arange(dis.size) != c
            keep_d = np.ones(int(dis.sum()), bool)
            if dis[c]:
                keep_d[didx[c]] = False
            out[..., c] = fom_kernel(fp[..., keep], ll[..., keep_d, :], w[keep_d], dis[keep],
                                     fom="wAFROC").fom

    t_closed = _best(closed)
    t_naive = _best(naive, repeat=1)
    return [
        {"name": "wAFROC jackknife, 5 readers x 2 modalities x 400 cases (closed form)",
         "value": t_closed, "unit": "s"},
        {"name": "wAFROC jackknife, naive leave-one-out recomputation (same study)",
         "value": t_naive, "unit": "s", "ratio": t_naive / t_closed},
    ]
