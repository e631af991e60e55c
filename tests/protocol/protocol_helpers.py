"""Shared data of the protocol tests: a small valid protocol (text) and the example folder."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROTOCOLS = REPO / "protocols"

MINIMAL = """\
schema_version: "1.0"
study:
  id: T-001
  title: Test study
  version: "1.0"
  sponsor: Test sponsor
device:
  name: Dev
  version: "1"
  intended_use: Testing.
  risk_class: "II"
model:
  kind: precomputed
  artifact: predictions.csv
  sha256: "{sha}"
  training_sites: [T1]
  operating_point: 0.5
test_set:
  manifest: manifest.csv
  reference_standard: Consensus.
  identifier_columns: [patient_name]
endpoints:
  - {{id: sens, kind: sensitivity, ci: wilson, role: primary}}
  - {{id: spec, kind: specificity, role: primary}}
  - {{id: auc, kind: auc, role: secondary}}
hypotheses:
  - {{id: H1, endpoint: sens, type: performance_goal, goal: 0.8}}
  - {{id: H2, endpoint: spec, type: performance_goal, goal: 0.8}}
alpha: 0.025
sidedness: one-sided
multiplicity:
  procedure: coprimary
  hypotheses: [H1, H2]
subgroups:
  - {{id: age_band, column: age, bins: [18, 50, 120]}}
analysis:
  seed: 1
"""
SHA = "ab" * 32


def minimal_text(sha: str = SHA) -> str:
    return MINIMAL.format(sha=sha)
