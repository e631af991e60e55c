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
    pilot: Path | None = typer.Option(
        None, "--pilot", help="Pilot reader study for --simulate (CSV/TSV/Parquet; columns "
        "reader, modality, case, truth, rating, as `validation mrmc` reads): its OR parameters "
        "are converted to Roe-Metz parameters (Hillis 2020). Without it (and without "
        "--components) the assumption's pilot variance_components are converted."),
    b_method: str = typer.Option(
        "unspecified", "--b-method", help="How the conversion sets the binormal slope b: "
        "unspecified (from the pilot's error variance) | mean_to_sigma | specified."),
    b_value: float | None = typer.Option(
        None, "--b-value", help="The mean-to-sigma ratio (e.g. 4.5) for --b-method "
        "mean_to_sigma, or b (e.g. 1) for --b-method specified."),
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

        n_studies = check_count(simulate, "--simulate", minimum=1)
        pilot_data = _pilot(protocol, pilot, components, b_method, b_value)
        plan["simulated_power"] = simulated_mrmc_power(
            protocol, n_studies=n_studies, seed=seed,
            components=parse_components(components) if components else None, pilot=pilot_data,
            b_method=b_method, b_value=b_value)
    if as_json:
        echo_json(plan)
    else:
        _print(plan)
        for item in plan.get("simulated_power", []):
            typer.echo(item.get("text") or f"{item['hypothesis']}: {item['note']}")


def _pilot(protocol: Any, pilot: Path | None, components: str, b_method: str,
           b_value: float | None) -> dict[str, Any] | None:
    """Check the pilot options; the OR parameters of the ``--pilot`` ratings (or ``None``)."""
    from validation.errors import InputError
    from validation.stats._checks import check_choice
    from validation.stats.mrmc.or_to_rm import B_METHODS

    check_choice(b_method, "--b-method", B_METHODS)
    if (b_value is None) != (b_method == "unspecified"):
        raise InputError(f"'--b-value' must be given with --b-method {b_method} (a mean-to-sigma "
                         "ratio such as 4.5, or b such as 1) and only then; got "
                         f"{b_value!r}." if b_method != "unspecified" else
                         f"'--b-value' applies to --b-method mean_to_sigma or specified; got "
                         f"{b_value!r} with --b-method unspecified.")
    if pilot is None:
        return None
    if components:
        raise InputError("give either '--pilot' (Roe-Metz parameters converted from a pilot) "
                         "or '--components' (stated Roe-Metz parameters), not both.")
    from validation.analysis.mrmc_pilot import pilot_from_ratings, pilot_modalities
    from validation.commands.mrmc import _read_table
    from validation.protocol.vocabulary import MRMC_KINDS

    if protocol.reader_study is None or len(protocol.reader_study.modalities) != 2:
        raise InputError("'--pilot' needs a reader study of two modalities in the protocol "
                         "(reader_study.modalities).")
    # the OR components do not depend on the order of the modalities; the pilot's AUCs are
    # reported comparator first, as the first MRMC hypothesis names it
    hyps = [protocol.hypothesis(a.hypothesis) for a in protocol.sample_size.assumptions]
    first = next((h for h in hyps if protocol.endpoint(h.endpoint).kind in MRMC_KINDS), None)
    mods = (pilot_modalities(protocol, first) if first is not None
            else tuple(str(m) for m in protocol.reader_study.modalities))
    return pilot_from_ratings(_read_table(pilot), mods, name=pilot.name)  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    """Nothing to add at the top level: ``sample-size`` lives on the ``protocol`` group."""
