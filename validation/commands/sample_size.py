"""``validation protocol sample-size FILE``: the sample-size justification of a protocol.

For every planning assumption in the protocol's ``sample_size`` section the command finds the
hypothesis and its endpoint, computes the required number of cases with
:mod:`validation.stats.sample_size` (or :mod:`validation.stats.mrmc.sample_size` for reader
studies), inflates it for prevalence and drop-out, compares it with the planned numbers and
prints the paragraph a reviewer expects (``--json`` for the numbers).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from validation.commands.protocol import protocol_app

PROPORTION_KINDS = ("sensitivity", "specificity", "ppv", "npv", "accuracy")
MRMC_KINDS = ("mrmc_auc", "mrmc_sensitivity", "mrmc_specificity")


def _null(h: Any) -> float:
    m = float(h.margin) if h.margin is not None else 0.0
    if h.type == "noninferiority":
        return float(h.goal) - m
    if h.type == "superiority":
        return float(h.goal) + m
    return float(h.goal)


def _one_sided(protocol: Any) -> float:
    a = float(protocol.alpha)
    return a if protocol.sidedness == "one-sided" else a / 2.0


def _plan_standalone(protocol: Any, h: Any, ep: Any, a: Any, alpha: float) -> dict[str, Any]:
    from validation.stats import sample_size as ss

    plan = protocol.sample_size
    if h.type == "equivalence" or h.goal is None:
        return {"note": f"no sample-size formula for a {h.type} hypothesis on {ep.kind} "
                        "without a fixed reference; justify it in the protocol's notes."}
    null = _null(h)
    prevalence = plan.prevalence
    if ep.kind in PROPORTION_KINDS:
        endpoint = "specificity" if ep.kind == "specificity" else "sensitivity"
        inflate = prevalence if ep.kind in ("sensitivity", "specificity") else None
        method = "normal" if (plan.method and "normal" in plan.method.lower()) else "exact"
        res = ss.proportion_vs_goal(a.expected, null, alpha=alpha, power=plan.power,
                                    method=method, endpoint=endpoint, prevalence=inflate)
    elif ep.kind == "auc":
        ratio = (1.0 - prevalence) / prevalence if prevalence else 1.0
        res = ss.auc_vs_value(a.expected, null, alpha=alpha, power=plan.power, ratio=ratio,
                              prevalence=prevalence)
    else:
        return {"note": f"endpoint kind {ep.kind!r} has no sample-size formula here."}
    return res.to_dict()


def _plan_mrmc(protocol: Any, h: Any, a: Any, alpha: float) -> dict[str, Any]:
    plan = protocol.sample_size
    vc = a.variance_components or {}
    need = ("var_tr", "var", "cov1", "cov2", "cov3")
    missing = [k for k in need if k not in vc]
    pilot = vc.get("n_cases") or vc.get("pilot_cases")
    if missing or not pilot or a.n_readers is None or a.comparator_expected is None:
        what = ", ".join(missing + ([] if pilot else ["n_cases (pilot cases)"])
                         + ([] if a.n_readers else ["n_readers"])
                         + ([] if a.comparator_expected is not None else ["comparator_expected"]))
        return {"note": f"MRMC sample size needs pilot Obuchowski-Rockette variance components "
                        f"and the design; missing: {what}. Run `validation mrmc --json` on a "
                        "pilot study and copy its variance_components into the assumption."}
    from validation.stats.mrmc.sample_size import mrmc_sample_size

    margin = float(h.margin) if (h.margin is not None and h.type == "noninferiority") else 0.0
    effect = float(a.expected) - float(a.comparator_expected) + margin
    res = mrmc_sample_size(effect=effect, n_readers=int(a.n_readers),
                           var_tr=float(vc["var_tr"]), var=float(vc["var"]),
                           cov1=float(vc["cov1"]), cov2=float(vc["cov2"]),
                           cov3=float(vc["cov3"]), pilot_cases=int(pilot), power=plan.power,
                           alpha=2.0 * alpha)
    d = res.to_dict()
    d["n"] = res.n_cases
    d["unit"] = "cases (each read by every reader in both modalities)"
    d["justification"] = (
        f"The difference of the mean AUC between modalities is tested by the Obuchowski-Rockette "
        f"method with random readers and cases (Hillis degrees of freedom) at one-sided alpha = "
        f"{alpha:g} (a two-sided F test at {2 * alpha:g}). Assuming AUCs of {a.expected:.4g} and "
        f"{a.comparator_expected:.4g}{f' and a margin of {margin:g}' if margin else ''}, "
        f"{int(a.n_readers)} readers and {res.n_cases} cases give a power of {res.power:.3f} "
        f"(target {plan.power:g}), from pilot variance components of {int(pilot)} cases "
        "(Hillis, Obuchowski and Berbaum 2011)."
    )
    return d


def sample_size_plan(protocol: Any) -> dict[str, Any]:
    """The sample-size justification of ``protocol`` as plain data."""
    from validation.errors import ProtocolError

    plan = protocol.sample_size
    if plan is None or not plan.assumptions:
        raise ProtocolError(
            "the protocol has no 'sample_size' section with 'assumptions'; add one assumption "
            "per confirmatory hypothesis (hypothesis, expected, ...) to justify the sample size."
        )
    alpha = _one_sided(protocol)
    items = []
    for a in plan.assumptions:
        try:
            h = protocol.hypothesis(a.hypothesis)
        except KeyError:
            raise ProtocolError(
                f"sample_size assumption names hypothesis {a.hypothesis!r}, which is not defined."
            ) from None
        ep = protocol.endpoint(h.endpoint)
        if ep.kind in MRMC_KINDS:
            d = _plan_mrmc(protocol, h, a, alpha)
        else:
            d = _plan_standalone(protocol, h, ep, a, alpha)
        total = d.get("n_total") or d.get("n")
        if total is not None and plan.dropout:
            d["n_enrol"] = int(math.ceil(total / (1.0 - plan.dropout) - 1e-9))
        elif total is not None:
            d["n_enrol"] = int(total)
        items.append({"hypothesis": h.id, "endpoint": ep.id, "kind": ep.kind, "type": h.type,
                      **d})
    needed = [it["n_enrol"] for it in items if it.get("n_enrol") is not None]
    required = max(needed) if needed else None
    adequate = None
    if required is not None and plan.planned_cases is not None:
        adequate = plan.planned_cases >= required
    powers = [float(it["power"]) for it in items if it.get("power") is not None]
    joint = None
    if protocol.multiplicity.procedure == "coprimary" and len(powers) > 1:
        joint = {
            "lower_bound": max(0.0, sum(powers) - (len(powers) - 1)),
            "if_independent": float(math.prod(powers)),
        }
    return {
        "study_id": protocol.study.id,
        "joint_power": joint,
        "alpha_one_sided": alpha,
        "power": plan.power,
        "prevalence": plan.prevalence,
        "dropout": plan.dropout,
        "multiplicity": protocol.multiplicity.procedure,
        "items": items,
        "required_cases": required,
        "planned_cases": plan.planned_cases,
        "adequate": adequate,
    }


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
        line = f"Required: {plan['required_cases']} cases (the largest requirement)."
        typer.echo(line)
    joint = plan.get("joint_power")
    if joint is not None:
        typer.echo(
            f"Co-primary hypotheses must all succeed, each at full alpha: the joint power is "
            f"{joint['if_independent']:.3f} when the endpoints use disjoint cases (sensitivity "
            f"and specificity), and at least {joint['lower_bound']:.3f} in any case"
            + (" (below the target power: plan more cases or a higher power per endpoint)."
               if joint["if_independent"] < plan["power"] else ".")
        )
    if plan["planned_cases"] is not None and plan["adequate"] is not None:
        verdict = "adequate" if plan["adequate"] else "NOT adequate"
        typer.echo(f"Planned: {plan['planned_cases']} cases: {verdict}.")


@protocol_app.command("sample-size")
def sample_size(
    file: Path = typer.Argument(..., help="Protocol YAML file."),
    as_json: bool = typer.Option(False, "--json", help="Print canonical JSON."),
) -> None:
    """Sample-size justification from the protocol's planning assumptions."""
    from validation.commands._common import echo_json
    from validation.protocol import load_protocol

    protocol = load_protocol(file, check_files=False)
    plan = sample_size_plan(protocol)
    if as_json:
        echo_json(plan)
    else:
        _print(plan)


def register(app: typer.Typer) -> None:
    """Nothing to add at the top level: ``sample-size`` lives on the ``protocol`` group."""
