"""Write the synthetic data of protocols/risk_example.yaml (seeded, byte-identical on rerun).

    python3 protocols/examples/make_risk_example_data.py

``risk_example/``: 600 lung nodules from three external sites, each with the locked model's
probability of malignancy (``predictions.csv``), the reference-standard malignancy
(``manifest.csv``: histology or two-year stability) and the time from the index CT to disease
progression or censoring in months (``outcomes.csv``). The model is mildly over-confident (a
calibration slope near 0.85 on this set). Every value is simulated. After writing, the
``sha256`` fields of the protocol are updated so that it checks, locks and runs.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "risk_example"
PROTOCOL = HERE.parent / "risk_example.yaml"
SEED = 20261204


def make(n: int = 600, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The three tables (manifest, predictions, outcomes) of the example."""
    rng = np.random.default_rng(seed)
    site = rng.choice(["EXT-1", "EXT-2", "EXT-3"], size=n, p=[0.4, 0.35, 0.25])
    age = np.round(rng.uniform(45, 85, n), 1)
    lp = -1.1 + 1.2 * rng.normal(size=n) + 0.02 * (age - 65)  # true log-odds
    truth = rng.binomial(1, 1 / (1 + np.exp(-lp)))
    prob = np.round(1 / (1 + np.exp(-(0.05 + 1.15 * lp))), 6)  # slightly over-confident
    prob = np.clip(prob, 1e-6, 1 - 1e-6)
    hazard = 0.012 * np.exp(1.1 * lp + 0.9 * truth)  # progression per month
    t_event = rng.exponential(1 / hazard)
    t_cens = rng.uniform(12, 60, n)
    time = np.round(np.minimum(t_event, t_cens), 1)
    time = np.maximum(time, 0.1)
    event = (t_event <= t_cens).astype(int)
    reason = np.where(
        event == 1,
        "",
        np.where(t_cens >= 59, "end_of_study", np.where(rng.random(n) < 0.8, "end_of_study", "lost_to_follow_up")),
    )
    ids = [f"{s}-{i + 1:04d}" for i, s in enumerate(site)]
    manifest = pd.DataFrame(
        {
            "case_id": ids,
            "patient_id": [f"P{20000 + i}" for i in range(n)],
            "site": site,
            "truth": truth,
            "sex": rng.choice(["F", "M"], size=n),
            "age": age,
            "manufacturer": rng.choice(["GE", "Siemens", "Philips"], size=n),
            "consent_withdrawn": "false",
            "ai_opt_out": "false",
            "non_diagnostic": "false",
        }
    )
    predictions = pd.DataFrame({"case_id": ids, "score": [f"{p:.6f}" for p in prob]})
    outcomes = pd.DataFrame(
        {"case_id": ids, "time": [f"{t:.1f}" for t in time], "event": event, "censoring_reason": reason}
    )
    return {"manifest": manifest, "predictions": predictions, "outcomes": outcomes}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    text = PROTOCOL.read_text(encoding="utf-8")
    for name, df in make().items():
        path = OUT / f"{name}.csv"
        data = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
        path.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        # the sha256 line that follows the line naming this file
        text = re.sub(rf'({re.escape(path.name)}\n\s*sha256: )"[0-9a-f]{{64}}"', rf'\1"{digest}"', text)
    PROTOCOL.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
