"""``validation protocol``: check, lock, verify a protocol; regenerate its JSON Schema.

Other command modules add commands to :data:`protocol_app` (``sample-size``, ``sap``).
"""

from __future__ import annotations

from pathlib import Path

import typer

protocol_app = typer.Typer(
    name="protocol",
    help="Protocols as code: check, lock and verify a study protocol (YAML).",
    no_args_is_help=True,
)

DEFAULT_SCHEMA = Path("protocols") / "schema.json"


@protocol_app.command("check")
def check(
    file: Path = typer.Argument(..., help="Protocol YAML file."),
    no_files: bool = typer.Option(
        False, "--no-files", help="Do not check that referenced files exist (templates)."
    ),
) -> None:
    """Validate a protocol; list every problem with file, line, column and field (exit 2)."""
    from validation.protocol import load_protocol, protocol_sha256

    protocol = load_protocol(file, check_files=not no_files)
    n_h = len(protocol.hypotheses)
    typer.echo(
        f"ok: {file} (study {protocol.study.id} version {protocol.study.version}): "
        f"{len(protocol.endpoints)} endpoint{'s' if len(protocol.endpoints) != 1 else ''}, "
        f"{n_h} {'hypothesis' if n_h == 1 else 'hypotheses'}, multiplicity "
        f"{protocol.multiplicity.procedure}; protocol sha256 {protocol_sha256(protocol)}"
    )


@protocol_app.command("lock")
def lock(
    file: Path = typer.Argument(..., help="Protocol YAML file."),
    approver: str = typer.Option(..., "--approver", help='Signer: "Full Name <email>".'),
    meaning: str = typer.Option(
        ..., "--meaning", help='Meaning of the signature: "authored ...", "reviewed ...", '
        '"approved ..." (e.g. "approved SAP").'
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Replace a lock whose protocol content differs (amendment)."
    ),
) -> None:
    """Sign the validated protocol into FILE.lock.json (canonical JSON, sha256, approval)."""
    from validation.protocol import lock_path_for, lock_protocol

    record = lock_protocol(file, approver=approver, meaning=meaning, replace=replace)
    last = record.approvals[-1]
    typer.echo(
        f"locked: {lock_path_for(file)}\n"
        f"  protocol sha256 {record.protocol_sha256}\n"
        f"  yaml sha256     {record.yaml_sha256}\n"
        f"  signed by {last.name} <{last.email}> ({last.meaning}) at {last.time_utc}; "
        f"{len(record.approvals)} signature{'s' if len(record.approvals) != 1 else ''}"
    )


@protocol_app.command("verify")
def verify(file: Path = typer.Argument(..., help="Protocol YAML file.")) -> None:
    """Check that FILE is unchanged since it was locked (exit 2 with both hashes if not)."""
    from validation.protocol import verify_lock

    record = verify_lock(file)
    roles = ", ".join(f"{a.role} by {a.name}" for a in record.approvals)
    typer.echo(f"ok: {file} matches its lock (protocol sha256 {record.protocol_sha256}; {roles})")


@protocol_app.command("schema")
def schema(
    out: Path = typer.Option(DEFAULT_SCHEMA, "--out", help="Where to write the JSON Schema."),
    check_only: bool = typer.Option(
        False, "--check", help="Do not write; exit 2 if the file is not up to date."
    ),
) -> None:
    """Regenerate the protocol JSON Schema (protocols/schema.json) from the model."""
    from validation._atomic import write_text_atomic
    from validation.errors import ProtocolError
    from validation.protocol.schema import protocol_json_schema_text

    text = protocol_json_schema_text()
    if not check_only:
        from validation.preflight import check_output_file

        check_output_file(out)
    if check_only:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != text:
            raise ProtocolError(
                f"{out} is not up to date with the protocol model; run "
                f"`validation protocol schema --out {out}`."
            )
        typer.echo(f"ok: {out} is up to date")
        return
    write_text_atomic(out, text)
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(protocol_app, name="protocol")
