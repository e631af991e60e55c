"""Write the synthetic prognostic reference set (prognostic.csv).

Run from the repository root: python tests/reference/prognostic/make_data.py
Exponential event times whose hazard rises with the score, uniform censoring, times rounded to
one decimal (tied times, events tied with censorings) and scores rounded to two decimals (tied
scores), so that the tie rules of every statistic are exercised. Deterministic (seed 20261204).
"""

import numpy as np

rng = np.random.default_rng(20261204)
n = 300
score = np.round(rng.normal(0.0, 1.0, n), 2)
event_time = rng.exponential(1.0 / (0.08 * np.exp(0.7 * score)))
censor_time = rng.uniform(2.0, 30.0, n)
time = np.round(np.minimum(event_time, censor_time), 1)
time = np.maximum(time, 0.1)
event = (event_time <= censor_time).astype(int)
cut = np.quantile(score, [1 / 3, 2 / 3])
group = np.where(score <= cut[0], "low", np.where(score <= cut[1], "mid", "high"))
with open("tests/reference/prognostic/prognostic.csv", "w") as fh:
    fh.write("time,event,score,group\n")
    for t, e, s, g in zip(time, event, score, group, strict=True):
        fh.write(f"{t:.1f},{e},{s:.2f},{g}\n")
