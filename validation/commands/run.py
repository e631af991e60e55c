"""``validation run`` (a locked protocol end to end) and ``validation demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from validation.constants import RESULTS_FILE


def _formats(value: str | None) -> tuple[str, ...]:
    if not value or value.strip().lower() == "none":
        return ()
    return tuple(f.strip().lower() for f in value.split(",") if f.strip())


def _ci(stat: dict[str, Any] | None) -> str:
    from validation.commands._common import fmt

    if not stat or stat.get("estimate") is None:
        return "NA"
    lo, hi = (stat.get("ci") or [None, None])[:2]
    return f"{fmt(stat['estimate'], 3)} [{fmt(lo, 3)}, {fmt(hi, 3)}]"


def print_standalone_table(results: dict[str, Any], run_dir: Path) -> None:
    """Rich table of the first sensitivity, specificity and AUC endpoints, per site and pooled."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 120))
    eps = results.get("endpoints", {})
    rank = {"primary": 0, "secondary": 1}

    def first(kind: str) -> tuple[str | None, dict[str, Any] | None]:
        found = sorted(
            (rank.get(ep.get("role"), 2), eid) for eid, ep in eps.items() if ep.get("kind") == kind
        )
        return (found[0][1], eps[found[0][1]]) if found else (None, None)

    cols = [(k, *first(k)) for k in ("sensitivity", "specificity", "auc")]
    study = results["protocol"]
    level = results.get("analysis", {}).get("ci_level")
    title = f"{study['study_id']}: standalone performance"
    if level is not None:
        title += f" ({level:.0%} CI)"
    table = Table(title=title)
    table.add_column("site")
    table.add_column("analysed", justify="right")
    table.add_column("indeterminate", justify="right")
    for kind, _eid, ep in cols:
        if ep is not None:
            table.add_column(f"{kind} ({ep['unit']})", justify="right")
    flow = results.get("flow", {})
    conf = results.get("confusion", {})
    sites = sorted(conf.get("by_site", {}))

    def counts(c: dict[str, Any]) -> tuple[str, str]:
        ind = int(c.get("indeterminate", 0))
        return str(int(c.get("n", 0)) + ind), str(ind)

    for s in sites:
        row = [s, *counts(conf["by_site"][s])]
        row += [_ci(ep["by_site"].get(s)) for _, _, ep in cols if ep is not None]
        table.add_row(*row)
    table.add_row(
        "[bold]pooled[/bold]", *counts(conf.get("pooled", {})),
        *[f"[bold]{_ci(ep['pooled'])}[/bold]" for _, _, ep in cols if ep is not None],
    )
    console.print(table)
    excluded = ", ".join(f"{k} {v}" for k, v in flow.get("excluded", {}).items())
    handling = {
        "worst_case": "counted as errors (worst case)",
        "as_positive": "counted as positive",
        "as_negative": "counted as negative",
        "determinate": "left out",
    }
    primary = results.get("analysis", {}).get("indeterminate_primary", "worst_case")
    console.print(
        f"STARD flow: {flow.get('eligible')} eligible, excluded: {excluded or 'none'}; "
        f"{flow.get('analysed')} analysed, {flow.get('indeterminate')} indeterminate: "
        f"{handling.get(primary, primary)} in the primary analysis, and reported as positive "
        "and as negative in results.json."
    )
    for h in results.get("hypotheses", []):
        console.print(
            f"hypothesis {h.get('id')} ({h.get('type')}, {h.get('endpoint')}): "
            f"{h.get('decision')}"
        )
    console.print(f"run directory: {run_dir}")


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_command(
        protocol: Path = typer.Argument(
            ..., help="Locked protocol YAML (its .lock.json beside it)."
        ),
        out: Path = typer.Option(Path("runs"), "--out", help="Runs folder."),
        seed: int | None = typer.Option(
            None, "--seed", help="Override the protocol's analysis.seed (a recorded deviation)."
        ),
        formats: str = typer.Option(
            "html,pdf,docx", "--format", help="Report formats (html,pdf,docx), or 'none'."
        ),
        operator: str | None = typer.Option(None, "--operator", help="Who runs it (audit log)."),
        registry: str | None = typer.Option(None, "--registry", help="Registry URL."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress lines."),
        dask: str | None = typer.Option(
            None, "--dask", help="Run the analysis tasks (and perturbed robustness inference) on "
            "Dask: 'local' or a scheduler address."
        ),
        allow_artifact_outside: bool = typer.Option(
            False, "--allow-artifact-outside",
            help="Accept a model artifact or card outside the protocol's folder."),
    ) -> None:
        """Run a locked protocol: checks, predictions, analysis, results.json (and the dossier)."""
        from validation.pipeline import run_protocol

        run_dir = run_protocol(
            protocol, out_dir=out, seed=seed, formats=_formats(formats), registry=registry,
            operator=operator, progress=not quiet, dask=dask,
            allow_outside_artifact=allow_artifact_outside,
        )
        typer.echo(str(run_dir))

    @app.command("demo")
    def demo_command(
        out: Path = typer.Option(
            Path("runs/demo"), "--out", help="Demo folder (data, protocol, runs)."
        ),
        seed: int | None = typer.Option(None, "--seed", help="Seed of the simulated test set."),
        formats: str = typer.Option(
            "html,pdf", "--format", help="Report formats (html,pdf,docx), or 'none'."
        ),
        tabular: bool = typer.Option(
            False, "--tabular",
            help="Simulated scores instead of images through the locked demo model (faster).",
        ),
        surveillance: bool = typer.Option(
            True, "--surveillance/--no-surveillance",
            help="Also monitor the pivotal run for a simulated year (surveillance/ in --out).",
        ),
        quiet: bool = typer.Option(False, "--quiet", help="No progress lines."),
    ) -> None:
        """Simulate a multi-site image study, lock the demo protocol, run the locked model, analyse,
        render the SAP and report, and print the table and the documents' paths; then monitor
        the model for a simulated year after the study (surveillance plan, twelve monthly
        batches, late labels, alarms, surveillance report)."""
        from validation.analysis.results import load_results
        from validation.demo_data import DEFAULT_SEED, prepare_demo
        from validation.pipeline import run_protocol
        from validation.preflight import check_output_dir, check_report_formats, check_seed

        check_seed(seed)
        fmts = check_report_formats(_formats(formats))
        check_output_dir(out)
        protocol_path = prepare_demo(out, seed=seed, images=not tabular)
        run_dir = run_protocol(
            protocol_path, out_dir=out / "runs", formats=fmts, progress=not quiet,
            operator="demo",
        )
        results = load_results(run_dir / RESULTS_FILE)
        print_standalone_table(results, run_dir)
        report_dir = run_dir / "report"
        for doc in sorted(report_dir.glob("*.*")) if report_dir.is_dir() else []:
            if doc.suffix in (".html", ".pdf", ".docx"):
                typer.echo(f"{doc.stem.upper()} {doc.suffix[1:]}: {doc}")
        from validation.robustness_demo import print_robustness

        print_robustness(results, typer.echo, tabular=tabular)
        if surveillance:
            from validation.surveillance.demo import run_surveillance_demo

            demo = run_surveillance_demo(
                out, protocol_path=protocol_path, run_dir=run_dir,
                seed=DEFAULT_SEED if seed is None else seed, progress=None if quiet else typer.echo,
            )
            reports: list[Path] = []
            if _formats(formats):
                from validation.report.surveillance import render_surveillance_report

                reports = render_surveillance_report(demo.status_data, demo.folder / "report",
                                                     formats=_formats(formats))
            print_surveillance(demo, reports)
        from validation.change.demo import print_change_demo, run_change_demo

        print_change_demo(run_change_demo(out, seed=DEFAULT_SEED if seed is None else seed))
        from validation.commands._consistency import print_consistency

        print_consistency(load_results(run_dir / RESULTS_FILE), typer.echo)
        from validation.segmentation_demo import run_segmentation_demo

        run_segmentation_demo(out, formats=fmts, echo=typer.echo)
        from validation.localization_demo import print_localization_demo, run_localization_demo

        print_localization_demo(run_localization_demo(out, formats=fmts), typer.echo)
        from validation.reader_designs_demo import print_reader_designs_demo

        print_reader_designs_demo(typer.echo)
        from validation.risk_demo import print_risk_demo

        print_risk_demo(typer.echo)


def print_surveillance(demo: Any, reports: list[Path]) -> None:
    """One line per alarm chain (rule, scope): its first detection and the periods it holds."""
    sim = demo.simulation
    typer.echo(f"surveillance: {len(sim.months)} months from {sim.months[0].period}, new scanner "
               f"at {sim.scenario.degraded_site} from {sim.degradation_start}; labels "
               f"{sim.scenario.label_delay} months late")
    chains: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for a in demo.alarms:
        sub = a.get("subgroup")
        scope = f"{sub['factor']}={sub['level']}" if sub else (a.get("site") or "all sites")
        chains.setdefault((str(a["rule"]), scope, str(a["metric"]), str(a["severity"])),
                          []).append(a)
    if not chains:
        typer.echo("surveillance: no alarm")
    for (rule, scope, metric, severity), items in chains.items():
        periods = ", ".join(str(a["period"]) for a in items)
        typer.echo(f"ALARM {severity}: {metric} at {scope} (rule {rule}), first detected "
                   f"{items[0]['first_detected']}; periods {periods}")
    typer.echo(f"alarms: {demo.alarms_path}")
    for doc in reports:
        typer.echo(f"SURVEILLANCE {doc.suffix[1:]}: {doc}")
