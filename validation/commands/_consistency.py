"""The demo's lines on the pre-specified consistency assessments (from ``results.json``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def print_consistency(results: Mapping[str, Any], echo: Callable[[str], Any]) -> None:
    """One line per consistency rule (decision and reason), then the plain-language summary."""
    if not results.get("consistency"):
        return
    from validation.report.consistency import consistency_view

    view = consistency_view(results)
    if view is None:
        return
    for r in results["consistency"].get("rules") or []:
        echo(f"consistency {r['id']} ({r['type']}, {r['endpoint']} by {r['factor']}): "
             f"{r['decision']} - {r['reason']}")
    echo(f"consistency: {view['paragraph']}")
