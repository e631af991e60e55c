"""NannyML CBPE reference for tests/stats/surveillance/test_estimation.py.

Run with NannyML installed in its own virtual environment (not a dependency of the suite):
    <venv>/bin/python make_cbpe_refs.py      (from tests/reference/surveillance/)
writes cbpe_data.csv (reference and analysis cases: raw score, truth) and cbpe_refs.json (the
estimated figures per chunk of 2000 analysis cases, and the isotonic calibrator's predictions).

The raw scores are deliberately miscalibrated (score = p ** 3), so NannyML calibrates them on the
reference (isotonic, its default); the model's call is "calibrated probability >= 0.5".
"""

from __future__ import annotations

import json
import warnings

import nannyml as nml
import numpy as np
import pandas as pd
from nannyml.calibration import IsotonicCalibrator

warnings.simplefilter("ignore")
rng = np.random.default_rng(20261204)
n_ref, n_ana = 2000, 8000
p_ref = rng.beta(2.0, 3.0, n_ref)
p_ana = rng.beta(2.6, 2.6, n_ana)  # covariate shift: more high-probability cases
data = pd.DataFrame({
    "set": ["reference"] * n_ref + ["analysis"] * n_ana,
    "score": np.round(np.concatenate([p_ref, p_ana]) ** 3, 6),
    "truth": np.concatenate([rng.binomial(1, p_ref), rng.binomial(1, p_ana)]),
})
data.to_csv("cbpe_data.csv", index=False, float_format="%.6f")
data = pd.read_csv("cbpe_data.csv")
ref = data[data["set"] == "reference"].reset_index(drop=True)
ana = data[data["set"] == "analysis"].reset_index(drop=True)

cal = IsotonicCalibrator()
cal.fit(ref["score"].to_numpy(), ref["truth"].to_numpy())
for frame in (ref, ana):
    frame["y_pred"] = (cal.calibrate(frame["score"].to_numpy()) >= 0.5).astype(int)

est = nml.CBPE(y_pred_proba="score", y_pred="y_pred", y_true="truth", problem_type="classification_binary",
               metrics=["roc_auc", "recall", "specificity", "precision", "confusion_matrix"],
               chunk_size=2000, calibration="isotonic")
est.fit(ref)
res = est.estimate(ana.drop(columns=["truth"])).filter(period="analysis").to_df()
chunks = []
for i in range(len(res)):
    row = res.iloc[i]
    chunks.append({
        "start": int(row[("chunk", "start_index")]), "end": int(row[("chunk", "end_index")]),
        "roc_auc": float(row[("roc_auc", "value")]), "recall": float(row[("recall", "value")]),
        "specificity": float(row[("specificity", "value")]),
        "precision": float(row[("precision", "value")]),
        "true_positive": float(row[("true_positive", "value")]),
        "false_positive": float(row[("false_positive", "value")]),
        "true_negative": float(row[("true_negative", "value")]),
        "false_negative": float(row[("false_negative", "value")]),
    })
grid = np.linspace(0.0, 1.0, 41)
out = {
    "nannyml_version": nml.__version__,
    "needs_calibration": bool(est.needs_calibration),
    "threshold": 0.5,
    "chunks": chunks,
    "calibrator_grid": grid.tolist(),
    "calibrator_predictions": [float(v) for v in cal.calibrate(grid)],
}
with open("cbpe_refs.json", "w", encoding="utf-8") as fh:
    json.dump(out, fh, indent=1)
    fh.write("\n")
print(json.dumps(out["chunks"][0]), out["needs_calibration"])
