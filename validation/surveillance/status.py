"""The surveillance status: plan, registry anchor, periods, metrics, charts, drift, alarms."""

from __future__ import annotations

import os
from typing import Any


def surveillance_status(plan_path: str | os.PathLike[str], *, registry: Any = None
                        ) -> dict[str, Any]:
    """The status dict (schema in the module docs and docs/SURVEILLANCE.md)."""
    raise NotImplementedError("being written")
