"""``validation surveil``: post-market surveillance under a locked plan, built for schedulers.

Exit codes of ``ingest`` and ``labels``: 0 no alarm in the periods touched, 1 at least one
alarm, 2 bad input (nothing ingested). ``check``, ``lock``, ``status`` and ``report``: 0 or 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from validation.commands._common import echo_json

ALARM = 1
"""Exit code when an alarm fired in a period the command touched."""

surveil_app = typer.Typer(
    name="surveil",
    help="Post-market surveillance: lock a plan, ingest batches and late labels, alarms, "
         "status and the periodic report.",
    no_args_is_help=True,
)

_REGISTRY_HELP = ("Registry URL (sqlite:///path or postgresql://user@host/db); default: "
                  "$VALIDATION_REGISTRY, else registry.sqlite under $VALIDATION_HOME.")


def _alarm_line(a: dict[str, Any]) -> str:
    where = a["site"] or "pooled"
    if a["subgroup"]:
        where += f" {a['subgroup']['factor']}={a['subgroup']['level']}"
    return (f"ALARM {a['severity']}: {a['metric']} at {where} in {a['period']} (rule "
            f"{a['rule']}, first detected {a['first_detected']})")


@surveil_app.command("check")
def check(plan: Path = typer.Argument(..., help="Surveillance plan YAML."),
          no_files: bool = typer.Option(False, "--no-files",
                                        help="Do not check that the files it names exist.")
          ) -> None:
    """Validate a plan; list every problem with file, line, column and field (exit 2)."""
    from validation.surveillance.plan import load_plan, plan_sha256

    p = load_plan(plan, check_files=not no_files)
    typer.echo(f"ok: {plan} (plan {p.plan.id} version {p.plan.version}): {len(p.rules)} "
               f"rule{'s' if len(p.rules) != 1 else ''}, {len(p.sites)} sites, period "
               f"{p.period}; plan sha256 {plan_sha256(p)}")


@surveil_app.command("lock")
def lock(plan: Path = typer.Argument(..., help="Surveillance plan YAML."),
         approver: str = typer.Option(..., "--approver", help='Signer: "Full Name <email>".'),
         meaning: str = typer.Option(..., "--meaning", help='"authored ...", "reviewed ...", '
                                     '"approved ..." (e.g. "approved surveillance plan").'),
         replace: bool = typer.Option(False, "--replace", help="Lock an amended plan.")) -> None:
    """Sign the validated plan into PLAN.lock.json (as a protocol is locked)."""
    from validation.protocol.lock import lock_path_for
    from validation.surveillance.plan import lock_plan

    record = lock_plan(plan, approver=approver, meaning=meaning, replace=replace)
    last = record.approvals[-1]
    typer.echo(f"locked: {lock_path_for(plan)}\n  plan sha256 {record.protocol_sha256}\n"
               f"  signed by {last.name} <{last.email}> ({last.meaning}) at {last.time_utc}; "
               f"{len(record.approvals)} signature{'s' if len(record.approvals) != 1 else ''}")


@surveil_app.command("ingest")
def ingest(plan: Path = typer.Argument(..., help="Locked surveillance plan YAML."),
           batch: Path | None = typer.Argument(None, help="Batch file (CSV, TSV or Parquet)."),
           registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
           inbox: Path | None = typer.Option(None, "--inbox",
                                             help="Ingest every new batch file of this folder."),
           dask: str | None = typer.Option(None, "--dask", help="Dask scheduler address, or "
                                           "'local' for a local cluster."),
           as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")
           ) -> None:
    """Check a batch, append it exactly once, evaluate every rule, write alarms.json.

    Exit 0 no alarm, 1 alarm in a period of the batch, 2 bad input (nothing ingested).
    """
    from validation.errors import InputError
    from validation.surveillance.ingest import ingest_batch, ingest_inbox

    if (batch is None) == (inbox is None):
        raise InputError("give exactly one of BATCH and '--inbox DIR'; got "
                         f"{'both' if batch is not None else 'neither'}.")
    results = (ingest_inbox(plan, inbox, registry=registry, dask=dask) if inbox is not None
               else [ingest_batch(plan, batch, registry=registry, dask=dask)])  # type: ignore[arg-type]
    alarms = [a for r in results for a in r.alarms]
    if as_json:
        echo_json({"batches": [{"batch_id": r.batch_id, "new": r.new, "n_cases": r.n_cases,
                                "batch_sha256": r.batch_sha256, "periods": list(r.periods),
                                "alarms_path": str(r.alarms_path) if r.alarms_path else None}
                               for r in results], "alarms": alarms})
    else:
        if not results:
            typer.echo(f"no new batch in {inbox}")
        for r in results:
            what = "ingested" if r.new else "already in (same bytes; nothing changed)"
            typer.echo(f"{r.batch_id}: {what}: {r.n_cases} cases, periods "
                       f"{', '.join(r.periods)}; alarms: {r.alarms_path}")
        for a in alarms:
            typer.echo(_alarm_line(a))
    if alarms:
        raise typer.Exit(ALARM)


@surveil_app.command("labels")
def labels(plan: Path = typer.Argument(..., help="Locked surveillance plan YAML."),
           file: Path = typer.Argument(..., help="Labels file (case_id, truth)."),
           registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
           as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")
           ) -> None:
    """Merge late labels into their periods (each amendment audited); re-evaluate the rules."""
    from validation.surveillance.labels import merge_labels

    r = merge_labels(plan, file, registry=registry)
    if as_json:
        echo_json({"labels_sha256": r.labels_sha256, "new": r.new, "n_labels": r.n_labels,
                   "n_changed": r.n_changed, "periods": list(r.periods),
                   "alarms": list(r.alarms)})
    else:
        what = "merged" if r.new else "already in (same bytes; nothing changed)"
        typer.echo(f"{file}: {what}: {r.n_labels} labels, {r.n_changed} amendments, periods "
                   f"{', '.join(r.periods) or 'none'}")
        for a in r.alarms:
            typer.echo(_alarm_line(a))
    if r.alarms:
        raise typer.Exit(ALARM)


@surveil_app.command("status")
def status(plan: Path = typer.Argument(..., help="Locked surveillance plan YAML."),
           registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
           as_json: bool = typer.Option(False, "--json", help="Print the status as JSON.")
           ) -> None:
    """Periods, observed and estimated performance, charts, drift and alarms."""
    from validation.commands._common import fmt
    from validation.surveillance.status import surveillance_status

    st = surveillance_status(plan, registry=registry)
    if as_json:
        echo_json(st)
        return
    p = st["plan"]
    typer.echo(f"plan {p['id']} v{p['version']} (sha256 {p['sha256']}); registry head "
               f"{st['registry']['head_seq']}:{st['registry']['head_hash']}")
    for per in st["periods"]:
        typer.echo(f"  {per['period']}: {per['n_cases']} cases, {per['n_labelled']} labelled, "
                   f"batches {', '.join(per['batches'])}")
    for m in st["metrics"]:
        if m["site"] is None and m["subgroup"] is None:
            obs = m["observed"]["estimate"] if m["observed"] else None
            est = m["estimated"]["estimate"] if m["estimated"] else None
            typer.echo(f"  {m['period']} {m['metric']}: observed {fmt(obs, 3)}, "
                       f"estimated {fmt(est, 3)}")
    for a in st["alarms"]:
        typer.echo(_alarm_line(a))


@surveil_app.command("report")
def report(plan: Path = typer.Argument(..., help="Locked surveillance plan YAML."),
           out: Path = typer.Option(..., "--out", help="Folder to write the report into."),
           formats: str = typer.Option("html,pdf", "--format", help="html, pdf (comma list)."),
           registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP)) -> None:
    """Render the periodic surveillance report (status.json beside it)."""
    from validation._atomic import canonical_json, write_text_atomic
    from validation.report.surveillance import render_surveillance_report
    from validation.surveillance.status import surveillance_status

    st = surveillance_status(plan, registry=registry)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "status.json", canonical_json(st))
    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    for path in render_surveillance_report(st, out, formats=wanted):
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(surveil_app, name="surveil")
