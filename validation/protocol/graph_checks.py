"""Checks of a graphical multiple-testing procedure: its weights and transition matrix
(Bretz et al. 2009: weights in [0, 1] summing to at most 1, a zero diagonal, each row of the
transition matrix summing to at most 1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def graph_problems(weights: Mapping[str, Any], transitions: Mapping[str, Any]) -> list[str]:
    """Problems of a graphical procedure's weights and transition matrix (empty if valid)."""
    return [msg for _, msg in graph_problem_locations(weights, transitions)]


def graph_problem_locations(
    weights: Mapping[str, Any], transitions: Mapping[str, Any]
) -> list[tuple[tuple[str, ...], str]]:
    """Like :func:`graph_problems`, each with its location under ``multiplicity``."""
    problems: list[tuple[tuple[str, ...], str]] = []
    tol = 1e-9
    total = 0.0
    for h, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not (0.0 <= w <= 1.0):
            problems.append((("weights", str(h)), f"weight of {h!r} must be in [0, 1]; got {w!r}"))
        else:
            total += float(w)
    if total > 1.0 + tol:
        problems.append((("weights",), f"'weights' must sum to at most 1 (the alpha is split); "
                                       f"they sum to {total:g}"))
    for h, row in transitions.items():
        if h not in weights:
            problems.append((("transitions", str(h)),
                             f"transitions row {h!r} is not a hypothesis in 'weights'"))
        if not isinstance(row, Mapping):
            continue
        row_sum = 0.0
        for k, g in row.items():
            at = ("transitions", str(h), str(k))
            if k not in weights:
                problems.append((at, f"transitions[{h!r}] names {k!r}, which is not in "
                                     f"'weights'"))
            if isinstance(g, bool) or not isinstance(g, (int, float)) or not (0.0 <= g <= 1.0):
                problems.append((at, f"transition {h!r} -> {k!r} must be in [0, 1]; got {g!r}"))
                continue
            if k == h and g != 0:
                problems.append((at, f"transition {h!r} -> {h!r} must be 0 (zero diagonal); "
                                     f"got {g!r}"))
            row_sum += float(g)
        if row_sum > 1.0 + tol:
            problems.append((("transitions", str(h)),
                             f"transitions row {h!r} must sum to at most 1; it sums to "
                             f"{row_sum:g}"))
    return problems
