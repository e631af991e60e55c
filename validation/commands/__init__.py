"""Command groups of the ``validation`` CLI (the face layer).

To add a group: create ``validation/commands/<group>.py`` with ``register(app: typer.Typer)``
and add the module to ``COMMAND_MODULES`` below (one line each, kept sorted).
"""

from __future__ import annotations

from types import ModuleType

from validation.commands import _common as _common  # noqa: F401
from validation.commands import (
    calculators,
    change,
    diff,
    keys,
    models,
    mrmc,
    protocol,
    provenance,
    report,
    run,
    sample_size,
    surveil,
)

COMMAND_MODULES: tuple[ModuleType, ...] = (
    calculators,
    change,
    diff,
    keys,
    models,
    mrmc,
    protocol,
    provenance,
    report,
    run,
    sample_size,
    surveil,
)
