"""Build small synthetic run directories the way the pipeline does (without the pipeline)."""

from __future__ import annotations

import json
from pathlib import Path

from validation._atomic import canonical_json, write_bytes_atomic, write_json_atomic
from validation.provenance import (
    finalize,
    record_inputs,
    record_test_set_access,
    sha256_bytes,
    write_environment,
)

PROTOCOL = {"study": {"id": "S-1", "version": "1.0"}}
PROTOCOL_SHA = sha256_bytes(canonical_json(PROTOCOL).encode("utf-8"))
MODEL_SHA = sha256_bytes(b"locked model v1")


def make_inputs(root: Path) -> dict[str, Path]:
    """A protocol, a manifest with an identifier column and three images."""
    data = root / "inputs"
    (data / "images" / "site_a").mkdir(parents=True, exist_ok=True)
    (data / "protocol.yaml").write_text("study: {id: S-1}\n", encoding="utf-8")
    (data / "manifest.csv").write_text(
        "case_id,patient_name,site,truth\nC001,Jane Roe,A,1\nC002,Richard Miles,A,0\n"
        "C003,Ann Lee,B,1\n", encoding="utf-8")
    for i in range(3):
        (data / "images" / "site_a" / f"img{i}.png").write_bytes(bytes([i]) * (100 + i))
    return {"protocol": data / "protocol.yaml", "manifest": data / "manifest.csv",
            "images": data / "images"}


def approval(name: str = "Dana Reviewer", email: str = "dana@example.org",
             meaning: str = "approved SAP", when: str = "2026-11-01T09:00:00Z") -> dict:
    return {"name": name, "email": email, "meaning": meaning,
            "role": meaning.split()[0], "time_utc": when, "protocol_sha256": PROTOCOL_SHA}


def lock_record() -> dict:
    """A lock record in the layout the protocol layer writes (validation.lockfile)."""
    return {
        "lock_version": "1.0", "protocol_file": "protocol.yaml", "study_id": "S-1",
        "study_version": "1.0", "protocol": PROTOCOL, "protocol_sha256": PROTOCOL_SHA,
        "yaml_sha256": sha256_bytes(b"study: {id: S-1}\n"),
        "locked_utc": "2026-11-01T08:59:00Z", "approvals": [approval()],
    }


def build_incomplete(root: Path, run_id: str = "20261128T101500Z-abc123",
                     registry=None) -> Path:
    """``root/runs/S-1/<run_id>.incomplete`` with every kind of dossier file."""
    inputs = make_inputs(root)
    run_dir = root / "runs" / "S-1" / f"{run_id}.incomplete"
    run_dir.mkdir(parents=True)
    write_json_atomic(run_dir / "protocol.lock.json", lock_record())
    record_inputs(run_dir, inputs)
    write_environment(run_dir, renderer="pandoc+typst")
    record_test_set_access(registry, run_dir=run_dir, model_sha256=MODEL_SHA, study_id="S-1",
                           operator="tester", protocol_sha256=PROTOCOL_SHA)
    write_json_atomic(run_dir / "results.json", {"schema_version": "1.0", "seed": 7,
                                                 "endpoints": {"sens": {"estimate": 0.9}}})
    write_bytes_atomic(run_dir / "predictions.parquet", b"PAR1" + bytes(range(256)) + b"PAR1")
    write_bytes_atomic(run_dir / "report" / "sar.qmd", b"---\ntitle: SAR\n---\nC001 0.9\n")
    write_bytes_atomic(run_dir / "report" / "figures" / "roc.svg", b"<svg></svg>\n")
    write_bytes_atomic(run_dir / "report" / "sar.pdf", b"%PDF-1.7\n" + bytes(range(200)))
    return run_dir


def build_run(root: Path, run_id: str = "20261128T101500Z-abc123", registry=None,
              operator: str = "tester") -> Path:
    """A finalized dossier."""
    run_dir = build_incomplete(root, run_id, registry)
    return finalize(run_dir, registry, operator=operator)


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


__all__ = ["approval", "build_incomplete", "build_run", "canonical_json", "lock_record", "make_inputs",
           "manifest"]


def make_study(folder: Path, *, seed: int = 5, scale: float = 0.1) -> Path:
    """A small locked standalone study (seeded demo data, no hypotheses) for the pipeline."""
    import yaml

    from validation.demo_data import DEMO_APPROVER, DEMO_MEANING, generate_demo_data
    from validation.protocol import lock_protocol

    files = generate_demo_data(folder, seed=seed, scale=scale)
    import pandas as pd

    manifest = pd.read_csv(files.manifest, dtype=str, keep_default_na=False)
    first = ["Olsen", "Marta", "Quentin", "Ingrid", "Tobias", "Yara", "Desmond", "Harriet"]
    last = ["Abernathy", "Fairweather", "Kowalczyk", "Lindqvist", "Oyelaran", "Castellano"]
    patients = sorted(manifest["patient_id"].unique())
    names = {p: f"{first[i % len(first)]} {last[(i // len(first)) % len(last)]}-{i}"
             for i, p in enumerate(patients)}
    manifest["patient_name"] = manifest["patient_id"].map(names)
    manifest["mrn"] = manifest["patient_id"].map(
        {p: f"MRN{7000000 + 37 * i}" for i, p in enumerate(patients)})
    manifest.to_csv(files.manifest, index=False, lineterminator="\n")
    proto = {
        "schema_version": "1.0",
        "study": {"id": "PROV-001", "title": "Provenance test study", "version": "1.0",
                  "sponsor": "Test"},
        "device": {"name": "Test CADe", "version": "1.0", "intended_use": "testing",
                   "risk_class": "II"},
        "model": {"kind": "precomputed", "artifact": files.predictions.name,
                  "sha256": files.predictions_sha256,
                  "training_sites": list(files.training_sites), "operating_point": 0.5},
        "test_set": {"manifest": files.manifest.name, "reference_standard": "simulated",
                     "identifier_columns": ["patient_name", "mrn"],
                     "exclusions": [{"reason": "consent_withdrawn",
                                     "column": "consent_withdrawn", "values": [True]}]},
        "endpoints": [{"id": "sens", "kind": "sensitivity", "unit": "finding", "ci": "wilson",
                       "role": "primary"},
                      {"id": "auc", "kind": "auc", "unit": "finding", "ci": "obuchowski",
                       "role": "secondary"}],
        "alpha": 0.05,
        "sidedness": "two-sided",
        "populations": ["all_eligible"],
        "analysis": {"seed": 11, "bootstrap_replicates": 200},
    }
    path = folder / "protocol.yaml"
    path.write_text(yaml.safe_dump(proto, sort_keys=False), encoding="utf-8")
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    return path
