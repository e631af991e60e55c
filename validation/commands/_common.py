"""Helpers shared by the command modules: JSON output and table printing."""

from __future__ import annotations

from typing import Any

import typer

from validation._atomic import canonical_json


def echo_json(obj: Any) -> None:
    """Print ``obj`` as canonical JSON (sorted keys, no NaN) on stdout."""
    typer.echo(canonical_json(obj), nl=False)


def fmt(x: float | None, digits: int = 4) -> str:
    """Format a number for people (rounding happens only at the edges)."""
    if x is None:
        return "NA"
    return f"{x:.{digits}f}"


def check_interval_alpha(alpha: float) -> float:
    """``--alpha`` of a calculator: the two-sided level of its interval, below 0.5."""
    from validation.errors import InputError

    if not 0.0 < alpha < 0.5:
        raise InputError(
            f"'--alpha' is the two-sided level of the interval (confidence 1 - alpha) and must "
            f"be between 0 and 0.5, e.g. 0.05; got {alpha:g}."
        )
    return alpha
