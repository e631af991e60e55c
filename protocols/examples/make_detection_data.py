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

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_example_data import PROTOCOLS, _csv, _set_sha, _write  # noqa: E402

from validation.localization_demo import detection_tables  # noqa: E402


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
