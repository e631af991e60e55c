"""``validation report RUN_DIR`` and ``validation protocol sap FILE``: render the dossier documents."""

from __future__ import annotations

from pathlib import Path

import typer

FORMAT_HELP = "Comma-separated formats: html, pdf, docx."


def report(
    run_dir: Path = typer.Argument(..., help="Run directory holding results.json."),
    format: str = typer.Option("html,pdf,docx", "--format", help=FORMAT_HELP),
) -> None:
    """Render the performance report (and the SAP) into RUN_DIR/report/."""
    from validation.report import render, render_report

    outputs = render_report(run_dir, format)
    for path in outputs:
        typer.echo(str(path))
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in render.last_timings.items())
    typer.echo(f"rendered with {render.renderer_name()} ({timing})", err=True)


def sap(
    file: Path = typer.Argument(..., help="Protocol YAML (its FILE.lock.json is used) or lock file."),
    out: Path = typer.Option(..., "--out", help="Folder for sap.qmd and the rendered SAP."),
    format: str = typer.Option("html,pdf,docx", "--format", help=FORMAT_HELP),
) -> None:
    """Render the statistical analysis plan from the locked protocol alone."""
    from validation.preflight import check_output_dir
    from validation.report import render_sap

    check_output_dir(out)
    lock = file if file.name.endswith(".lock.json") else file.with_name(file.name + ".lock.json")
    if not file.name.endswith(".lock.json"):
        from validation.protocol import verify_lock

        verify_lock(file)  # refuses a protocol edited after it was locked (exit 2)
    for path in render_sap(lock, out, format, sample_size=_locked_plan(lock),
                           robustness_plan=_locked_robustness_plan(lock)):
        typer.echo(str(path))


def _locked_plan(lock: Path) -> dict | None:
    """The sample-size plan of the locked protocol, computed by the analysis layer (the report
    formats it); ``None`` when the lock cannot be read (render_sap then says why)."""
    from validation.analysis.sample_size import sample_size_of_locked
    from validation.errors import LockError
    from validation.protocol import read_lock

    try:
        return sample_size_of_locked(read_lock(lock).protocol)
    except LockError:
        return None


def _locked_robustness_plan(lock: Path) -> dict | None:
    """The perturbation plan of the locked protocol's ``robustness`` section (the plan a run
    records, with the protocol's seed), so the SAP shows each family's parameter, unit, range
    and description; ``None`` without a section or when the lock cannot be read or validated."""
    from pydantic import ValidationError as ModelError

    from validation.errors import LockError
    from validation.models.perturb import perturbation_plan
    from validation.protocol import Protocol, read_lock

    try:
        data = read_lock(lock).protocol
        if not isinstance(data, dict) or not data.get("robustness"):
            return None
        protocol = Protocol.model_validate(data)
        if protocol.robustness is None:
            return None
        return perturbation_plan(protocol.robustness, int(protocol.analysis.seed))
    except (LockError, ModelError, KeyError):  # a lock that does not validate: the SAP says so
        return None


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    from validation.commands.protocol import protocol_app

    protocol_app.command("sap")(sap)
