"""Ingesting one surveillance batch: check, append exactly once, evaluate the rules."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestResult:
    """What one ingest did."""

    batch_id: str
    new: bool
    periods: tuple[str, ...]
    alarms: list[dict[str, Any]] = field(default_factory=list)
    alarms_path: Path | None = None


def ingest_batch(plan_path: str | os.PathLike[str], batch_path: str | os.PathLike[str], *,
                 registry: Any = None, dask: str | None = None) -> IngestResult:
    """Check the batch, append it once, recompute its periods and evaluate every rule."""
    raise NotImplementedError("being written")


def ingest_inbox(plan_path: str | os.PathLike[str], inbox: str | os.PathLike[str], *,
                 registry: Any = None, dask: str | None = None) -> list[IngestResult]:
    """Ingest every batch file of ``inbox`` not yet in, in name order."""
    raise NotImplementedError("being written")
