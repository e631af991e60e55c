"""The package's layers import downwards only, and no module imports itself back.

Reads every module's imports (including those inside functions) with :mod:`ast` and checks the
table of docs/ARCHITECTURE.md as this suite implements it: the ground floor (errors, constants,
hashing, atomic writes, resource paths) imports nothing of the suite; stats imports only the
ground floor; the report never imports stats, protocol planning or analysis; provenance never
imports the pipeline; and there is no import circle between modules.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "validation"
GROUND = {"errors", "constants", "_atomic", "_resources", "lockfile", "safe_yaml"}


def _modules() -> dict[str, Path]:
    out = {}
    for f in PACKAGE.rglob("*.py"):
        rel = f.relative_to(PACKAGE.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        out[".".join(parts)] = f
    return out


def _edges() -> dict[str, set[str]]:
    mods = _modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for name, f in mods.items():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            edges[name] |= {t for t in targets if t in mods and t != name}
    return edges


def _layer(mod: str) -> str:
    parts = mod.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] in GROUND or parts[1:3] == ["provenance", "hashing"]:
        return "ground"
    return parts[1]


def test_ground_floor_and_stats_import_nothing_above() -> None:
    for mod, targets in _edges().items():
        layer = _layer(mod)
        above = {t for t in targets if _layer(t) not in ("ground", layer)}
        if layer == "ground":
            assert not above, f"{mod} (ground floor) imports {sorted(above)}"
        if layer == "stats":
            assert not above, f"{mod} (stats) imports {sorted(above)}"


def test_no_arrow_back_up() -> None:
    forbidden = {
        "protocol": {"data", "analysis", "report", "provenance", "pipeline", "reproduce",
                     "cli", "commands"},
        "data": {"stats", "analysis", "report", "pipeline", "cli", "commands"},
        "analysis": {"report", "provenance", "pipeline", "cli", "commands"},
        "report": {"stats", "protocol", "analysis", "provenance", "pipeline", "cli", "commands"},
        "provenance": {"stats", "report", "analysis", "pipeline", "reproduce", "cli",
                       "commands"},
    }
    bad = [(m, t) for m, ts in _edges().items() for t in ts
           if _layer(t) in forbidden.get(_layer(m), set())]
    assert not bad, f"imports against the layer table: {sorted(bad)}"


def test_no_module_circle() -> None:
    edges = _edges()
    seen: set[str] = set()
    on_path: list[str] = []
    circles: list[list[str]] = []

    def visit(n: str) -> None:
        on_path.append(n)
        for m in sorted(edges.get(n, ())):
            if m in on_path:
                circles.append(on_path[on_path.index(m):] + [m])
            elif m not in seen:
                visit(m)
        on_path.pop()
        seen.add(n)

    for n in sorted(edges):
        if n not in seen:
            visit(n)
    # a package's __init__ re-exporting its own modules is not a circle of meaning
    real = [c for c in circles if not any(a.startswith(b + ".") or b.startswith(a + ".")
                                          for a, b in zip(c, c[1:], strict=False) if a != b)]
    assert not real, f"import circles: {real}"
