"""Post-market surveillance: a locked plan, batches appended to the registry, rules, alarms.

Layer rules: this package may import analysis, stats, provenance (and data for the table
specifications, protocol for loading); never the CLI.
"""

from __future__ import annotations

from validation.surveillance.ingest import IngestResult, ingest_batch, ingest_inbox
from validation.surveillance.labels import LabelsResult, merge_labels
from validation.surveillance.plan import (
    SurveillancePlan,
    check_plan,
    load_plan,
    lock_plan,
    plan_sha256,
    verify_plan_lock,
)
from validation.surveillance.status import surveillance_status

__all__ = [
    "IngestResult",
    "LabelsResult",
    "SurveillancePlan",
    "check_plan",
    "ingest_batch",
    "ingest_inbox",
    "load_plan",
    "lock_plan",
    "merge_labels",
    "plan_sha256",
    "surveillance_status",
    "verify_plan_lock",
]
