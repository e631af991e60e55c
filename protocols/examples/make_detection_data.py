"""Write the synthetic data of the detection (marks) and split-plot example protocols.

    python3 protocols/examples/make_detection_data.py

* ``detection_study/``: a simulated free-response study of 120 chest radiographs (60 without
  and 60 with 1-3 nodules, 512 x 512 pixels, acceptance radius 24 pixels), read by 5
  radiologists without and with the device's marks (``marks.csv``), the device's own marks
  (``algorithm_marks.csv``), the lesion truth (``lesions.csv``), a manifest and the device's
  case-level scores (its highest mark per case). Lesions are found with a probability that
  rises with the aid; found lesions and false marks get 1-5 ratings from latent normals.
* ``split_plot/``: the Van Dyke reader study's ratings with readers 1-3 reading the odd-numbered
  cases and readers 4-5 the even-numbered ones, in both modalities (a split-plot design).

Seeded: a rerun writes byte-identical files. The ``sha256`` of each protocol's
``model.artifact`` is updated in its YAML.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_example_data import PROTOCOLS, _csv, _set_sha, _write  # noqa: E402

SEED = 20261204
SIZE, RADIUS = 512, 24.0


def detection_tables(seed: int = SEED) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_normal, n_diseased = 60, 60
    cases = [f"DX-{k:03d}" for k in range(1, n_normal + n_diseased + 1)]
    truth = np.r_[np.zeros(n_normal, int), np.ones(n_diseased, int)]
    patients = [f"DXP{(k // 2) + 1:03d}" if k < 40 else f"DXP{k:03d}" for k in range(len(cases))]
    sites = ["SITE-A" if k % 3 else "SITE-B" for k in range(len(cases))]
    manifest = pd.DataFrame({"case_id": cases, "patient_id": patients, "site": sites,
                             "truth": truth})
    lesion_rows, lesions_of = [], {}
    for k, c in enumerate(cases):
        if truth[k] == 0:
            lesion_rows.append({"case_id": c, "lesion_id": "", "x": "", "y": "", "radius": "",
                                "image_width": SIZE, "image_height": SIZE,
                                "patient_id": patients[k]})
            continue
        n_les = int(rng.choice([1, 1, 2, 3]))
        lesions_of[c] = []
        for j in range(n_les):
            x, y = rng.uniform(60, SIZE - 60, size=2).round(1)
            lesions_of[c].append((x, y))
            lesion_rows.append({"case_id": c, "lesion_id": f"L{j + 1}", "x": x, "y": y,
                                "radius": RADIUS, "image_width": SIZE, "image_height": SIZE,
                                "patient_id": patients[k]})
    lesions = pd.DataFrame(lesion_rows)

    def far_point(c: str) -> tuple[float, float]:
        while True:
            x, y = rng.uniform(0, SIZE, size=2).round(1)
            if all(np.hypot(x - a, y - b) > 3 * RADIUS for a, b in lesions_of.get(c, [])):
                return float(x), float(y)

    def rating(z: float) -> int:
        return int(np.clip(np.digitize(z, [-0.5, 0.5, 1.5, 2.5]) + 1, 1, 5))

    marks = []
    readers = [f"R{j}" for j in range(1, 6)]
    skill = rng.normal(0.0, 0.25, size=len(readers))
    for mod, p_find, mu in (("unaided", 0.62, 1.3), ("aided", 0.72, 1.7)):
        for j, rd in enumerate(readers):
            for c in cases:
                for _ in range(int(rng.poisson(0.35))):
                    x, y = far_point(c)
                    marks.append({"case_id": c, "reader_id": rd, "modality": mod,
                                  "x": x, "y": y, "rating": rating(rng.normal(0.0, 1.0))})
                for (a, b) in lesions_of.get(c, []):
                    if rng.uniform() < p_find + 0.05 * skill[j]:
                        dx, dy = rng.normal(0, RADIUS / 3, size=2)
                        marks.append({"case_id": c, "reader_id": rd, "modality": mod,
                                      "x": round(a + dx, 1), "y": round(b + dy, 1),
                                      "rating": rating(rng.normal(mu + skill[j], 1.0))})
    algo = []
    for c in cases:
        for _ in range(int(rng.poisson(0.5))):
            x, y = far_point(c)
            algo.append({"case_id": c, "reader_id": "NOD-Detect", "modality": "standalone",
                         "x": x, "y": y, "rating": round(float(rng.beta(2, 5)), 4)})
        for (a, b) in lesions_of.get(c, []):
            if rng.uniform() < 0.8:
                algo.append({"case_id": c, "reader_id": "NOD-Detect", "modality": "standalone",
                             "x": round(a + rng.normal(0, 5), 1), "y": round(b + rng.normal(0, 5), 1),
                             "rating": round(float(rng.beta(5, 2)), 4)})
    algo_df = pd.DataFrame(algo)
    best = algo_df.groupby("case_id")["rating"].max()
    predictions = pd.DataFrame({"case_id": cases,
                                "score": [float(best.get(c, 0.0)) for c in cases]})
    return {"manifest": manifest, "predictions": predictions, "lesions": lesions,
            "marks": pd.DataFrame(marks), "algorithm_marks": algo_df}


def split_plot_ratings() -> pd.DataFrame:
    ratings = pd.read_csv(HERE / "reader_study" / "ratings.csv", dtype=str)
    order = sorted(ratings["case_id"].unique())
    first = set(order[::2])  # alternate cases: both blocks hold diseased and non-diseased
    group1 = ratings["reader_id"].isin(sorted(ratings["reader_id"].unique())[:3])
    keep = (group1 & ratings["case_id"].isin(first)) | (~group1 & ~ratings["case_id"].isin(first))
    return ratings[keep].reset_index(drop=True)


def main() -> None:
    t = detection_tables()
    out = HERE / "detection_study"
    for name in ("manifest", "lesions", "marks", "algorithm_marks"):
        _write(out / f"{name}.csv", _csv(t[name]))
    sha = _write(out / "predictions.csv", _csv(t["predictions"]))
    _set_sha(PROTOCOLS / "detection_study.yaml", sha)
    _write(HERE / "split_plot" / "ratings.csv",
           split_plot_ratings().to_csv(index=False, lineterminator="\n"))


if __name__ == "__main__":
    main()
