"""MRMC benchmark: OR analysis with jackknife covariance, 10 readers x 2 modalities x 5,000 cases.

The jackknife comes from DeLong placement values (each leave-one-case-out AUC in O(1) after one
sort per reader-modality). The naive alternative recomputes every AUC with one case left out
(O(n^2 log n)); it is timed on a smaller study in the same run and the ratio reported there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks._timing import best_of as _best


def _study(n_readers: int, n_cases: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = (rng.random(n_cases) < 0.3).astype(int)
    case_effect = rng.normal(0, 1, n_cases)
    frames = []
    for mod, shift in (("unaided", 1.0), ("aided", 1.2)):
        for j in range(n_readers):
            score = truth * shift + 0.6 * case_effect + rng.normal(0, 1, n_cases)
            frames.append(pd.DataFrame({"reader": f"R{j:02d}", "modality": mod,
                                        "case": np.arange(n_cases), "truth": truth,
                                        "rating": np.round(score, 2)}))
    return pd.concat(frames, ignore_index=True)


def _naive_auc(truth: np.ndarray, x: np.ndarray) -> float:
    from scipy.stats import rankdata

    pos = truth == 1
    m = int(pos.sum())
    n = truth.size - m
    return float((rankdata(x)[pos].sum() - m * (m + 1) / 2) / (m * n))


def run() -> list[dict]:
    from validation.stats.mrmc import fom_covariance, mrmc_analysis, or_analysis
    from validation.stats.mrmc._design import crossed_design

    rows: list[dict] = []
    big = _study(10, 5000)
    t_full = _best(lambda: mrmc_analysis(big))
    design = crossed_design(big)

    def core() -> None:
        fc = fom_covariance(design.ratings, design.truth)
        or_analysis(fc.fom, fc.cov, n_cases=fc.n_cases_used)

    t_core = _best(core)
    rows.append({"name": "mrmc OR jackknife 10x2x5000, DataFrame to result", "value": t_full,
                 "unit": "s", "target": "< 1 s"})
    rows.append({"name": "mrmc OR jackknife 10x2x5000, arrays to result", "value": t_core,
                 "unit": "s", "target": "< 1 s"})

    small_n = 250
    small = crossed_design(_study(10, small_n, seed=2))
    t_fast = _best(lambda: fom_covariance(small.ratings, small.truth))
    t_naive = _best(lambda: fom_covariance(small.ratings, small.truth, endpoint=_naive_auc),
                    repeat=1)
    rows.append({"name": f"mrmc jackknife 10x2x{small_n}, placement values", "value": t_fast,
                 "unit": "s"})
    rows.append({"name": f"mrmc jackknife 10x2x{small_n}, naive leave-one-out AUCs",
                 "value": t_naive, "unit": "s", "ratio": t_naive / t_fast,
                 "target": "ratio naive / placement values"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
