"""A locked surveillance plan over the demo's pivotal run, and small synthetic batches.

Used by the tests and by the worker processes of the concurrency and kill tests.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SITES = ("SITE-A", "SITE-B", "SITE-C", "SITE-D")
MAKERS = ("GE", "Siemens", "Philips", "Canon", "Fujifilm")

PLAN = """\
schema_version: "1.0"
plan:
  id: PMS-TEST
  title: Test surveillance plan
  version: "1.0"
  owner: Test team
monitors:
  protocol: {protocol}
  protocol_sha256: "{protocol_sha}"
  results: {results}
  results_sha256: "{results_sha}"
period: {period}
start: 2026-01-01
minimum_cases: {minimum}
sites: [SITE-A, SITE-B, SITE-C, SITE-D]
factors: [site, manufacturer, age_band, sex]
age_bands:
  bins: [0, 50, 65, 130]
  labels: ["<50", "50-64", "65+"]
severities:
  - id: minor
    action: Noted in the monthly review.
  - id: major
    action: Investigation opened.
  - id: critical
    action: Use suspended.
rules:
  - id: sensitivity-cusum
    metric: sensitivity
    chart: bernoulli_cusum
    scopes: [pooled, site, subgroup]
    arl0: 2000
    shift: 0.25
    severity: major
  - id: specificity-cusum
    metric: specificity
    chart: bernoulli_cusum
    scopes: [pooled, site]
    arl0: 2000
    shift: 0.25
    severity: minor
  - id: pcr-ewma
    metric: positive_call_rate
    chart: ewma
    scopes: [pooled]
    false_alarm_rate: 0.001
    severity: minor
  - id: score-psi
    metric: score_distribution
    chart: psi
    scopes: [pooled]
    threshold: 0.5
    severity: minor
  - id: mix
    metric: input_mix
    chart: chi2
    scopes: [pooled]
    false_alarm_rate: 0.0001
    severity: minor
"""


def make_baseline(root: Path, env: dict[str, str]) -> dict[str, Path]:
    """Run the tabular demo once: a locked pivotal protocol and its results.json."""
    subprocess.run([sys.executable, "-m", "validation", "demo", "--out", str(root), "--tabular",
                    "--format", "none", "--quiet"], check=True, env=env, capture_output=True)
    results = next((root / "runs").glob("*/*/results.json"))
    return {"protocol": root / "inputs" / "demo.yaml", "results": results}


def write_plan(folder: Path, baseline: dict[str, Path], *, minimum: int = 20,
               period: str = "month") -> Path:
    """Write and lock a plan over ``baseline``; return its path."""
    from validation.surveillance.plan import lock_plan

    lock = json.loads((baseline["protocol"].parent / "demo.yaml.lock.json").read_text())
    text = PLAN.format(protocol=baseline["protocol"], protocol_sha=lock["protocol_sha256"],
                       results=baseline["results"],
                       results_sha=hashlib.sha256(baseline["results"].read_bytes()).hexdigest(),
                       minimum=minimum, period=period)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "plan.yaml"
    path.write_text(text)
    lock_plan(path, approver="Ada Lovelace <ada@example.org>",
              meaning="approved surveillance plan", now="2026-01-01T00:00:00Z")
    return path


def case_mix(baseline: dict[str, Path]) -> pd.DataFrame:
    """The pivotal test set's (manufacturer, age, sex) rows, to draw batches from."""
    man = pd.read_csv(baseline["protocol"].parent / "manifest.csv", dtype=str)
    return man[["manufacturer", "age", "sex"]].reset_index(drop=True)


def model_sha(baseline: dict[str, Path]) -> str:
    lock = json.loads((baseline["protocol"].parent / "demo.yaml.lock.json").read_text())
    return str(lock["protocol"]["model"]["sha256"])


def make_batch(path: Path, *, batch_id: str, month: str, n: int, model: str, seed: int,
               sites: tuple[str, ...] = SITES, prefix: str | None = None,
               degraded_site: str | None = None, labelled: float = 1.0,
               pool: pd.DataFrame | None = None) -> Path:
    """A batch of ``n`` cases in ``month`` (``2026-03``); positives score lower at
    ``degraded_site``; a share ``1 - labelled`` of cases without truth."""
    rng = np.random.default_rng(seed)
    truth = (rng.random(n) < 0.3).astype(int)
    site = rng.choice(list(sites), n)
    score = np.where(truth == 1, rng.normal(0.72, 0.18, n), rng.normal(0.3, 0.18, n))
    if degraded_site is not None:
        bad = (site == degraded_site) & (truth == 1)
        score = np.where(bad, score - 0.4, score)
    day = rng.integers(1, 28, n)
    if pool is not None:  # the pivotal case mix (manufacturer, age, sex)
        mix = pool.iloc[rng.integers(0, len(pool), n)].reset_index(drop=True)
    else:
        mix = pd.DataFrame({"manufacturer": rng.choice(list(MAKERS), n),
                            "age": np.round(rng.uniform(20, 90, n), 1),
                            "sex": rng.choice(["F", "M"], n)})
    df = pd.DataFrame({
        "batch_id": batch_id,
        "case_id": [f"{prefix or batch_id}-{i:05d}" for i in range(n)],
        "site": site,
        "acquired_at": [f"{month}-{d:02d}" for d in day],
        "score": np.round(np.clip(score, 0, 1), 6),
        "model_sha256": model,
        "truth": [str(t) if u < labelled else "" for t, u in zip(truth, rng.random(n), strict=True)],
        "manufacturer": mix["manufacturer"],
        "age": mix["age"],
        "sex": mix["sex"],
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path
