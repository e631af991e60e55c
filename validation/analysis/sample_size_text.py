"""The sample-size plan's sentences: the verdict, the enriched-design verdict and the joint-power
text, written from the plan's numbers (the SAP formats them as they are)."""

from __future__ import annotations

from typing import Any

SCAN_MAX = 400_000
"""Largest study size scanned for the joint-power target."""


def verdict_text(planned: int | None, required: int | None, adequate: bool | None,
             not_computed: list[str], joint: dict[str, Any] | None = None,
             target: float | None = None, no_total: list[str] | None = None,
             unplanned: list[str] | None = None) -> str | None:
    """One sentence on the planned number of cases (or, with none planned, on hypotheses
    without a planning assumption; else ``None``)."""
    if planned is None:
        if unplanned:
            return (f"No planning assumption for {', '.join(unplanned)}, which the multiplicity "
                    f"procedure tests; the study's size is not justified for it.")
        return None
    if not_computed or no_total or unplanned:
        why = []
        if unplanned:
            why.append(f"no planning assumption for {', '.join(unplanned)} (tested by the "
                       f"multiplicity procedure)")
        if not_computed:
            why.append(f"no sample-size computation for {', '.join(not_computed)}")
        if no_total:
            why.append(f"no prevalence to turn the requirement of {', '.join(no_total)} into "
                       f"cases to enrol")
        return (f"Planned: {planned} cases; adequacy not established: {'; '.join(why)}"
                + (f"; the computed hypotheses need {required} cases" if required else "")
                + ".")
    at = (joint or {}).get("at_study_size")
    if not adequate and required is not None and planned >= required and at is not None:
        more = joint.get("cases_for_target") if joint else None
        need = (f"; {more} cases reach it" if more is not None else "")
        return (f"Planned: {planned} cases: NOT adequate: each hypothesis has its required "
                f"number of cases, but their joint power is {at['if_independent']:.3f} (if the "
                f"tests are independent), below the target {target:g}{need}.")
    return f"Planned: {planned} cases: {'adequate' if adequate else 'NOT adequate'}."


def enriched_verdict_text(enriched: dict[str, Any], adequate: bool | None, not_computed: list[str],
                      joint: dict[str, Any] | None, target: float) -> str:
    head = (f"Planned: {enriched['planned_positive']} cases with and "
            f"{enriched['planned_negative']} without the condition")
    if not_computed:
        return (f"{head}; adequacy not established: no sample-size computation for "
                f"{', '.join(not_computed)}.")
    powers = enriched["powers"]
    unknown = [h for h, p in powers.items() if p is None]
    if unknown:
        return (f"{head}; adequacy not established: the power of {', '.join(unknown)} cannot be "
                f"evaluated at the planned counts.")
    each = ", ".join(f"{h} {p:.3f}" for h, p in powers.items())
    if enriched["below_target"]:
        return (f"{head}: NOT adequate: at the planned counts the powers are {each}; "
                f"{', '.join(enriched['below_target'])} below the target {target:g}.")
    at = (joint or {}).get("at_study_size")
    if not adequate and at is not None:
        return (f"{head}: NOT adequate: each hypothesis reaches the target ({each}), but their "
                f"joint power is {at['if_independent']:.3f} (if the tests are independent), "
                f"below the target {target:g}.")
    return f"{head}: adequate (powers at the planned counts: {each})."


def joint_missing_text(procedure: str, no_power: list[str]) -> str:
    lead = ("Co-primary hypotheses must all succeed" if procedure == "coprimary" else
            "In the fixed sequence the last hypothesis is rejected only when all are")
    return (f"{lead}; their joint power cannot be established because no power was computed "
            f"for {', '.join(no_power)}.")


def joint_text(procedure: str, joint: dict[str, Any], target: float) -> str:
    lead = ("Co-primary hypotheses must all succeed, each at full alpha"
            if procedure == "coprimary" else
            "In the fixed sequence each hypothesis is tested at full alpha only after every "
            "earlier one succeeded, so the last is rejected only when all are")
    at = joint.get("at_study_size")
    if at is None:
        low = (" (below the target: the study needs more than the largest single requirement "
               "for this joint power)" if joint["if_independent"] < target else "")
        return (f"{lead}. At the sizes required above (a power at the study's size cannot be "
                f"computed for every hypothesis), the joint power is "
                f"{joint['if_independent']:.3f} if the tests are independent and at least "
                f"{joint['lower_bound']:.3f} whatever their dependence{low}.")
    each = ", ".join(f"{h} {p:.3f}" for h, p in at["powers"].items())
    drop = " after drop-out" if at["cases"] != at["evaluable"] else ""
    mix = ("in the planned proportion" if at.get("mix") == "planned"
           else "at their expected numbers")
    text = (f"{lead}. With the {at['basis']} {at['cases']} cases ({at['evaluable']} evaluable"
            f"{drop}; those with and without the condition {mix}) "
            f"the powers are {each}; the joint power is "
            f"{at['if_independent']:.3f} if the tests are independent (e.g. sensitivity and "
            f"specificity, on disjoint cases; positively related tests, such as two hypotheses "
            f"on the same sensitivity, do at least as well) and at least "
            f"{at['lower_bound']:.3f} whatever their dependence.")
    more = joint.get("cases_for_target")
    if at["if_independent"] < target:
        text += f" This is below the target {target:g}."
    text += " " + (f"From {more} cases on, the joint power is at least {target:g} if the "
                   f"tests are independent." if more is not None else
                   f"No size up to four times the larger of the planned and the required size "
                   f"(at most {SCAN_MAX:,} cases) gives a joint power of {target:g}.")
    return text
