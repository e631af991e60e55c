"""Write the synthetic data behind the example protocols (seeded, byte-identical on rerun).

    python3 protocols/examples/make_example_data.py

* ``cade_pneumothorax/``: a standalone CADe test set of chest radiographs from four external
  sites (manifest.csv, predictions.csv). Every value is simulated; the ``patient_name`` column
  holds made-up names so that identifier handling can be exercised.
* ``reader_study/``: the Van Dyke et al. (1993) MRMC ratings (5 readers, 114 cases, two
  modalities; public data, doi:10.1148/radiology.187.2.8475285) reshaped to the suite's
  reader-ratings specification, with modality 1 as ``unaided`` and 2 as ``aided`` and
  synthetic reading dates (washout 35 days); plus a manifest and synthetic standalone scores.

After writing, the ``sha256`` of each example protocol's ``model.artifact`` is updated in the
protocol YAML, so the examples check, lock and run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
PROTOCOLS = HERE.parent
REPO = PROTOCOLS.parent
VANDYKE = REPO / "tests" / "reference" / "mrmc" / "vandyke_1993_roc.csv"
SEED = 20261128

FIRST = ("Alex", "Sam", "Robin", "Kim", "Jordan", "Maria", "Li", "Noor", "Jan", "Ada")
LAST = ("Smith", "Novak", "Garcia", "Chen", "Okafor", "Larsen", "Rossi", "Kaur", "Dubois")


def _csv(df: pd.DataFrame) -> str:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].map({True: "true", False: "false"})
    return out.to_csv(index=False, lineterminator="\n", float_format="%.6f")


def _write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def cade_tables(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Manifest and scores of the standalone CADe example (one finding per patient)."""
    rng = np.random.default_rng(seed)
    sites = (  # site, patients, prevalence, separation, calibration shift, manufacturers
        ("EXT-1", 190, 0.30, 2.9, 0.0, ("GE", "Siemens")),
        ("EXT-2", 150, 0.22, 2.6, 0.3, ("Philips", "GE")),
        ("EXT-3", 130, 0.35, 3.1, -0.2, ("Canon", "Siemens")),
        ("EXT-4", 110, 0.25, 2.5, 0.1, ("Fujifilm", "Philips")),
    )
    rows, scores = [], []
    for s, (site, n, prev, sep, shift, makers) in enumerate(sites):
        for i in range(n):
            truth = int(rng.random() < prev)
            latent = -1.3 + shift + truth * sep + rng.normal(0.0, 1.0)
            non_diag = bool(rng.random() < 0.025)
            rows.append(
                {
                    "case_id": f"{site}-{i + 1:04d}",
                    "patient_id": f"PT{s + 1}{i + 1:04d}",
                    "patient_name": f"{FIRST[rng.integers(len(FIRST))]} "
                    f"{LAST[rng.integers(len(LAST))]}",
                    "site": site,
                    "truth": truth,
                    "sex": "F" if rng.random() < 0.5 else "M",
                    "age": round(float(np.clip(rng.normal(60.0, 15.0), 18.0, 99.0)), 1),
                    "manufacturer": makers[int(rng.random() < 0.35)],
                    "consent_withdrawn": bool(rng.random() < 0.015),
                    "ai_opt_out": bool(rng.random() < 0.01),
                    "non_diagnostic": non_diag,
                }
            )
            scores.append(np.nan if non_diag else 1.0 / (1.0 + np.exp(-latent)))
    manifest = pd.DataFrame(rows)
    manifest["age"] = manifest["age"].map(lambda a: f"{a:.1f}")
    # the reporting radiologist's call on the same radiograph (comparator of hypothesis H3),
    # from its own stream so that the columns above do not change: sensitivity about 0.84,
    # specificity about 0.95, errors more likely on cases the model also finds hard
    rad = np.random.default_rng(seed + 2)
    truth = manifest["truth"].to_numpy()
    hard = np.array([0.0 if np.isnan(x) else abs(x - 0.5) for x in scores]) < 0.2
    p_call = np.where(truth == 1, np.where(hard, 0.70, 0.88), np.where(hard, 0.12, 0.04))
    manifest["radiologist_call"] = (rad.random(len(manifest)) < p_call).astype(int)
    predictions = pd.DataFrame({"case_id": manifest["case_id"], "score": scores})
    return manifest, predictions


def reader_tables(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Manifest, standalone scores and reader ratings of the reader-study example."""
    rng = np.random.default_rng(seed + 1)
    vd = pd.read_csv(VANDYKE)
    cases = vd.drop_duplicates("case")[["case", "truth"]].sort_values("case")
    case_id = cases["case"].map(lambda c: f"VD-{int(c):03d}")
    manifest = pd.DataFrame(
        {
            "case_id": case_id.to_numpy(),
            "patient_id": cases["case"].map(lambda c: f"VDP{int(c):03d}").to_numpy(),
            "site": "IOWA-1",
            "truth": cases["truth"].astype(int).to_numpy(),
        }
    )
    latent = -1.0 + 2.4 * manifest["truth"].to_numpy() + rng.normal(0.0, 1.0, len(manifest))
    predictions = pd.DataFrame(
        {"case_id": manifest["case_id"], "score": 1.0 / (1.0 + np.exp(-latent))}
    )
    start = dt.date(2026, 3, 2)
    ratings = pd.DataFrame(
        {
            "reader_id": vd["reader"].map(lambda r: f"R{int(r)}"),
            "case_id": vd["case"].map(lambda c: f"VD-{int(c):03d}"),
            "modality": vd["modality"].map({1: "unaided", 2: "aided"}),
            "rating": vd["rating"].astype(int),
            "reading_date": [
                (start + dt.timedelta(days=(35 if m == 2 else 0) + int(r))).isoformat()
                for r, m in zip(vd["reader"], vd["modality"], strict=True)
            ],
        }
    )
    return manifest, predictions, ratings


def _set_sha(protocol: Path, sha: str) -> None:
    text = protocol.read_text(encoding="utf-8")
    new, n = re.subn(r'(?m)^(  sha256: )"?[0-9a-f]{64}"?$', rf'\g<1>"{sha}"', text)
    if n != 1:
        raise SystemExit(f"{protocol}: expected one model sha256 line, found {n}")
    if new != text:
        protocol.write_text(new, encoding="utf-8")


def main() -> None:
    manifest, predictions = cade_tables()
    _write(HERE / "cade_pneumothorax" / "manifest.csv", _csv(manifest))
    sha = _write(HERE / "cade_pneumothorax" / "predictions.csv", _csv(predictions))
    _set_sha(PROTOCOLS / "cade_pneumothorax.yaml", sha)

    manifest, predictions, ratings = reader_tables()
    _write(HERE / "reader_study" / "manifest.csv", _csv(manifest))
    sha = _write(HERE / "reader_study" / "predictions.csv", _csv(predictions))
    _write(HERE / "reader_study" / "ratings.csv", _csv(ratings))
    _set_sha(PROTOCOLS / "reader_study.yaml", sha)


if __name__ == "__main__":
    main()
