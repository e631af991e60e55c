"""Seal a run directory: manifest, audit entry, then the atomic rename that marks it complete.

Order matters for a run killed at any moment:

1. ``manifest.json`` is written atomically inside ``<run-id>.incomplete/``, with the
   registry's current head as its anchor;
2. the run is recorded in the registry in one transaction with its audit entry, whose
   payload holds the manifest's SHA-256 (idempotent: the same manifest again records nothing);
3. ``registry_receipt.json`` is written: the sequence number and hash of the run's own audit
   entry (the anchor of step 1 covers the log before the run; the receipt covers the run's
   entry itself), and a signed checkpoint of the log's head is written outside the database
   (:mod:`validation.provenance.checkpoint`);
4. the folder is renamed to ``<run-id>`` (one ``rename`` system call) and the parent folder
   is fsynced.

Killed before 4, the folder is still ``.incomplete`` and ``verify`` refuses it; calling
:func:`finalize` on it again (``validation recover``) completes it without a second registry
entry.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

from validation._atomic import write_json_atomic
from validation.constants import LOCK_FILE
from validation.errors import InputError, ProvenanceError
from validation.provenance.access_log import run_id_of
from validation.provenance.approvals import approvals_of, load_lock, lock_fields
from validation.provenance.manifest import (
    INCOMPLETE_SUFFIX,
    RECEIPT_FILE,
    is_incomplete,
    read_manifest,
    write_manifest,
)
from validation.provenance.registry import Registry, open_registry


def default_operator() -> str:
    """``$VALIDATION_OPERATOR``, else the login name."""
    env = os.environ.get("VALIDATION_OPERATOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _anchor(root: Path, reg: Registry) -> dict[str, Any] | None:
    """The registry head to witness; a manifest left by an interrupted finalize keeps its
    anchor, so finalizing again gives the same manifest bytes."""
    try:
        previous, _ = read_manifest(root)
    except ProvenanceError:
        previous = None
    if previous is not None and "registry_anchor" in previous:
        return previous["registry_anchor"]
    head = reg.head()
    return None if head is None else {"seq": head.seq, "entry_hash": head.entry_hash}


def write_receipt(root: Path, reg: Registry, *, run_id: str, manifest_sha256: str) -> Path:
    """``registry_receipt.json``: the run's own audit entry (sequence number and hash)."""
    rows = [r for r in reg.run_by_manifest(manifest_sha256) if r["run_id"] == run_id]
    if not rows:
        raise ProvenanceError(f"run {run_id!r} is not recorded in {reg.safe_url}.")
    entry = reg.entry(int(rows[0]["audit_seq"]))
    if entry is None:  # pragma: no cover - the row and its entry are one transaction
        raise ProvenanceError(f"the audit entry of run {run_id!r} is missing.")
    return write_json_atomic(root / RECEIPT_FILE, {
        "schema_version": "1.0", "run_id": run_id, "manifest_sha256": manifest_sha256,
        "audit_seq": entry.seq, "entry_hash": entry.entry_hash,
        "registry": reg.safe_url})


def _checkpoint(reg: Registry) -> None:
    """A signed checkpoint of the head after every sealed run (``VALIDATION_CHECKPOINTS=off``
    turns it off)."""

    if os.environ.get("VALIDATION_CHECKPOINTS", "").strip().lower() == "off":
        return
    from validation.provenance.checkpoint import write_checkpoint

    write_checkpoint(reg)


def finalize(
    run_dir: str | os.PathLike[str],
    registry: Registry | str | None = None,
    protocol_lock: Any = None,
    operator: str | None = None,
) -> Path:
    """Write ``manifest.json``, record the run in the registry, rename it complete.

    Parameters
    ----------
    run_dir
        ``<run-id>.incomplete``, holding every file of the dossier.
    registry
        Registry, URL or ``None`` for the default registry.
    protocol_lock
        The lock record (mapping or ``ProtocolLock``) or lock file (default:
        ``run_dir/protocol.lock.json`` when present).
        Gives the study id and protocol hash; the lock and its approvals are recorded too.
    operator
        Who ran it (default :func:`default_operator`).

    Returns
    -------
    Path
        The final run directory ``<run-id>``.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise InputError(f"'run_dir' must be an existing folder; got {str(root)!r}.")
    if not is_incomplete(root):
        raise ProvenanceError(
            f"'run_dir' must be a run being built, named '<run-id>{INCOMPLETE_SUFFIX}'; "
            f"got {root.name!r}."
        )
    run_id = run_id_of(root)
    if not run_id:
        raise ProvenanceError(f"'run_dir' must name a run id before {INCOMPLETE_SUFFIX!r}.")
    final = root.with_name(run_id)
    if final.exists():
        raise ProvenanceError(f"{str(final)!r} already exists; a run id is never reused.")
    if protocol_lock is None and (root / LOCK_FILE).is_file():
        protocol_lock = root / LOCK_FILE
    lock = load_lock(protocol_lock) if protocol_lock is not None else None
    fields = lock_fields(lock) if lock is not None else None
    study_id = fields["study_id"] if fields else root.parent.name
    who = operator or default_operator()

    reg = open_registry(registry)
    try:
        if lock is not None and fields is not None:
            approvals = approvals_of(lock)
            reg.record_protocol_lock(actor=who, **fields)
            for a in approvals:
                reg.record_approval_entry(study_id=fields["study_id"], **a)
        anchor = _anchor(root, reg)
        _, manifest_sha = write_manifest(root, run_id=run_id, anchor=anchor)
        n_files = len(read_manifest(root)[0]["files"])  # as listed, manifest.json excluded
        reg.record_run(run_id=run_id, study_id=study_id, manifest_sha256=manifest_sha,
                       n_files=n_files, operator=who,
                       protocol_sha256=fields["protocol_sha256"] if fields else None)
        write_receipt(root, reg, run_id=run_id, manifest_sha256=manifest_sha)
        _checkpoint(reg)
    finally:
        if reg is not registry:
            reg.close()
    os.rename(root, final)
    _fsync_dir(final.parent)
    return final
