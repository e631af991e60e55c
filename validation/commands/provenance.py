"""``validation verify``, ``validation audit``, ``validation reproduce``, ``validation scan-phi``.

Exit codes: 0 when the check passes; 1 when the check ran and found a problem (a changed,
missing or extra file, a broken audit chain, results that differ, an identifier in an
output), each problem printed on its own line; 2 when the check cannot run at all (a folder
still marked ``.incomplete``, no manifest, a bad registry URL), as for every other command.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from validation.commands._common import echo_json

FAILED = 1
"""Exit code of a check that ran and failed."""

_REGISTRY_HELP = ("Registry URL (sqlite:///path or postgresql://user@host/db); default: "
                  "$VALIDATION_REGISTRY, else registry.sqlite under $VALIDATION_HOME "
                  "(~/.validation).")


def verify(
    run_dir: Path = typer.Argument(..., help="A finalized run directory, or a signed file."),
    registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Re-hash a run directory; check manifest, registry and audit chain.

    Exit 0 when everything matches; 1 listing every changed, missing or extra file and any
    registry or chain problem; 2 when RUN_DIR cannot be verified (still .incomplete, no
    manifest.json).
    """
    from validation.provenance.verify import verify_run

    if run_dir.is_file():  # a signed document: its signatures only
        _verify_document(run_dir, registry, as_json)
        return
    report = verify_run(run_dir, registry)
    if as_json:
        echo_json(report.to_dict())
    elif report.ok:
        entry = report.registry_entry or {}
        typer.echo(
            f"verified: {report.run_dir}: {report.n_files} files match manifest.json "
            f"(sha256 {report.manifest_sha256}); registry: run {entry.get('run_id')!r} "
            f"finalized {entry.get('finalized_utc')} by {entry.get('operator')} "
            f"(audit entry {entry.get('audit_seq')}); audit chain intact."
        )
        for line in report.signatures:
            typer.echo(f"  signature: {line}")
    else:
        typer.echo(f"VERIFICATION FAILED: {report.run_dir}", err=True)
        for line in report.lines():
            typer.echo(f"  {line}", err=True)
    if not report.ok:
        raise typer.Exit(FAILED)


def _verify_document(document: Path, registry: str | None, as_json: bool) -> None:
    """``validation verify FILE``: every signature of a signed document."""
    from validation.provenance.signatures import verify_signatures
    from validation.provenance.verify import typed_approvals

    check = verify_signatures(registry, document)
    typed = typed_approvals(document)
    if as_json:
        echo_json({"document": check.document, "ok": check.ok, "signatures": list(check.valid),
                   "typed_approvals": typed, "problems": list(check.problems)})
    elif check.ok:
        typer.echo(f"verified: {document}: {len(check.valid)} signature(s) valid"
                   + ("" if check.valid else " (the document is not signed)"))
        for line in [*check.valid, *typed]:
            typer.echo(f"  signature: {line}")
    else:
        typer.echo(f"VERIFICATION FAILED: {document}", err=True)
        for line in check.problems:
            typer.echo(f"  signature: {line}", err=True)
    if not check.ok:
        raise typer.Exit(FAILED)


def audit(
    registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
    expect_head: str | None = typer.Option(
        None, "--expect-head",
        help="SEQ:HASH (or HASH) printed by an earlier audit; fails if that entry is gone."),
    last: int | None = typer.Option(None, "--last", min=1, help="Show only the last N entries."),
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", help="A signed checkpoint file to check the log against (repeat "
        "for several); those in the checkpoints folder are checked too."),
    checkpoint_dir: Path | None = typer.Option(
        None, "--checkpoint-dir", help="Checkpoints folder (default: $VALIDATION_CHECKPOINTS, "
        "else checkpoints/ under $VALIDATION_HOME)."),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="Trusted checkpoint public key (PEM); default: the "
        "configured signing key's public half, when present."),
    write_checkpoint: bool = typer.Option(
        False, "--write-checkpoint", help="After a clean check, sign the head into the "
        "checkpoints folder."),
    as_json: bool = typer.Option(False, "--json", help="Print history and check as JSON."),
) -> None:
    """Check the whole audit chain and every registry record; list the history.

    Exit 0 when intact, 1 listing every problem. The log is also checked against every signed
    checkpoint given (--checkpoint) or found in the checkpoints folder: a log cut back or
    rewritten with recomputed hashes fails only against such an outside record.
    """
    from rich.console import Console
    from rich.table import Table

    from validation.errors import InputError
    from validation.provenance import checkpoint as cp
    from validation.provenance.audit import check_chain, check_expect_head
    from validation.provenance.registry import open_registry

    if expect_head is not None:
        check_expect_head(expect_head)
    for f in checkpoint:
        if not f.is_file():
            raise InputError(f"'--checkpoint' must be an existing checkpoint file; got {str(f)!r}.")
    reg = open_registry(registry, create=False)
    try:
        trusted = cp.trusted_public_key(public_key)
        files = list(dict.fromkeys([*checkpoint, *cp.found_checkpoints(reg, checkpoint_dir)]))
        report = check_chain(reg, expect_head=expect_head)
        checks = cp.check_checkpoints(reg, files, trusted=trusted)
        if checks.problems:
            report = replace(report, problems=report.problems + checks.problems)
        entries = reg.entries()
        written = cp.write_checkpoint(reg, checkpoint_dir) if write_checkpoint and report.ok \
            else None
    finally:
        reg.close()
    shown = entries[-last:] if last else entries
    if as_json:
        echo_json({
            "registry": reg.safe_url, "ok": report.ok, "n_entries": report.n_entries,
            "head_seq": report.head_seq, "head_hash": report.head_hash,
            "problems": list(report.problems), "checkpoints_checked": list(checks.checked),
            "checkpoint_written": None if written is None else str(written),
            "database_only_limits": cp.DATABASE_ONLY,
            "entries": [{"seq": e.seq, "recorded_utc": e.recorded_utc, "actor": e.actor,
                         "action": e.action, "subject": e.subject, "payload": e.payload,
                         "prev_hash": e.prev_hash, "entry_hash": e.entry_hash} for e in shown],
        })
    else:
        console = Console()
        if not console.is_terminal:  # a file or a pipe: do not squeeze into 80 columns
            console = Console(width=160)
        table = Table(title=f"Audit log of {reg.safe_url}")
        for col in ("seq", "recorded (UTC)", "actor", "action", "subject", "hash"):
            table.add_column(col, no_wrap=col in ("seq", "recorded (UTC)", "action", "hash"),
                             overflow="fold")
        for e in shown:
            subject = e.subject if len(e.subject) < 40 else e.subject[:12] + "..."
            table.add_row(str(e.seq), e.recorded_utc[:19] + "Z", e.actor, e.action, subject,
                          e.entry_hash[:12])
        console.print(table)
        if report.head_hash is not None:
            typer.echo(f"head: {report.head_seq}:{report.head_hash}")
        typer.echo(f"checked against {len(checks.checked)} signed checkpoint(s)"
                   + (f"; checkpoint written: {written}" if written else "") + ".")
        typer.echo(cp.DATABASE_ONLY)
        if report.ok:
            typer.echo(f"audit chain intact: {report.n_entries} entries.")
    if not report.ok:
        typer.echo(f"AUDIT CHAIN BROKEN: {len(report.problems)} problem(s)", err=True)
        for line in report.problems:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(FAILED)


def reproduce(
    run_dir: Path = typer.Argument(..., help="A finalized run directory."),
    registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
    protocol: Path | None = typer.Option(
        None, "--protocol", help="Where the protocol file is now, if it moved (its hash must "
        "still match inputs.json)."),
    operator: str | None = typer.Option(None, "--operator", help="Who reruns it."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Rerun the locked protocol on the recorded inputs; compare results.json.

    Exit 0 when byte-identical, 1 listing the differing keys, 2 when the recorded inputs
    changed or are missing.
    """
    from validation.reproduce import reproduce_run

    report = reproduce_run(run_dir, registry=registry, protocol=protocol, operator=operator)
    if as_json:
        echo_json({
            "run_dir": report.run_dir, "identical": report.identical,
            "original_sha256": report.original_sha256,
            "reproduced_sha256": report.reproduced_sha256,
            "differences": [{"path": d.path, "kind": d.kind, "old": d.old, "new": d.new}
                            for d in report.differences],
        })
    elif report.identical:
        typer.echo(f"reproduced: results.json is byte-identical (sha256 "
                   f"{report.original_sha256}).")
    else:
        typer.echo(f"NOT REPRODUCED: results.json differs ({report.original_sha256[:12]}... "
                   f"-> {report.reproduced_sha256[:12]}...)", err=True)
        if not report.differences:
            typer.echo("  same content, different bytes (formatting)", err=True)
        for d in report.differences:
            typer.echo(f"  {d.kind}: {d.path or '(root)'}: {d.old!r} -> {d.new!r}", err=True)
    if not report.identical:
        raise typer.Exit(FAILED)


def scan_phi(
    run_dir: Path = typer.Argument(..., help="A run directory or any output folder."),
    manifest: Path = typer.Option(..., "--manifest", help="The test-set manifest CSV."),
    column: list[str] = typer.Option(..., "--column",
                                     help="An identifier column (repeat for several)."),
    min_length: int = typer.Option(3, "--min-length", min=1,
                                   help="Shortest identifier value searched for."),
) -> None:
    """Search outputs for patient identifiers from the manifest.

    Exit 1 when a value of an identifier column occurs in any output file.
    """
    from validation.errors import InputError
    from validation.provenance.phi_scan import identifier_values, scan_outputs

    if not run_dir.is_dir():
        raise InputError(f"'RUN_DIR' must be an existing folder; got {str(run_dir)!r}.")
    if not manifest.is_file():
        raise InputError(f"'--manifest' must be an existing CSV file; got {str(manifest)!r}.")
    report = scan_outputs(run_dir, identifier_values(manifest, column), min_length=min_length)
    typer.echo(f"scanned {len(report.scanned)} files; not scannable: "
               f"{', '.join(report.not_scanned) or 'none'}")
    if report.too_short:
        typer.echo(f"values too short to search: {len(report.too_short)}")
    if report.ok:
        typer.echo("no identifier values found.")
        return
    typer.echo(f"IDENTIFIERS FOUND: {len(report.findings)}", err=True)
    for f in report.findings:  # the value is masked: the terminal is an output too
        masked = f.value[:1] + "*" * (len(f.value) - 1)
        typer.echo(f"  {f.file}: {f.column} value {masked}", err=True)
    raise typer.Exit(FAILED)


def recover(
    path: Path = typer.Argument(..., help="A <run-id>.incomplete folder, or a study or runs "
                                "folder to search."),
    registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
) -> None:
    """Complete runs a kill left finalized in the registry but still .incomplete.

    Exit 0 when every such run was completed (runs never sealed are listed and left alone),
    1 when a folder disagrees with its registry record.
    """
    from validation.provenance.recover import recover as _recover

    report = _recover(path, registry)
    for line in report.completed:
        typer.echo(f"completed: {line}")
    for line in report.not_sealed:
        typer.echo(f"not sealed: {line}")
    if not (report.completed or report.not_sealed or report.conflicts):
        typer.echo("nothing to recover.")
    if not report.ok:
        for line in report.conflicts:
            typer.echo(f"CONFLICT: {line}", err=True)
        raise typer.Exit(FAILED)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
    app.command("audit")(audit)
    app.command("reproduce")(reproduce)
    app.command("scan-phi")(scan_phi)
    app.command("recover")(recover)
