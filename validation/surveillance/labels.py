"""Late labels: merged into their periods, each amendment audited."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelsResult:
    """What one labels file did."""

    labels_sha256: str
    new: bool
    n_labels: int
    n_changed: int
    periods: tuple[str, ...]


def merge_labels(plan_path: str | os.PathLike[str], labels_path: str | os.PathLike[str], *,
                 registry: Any = None) -> LabelsResult:
    """Merge a file of late labels (case_id, truth) into the cases already ingested."""
    raise NotImplementedError("being written")
