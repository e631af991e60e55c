"""Provenance steps in the shape ``validation.pipeline`` plugs in (``step(ctx)``,
``finaliser(ctx) -> Path``).

``ctx`` is the pipeline's ``RunContext``; only these attributes are read: ``run_dir``,
``run_id``, ``inputs`` (role -> path), ``registry``, ``operator``, ``study_id``,
``model_sha256``, ``protocol_sha256``, ``lock_path`` and, when the report step sets it,
``renderer``.

Wiring, in order:

1. :func:`record_start` as soon as the run directory exists, before any prediction or label
   is used: ``inputs.json`` and the test-set access (registry + ``test_set_usage.json``), so
   a run killed later is still in the access log;
2. the report step (it can show ``test_set_usage.json`` and ``inputs.json``);
3. :func:`record_environment` (after the report, so the renderer is known);
4. :func:`seal` as the finaliser: ``manifest.json``, audit entry, rename.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from validation.provenance.access_log import record_test_set_access
from validation.provenance.environment import write_environment
from validation.provenance.finalize import LOCK_FILE, default_operator, finalize
from validation.provenance.inputs import record_inputs


def _operator(ctx: Any) -> str:
    return getattr(ctx, "operator", None) or default_operator()


def record_start(ctx: Any) -> None:
    """Write ``inputs.json`` and record the test-set access (``test_set_usage.json``)."""
    record_inputs(ctx.run_dir, dict(ctx.inputs))
    record_test_set_access(
        ctx.registry, run_dir=ctx.run_dir, run_id=ctx.run_id, model_sha256=ctx.model_sha256,
        protocol_sha256=ctx.protocol_sha256, study_id=ctx.study_id, operator=_operator(ctx),
    )


def record_environment(ctx: Any) -> None:
    """Write ``environment.json`` (with ``ctx.renderer`` when the report step set it)."""
    write_environment(ctx.run_dir, renderer=getattr(ctx, "renderer", None))


def seal(ctx: Any) -> Path:
    """Finaliser: manifest, audit entry holding its hash, atomic rename; the final path."""
    lock = Path(ctx.run_dir) / LOCK_FILE
    return finalize(ctx.run_dir, ctx.registry,
                    protocol_lock=lock if lock.is_file() else getattr(ctx, "lock_path", None),
                    operator=_operator(ctx))
