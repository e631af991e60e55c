"""Write the synthetic calibration reference set (calibration.csv): a miscalibrated model.

Run from the repository root: python tests/reference/calibration/make_data.py
Deterministic (numpy default_rng seed 20261204); values rounded to 6 decimals so that R reads
exactly the numbers Python uses.
"""

import numpy as np

rng = np.random.default_rng(20261204)
n = 400
lp = rng.normal(-0.6, 1.3, n)                  # true linear predictor
truth = rng.binomial(1, 1.0 / (1.0 + np.exp(-lp)))
p = 1.0 / (1.0 + np.exp(-(0.3 + 1.4 * lp)))    # over-confident, shifted model
p = np.clip(np.round(p, 6), 1e-6, 1 - 1e-6)
site = np.where(rng.random(n) < 0.5, "A", "B")
with open("tests/reference/calibration/calibration.csv", "w") as fh:
    fh.write("truth,probability,site\n")
    for t, q, s in zip(truth, p, site, strict=True):
        fh.write(f"{int(t)},{q:.6f},{s}\n")
