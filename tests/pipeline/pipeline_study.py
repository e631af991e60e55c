"""Helpers of the pipeline tests: a small locked study on disk, with hooks to break it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from validation.demo_data import DEMO_APPROVER, DEMO_MEANING, simulate
from validation.provenance.hashing import sha256_file

BASE_PROTOCOL: dict[str, Any] = {
    "schema_version": "1.0",
    "study": {"id": "TEST-001", "title": "Pipeline test study", "version": "1.0",
              "sponsor": "Test"},
    "device": {"name": "Test CADe", "version": "1.0", "intended_use": "testing",
               "risk_class": "II"},
    "model": {"kind": "precomputed", "artifact": "predictions.csv", "sha256": "0" * 64,
              "training_sites": ["T1", "T2"], "operating_point": 0.5},
    "test_set": {
        "manifest": "manifest.csv",
        "reference_standard": "simulated",
        "exclusions": [
            {"reason": "consent_withdrawn", "column": "consent_withdrawn", "values": [True]},
            {"reason": "ai_opt_out", "column": "ai_opt_out", "values": [True]},
        ],
    },
    "endpoints": [
        {"id": "sens", "kind": "sensitivity", "unit": "finding", "ci": "wilson",
         "role": "primary"},
        {"id": "spec", "kind": "specificity", "unit": "patient", "ci": "exact",
         "role": "secondary"},
        {"id": "auc", "kind": "auc", "unit": "finding", "ci": "obuchowski",
         "role": "secondary"},
    ],
    "alpha": 0.05,
    "sidedness": "two-sided",
    "subgroups": [
        {"id": "sex", "column": "sex"},
        {"id": "age_band", "column": "age", "bins": [18, 50, 65, 96]},
    ],
    "populations": ["all_eligible", "per_protocol"],
    "analysis": {"seed": 11, "bootstrap_replicates": 200},
}

Edit = Callable[[pd.DataFrame], pd.DataFrame]


def write_csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].map({True: "true", False: "false"})
    path.write_text(out.to_csv(index=False, lineterminator="\n", float_format="%.6f"))


def make_study(
    folder: Path,
    *,
    scale: float = 0.12,
    seed: int = 5,
    protocol: Callable[[dict[str, Any]], None] | None = None,
    manifest: Edit | None = None,
    predictions: Edit | None = None,
    lock: bool = True,
) -> Path:
    """Write manifest.csv, predictions.csv and protocol.yaml (locked) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    m, p = simulate(seed, scale=scale)
    if manifest is not None:
        m = manifest(m)
    if predictions is not None:
        p = predictions(p)
    write_csv(m, folder / "manifest.csv")
    write_csv(p, folder / "predictions.csv")
    proto = copy.deepcopy(BASE_PROTOCOL)
    proto["model"]["sha256"] = sha256_file(folder / "predictions.csv")
    if protocol is not None:
        protocol(proto)
    path = folder / "protocol.yaml"
    path.write_text(yaml.safe_dump(proto, sort_keys=False))
    if lock:
        from validation.protocol import lock_protocol

        lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    return path


def complete_runs(out: Path) -> list[Path]:
    """Run folders under ``out`` that look complete (no .incomplete suffix)."""
    if not out.exists():
        return []
    return [p for p in out.glob("*/*") if p.is_dir() and not p.name.endswith(".incomplete")
            and not p.parent.name.startswith(".")]  # .case-keys/ holds no runs
