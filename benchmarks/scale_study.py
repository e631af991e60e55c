"""Benchmark-only generator of a demo-like study at any size (vectorised; 20 sites).

The demo's generator (``validation.demo_data.simulate``) draws one patient at a time, which is
fine for its 700 findings and far too slow for a million. This one draws every column at once
with the same model (site prevalence, separation, calibration shift, patient random effect, a
second finding for about one patient in seven, exclusions and non-diagnostic images) over 20
sites, writes ``manifest.csv`` and ``predictions.csv``, fills the demo protocol template and
locks it, so ``python -m validation run PROTOCOL`` runs the demo's analysis at that size.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

N_SITES = 20
SEED = 20261204


def simulate_scale(n_cases: int, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Manifest and predictions with about ``n_cases`` findings over 20 sites."""
    rng = np.random.default_rng(seed)
    n_pat = int(round(n_cases / 1.15))
    site = rng.integers(0, N_SITES, size=n_pat)
    prev = np.linspace(0.15, 0.40, N_SITES)[site]
    sep = np.linspace(1.5, 2.5, N_SITES)[site]
    shift = np.linspace(-0.3, 0.35, N_SITES)[site]
    age_mean = np.linspace(48.0, 70.0, N_SITES)[site]
    diseased = rng.random(n_pat) < prev
    age = np.round(np.clip(rng.normal(age_mean, 13.0), 18.0, 95.0), 1)
    sex = np.where(rng.random(n_pat) < 0.48, "F", "M")
    manu = np.array(["GE", "Siemens", "Philips", "Canon", "Fujifilm"])[rng.integers(0, 5, n_pat)]
    consent = rng.random(n_pat) < 0.02
    opt_out = rng.random(n_pat) < 0.015
    effect = rng.normal(0.0, 0.5, n_pat)
    n_find = np.where(rng.random(n_pat) < 0.15, 2, 1)
    p = np.repeat(np.arange(n_pat), n_find)
    f = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(n_find)[:-1]])
    finding = np.arange(p.size) - np.repeat(f, n_find) + 1
    truth = (diseased[p] & ((finding == 1) | (rng.random(p.size) < 0.67))).astype(np.int64)
    severity = np.where(truth == 1, rng.gamma(2.0, 0.5, p.size), 0.0)
    latent = (-1.1 + shift[p] + effect[p] + truth * (sep[p] * 0.8 + 0.6 * severity)
              + rng.normal(0.0, 1.0, p.size))
    non_diag = rng.random(p.size) < 0.03
    score = np.where(non_diag, np.nan, np.round(1.0 / (1.0 + np.exp(-latent)), 6))
    site_name = np.array([f"SITE-{i + 1:02d}" for i in range(N_SITES)])[site[p]]
    pid = np.char.add("P", np.arange(n_pat).astype(str))[p]
    case_id = np.char.add(np.char.add(pid, "-"), finding.astype(str))
    manifest = pd.DataFrame({
        "case_id": case_id, "patient_id": pid, "site": site_name, "truth": truth,
        "sex": sex[p], "age": age[p], "manufacturer": manu[p],
        "consent_withdrawn": consent[p], "ai_opt_out": opt_out[p], "non_diagnostic": non_diag,
    })
    predictions = pd.DataFrame({"case_id": case_id, "score": score})
    return manifest, predictions


def _csv(df: pd.DataFrame) -> str:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = np.where(out[col].to_numpy(), "true", "false")
    return out.to_csv(index=False, lineterminator="\n", float_format="%.6f")


def prepare_scale_study(out_dir: Path, n_cases: int, *, seed: int = SEED) -> Path:
    """Write the study under ``out_dir/inputs`` and return the locked protocol's path."""
    from validation.demo_data import DEMO_APPROVER, DEMO_MEANING, find_demo_template
    from validation.protocol import lock_path_for, lock_protocol
    from validation.provenance.hashing import sha256_file

    inputs = Path(out_dir) / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    manifest, predictions = simulate_scale(n_cases, seed)
    (inputs / "manifest.csv").write_text(_csv(manifest), encoding="utf-8")
    (inputs / "predictions.csv").write_text(_csv(predictions), encoding="utf-8")
    template = yaml.safe_load(find_demo_template().read_text(encoding="utf-8"))
    template["model"].update(artifact="predictions.csv", sha256=sha256_file(inputs / "predictions.csv"),
                             training_sites=["T1", "T2"])
    template["model"].pop("card", None)
    template["test_set"]["manifest"] = "manifest.csv"
    template["analysis"]["seed"] = seed
    template["analysis"]["bootstrap_replicates"] = 2000
    # the measured configuration (endpoints, 20 sites, three subgroups, the band); the
    # demo's consistency section (GEE and cluster-bootstrap gaps per level) came later and is
    # left out so that the figures stay comparable across stops
    template.pop("consistency", None)
    protocol = inputs / "scale.yaml"
    protocol.write_text(yaml.safe_dump(template, sort_keys=False), encoding="utf-8")
    lock = lock_path_for(protocol)
    if lock.exists():
        lock.unlink()
    lock_protocol(protocol, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    return protocol


if __name__ == "__main__":
    print(prepare_scale_study(Path(sys.argv[1]), int(float(sys.argv[2]))))
