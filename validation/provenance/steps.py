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
4. :func:`seal` as the finaliser: :func:`guard_identifiers` (no identifier in any output,
   else :class:`~validation.errors.PrivacyError` and nothing is sealed), then
   ``manifest.json``, audit entry, rename.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from validation.provenance.access_log import USAGE_FILE, record_test_set_access
from validation.provenance.environment import write_environment
from validation.provenance.finalize import LOCK_FILE, default_operator, finalize
from validation.provenance.inputs import record_inputs


def _operator(ctx: Any) -> str:
    return getattr(ctx, "operator", None) or default_operator()


def record_start(ctx: Any) -> None:
    """Write ``inputs.json`` and record the test-set access (``test_set_usage.json``)."""
    record_inputs(ctx.run_dir, dict(ctx.inputs), records=getattr(ctx, "records", None))
    record_test_set_access(
        ctx.registry, run_dir=ctx.run_dir, run_id=ctx.run_id, model_sha256=ctx.model_sha256,
        protocol_sha256=ctx.protocol_sha256, study_id=ctx.study_id, operator=_operator(ctx),
    )


def record_environment(ctx: Any) -> None:
    """Write ``environment.json`` (with ``ctx.renderer`` when the report step set it)."""
    write_environment(ctx.run_dir, renderer=getattr(ctx, "renderer", None))


def _identifier_values(ctx: Any) -> dict[str, set[str]]:
    """``{column: values}`` of the protocol's ``test_set.identifier_columns``."""
    protocol = getattr(ctx, "protocol", None)
    test_set = getattr(ctx, "test_set", None)
    columns = list(getattr(getattr(protocol, "test_set", None), "identifier_columns", []) or [])
    frame = getattr(test_set, "manifest", None)
    if not columns or frame is None:
        return {}

    def text(v: Any) -> str:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return "" if v is None or v != v else str(v).strip()

    return {c: {text(v) for v in frame[c].tolist()} - {""}
            for c in columns if c in frame.columns}


def _meant_to_be_there(ctx: Any) -> set[str]:
    """Strings a dossier holds by design: the signers' e-mails, the operator, the seed."""
    from validation.provenance.approvals import approvals_of, load_lock

    allow = {_operator(ctx), str(getattr(ctx, "seed", ""))}
    run_dir = Path(ctx.run_dir)
    lock = run_dir / LOCK_FILE
    if lock.is_file():
        try:
            allow |= {str(a.get("email", "")) for a in approvals_of(load_lock(lock))}
        except Exception:  # noqa: BLE001 - a bad lock is refused by finalize with its own message
            pass
    # the staff of the access history (earlier runs' operators) and of the signatures copied
    # into the dossier are named by design: who used the test set, who signed what
    for name in [USAGE_FILE, *(p.name for p in run_dir.glob("*.signatures.json"))]:
        allow |= _emails_in(run_dir / name)
    return allow


def _emails_in(path: Path) -> set[str]:
    """The ``operator`` and ``email`` values anywhere in a JSON file (empty when unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("operator", "email") and isinstance(v, str):
                    found.add(v)  # and the address inside "Name <address>"
                    found.update(m.strip("<>") for m in v.split() if "@" in m)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    return found


def guard_identifiers(ctx: Any) -> None:
    """Refuse to seal a run whose outputs hold an identifier (values of the declared
    identifier columns, or identifier-like patterns): :class:`PrivacyError` naming each
    file and field or line, values masked."""
    from validation.errors import PrivacyError
    from validation.provenance.identifier_guard import guard_outputs

    report = guard_outputs(ctx.run_dir, _identifier_values(ctx), allow=_meant_to_be_there(ctx))
    if not report.ok:
        raise PrivacyError(
            f"the run's outputs hold {len(report.hits)} patient identifier(s) in "
            f"{len({h.file for h in report.hits})} file(s); nothing was "
            "sealed. Remove the identifier from the data (a declared identifier column copied "
            "into another column, an identifier in a free-text field) and run again:",
            problems=report.by_file())


def seal(ctx: Any) -> Path:
    """Finaliser: identifier check, manifest, audit entry holding its hash, atomic rename;
    the final path."""
    guard_identifiers(ctx)
    lock = Path(ctx.run_dir) / LOCK_FILE
    return finalize(ctx.run_dir, ctx.registry,
                    protocol_lock=lock if lock.is_file() else getattr(ctx, "lock_path", None),
                    operator=_operator(ctx))
