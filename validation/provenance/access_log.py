"""Access log of the sequestered test set.

Every run that touches the test set is recorded in the registry (who, when, which model hash,
which protocol), once per run. The usage summary written to ``test_set_usage.json`` tells the
report how many times the test set has been used and by which model versions: FDA discourages
reusing a sequestered test set and, when it happens, asks for exactly this log.

The test set is identified by a hash of its content (by default the hashes of the
``manifest`` and ``images`` entries of the run's ``inputs.json``), so the same data under
another path or name is still the same test set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from validation._atomic import write_json_atomic
from validation.errors import InputError
from validation.provenance.governance import access_check
from validation.provenance.inputs import hash_of_test_set, load_inputs
from validation.provenance.manifest import INCOMPLETE_SUFFIX
from validation.provenance.registry import Registry, open_registry

USAGE_FILE = "test_set_usage.json"
SCHEMA_VERSION = "1.0"


def run_id_of(run_dir: str | os.PathLike[str]) -> str:
    """The run id: the folder name without ``.incomplete``."""
    name = Path(run_dir).name
    return name[: -len(INCOMPLETE_SUFFIX)] if name.endswith(INCOMPLETE_SUFFIX) else name


def usage_summary(registry: Registry, test_set_sha256: str, *,
                   this_run: str | None = None) -> dict[str, Any]:
    """Summary of every recorded access to one test set.

    ``status`` of each access: ``this run``, ``finalized`` (the run completed and is in the
    registry) or ``not finalized`` (killed, failed, or still running when this was written).
    """
    accesses = registry.test_set_accesses(test_set_sha256)
    finalized = registry.finalized_run_ids([a["run_id"] for a in accesses])
    rows = []
    models: dict[str, dict[str, Any]] = {}
    for a in accesses:
        status = ("this run" if a["run_id"] == this_run
                  else "finalized" if a["run_id"] in finalized else "not finalized")
        rows.append({k: a[k] for k in ("run_id", "study_id", "protocol_sha256", "model_sha256",
                                       "operator", "accessed_utc")} | {"status": status})
        m = models.setdefault(a["model_sha256"], {
            "model_sha256": a["model_sha256"], "n_accesses": 0,
            "first_utc": a["accessed_utc"], "last_utc": a["accessed_utc"]})
        m["n_accesses"] += 1
        m["first_utc"] = min(m["first_utc"], a["accessed_utc"])
        m["last_utc"] = max(m["last_utc"], a["accessed_utc"])
    return {
        "schema_version": SCHEMA_VERSION,
        "test_set_id": accesses[-1]["test_set_id"] if accesses else None,
        "test_set_sha256": test_set_sha256,
        "this_run": this_run,
        "n_accesses": len(rows),
        "n_previous_accesses": sum(1 for r in rows if r["status"] != "this run"),
        "n_finalized_runs": sum(1 for r in rows if r["status"] == "finalized"),
        "n_model_versions": len(models),
        "model_versions": sorted(models.values(), key=lambda m: (m["first_utc"],
                                                                 m["model_sha256"])),
        "accesses": rows,
    }



def record_test_set_access(
    registry: Registry | str | None,
    *,
    run_dir: str | os.PathLike[str],
    model_sha256: str,
    study_id: str,
    operator: str,
    protocol_sha256: str | None = None,
    test_set_sha256: str | None = None,
    test_set_id: str | None = None,
    run_id: str | None = None,
    purpose: str = "run",
) -> dict[str, Any]:
    """Record that this run touches the test set; write and return the usage summary.

    When the registry holds a governance declaration for the test set
    (:mod:`validation.provenance.governance`), the record is conditional: the operator and
    the access budget are checked in the same transaction (a refusal is audited and raised
    as :class:`InputError`, and nothing is recorded as an access).

    Call it before the test set's labels are used (before the analysis), so a run that is
    killed later is still counted as an access. Calling it again for the same run records
    nothing new (a resumed run is not counted twice).

    Parameters
    ----------
    registry
        Registry, URL or ``None`` for the default registry.
    run_dir
        The run directory being built; ``test_set_usage.json`` is written into it.
    model_sha256, protocol_sha256
        The locked model's and protocol's hashes.
    study_id, operator
        The study and the person (or service account) running it.
    test_set_sha256
        Content hash of the test set; default: from ``run_dir/inputs.json``
        (:func:`hash_of_test_set`), so call :func:`record_inputs` first.
    test_set_id
        A readable name for the test set (default: the study id).
    run_id
        Default: the folder name without ``.incomplete``.
    purpose
        What the access is for (in a refusal's audit entry).

    Returns
    -------
    dict
        The usage summary (see :func:`usage_summary`), also written to
        ``run_dir/test_set_usage.json``.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise InputError(f"'run_dir' must be an existing folder; got {str(root)!r}.")
    if test_set_sha256 is None:
        test_set_sha256 = hash_of_test_set(load_inputs(root))
    rid = run_id or run_id_of(root)
    reg = open_registry(registry)
    try:
        reg.record_test_set_access_entry(
            test_set_id=test_set_id or study_id, test_set_sha256=test_set_sha256, run_id=rid,
            study_id=study_id, model_sha256=model_sha256, operator=operator,
            protocol_sha256=protocol_sha256,
            check=access_check(test_set_sha256=test_set_sha256, operator=operator,
                               purpose=purpose))
        usage = usage_summary(reg, test_set_sha256, this_run=rid)
    finally:
        if reg is not registry:
            reg.close()
    write_json_atomic(root / USAGE_FILE, usage)
    return usage

