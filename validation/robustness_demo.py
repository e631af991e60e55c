"""The demo's robustness part: the section merged into the image-mode demo protocol, and the
lines the demo prints from ``results.json['robustness']`` (first-failing severities, rules)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

TABULAR_NOTE = ("robustness: skipped in the --tabular demo (precomputed scores cannot be "
                "perturbed); run the demo without --tabular for the stress analysis.")


def demo_robustness_section() -> dict[str, Any]:
    """The ``robustness`` mapping of ``protocols/demo_robustness.yaml``."""
    from validation._resources import resource
    from validation._yaml import safe_load

    path = resource("protocols/demo_robustness.yaml")
    data = safe_load(path.read_text(encoding="utf-8"))
    return dict(data["robustness"])


def robustness_lines(results: Mapping[str, Any] | None) -> list[str]:
    """One line per claim and per rule: where each is first lost, per family."""
    rob = (results or {}).get("robustness")
    if not rob:
        return []
    fams = rob.get("families") or {}
    n = sum(len(f.get("levels") or []) - 1 for f in fams.values())
    lines = [f"robustness: {len(fams)} families, {n} perturbed runs on {rob.get('n_cases')} cases "
             f"(plan sha256 {str((rob.get('plan') or {}).get('sha256', ''))[:12]})"]

    def where(first: Mapping[str, Any], family: str) -> str:
        if first.get("level") is None:
            return f"{family}: held at every level"
        unit = fams.get(family, {}).get("unit", "")
        return f"{family}: lost at level {first['level']} ({first['value']:g} {unit})"

    for c in rob.get("claims") or []:
        parts = [where(f, fam) for fam, f in (c.get("first_lost") or {}).items()]
        lines.append(f"claim {c['hypothesis']} ({c['endpoint']} lower bound > "
                     f"{c['null_value']:g}): " + "; ".join(parts))
    for r in rob.get("rules") or []:
        lines.append(f"rule {r['id']}: {str(r['decision']).upper()} - {r['reason']}")
    return lines


def print_robustness(results: Mapping[str, Any] | None, echo: Callable[[str], Any],
                     *, tabular: bool) -> None:
    """The demo's robustness lines (or the note that the tabular demo skips it)."""
    if tabular:
        echo(TABULAR_NOTE)
        return
    for line in robustness_lines(results):
        echo(line)
