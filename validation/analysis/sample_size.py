"""The sample-size justification of a protocol, as plain data (analysis layer).

Sample-size planning is analysis: it maps each hypothesis's endpoint to a planning call of
:mod:`validation.stats`, as the engine maps it to an analysis call. The engine writes
:func:`sample_size_section` to ``results.json`` under ``sample_size``; the SAP and the report
format that plain data and never compute it again; ``validation protocol sample-size`` prints it.

For every planning assumption in the protocol's ``sample_size`` section: find the hypothesis
and its endpoint, compute the required number of cases with :mod:`validation.stats.sample_size`
(or :mod:`validation.stats.mrmc.sample_size` for reader studies), inflate it for prevalence and
drop-out, and compare it with the planned numbers. Each item carries the paragraph a reviewer
expects (``justification``).
"""

from __future__ import annotations

import math
from typing import Any

from validation.analysis.sample_size_text import (
    SCAN_MAX,
    enriched_verdict_text,
    joint_missing_text,
    joint_text,
    verdict_text,
)
from validation.protocol.vocabulary import MRMC_KINDS, PROPORTION_KINDS

POWER_FN = "_power_at_evaluable"  # internal: power at N evaluable cases, dropped from the output


def _plan_standalone(protocol: Any, h: Any, ep: Any, a: Any, alpha: float) -> dict[str, Any]:
    from validation.stats import sample_size as ss

    plan = protocol.sample_size
    if h.type == "equivalence":
        return {"note": f"no sample-size formula here for an equivalence hypothesis on "
                        f"{ep.kind}; justify the size in the protocol's notes."}
    if h.goal is None:
        return {"note": f"no sample-size formula for a {h.type} hypothesis on {ep.kind} "
                        "without a fixed reference; justify it in the protocol's notes."}
    if ep.kind in ("ppv", "npv"):
        return {"note": f"no sample-size formula here for a {ep.kind.upper()} goal: its "
                        f"denominator (cases called {'positive' if ep.kind == 'ppv' else 'negative'}"
                        ") depends on the model's calls; justify the size in the protocol's "
                        "notes."}
    null = h.null_value()
    prevalence = plan.prevalence
    if ep.kind in PROPORTION_KINDS:
        endpoint = ep.kind
        inflate = prevalence if ep.kind in ("sensitivity", "specificity") else None
        method = "normal" if (plan.method and "normal" in plan.method.lower()) else "exact"
        res = ss.proportion_vs_goal_sample_size(a.expected, null, alpha=alpha, power=plan.power,
                                    method=method, endpoint=endpoint, prevalence=inflate)
    elif ep.kind == "auc":
        ratio = (1.0 - prevalence) / prevalence if prevalence else 1.0
        res = ss.auc_vs_value_sample_size(a.expected, null, alpha=alpha, power=plan.power, ratio=ratio,
                              prevalence=prevalence)
    else:
        return {"note": f"endpoint kind {ep.kind!r} has no sample-size formula here."}
    return res.to_dict() | {POWER_FN: _units_power(res, ep.kind, study_share(plan))}


def study_share(plan: Any) -> float | None:
    """Share of cases with the condition in the planned study: the planned counts when both
    are given (an enriched design), else the assumed prevalence."""
    pos, neg = plan.planned_positive, plan.planned_negative
    if pos is not None and neg is not None:
        return float(pos) / float(pos + neg)
    return float(plan.prevalence) if plan.prevalence is not None else None


def _units_power(res: Any, kind: str, share: float | None) -> Any:
    """Power at ``N`` evaluable cases (array), or ``None`` when ``N`` cannot be mapped to the
    design's unit (no case mix for a sensitivity or specificity; PPV and NPV, whose
    denominators depend on the calls).

    ``share`` of the cases have the condition. An AUC design keeps its planned ratio of
    negatives to positives ``k``: with another case mix it is evaluated at
    ``min(positives, negatives / k)`` positives (conservative: the surplus of one class is
    not credited).
    """
    import numpy as np

    from validation.stats.sample_size import power_at

    if kind in ("sensitivity", "specificity"):
        if share is None:
            return None
        frac = share if kind == "sensitivity" else 1.0 - share
    elif kind == "accuracy":
        frac = 1.0
    elif kind == "auc":
        s = share if share is not None else 0.5
        k = float(res.assumptions["ratio"])

        def auc_power(evaluable: Any) -> Any:
            e = np.asarray(evaluable, dtype=float)
            pos = np.floor(e * s + 1e-9)
            neg = np.floor(e * (1.0 - s) + 1e-9)
            return power_at(res, np.minimum(pos, np.floor(neg / k + 1e-9)))

        return auc_power
    else:
        return None

    def power(evaluable: Any) -> Any:
        return power_at(res, np.floor(np.asarray(evaluable, dtype=float) * frac + 1e-9))

    return power


def _plan_paired(protocol: Any, h: Any, ep: Any, a: Any, alpha: float) -> dict[str, Any]:
    """A standalone endpoint against a comparator read on the same cases."""
    from validation.stats import sample_size as ss

    plan = protocol.sample_size
    if h.type == "equivalence":
        return {"note": f"no sample-size formula for an equivalence hypothesis against the "
                        f"comparator in column {h.comparator_column!r}; justify it in the "
                        "protocol's notes."}
    missing = [k for k in ("comparator_expected", "correlation") if getattr(a, k) is None]
    if missing:
        return {"note": f"paired comparison with the comparator in column "
                        f"{h.comparator_column!r}: missing {', '.join(missing)}. Give the "
                        "comparator's expected value and the correlation of the two readings "
                        "(for an AUC: of the two AUC estimates)."}
    margin = float(h.margin) if h.type == "noninferiority" else None
    prevalence = plan.prevalence
    if ep.kind == "auc":
        ratio = (1.0 - prevalence) / prevalence if prevalence else 1.0
        res = ss.auc_difference_sample_size(a.expected, a.comparator_expected, correlation=a.correlation,
                                margin=margin, alpha=alpha, power=plan.power, ratio=ratio)
        return res.to_dict() | {POWER_FN: _units_power(res, "auc", study_share(plan))}
    else:
        p10, p01 = ss.discordant_probabilities(a.expected, a.comparator_expected, a.correlation)
        res = ss.paired_difference_sample_size(p10, p01, margin=margin, alpha=alpha, power=plan.power,
                                   endpoint=ep.kind, prevalence=prevalence)
        d = res.to_dict()
        d["justification"] = (
            f"An expected {ep.kind} of {a.expected:.4g} for the model and {a.comparator_expected:.4g} "
            f"for the comparator (column {h.comparator_column}), with a correlation of "
            f"{a.correlation:.3g} between their calls, gives the discordant proportions below. "
            + d["justification"])
        return d | {POWER_FN: _units_power(res, ep.kind, study_share(plan))}


def _plan_mrmc(protocol: Any, h: Any, a: Any, alpha: float) -> dict[str, Any]:
    plan = protocol.sample_size
    if h.type in ("equivalence", "performance_goal"):
        return {"note": f"no sample-size formula here for an MRMC {h.type.replace('_', ' ')} "
                        "hypothesis (the Obuchowski-Rockette power is for a difference between "
                        "modalities); justify the size in the protocol's notes."}
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

    # the test is of the difference shifted to its null boundary: + margin for
    # non-inferiority (H0: d <= -margin), - margin for superiority by a margin (H0: d <= margin)
    margin = float(h.margin) if h.margin is not None else 0.0
    shift = margin if h.type == "noninferiority" else -margin
    effect = float(a.expected) - float(a.comparator_expected) + shift
    res = mrmc_sample_size(effect=effect, n_readers=int(a.n_readers),
                           var_tr=float(vc["var_tr"]), var=float(vc["var"]),
                           cov1=float(vc["cov1"]), cov2=float(vc["cov2"]),
                           cov3=float(vc["cov3"]), pilot_cases=int(pilot), power=plan.power,
                           alpha=2.0 * alpha)
    d = res.to_dict()
    d["n"] = res.n_cases
    d["unit"] = "cases (each read by every reader in both modalities)"
    inputs: dict[str, Any] = {
        "effect": effect, "n_readers": int(a.n_readers), "var_tr": float(vc["var_tr"]),
        "var": float(vc["var"]), "cov1": float(vc["cov1"]), "cov2": float(vc["cov2"]),
        "cov3": float(vc["cov3"]), "pilot_cases": int(pilot), "alpha": 2.0 * alpha,
        "analysis": "rrrc",
    }

    def power(evaluable: Any) -> Any:
        import numpy as np

        from validation.stats.mrmc.sample_size import mrmc_power_curve

        k = np.floor(np.asarray(evaluable, dtype=float) + 1e-9)
        return np.where(k >= 2, mrmc_power_curve(np.maximum(k, 2.0), **inputs), 0.0)

    d[POWER_FN] = power
    d["justification"] = (
        f"The difference of the mean AUC between modalities is tested by the Obuchowski-Rockette "
        f"method with random readers and cases (Hillis degrees of freedom) at one-sided alpha = "
        f"{alpha:g} (a two-sided F test at {2 * alpha:g}). Assuming AUCs of {a.expected:.4g} and "
        f"{a.comparator_expected:.4g}"
        f"{f' and a {h.type} margin of {margin:g}' if margin else ''}, "
        f"{int(a.n_readers)} readers and {res.n_cases} cases give a power of {res.power:.3f} "
        f"(target {plan.power:g}), from pilot variance components of {int(pilot)} cases "
        "(Hillis, Obuchowski and Berbaum 2011)."
    )
    return d


def sample_size_plan(protocol: Any, *, strict: bool = True) -> dict[str, Any]:
    """The sample-size justification of ``protocol`` as plain data.

    ``strict``: an assumption whose computation fails raises :class:`ProtocolError` naming it
    (the command line); with ``strict=False`` (the SAP) it becomes that item's note, the other
    items are still computed, and adequacy is left open.
    """
    from validation.errors import InputError, ProtocolError

    plan = protocol.sample_size
    if plan is None or not plan.assumptions:
        raise ProtocolError(
            "the protocol has no 'sample_size' section with 'assumptions'; add one assumption "
            "per confirmatory hypothesis (hypothesis, expected, ...) to justify the sample size."
        )
    alpha = protocol.one_sided_level
    items = []
    for i, a in enumerate(plan.assumptions):
        try:
            h = protocol.hypothesis(a.hypothesis)
        except KeyError:
            raise ProtocolError(
                f"sample_size.assumptions[{i}] names hypothesis {a.hypothesis!r}, which is not "
                "defined."
            ) from None
        ep = protocol.endpoint(h.endpoint)
        try:
            if ep.kind in MRMC_KINDS:
                d = _plan_mrmc(protocol, h, a, alpha)
            elif h.comparator_column is not None:
                d = _plan_paired(protocol, h, ep, a, alpha)
            else:
                d = _plan_standalone(protocol, h, ep, a, alpha)
            if ep.unit == "finding" and ep.kind not in MRMC_KINDS and "n" in d:
                _clustered(d, a)
        except InputError as exc:
            where = f"sample_size.assumptions[{i}] (hypothesis {h.id}, endpoint {ep.id})"
            if strict:
                raise ProtocolError(f"{where}: {exc}") from None
            d = {"note": f"The sample size cannot be computed from {where}: {exc}"}
        total = d.get("n_total") or d.get("n")
        if (d.get("n_total") is None and "n" in d and ep.kind in ("sensitivity", "specificity")
                and ep.kind not in MRMC_KINDS):
            # a count of cases with (or without) the condition is not a number of cases to
            # enrol: without a prevalence it cannot be compared with the planned cases
            total = None
            note = (f"Without sample_size.prevalence the requirement counts cases "
                    f"{'with' if ep.kind == 'sensitivity' else 'without'} the condition; the "
                    f"number of cases to enrol depends on the prevalence.")
            d["caveat"] = f"{d['caveat']} {note}" if d.get("caveat") else note
            d["justification"] = f"{d['justification']} {note}"
        if total is not None and plan.dropout:
            d["n_enrol"] = int(math.ceil(total / (1.0 - plan.dropout) - 1e-9))
        elif total is not None:
            d["n_enrol"] = int(total)
        items.append({"hypothesis": h.id, "endpoint": ep.id, "kind": ep.kind, "type": h.type,
                      **d})
    needed = [it["n_enrol"] for it in items if it.get("n_enrol") is not None]
    required = max(needed) if needed else None
    # an item without a computation leaves the study's requirement open, as does one whose
    # requirement cannot be turned into cases to enrol (no prevalence)
    not_computed = [str(it["hypothesis"]) for it in items if "n" not in it]
    no_total = [str(it["hypothesis"]) for it in items
                if "n" in it and it.get("n_enrol") is None]
    # confirmatory hypotheses (the multiplicity family) without a planning assumption leave
    # the study's size open too
    planned_ids = {str(a.hypothesis) for a in plan.assumptions}
    family = list(protocol.multiplicity.family()) or [
        h.id for h in protocol.hypotheses
        if protocol.endpoint(h.endpoint).role in ("primary", "secondary")]
    unplanned = [str(hid) for hid in family if str(hid) not in planned_ids]
    adequate = None
    enriched = _enriched(plan, items)
    if unplanned:
        pass  # adequacy stays open
    elif enriched is not None:
        adequate = enriched["adequate"] if not not_computed else None
    elif (required is not None and plan.planned_cases is not None and not not_computed
          and not no_total):
        adequate = plan.planned_cases >= required
    # co-primary: success needs every hypothesis; fixed sequence: the last one is reached and
    # rejected only when every earlier one is, so its unconditional power is the joint power
    procedure = protocol.multiplicity.procedure
    joint: dict[str, Any] | None = None
    if procedure in ("coprimary", "fixed_sequence") and len(items) > 1:
        joint = _joint_power(procedure, items, plan, required)
        if adequate and joint.get("at_study_size") is not None:
            adequate = joint["at_study_size"]["if_independent"] >= plan.power
    for it in items:
        it.pop(POWER_FN, None)
    split = _split_alpha_note(protocol, alpha)
    units = {protocol.endpoint(str(it["endpoint"])).unit for it in items}
    mixed = ("Finding-level hypotheses count findings and patient-level ones count patients "
             "(cases); the largest requirement and the planned cases compare numbers in both "
             "units, so check each against its own unit."
             if {"finding", "patient"} <= units else None)
    verdict = verdict_text(plan.planned_cases, required, adequate, not_computed, joint, plan.power,
                       no_total, unplanned)
    if enriched is not None and not unplanned:
        verdict = enriched_verdict_text(enriched, adequate, not_computed, joint, plan.power)
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
        "not_computed": not_computed,
        "without_assumption": unplanned,
        "no_total": no_total,
        "enriched": enriched,
        "multiplicity_note": split,
        "units_note": mixed,
        "verdict": verdict,
    }


def _split_alpha_note(protocol: Any, alpha: float) -> str | None:
    """Holm, Hochberg and graphical procedures start below the full alpha: say so."""
    mult = protocol.multiplicity
    procedure = str(mult.procedure)
    family = list(mult.family())
    if procedure in ("holm", "hochberg") and len(family) > 1:
        k = len(family)
        return (f"Each hypothesis is sized above at the full one-sided alpha = {alpha:g}. Under "
                f"the {procedure.capitalize()} procedure a hypothesis can be rejected at the full "
                f"alpha only when the others are; with none of them rejected the smallest p-value "
                f"is compared with alpha / {k} = {alpha / k:.4g}. Sizing each hypothesis at "
                f"alpha / {k} gives a plan that holds whatever the others show.")
    if procedure == "graphical":
        weights = mult.weights or {}
        local = ", ".join(f"{h} {float(w) * alpha:.4g}" for h, w in weights.items()
                          if float(w) > 0)
        later = [str(h) for h, w in weights.items() if float(w) == 0]
        tail = (f"; {', '.join(later)} start{'s' if len(later) == 1 else ''} with no alpha and "
                f"{'is' if len(later) == 1 else 'are'} tested only with alpha passed on"
                if later else "")
        return (f"Each hypothesis is sized above at the full one-sided alpha = {alpha:g}. In the "
                f"graphical procedure a hypothesis starts at its weight times alpha ({local}"
                f"{tail}) and reaches more only when alpha is passed on from rejected "
                f"hypotheses; sizing each hypothesis with initial alpha at that level gives a "
                f"plan that holds whatever the others show.")
    return None


def _enriched(plan: Any, items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """An enriched design (planned_positive and planned_negative): each hypothesis's power at
    the planned counts, which decide adequacy (the totals above assume the prevalence)."""
    import numpy as np

    pos, neg = plan.planned_positive, plan.planned_negative
    if pos is None or neg is None:
        return None
    keep = 1.0 - float(plan.dropout or 0.0)
    evaluable = np.array([np.floor((pos + neg) * keep + 1e-9)])
    powers: dict[str, float | None] = {}
    for it in items:
        fn = it.get(POWER_FN)
        powers[str(it["hypothesis"])] = None if fn is None else float(fn(evaluable)[0])
    known = [p for p in powers.values() if p is not None]
    short = [h for h, p in powers.items() if p is not None and p < plan.power]
    out: dict[str, Any] = {
        "planned_positive": int(pos), "planned_negative": int(neg),
        "evaluable": int(evaluable[0]), "share_with_condition": float(pos) / float(pos + neg),
        "powers": powers, "below_target": short,
        "adequate": (not short) if len(known) == len(powers) else (False if short else None),
    }
    if plan.prevalence is not None and abs(out["share_with_condition"] - plan.prevalence) > 1e-9:
        out["note"] = (f"The planned counts enrich the study to {out['share_with_condition']:.4g} "
                       f"with the condition (the assumed prevalence is {plan.prevalence:g}); the "
                       "totals per hypothesis assume the prevalence, while adequacy is judged at "
                       "the planned counts.")
    return out


def _asarray(x: Any) -> Any:
    import numpy as np

    return np.asarray(x, dtype=float)


def _joint_power(procedure: str, items: list[dict[str, Any]], plan: Any,
                 required: int | None) -> dict[str, Any]:
    """Joint power of hypotheses that must all succeed, at the study's size.

    The study size is the planned number of cases (else the largest requirement), less the
    drop-out; each hypothesis's power is evaluated there (its own unit: cases with or without
    the condition by the prevalence, findings by the design effect). With power functions for
    every item, also the smallest size (scanning up to four times the largest requirement) from
    which the joint power, if the tests are independent, stays at or above the target.
    """
    import numpy as np

    no_power = [str(it["hypothesis"]) for it in items if it.get("power") is None]
    if no_power:
        return {"lower_bound": None, "if_independent": None, "at_study_size": None,
                "text": joint_missing_text(procedure, no_power)}
    fns = [it.get(POWER_FN) for it in items]
    keep = 1.0 - float(plan.dropout or 0.0)
    planned = plan.planned_cases
    if planned is None and plan.planned_positive is not None and plan.planned_negative is not None:
        planned = plan.planned_positive + plan.planned_negative
    size = planned if planned is not None else required
    joint: dict[str, Any] = {"at_study_size": None, "cases_for_target": None}
    if size is not None and all(f is not None for f in fns):
        evaluable = np.array([np.floor(size * keep + 1e-9)])
        powers = [float(f(evaluable)[0]) for f in fns]  # type: ignore[misc]
        joint["at_study_size"] = {
            "cases": int(size),
            "evaluable": int(evaluable[0]),
            "basis": "planned" if planned is not None else "required",
            "mix": ("planned" if plan.planned_positive is not None
                    and plan.planned_negative is not None else "expected"),
            "powers": {str(it["hypothesis"]): p for it, p in zip(items, powers, strict=True)},
            "if_independent": float(math.prod(powers)),
            "lower_bound": max(0.0, sum(powers) - (len(powers) - 1)),
        }
        # scan 1 .. 4 x the larger of the planned and required sizes (not beyond SCAN_MAX)
        grid = np.arange(1, min(4 * int(max(required or size, size)), SCAN_MAX) + 1)
        product = np.prod([f(np.floor(grid * keep + 1e-9)) for f in fns], axis=0)  # type: ignore[misc]
        bad = np.flatnonzero(product < plan.power)
        if bad.size == 0:
            joint["cases_for_target"] = int(grid[0])
        elif bad[-1] + 1 < grid.size:
            joint["cases_for_target"] = int(grid[bad[-1] + 1])
    own = [float(it["power"]) for it in items]
    joint["if_independent"] = (joint["at_study_size"] or {}).get("if_independent",
                                                                 float(math.prod(own)))
    joint["lower_bound"] = (joint["at_study_size"] or {}).get(
        "lower_bound", max(0.0, sum(own) - (len(own) - 1)))
    joint["text"] = joint_text(procedure, joint, plan.power)
    return joint


def _clustered(d: dict[str, Any], a: Any) -> None:
    """Inflate a requirement counted in findings by the design effect, or say it was not."""
    from validation.stats.sample_size import design_effect

    if a.cluster_size is None or a.icc is None:
        note = ("Findings are counted as independent here; with several findings per patient "
                "give 'cluster_size' and 'icc' in the assumption to inflate the requirement by "
                "the design effect 1 + (cluster_size - 1) x icc.")
        d["caveat"] = note
        d["justification"] = f"{d['justification']} {note}"
        return
    m, icc = float(a.cluster_size), float(a.icc)
    deff = design_effect(m, icc)
    inner = d.get(POWER_FN)
    if inner is not None:
        d[POWER_FN] = lambda evaluable: inner(_asarray(evaluable) / deff)
    d["n_independent"] = {"n": d["n"], "n_total": d.get("n_total")}
    d["design_effect"] = deff
    d["n"] = int(math.ceil(d["n"] * deff - 1e-9))
    if d.get("n_total") is not None:
        d["n_total"] = int(math.ceil(d["n_total"] * deff - 1e-9))
    findings = d.get("n_total") or d["n"]
    d["patients"] = int(math.ceil(findings / m - 1e-9))
    d["justification"] = (
        f"{d['justification']} Findings are clustered within patients ({m:g} per patient, "
        f"intra-patient correlation {icc:g}): the design effect 1 + ({m:g} - 1) x {icc:g} = "
        f"{deff:.4g} (Kish 1965; Donner and Klar 2000) raises this to {findings} findings, "
        f"about {d['patients']} patients."
    )


def sample_size_section(protocol: Any) -> dict[str, Any] | None:
    """The ``sample_size`` key of ``results.json`` (and the SAP's plain plan).

    ``None`` when the protocol states no planning assumptions. Otherwise the plan of
    :func:`sample_size_plan` (``strict=False``: an item that cannot be computed carries its
    reason) as plain JSON data, or ``{"error": message}`` when the plan as a whole cannot be
    formed.
    """
    from validation.errors import ValidationError as SuiteError
    from validation.stats import to_plain

    plan = protocol.sample_size
    if plan is None or not plan.assumptions:
        return None
    try:
        out = sample_size_plan(protocol, strict=False)
    except SuiteError as exc:
        return {"error": str(exc)}
    return dict(to_plain(out))


def sample_size_of_locked(protocol_data: Any) -> dict[str, Any] | None:
    """:func:`sample_size_section` of a locked protocol's canonical data (``validation protocol
    sap``): ``None`` without planning assumptions, ``{"error": ...}`` if it does not validate."""
    from collections.abc import Mapping

    from pydantic import ValidationError as ModelError

    from validation.protocol import Protocol

    if not isinstance(protocol_data, Mapping):
        return None
    sample = protocol_data.get("sample_size")
    if not isinstance(sample, Mapping) or not sample.get("assumptions"):
        return None
    try:
        protocol = Protocol.model_validate(protocol_data)
    except ModelError as exc:
        return {"error": str(exc)}
    return sample_size_section(protocol)
