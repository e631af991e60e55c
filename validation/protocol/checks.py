"""Cross-field and planning checks of a protocol, on plain data.

They relate sections to one another (a hypothesis naming an endpoint, a reader endpoint
needing a reader study, the multiplicity family naming hypotheses, planning assumptions inside
their hypothesis's alternative) and work on the YAML-loaded mapping, so that
``validation protocol check`` reports them together with the model's type errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from validation.errors import did_you_mean
from validation.protocol.consistency import consistency_problems
from validation.protocol.graph_checks import graph_problem_locations
from validation.protocol.vocabulary import (
    HYPOTHESIS_TYPES,
    MRMC_KINDS,
    PAIRED_COMPARATOR_KINDS,
    PROPORTION_KINDS,
    READER_KINDS,
    RESERVED_CASE_COLUMNS,
    Loc,
    endpoint_kinds,
    format_number,
    null_bounds,
)

# --------------------------------------------------------------------------------------------
# cross-field checks (plain data in, so they also run when other parts failed to validate)

def cross_field_problems(data: Any) -> list[tuple[Loc, str]]:
    """Problems that relate sections of a protocol to one another.

    Works on the plain (YAML-loaded) mapping and tolerates sections that are missing or
    malformed (those are reported by the model itself). Returns ``(location, message)`` pairs.
    """
    out: list[tuple[Loc, str]] = []
    if not isinstance(data, Mapping):
        return out
    from validation.protocol.localization import localization_problems

    out.extend(localization_problems(data))

    def items(key: str) -> list[tuple[int, Mapping[str, Any]]]:
        seq = data.get(key)
        if not isinstance(seq, list):
            return []
        return [(i, x) for i, x in enumerate(seq) if isinstance(x, Mapping)]

    # duplicate ids
    for section in ("endpoints", "hypotheses", "subgroups"):
        seen: dict[Any, int] = {}
        for i, x in items(section):
            key = x.get("id")
            if not isinstance(key, str):
                continue
            if key in seen:
                out.append(
                    ((section, i, "id"), f"duplicate id {key!r} (also {section}[{seen[key]}])")
                )
            else:
                seen[key] = i
    pops = data.get("populations")
    if isinstance(pops, list):
        seen_p: set[Any] = set()
        for i, p in enumerate(pops):
            if isinstance(p, str) and p in seen_p:
                out.append((("populations", i), f"duplicate population {p!r}"))
            seen_p.add(p)
    else:
        pops = ["all_eligible"] if pops is None else []

    endpoints = {x.get("id"): x for _, x in items("endpoints") if isinstance(x.get("id"), str)}
    hyps = {x.get("id"): x for _, x in items("hypotheses") if isinstance(x.get("id"), str)}
    reader = data.get("reader_study")
    modalities: list[Any] = []
    if isinstance(reader, Mapping) and isinstance(reader.get("modalities"), list):
        modalities = list(reader["modalities"])
    loc = data.get("localization")
    loc_modalities: list[Any] = (list(loc["modalities"]) if isinstance(loc, Mapping)
                                 and isinstance(loc.get("modalities"), list) else [])

    # endpoints needing a reader study; populations
    for i, e in items("endpoints"):
        kind = e.get("kind")
        if kind in READER_KINDS and not isinstance(reader, Mapping):
            out.append(
                (
                    ("endpoints", i, "kind"),
                    f"endpoint {e.get('id')!r} of kind {kind!r} needs a 'reader_study' section "
                    f"(ratings, modalities); the protocol has none. Add one, or use a standalone "
                    f"kind ({', '.join(k for k in endpoint_kinds() if k not in READER_KINDS)})",
                )
            )
        pop = e.get("population")
        if isinstance(pop, str) and isinstance(pops, list) and pop not in pops:
            out.append(
                (
                    ("endpoints", i, "population"),
                    f"population {pop!r} is not listed in 'populations' "
                    f"({', '.join(map(str, pops)) or 'none'}).{did_you_mean(pop, pops)}",
                )
            )

    # hypotheses against endpoints
    for i, h in items("hypotheses"):
        ep_id = h.get("endpoint")
        if not isinstance(ep_id, str):
            continue
        if ep_id not in endpoints:
            out.append(
                (
                    ("hypotheses", i, "endpoint"),
                    f"hypothesis {_hid(h, i)} names endpoint {ep_id!r}, which is not defined; "
                    f"defined endpoints: {', '.join(map(str, endpoints)) or 'none'}."
                    f"{did_you_mean(ep_id, list(endpoints))}",
                )
            )
            continue
        kind = endpoints[ep_id].get("kind")
        htype = h.get("type")
        comparative = htype in ("noninferiority", "superiority", "equivalence")
        if kind in MRMC_KINDS or kind == "mrmc_wafroc":  # JAFROC compares modalities too
            hmods = loc_modalities if kind == "mrmc_wafroc" else modalities
            if comparative and h.get("goal") is not None:
                out.append(
                    (
                        ("hypotheses", i, "goal"),
                        f"a {htype} hypothesis on MRMC endpoint {ep_id!r} compares the "
                        f"reader-study modalities; 'goal' does not apply (remove it)",
                    )
                )
            comp = h.get("comparator")
            if comp is not None and hmods and comp not in hmods:
                out.append(
                    (
                        ("hypotheses", i, "comparator"),
                        f"'comparator' must be one of the reader-study modalities "
                        f"({', '.join(map(str, hmods))}); got {comp!r}."
                        f"{did_you_mean(str(comp), hmods)}",
                    )
                )
            if comp is not None and len(hmods) == 2 and comp == hmods[1]:
                out.append(
                    (
                        ("hypotheses", i, "comparator"),
                        f"'comparator' {comp!r} is the test modality itself; the reference "
                        f"must be {hmods[0]!r}",
                    )
                )
            if h.get("comparator_column") is not None:
                out.append(
                    (
                        ("hypotheses", i, "comparator_column"),
                        f"'comparator_column' applies only to standalone endpoints; endpoint "
                        f"{ep_id!r} is {kind!r}, whose comparison is between reader-study "
                        f"modalities (use 'comparator')",
                    )
                )
        else:
            if h.get("comparator") is not None:
                out.append(
                    (
                        ("hypotheses", i, "comparator"),
                        f"'comparator' applies only to MRMC endpoints; endpoint {ep_id!r} is "
                        f"{kind!r}. For a standalone comparison give the reference value in "
                        f"'goal', or the manifest column of a comparator read on the same cases "
                        f"in 'comparator_column'",
                    )
                )
            col = h.get("comparator_column")
            if col is not None and kind not in PAIRED_COMPARATOR_KINDS:
                out.append(
                    (
                        ("hypotheses", i, "comparator_column"),
                        f"a comparator read on the same cases can be compared for "
                        f"{', '.join(PAIRED_COMPARATOR_KINDS)}; endpoint {ep_id!r} is {kind!r}. "
                        f"Give a fixed reference value in 'goal' instead",
                    )
                )
            if comparative and h.get("goal") is None and col is None:
                out.append(
                    (
                        ("hypotheses", i, "goal"),
                        f"a {htype} hypothesis on standalone endpoint {ep_id!r} needs a "
                        f"reference: a fixed value in 'goal' (e.g. the predicate's performance) "
                        f"or the manifest column of a comparator read on the same cases in "
                        f"'comparator_column'",
                    )
                )

    # multiplicity family
    mult = data.get("multiplicity")
    family: list[str] = []
    if isinstance(mult, Mapping):
        for name in ("order", "hypotheses"):
            seq = mult.get(name)
            if isinstance(seq, list):
                for j, hid in enumerate(seq):
                    if isinstance(hid, str) and hid not in hyps:
                        out.append(
                            (
                                ("multiplicity", name, j),
                                f"{name} names hypothesis {hid!r}, which is not defined; "
                                f"defined: {', '.join(map(str, hyps)) or 'none'}."
                                f"{did_you_mean(hid, list(hyps))}",
                            )
                        )
                    elif isinstance(hid, str):
                        family.append(hid)
        for name in ("weights", "transitions"):
            m = mult.get(name)
            if isinstance(m, Mapping):
                for hid in m:
                    if isinstance(hid, str) and hid not in hyps:
                        out.append(
                            (
                                ("multiplicity", name, hid),
                                f"{name} names hypothesis {hid!r}, which is not defined."
                                f"{did_you_mean(hid, list(hyps))}",
                            )
                        )
                    elif name == "weights" and isinstance(hid, str):
                        family.append(hid)
        procedure = mult.get("procedure")
        weights, transitions = mult.get("weights"), mult.get("transitions")
        if procedure == "graphical" and isinstance(weights, Mapping):
            graph = graph_problem_locations(
                weights, transitions if isinstance(transitions, Mapping) else {})
            out.extend((("multiplicity", *loc), msg) for loc, msg in graph)
    else:
        procedure = "none" if mult is None else None

    confirmatory = [
        (i, h)
        for i, h in items("hypotheses")
        if isinstance(h.get("endpoint"), str)
        and isinstance(endpoints.get(h["endpoint"]), Mapping)
        and endpoints[h["endpoint"]].get("role", "exploratory") in ("primary", "secondary")
    ]
    if procedure == "none" and len(confirmatory) > 1:
        out.append(
            (
                ("multiplicity", "procedure"),
                f"{len(confirmatory)} hypotheses test primary or secondary endpoints "
                f"({', '.join(_hid(h, i).strip(chr(39)) for i, h in confirmatory)}); choose "
                f"a procedure "
                f"(fixed_sequence, holm, hochberg, graphical or coprimary) to control the "
                f"family-wise error rate",
            )
        )
    elif procedure not in (None, "none"):
        for i, h in confirmatory:
            if h.get("id") not in family and isinstance(h.get("id"), str):
                out.append(
                    (
                        ("hypotheses", i, "id"),
                        f"hypothesis {_hid(h, i)} tests a {endpoints[h['endpoint']].get('role')}"
                        f" endpoint but is not in the multiplicity procedure's family; add it, "
                        f"or make its endpoint exploratory",
                    )
                )

    # sample-size assumptions name hypotheses
    ss = data.get("sample_size")
    if isinstance(ss, Mapping) and isinstance(ss.get("assumptions"), list):
        for j, a in enumerate(ss["assumptions"]):
            if isinstance(a, Mapping) and isinstance(a.get("hypothesis"), str):
                hid = a["hypothesis"]
                if hid not in hyps:
                    out.append(
                        (
                            ("sample_size", "assumptions", j, "hypothesis"),
                            f"names hypothesis {hid!r}, which is not defined."
                            f"{did_you_mean(hid, list(hyps))}",
                        )
                    )
                    continue
                clustered = [k for k in ("cluster_size", "icc") if a.get(k) is not None]
                if not clustered:
                    continue
                ep = endpoints.get(hyps[hid].get("endpoint"), {})
                if ep.get("unit", "patient") != "finding":
                    out.append(
                        (
                            ("sample_size", "assumptions", j, clustered[0]),
                            f"'cluster_size' and 'icc' inflate a sample size counted in "
                            f"findings; hypothesis {hid!r} tests endpoint "
                            f"{hyps[hid].get('endpoint')!r}, which is counted per patient",
                        )
                    )
                elif len(clustered) == 1:
                    other = "icc" if clustered[0] == "cluster_size" else "cluster_size"
                    out.append(
                        (
                            ("sample_size", "assumptions", j, other),
                            f"'{clustered[0]}' is given without '{other}'; the design effect "
                            f"1 + (cluster_size - 1) x icc needs both",
                        )
                    )

    out.extend(_null_value_problems(data, items, endpoints))
    out.extend(_planning_problems(data, hyps, endpoints))

    # exclusions and indeterminate columns should not be the identifier columns
    ts = data.get("test_set")
    if isinstance(ts, Mapping) and isinstance(ts.get("identifier_columns"), list):
        ids = set(c for c in ts["identifier_columns"] if isinstance(c, str))
        for i, sg in items("subgroups"):
            if sg.get("column") in ids:
                out.append(
                    (
                        ("subgroups", i, "column"),
                        f"subgroup column {sg.get('column')!r} is an identifier column; "
                        f"identifiers never appear in outputs",
                    )
                )
    # a comparator's reading is data of its own, not a column the engine already uses
    ids = set()
    flags: dict[str, str] = {}
    if isinstance(ts, Mapping):
        if isinstance(ts.get("identifier_columns"), list):
            ids = set(c for c in ts["identifier_columns"] if isinstance(c, str))
        ind = ts.get("indeterminate")
        ind_col = ind.get("column") if isinstance(ind, Mapping) else None
        flags["non_diagnostic" if ind_col is None else str(ind_col)] = "indeterminate flag"
        if isinstance(ts.get("exclusions"), list):
            for e in ts["exclusions"]:
                if isinstance(e, Mapping) and isinstance(e.get("column"), str):
                    flags.setdefault(e["column"], f"exclusion column (reason {e.get('reason')!r})")
    for i, h in items("hypotheses"):
        col = h.get("comparator_column")
        if not isinstance(col, str):
            continue
        if col in RESERVED_CASE_COLUMNS:
            out.append(
                (
                    ("hypotheses", i, "comparator_column"),
                    f"{col!r} is a column the analysis already uses "
                    f"({', '.join(RESERVED_CASE_COLUMNS)}); name the manifest column that holds "
                    f"the comparator's reading",
                )
            )
        elif col in ids:
            out.append(
                (
                    ("hypotheses", i, "comparator_column"),
                    f"comparator column {col!r} is an identifier column; identifiers are never "
                    f"analysed",
                )
            )
        elif col in flags:
            out.append(
                (
                    ("hypotheses", i, "comparator_column"),
                    f"comparator column {col!r} is the test set's {flags[col]}; name the "
                    f"manifest column that holds the comparator's reading",
                )
            )
    from validation.protocol.robustness import robustness_problems

    out.extend(robustness_problems(data))
    out.extend(consistency_problems(data))
    from validation.protocol.risk import risk_problems

    out.extend(risk_problems(data))
    return out


def _hid(h: Mapping[str, Any], i: int) -> str:
    """How a message names a hypothesis: its id, or its position when the id is missing."""
    hid = h.get("id")
    return repr(hid) if isinstance(hid, str) else f"hypotheses[{i}] (no id)"


_PLANNING_TOL = 1e-6
"""Smallest distance between a planning assumption and its null boundary (closer values
need an unbounded sample; this also absorbs rounding such as 0.90 - 0.95 > -0.05)."""


def _component_problems(v: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """MRMC pilot variance components: pilot cases a whole number, var > 0, |cov| <= var."""
    out: list[tuple[tuple[str, ...], str]] = []
    for key in ("n_cases", "pilot_cases"):
        x = _number(v.get(key))
        if key in v and x is not None and not (2 <= x <= 1_000_000 and x.is_integer()):
            out.append(((key,), f"'{key}' is the number of pilot cases behind the components, "
                                f"a whole number from 2 to 1,000,000; got {format_number(x)}"))
    if "n_cases" in v and "pilot_cases" in v:
        out.append((("pilot_cases",), "give the number of pilot cases once, as 'n_cases' (the "
                                      "name `validation mrmc --json` uses), not also as "
                                      "'pilot_cases'"))
    var = _number(v.get("var"))
    if "var" in v and var is not None:
        if not var > 0:
            out.append((("var",), f"'var' (the error variance of a reader's AUC) must be "
                                  f"positive; got {format_number(var)}"))
        else:
            for key in ("cov1", "cov2", "cov3"):
                c = _number(v.get(key))
                if c is not None and abs(c) > var:
                    out.append(((key,), f"'{key}' = {format_number(c)} exceeds 'var' = {format_number(var)} in "
                                        f"size; a covariance of two AUC estimates cannot exceed "
                                        f"their variance (copy var_tr, var, cov1, cov2, cov3 and "
                                        f"n_cases from the variance_components of `validation "
                                        f"mrmc --json` unchanged)"))
    return out


def _valid_hypothesis_numbers(h: Mapping[str, Any]) -> bool:
    """A known type, goal and margin (when given) valid numbers, and a null value in (0, 1)."""
    if h.get("type") not in HYPOTHESIS_TYPES:
        return False
    values = {}
    for key in ("goal", "margin"):
        if h.get(key) is not None:
            x = _number(h.get(key))
            if x is None or not 0 < x < 1:
                return False
            values[key] = x
    goal, margin = values.get("goal"), values.get("margin", 0.0)
    if goal is not None and h.get("comparator_column") is None:
        low, high = null_bounds(h["type"], goal, margin)
        return (low is None or 0 < low) and (high is None or high < 1)
    return True


def _number(x: Any) -> float | None:
    """A YAML number (not a boolean), else ``None``."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(float(x)) else None


def _null_value_problems(
    data: Mapping[str, Any], items: Any, endpoints: Mapping[Any, Any]
) -> list[tuple[Loc, str]]:
    """A one-sided level below 0.5, and null values inside (0, 1) for a fixed reference."""
    out: list[tuple[Loc, str]] = []
    alpha = _number(data.get("alpha"))
    if data.get("sidedness") == "one-sided" and alpha is not None and alpha >= 0.5:
        out.append((("alpha",), f"a one-sided level must be below 0.5 (e.g. 0.025) so that the "
                                f"1 - 2 x alpha interval exists; got {alpha:g}"))
    for i, h in items("hypotheses"):
        goal, margin = _number(h.get("goal")), _number(h.get("margin"))
        htype = h.get("type")
        if goal is None or h.get("endpoint") not in endpoints or margin is None:
            continue
        if not 0 < margin < 1:  # reported by the field itself
            continue
        if endpoints[h["endpoint"]].get("kind") in MRMC_KINDS or not 0 < goal < 1:
            continue
        low, high = null_bounds(htype, goal, margin) if htype in HYPOTHESIS_TYPES else (None, None)
        if htype == "performance_goal":
            low = None
        if (low is not None and low <= 0) or (high is not None and high >= 1):
            bound = f"goal - margin = {low:.6g}" if low is not None and low <= 0 else \
                f"goal + margin = {high:.6g}"  # type: ignore[str-format]
            out.append((("hypotheses", i, "margin"),
                        f"hypothesis {_hid(h, i)} ({htype}): the null value {bound} lies "
                        f"outside (0, 1), where a proportion or AUC cannot be; no data could "
                        f"reject it. Check the goal {format_number(goal)} and the margin {format_number(margin)}"))
    return out


def _planning_problems(
    data: Mapping[str, Any], hyps: Mapping[Any, Any], endpoints: Mapping[Any, Any]
) -> list[tuple[Loc, str]]:
    """Sample-size assumptions: one per hypothesis, and each inside its hypothesis's alternative
    (an anticipated value on the null side has no sample size with the planned power)."""
    out: list[tuple[Loc, str]] = []
    ss = data.get("sample_size")
    if not isinstance(ss, Mapping):
        return out
    pos, neg, total = (_number(ss.get(k)) for k in ("planned_positive", "planned_negative",
                                                    "planned_cases"))
    if (pos is None) != (neg is None) and (ss.get("planned_positive") is not None
                                           or ss.get("planned_negative") is not None):
        given, other = (("planned_positive", "planned_negative") if pos is not None
                        else ("planned_negative", "planned_positive"))
        out.append((("sample_size", given),
                    f"'{given}' is given without '{other}'; an enriched design needs both "
                    f"counts (or neither, to use the prevalence)"))
    elif pos is not None and neg is not None and total is not None and pos + neg != total:
        out.append((("sample_size", "planned_cases"),
                    f"planned_positive + planned_negative = {format_number(pos + neg)} differs from "
                    f"planned_cases = {format_number(total)}"))
    if not isinstance(ss.get("assumptions"), list):
        return out
    seen: dict[str, int] = {}
    for j, a in enumerate(ss["assumptions"]):
        if not isinstance(a, Mapping) or not isinstance(a.get("hypothesis"), str):
            continue
        hid = a["hypothesis"]
        if hid in seen:
            out.append((("sample_size", "assumptions", j, "hypothesis"),
                        f"hypothesis {hid!r} already has an assumption "
                        f"(sample_size.assumptions[{seen[hid]}]); give one per hypothesis"))
            continue
        seen[hid] = j
        h = hyps.get(hid)
        if isinstance(h, Mapping):
            kind = (endpoints.get(h.get("endpoint")) or {}).get("kind")
            paired = h.get("comparator_column") is not None
            mrmc = kind in MRMC_KINDS
            unused = [k for k, applies in (("comparator_expected", paired or mrmc),
                                           ("correlation", paired), ("n_readers", mrmc),
                                           ("variance_components", mrmc))
                      if a.get(k) is not None and not applies]
            for k in unused:
                out.append((("sample_size", "assumptions", j, k),
                            f"'{k}' does not apply to hypothesis {hid!r}, "
                            + ("a reader-study (MRMC) comparison" if mrmc else
                               "tested against the fixed goal" if not paired else
                               "a paired comparison with its comparator column")
                            + "; remove it"))
        vc = a.get("variance_components")
        if isinstance(vc, Mapping):
            out.extend((("sample_size", "assumptions", j, "variance_components", *loc), msg)
                       for loc, msg in _component_problems(vc))
        expected = _number(a.get("expected"))
        if not isinstance(h, Mapping) or expected is None or not 0 < expected < 1:
            continue
        htype = h.get("type")
        if not _valid_hypothesis_numbers(h):
            continue  # the hypothesis's own fields are reported; no second, derived error
        margin = _number(h.get("margin")) or 0.0
        goal, comp = _number(h.get("goal")), _number(a.get("comparator_expected"))
        kind = (endpoints.get(h.get("endpoint")) or {}).get("kind")
        comparative = kind in MRMC_KINDS or h.get("comparator_column") is not None
        ref = comp if comparative else goal
        if ref is None or (comp is not None and not 0 < comp < 1):
            continue
        what = (f"the comparator's {format_number(ref)} (comparator_expected)" if comparative
                else f"the goal {format_number(ref)}")
        diff = expected - ref
        tol = _PLANNING_TOL  # a value on the boundary, up to rounding, is on the null side
        if htype == "performance_goal":
            ok, alt = diff > tol, f"above {what}"
        elif htype == "noninferiority":
            ok, alt = diff + margin > tol, f"above {what} minus the margin {format_number(margin)}"
        elif htype == "superiority":
            ok, alt = diff - margin > tol, (f"above {what} plus the margin {format_number(margin)}"
                                            if margin else f"above {what}")
        else:
            ok, alt = margin - abs(diff) > tol, f"within the margin {format_number(margin)} of {what}"
        if not ok:
            out.append((("sample_size", "assumptions", j, "expected"),
                        f"hypothesis {hid!r} ({htype}): the anticipated value {format_number(expected)} "
                        f"must lie {alt}; on the null side no number of cases gives the "
                        f"planned power"))
            continue
        corr = _number(a.get("correlation"))
        if (h.get("comparator_column") is not None and kind in PROPORTION_KINDS
                and comp is not None and corr is not None and -1 <= corr <= 1):
            from validation.errors import InputError
            from validation.stats.sample_size import discordant_probabilities

            try:
                discordant_probabilities(expected, comp, corr)
            except InputError as exc:
                out.append((("sample_size", "assumptions", j, "correlation"),
                            str(exc).rstrip(".").replace("'correlation' ", "the correlation ")))
    return out


