"""The model lineage of a change-control plan, kept in the registry (``model_versions``).

Each record: the version label, the artifact's SHA-256 and operating point, the parent
version, the modification type, the decision (``original``, ``accepted``, ``rejected``), the
criteria decided (JSON), the dossier's run id, the decision's signature, who decided and when.
Every record is written with its audit entry (``model_version.decided``), once per version.
The original is the pivotal protocol's locked model (its ``device.version``); the *previous*
version is the last accepted one, or the original.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from validation.provenance.registry import Registry
from validation.provenance.registry_tables import ModelVersionRecord, record_payload, utc_now


def lineage(registry: Registry, plan_id: str) -> list[dict[str, Any]]:
    """Every version decided under the plan, oldest first (``criteria`` parsed)."""
    def work(session: Any) -> list[dict[str, Any]]:
        rows = session.execute(select(ModelVersionRecord)
                               .where(ModelVersionRecord.plan_id == plan_id)
                               .order_by(ModelVersionRecord.audit_seq)).scalars()
        return [record_payload(r) | {"audit_seq": r.audit_seq,
                                     "criteria": json.loads(r.criteria)} for r in rows]

    return registry.read(work)


def original_version(protocol: Any, artifact: str) -> dict[str, Any]:
    """The original (pivotal) version as a lineage entry not yet recorded."""
    return {"version": str(protocol.device.version), "model_sha256": protocol.model.sha256,
            "operating_point": repr(float(protocol.model.operating_point)),
            "artifact": artifact, "parent_version": None, "modification": "original",
            "decision": "original", "criteria": [], "dossier_run_id": None,
            "signature": None}


def previous_version(versions: list[dict[str, Any]], original: dict[str, Any]
                     ) -> dict[str, Any]:
    """The last accepted version, else the original."""
    accepted = [v for v in versions if v["decision"] == "accepted"]
    return accepted[-1] if accepted else next(
        (v for v in versions if v["decision"] == "original"), original)


def record_version(registry: Registry, *, plan_id: str, plan_sha256: str,
                   entry: dict[str, Any], decided_by: str) -> dict[str, Any]:
    """Record one version's decision (idempotent for the same version and content)."""
    row = ModelVersionRecord(
        plan_id=plan_id, plan_sha256=plan_sha256, version=entry["version"],
        model_sha256=entry["model_sha256"], operating_point=str(entry["operating_point"]),
        artifact=entry["artifact"], parent_version=entry["parent_version"],
        modification=entry["modification"], decision=entry["decision"],
        criteria=json.dumps(entry["criteria"], sort_keys=True),
        dossier_run_id=entry["dossier_run_id"], signature=entry["signature"],
        decided_by=decided_by, decided_utc=utc_now())
    stored, _ = registry.add_record(
        row, actor=decided_by, subject=f"{plan_id}/{entry['version']}",
        unique={"plan_id": plan_id, "version": entry["version"]},
        same=("model_sha256", "decision"))
    return stored
