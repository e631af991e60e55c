"""The demo's lesion-localization study (``validation demo``, folder ``localization/`` of its output).

The detection example's data (:func:`detection_tables`, seeded: 120 chest radiographs, 93
nodules, five readers marking every case without and with the device's marks) are written
beside a copy of ``protocols/detection_study.yaml``, which is locked and run: marks are matched
to lesions, the reader-averaged wAFROC figure of merit (primary) is compared between modalities
by Obuchowski-Rockette on its jackknife pseudovalues, and the fixed-sequence hypotheses are
decided. The demo keeps the primary endpoint and drops the device's standalone
cluster-bootstrap endpoints (and its marks) to stay within a few seconds; the example protocol
itself runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation._atomic import write_text_atomic

DETECTION_SEED = 20261204
"""Seed of the detection example's data (``protocols/examples/detection_study/``)."""
SIZE, RADIUS = 512, 24.0
DEMO_ENDPOINTS = ("mrmc_wafroc", "standalone_auc")
"""The detection protocol's endpoints that the demo keeps."""


def detection_tables(seed: int = DETECTION_SEED) -> dict[str, pd.DataFrame]:
    """The simulated free-response study: manifest, case scores, lesions, reader and AI marks.

    60 normal and 60 abnormal 512 x 512 radiographs (1-3 nodules, acceptance radius 24 pixels),
    five readers without and with the aid; lesions are found with a probability that rises with
    the aid, found lesions and false marks get 1-5 ratings from latent normals. Seeded.
    """
    rng = np.random.default_rng(seed)
    n_normal, n_diseased = 60, 60
    cases = [f"DX-{k:03d}" for k in range(1, n_normal + n_diseased + 1)]
    truth = np.r_[np.zeros(n_normal, int), np.ones(n_diseased, int)]
    patients = [f"DXP{(k // 2) + 1:03d}" if k < 40 else f"DXP{k:03d}" for k in range(len(cases))]
    sites = ["SITE-A" if k % 3 else "SITE-B" for k in range(len(cases))]
    manifest = pd.DataFrame({"case_id": cases, "patient_id": patients, "site": sites,
                             "truth": truth})
    lesion_rows: list[dict[str, Any]] = []
    lesions_of: dict[str, list[tuple[float, float]]] = {}
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




@dataclass(frozen=True, slots=True, kw_only=True)
class LocalizationDemo:
    protocol: Path
    run_dir: Path
    results: dict[str, Any]


def run_localization_demo(out: Path, *, formats: tuple[str, ...] = (),
                          seed: int = DETECTION_SEED) -> LocalizationDemo:
    """Write the detection study's data and protocol under ``out/localization``, lock, run."""
    import json

    import yaml

    from validation._resources import resource
    from validation.demo_data import DEMO_APPROVER, DEMO_MEANING, _csv
    from validation.pipeline import run_protocol
    from validation.protocol import lock_path_for, lock_protocol
    from validation.provenance.hashing import sha256_file

    folder = Path(out) / "localization"
    inputs = folder / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    tables = detection_tables(seed)
    for name in ("manifest", "predictions", "lesions", "marks"):
        write_text_atomic(inputs / f"{name}.csv", _csv(tables[name]))
    p = yaml.safe_load(resource("protocols/detection_study.yaml").read_text(encoding="utf-8"))
    p["model"].update(artifact="predictions.csv", sha256=sha256_file(inputs / "predictions.csv"))
    p["test_set"]["manifest"] = "manifest.csv"
    loc = p["localization"]
    loc.update(marks="marks.csv", lesions="lesions.csv")
    loc.pop("algorithm_marks", None)
    p["endpoints"] = [e for e in p["endpoints"] if e["id"] in DEMO_ENDPOINTS]
    p.setdefault("analysis", {})["seed"] = int(seed)
    path = inputs / "detection_study.yaml"
    write_text_atomic(path, "# Written by `validation demo` from protocols/detection_study.yaml.\n"
                      + yaml.safe_dump(p, sort_keys=False, allow_unicode=True))
    lock = lock_path_for(path)
    if lock.exists():
        lock.unlink()
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    run_dir = run_protocol(path, out_dir=folder / "runs", formats=formats, progress=False,
                           operator="demo")
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    return LocalizationDemo(protocol=path, run_dir=run_dir, results=results)


def _ci(ci: Any) -> str:
    return f"{ci[0]:.3f} to {ci[1]:.3f}"


def localization_lines(demo: LocalizationDemo) -> list[str]:
    """The demo's lines: design, wAFROC per modality, the difference (RRRC), the decisions."""
    loc = demo.results["localization"]
    design, match = loc["design"], loc["match"]
    block = loc["by_endpoint"]["mrmc_wafroc"]
    mods = block["modalities"]
    rrrc = block["rrrc"]
    per_mod = ", ".join(f"{m} {mods[m]['estimate']:.3f} (95% CI {_ci(mods[m]['ci'])})"
                        for m in loc["modality_order"])
    hyps = "; ".join(f"{h['id']} {h['type']} {h['decision'].upper()}"
                     for h in demo.results["hypotheses"] if h["endpoint"] == "mrmc_wafroc")
    conf = round(100 * (1 - block["alpha"]))
    return [
        f"localization: {design['kind']} design ({len(design['readers'])} readers x "
        f"{design['n_cases']} cases, {match['n_lesions']} lesions, {match['n_marks']} marks)",
        f"wAFROC (primary): {per_mod}",
        f"{block['difference']['comparison']}: {block['difference']['estimate']:+.3f} "
        f"({conf}% CI {_ci(rrrc['ci'])}, RRRC p = {rrrc['p_value']:.4f}); {hyps}",
        f"LOCALIZATION dossier: {demo.run_dir}",
    ]


def print_localization_demo(demo: LocalizationDemo, echo: Callable[[str], Any]) -> None:
    for line in localization_lines(demo):
        echo(line)
