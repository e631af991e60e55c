"""``validation protocol sample-size FILE``: the sample-size justification of a protocol.

For every planning assumption in the protocol's ``sample_size`` section the command finds the
hypothesis and its endpoint, computes the required number of cases with
:mod:`validation.stats.sample_size` (or :mod:`validation.stats.mrmc.sample_size` for reader
studies), inflates it for prevalence and drop-out, compares it with the planned numbers and
prints the paragraph a reviewer expects (``--json`` for the numbers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from validation.analysis.sample_size import sample_size_plan
from validation.commands.protocol import protocol_app


def _print(plan: dict[str, Any]) -> None:
    typer.echo(f"Sample-size justification: study {plan['study_id']}")
    typer.echo(f"  one-sided alpha {plan['alpha_one_sided']:g}, target power {plan['power']:g}, "
               f"multiplicity {plan['multiplicity']}"
               + (f", drop-out {plan['dropout']:g}" if plan["dropout"] else ""))
    for it in plan["items"]:
        typer.echo("")
        typer.echo(f"{it['hypothesis']} ({it['type']}, {it['endpoint']}):")
        if "note" in it:
            typer.echo(f"  {it['note']}")
            continue
        typer.echo(f"  {it['justification']}")
        if it.get("n_enrol") is not None:
            extra = (f" (after {100 * plan['dropout']:.3g}% drop-out)" if plan["dropout"] else "")
            typer.echo(f"  enrol: {it['n_enrol']} cases{extra}")
    typer.echo("")
    if plan["required_cases"] is not None:
        line = f"Required: {plan['required_cases']} cases (the largest single requirement)."
        typer.echo(line)
    joint = plan.get("joint_power")
    if joint is not None:
        typer.echo(joint["text"])
    if plan["verdict"] is not None:
        typer.echo(plan["verdict"])
    if (plan.get("enriched") or {}).get("note"):
        typer.echo(plan["enriched"]["note"])
    for key in ("multiplicity_note", "units_note"):
        if plan.get(key):
            typer.echo(plan[key])


@protocol_app.command("sample-size")
def sample_size(
    file: Path = typer.Argument(..., help="Protocol YAML file."),
    as_json: bool = typer.Option(False, "--json", help="Print canonical JSON."),
    simulate: int = typer.Option(
        0, "--simulate", help="Also simulate N MRMC studies (Roe-Metz) at the planned readers "
        "and cases and report the empirical power with its Clopper-Pearson interval."),
    components: str = typer.Option(
        "", "--components", help="Roe-Metz variance components for --simulate, e.g. "
        "'var_r=0.011,var_c=0.1,var_tr=0.011,var_tc=0.1,var_rc=0.2,var_e=0.6,b=1' (defaults "
        "where not given)."),
    seed: int = typer.Option(20261204, "--seed", help="Seed of the --simulate studies."),
) -> None:
    """Sample-size justification from the protocol's planning assumptions."""
    from validation.commands._common import echo_json
    from validation.errors import ProtocolError
    from validation.protocol import load_protocol

    protocol = load_protocol(file, check_files=False)
    try:
        plan = sample_size_plan(protocol)
    except ProtocolError as exc:
        raise ProtocolError(f"{file}: {exc}") from None
    if simulate:
        from validation.analysis.mrmc_simulated_power import parse_components, simulated_mrmc_power
        from validation.stats._checks import check_count

        plan["simulated_power"] = simulated_mrmc_power(
            protocol, n_studies=check_count(simulate, "--simulate", minimum=1), seed=seed,
            components=parse_components(components))
    if as_json:
        echo_json(plan)
    else:
        _print(plan)
        for item in plan.get("simulated_power", []):
            typer.echo(item.get("text") or f"{item['hypothesis']}: {item['note']}")


def register(app: typer.Typer) -> None:
    """Nothing to add at the top level: ``sample-size`` lives on the ``protocol`` group."""
