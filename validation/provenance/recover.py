"""``validation recover``: complete the runs a kill left sealed in the registry but unrenamed.

A run killed after its registry entry was written and before its folder was renamed leaves
the registry saying *finalized* while the folder is still ``<run-id>.incomplete``.
:func:`recover` finds such folders (the folder given, or every ``*.incomplete`` folder below
a runs or study folder), checks that the registry records the run with the very manifest the
folder holds, and re-runs the last steps of :func:`~validation.provenance.finalize.finalize`
(receipt, checkpoint, rename), which add nothing to the registry. A folder the registry does
not know was never sealed: it is listed and left alone (rerun the study).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validation.errors import InputError, ProvenanceError
from validation.provenance.access_log import run_id_of
from validation.provenance.finalize import finalize
from validation.provenance.hashing import sha256_file
from validation.provenance.manifest import INCOMPLETE_SUFFIX, MANIFEST_FILE, is_incomplete
from validation.provenance.registry import Registry, open_registry


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoverReport:
    """Folders completed, left alone (never sealed) and in conflict with the registry."""

    completed: tuple[str, ...]
    not_sealed: tuple[str, ...]
    conflicts: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.conflicts


def _candidates(path: Path) -> list[Path]:
    if is_incomplete(path):
        return [path]
    found = [p for depth in ("*", "*/*") for p in path.glob(depth + INCOMPLETE_SUFFIX)]
    return sorted(p for p in found if p.is_dir())


def recover(path: str | os.PathLike[str], registry: Registry | str | None = None
            ) -> RecoverReport:
    """Complete every run under ``path`` that the registry records as finalized."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"'PATH' must be an existing run, study or runs folder; got "
                         f"{str(root)!r}.")
    completed: list[str] = []
    not_sealed: list[str] = []
    conflicts: list[str] = []
    reg = open_registry(registry, create=False)
    try:
        for run_dir in _candidates(root):
            run_id = run_id_of(run_dir)
            manifest = run_dir / MANIFEST_FILE
            rows = reg.read(functools.partial(_row, run_id=run_id))
            if rows is None:
                not_sealed.append(f"{run_dir}: not recorded as finalized in the registry "
                                  "(the run stopped before it was sealed); left alone")
                continue
            if not manifest.is_file() or sha256_file(manifest) != rows:
                conflicts.append(f"{run_dir}: the registry records run {run_id!r} with manifest "
                                 f"{rows[:12]}..., the folder's manifest.json differs or is "
                                 "missing; left alone")
                continue
            try:
                completed.append(str(finalize(run_dir, reg)))
            except ProvenanceError as exc:
                conflicts.append(f"{run_dir}: {exc}")
    finally:
        if reg is not registry:
            reg.close()
    return RecoverReport(completed=tuple(completed), not_sealed=tuple(not_sealed),
                         conflicts=tuple(conflicts))


def _row(session: Any, run_id: str) -> str | None:
    from sqlalchemy import select

    from validation.provenance.registry import RunRecord

    return session.execute(select(RunRecord.manifest_sha256)
                           .where(RunRecord.run_id == run_id)).scalar_one_or_none()
