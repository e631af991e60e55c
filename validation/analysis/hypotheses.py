"""Evaluate a protocol's hypotheses and their multiplicity adjustment for ``results.json``.

:func:`evaluate_hypotheses` takes the protocol, the ``results.json`` content built so far
(endpoints with their pooled statistics, the reader study) and a context with the per-case data,
tests each hypothesis at the one-sided level (``alpha`` for a one-sided protocol, ``alpha / 2``
for a two-sided one), applies the protocol's multiplicity procedure and returns the
``hypotheses`` list and the ``multiplicity`` object (layout in ``docs/CONTRACTS.md``).

How each hypothesis is tested (``theta`` the endpoint, ``ref`` its reference):

* proportion endpoints (sensitivity, specificity, PPV, NPV, accuracy) against a fixed value:
  with the ``wilson`` or ``exact`` interval at the patient level, the score test or the exact
  binomial test against the null value; with another interval method (Jeffreys,
  Agresti-Coull, clustered findings with the Rao-Scott effective sample size, bootstrap) the
  p-value inverts that interval (:mod:`validation.stats.interval_inversion`; the bootstrap
  replicates are redrawn with the analysis seed). Either way the interval bound and the
  p-value, which the multiplicity procedure uses, always agree;
* AUC endpoints against a fixed value: z test with the endpoint's standard error (DeLong,
  logit, Obuchowski); with a bootstrap interval the p-value inverts that interval (percentile
  or BCa, replicates redrawn with the analysis seed), as for proportions;
* MRMC endpoints: the modality difference (second listed minus ``comparator``) from the reader
  study with the Obuchowski-Rockette random-reader random-case standard error and Hillis
  degrees of freedom (t test);
* a standalone endpoint against a comparator read on the same cases (the hypothesis's
  ``comparator_column``: a call for sensitivity and specificity, a score for the AUC): Tango's
  paired score test or the paired DeLong test at the patient level; with clustered findings
  (``unit: finding``) Obuchowski's (1998) ratio-estimator Wald test or the paired DeLong test
  with Obuchowski's (1997) clustered covariance.

The null value: ``goal`` for a performance goal; ``ref - margin`` for non-inferiority;
``ref + margin`` (margin 0 unless given) for superiority; ``|theta - ref| >= margin`` for
equivalence (two one-sided tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from scipy import stats as sps

from validation.errors import DataError, InputError, ProtocolError
from validation.protocol.vocabulary import MRMC_KINDS, PROPORTION_KINDS
from validation.stats import to_plain
from validation.stats.hypotheses import (
    HypothesisTest,
    normal_test,
    performance_goal_test,
)
from validation.stats.multiplicity import MultiplicityResult, adjust, passes

CI_LABELS = {
    "wilson": "Wilson score", "exact": "Clopper-Pearson exact", "jeffreys": "Jeffreys",
    "agresti-coull": "Agresti-Coull", "bootstrap": "bootstrap percentile",
    "cluster_bootstrap": "cluster bootstrap percentile", "delong": "DeLong",
    "logit": "logit DeLong", "obuchowski": "Obuchowski clustered",
}
"""How reasons and test names call the protocol's interval methods."""


@dataclass(frozen=True, slots=True)
class HypothesisContext:
    """Per-case data that hypothesis tests need beyond ``results.json``.

    Any object with these attributes works (the engine passes its ``AnalysisContext``).

    Attributes
    ----------
    cases : DataFrame
        Analysed cases with ``truth``, ``score``, ``patient_id``, ``site`` and the
        indeterminate flag (as the engine's endpoints use them).
    ratings : DataFrame or None
        Reader-study ratings (not needed when ``results["reader_study"]`` is filled).
    ci_alpha : float
        Two-sided alpha of the endpoints' intervals (``2 x`` the one-sided test level).
    seed : int

    A paired hypothesis reads its comparator from the column of ``cases`` that its
    ``comparator_column`` names.
    """

    cases: pd.DataFrame | None
    ratings: pd.DataFrame | None
    ci_alpha: float
    seed: int = 0


# --------------------------------------------------------------------------- helpers


def _shifted(t: HypothesisTest, shift: float, null: float, h: Any) -> dict[str, Any]:
    """A test done on ``theta - shift`` reported on the endpoint's scale."""
    d = t.to_dict()
    d["estimate"] = t.estimate + shift
    d["ci"] = [t.ci[0] + shift, t.ci[1] + shift]
    d["null_value"] = null
    d["type"] = h.type
    d["margin"] = float(h.margin) if h.margin is not None else None
    d["goal"] = float(h.goal) if h.goal is not None else None
    return d


def _reason_for_bound(
    h: Any, ci: tuple[float, float], null: float, p: float, alpha: float, conf: float,
    how: str, floor: float | None = None,
) -> tuple[str, str]:
    """Decision by the inverting p-value (it agrees with the bound) and the sentence for it.

    ``floor``: the resolution of a bootstrap p-value (1 / replicates); a p of 0 is written
    ``p < floor``.
    """
    pct = f"{100 * conf:.4g}%"
    ok = passes(p, alpha)
    shown = f"< {floor:.2g}" if (floor is not None and p == 0.0) else f"= {p:.4g}"
    ptxt = f"one-sided p {shown} {'<=' if ok else '>'} alpha = {alpha:g}"
    if h.type == "equivalence":
        m = float(h.margin)
        return ("pass" if ok else "fail"), (
            f"the {pct} CI ({ci[0]:.4g}, {ci[1]:.4g}) is {'inside' if ok else 'not inside'} "
            f"({null - m:.4g}, {null + m:.4g}); {ptxt} (two one-sided tests; {how})"
        )
    return ("pass" if ok else "fail"), (
        f"lower bound of the {pct} CI {ci[0]:.4g} {'>' if ok else '<='} {null:.4g}; {ptxt} "
        f"({how})"
    )


# --------------------------------------------------------------------------- per kind


def _proportion_vs_value(
    h: Any, ep: Any, pooled: dict[str, Any], alpha: float, protocol: Any = None, ctx: Any = None
) -> dict[str, Any]:
    ref = float(h.goal)
    null = h.null_value(ref)
    x, n = pooled.get("successes"), pooled.get("n")
    if pooled.get("estimate") is None or x is None or not n:
        raise DataError(
            f"hypothesis {h.id!r}: endpoint {ep.id!r} has no pooled estimate "
            f"({pooled.get('note', 'no data')})."
        )
    exact_ci = {"wilson": "wilson", "exact": "clopper-pearson"}.get(str(ep.ci))
    if exact_ci is not None and ep.unit == "patient":
        if h.type == "equivalence":
            m = float(h.margin)
            lo, hi = null - m, null + m
            if not (0.0 < lo and hi < 1.0):
                raise ProtocolError(
                    f"hypothesis {h.id!r}: the equivalence region ({lo:g}, {hi:g}) must lie "
                    "inside (0, 1) for a proportion."
                )
            lower = performance_goal_test(x, n, lo, alpha=alpha, ci=exact_ci)
            upper = performance_goal_test(n - x, n, 1.0 - hi, alpha=alpha, ci=exact_ci)
            p = max(lower.p_value, upper.p_value)
            ci = lower.ci
            conf = lower.confidence
            decision = "pass" if passes(p, alpha) else "fail"
            inside = lo < ci[0] and ci[1] < hi
            reason = (f"the {100 * conf:.4g}% CI ({ci[0]:.4g}, {ci[1]:.4g}) is "
                      f"{'inside' if inside else 'not inside'} ({lo:.4g}, {hi:.4g}); "
                      f"one-sided p = {p:.4g} {'<=' if passes(p, alpha) else '>'} alpha = {alpha:g} "
                      "(two one-sided tests)")
            d = lower.to_dict()
            d.update({"type": "equivalence", "p_value": p, "decision": decision,
                      "reason": reason, "margin": m, "goal": ref, "null_value": null,
                      "statistic": lower.statistic if lower.p_value >= upper.p_value
                      else upper.statistic,
                      "test": f"two one-sided tests: {lower.test}"})
            return d
        if not 0.0 < null < 1.0:
            raise ProtocolError(
                f"hypothesis {h.id!r}: the null value {null:g} (goal and margin) must lie "
                "in (0, 1) for a proportion."
            )
        t = performance_goal_test(x, n, null, alpha=alpha, ci=exact_ci)
        d = t.to_dict()
        d.update({"type": h.type, "goal": ref,
                  "margin": float(h.margin) if h.margin is not None else None,
                  "null_value": null})
        return d
    return _interval_bound_test(h, ep, pooled, alpha, protocol, ctx)


def _interval_bound_test(
    h: Any, ep: Any, pooled: dict[str, Any], alpha: float, protocol: Any, ctx: Any
) -> dict[str, Any]:
    """A fixed-value hypothesis decided by inverting the endpoint's own interval (binomial or
    bootstrap), so the bound and the p-value (which the multiplicity procedure uses) always
    agree."""
    ref = float(h.goal)
    null = h.null_value(ref)
    est = float(pooled["estimate"])
    lo, hi = (float(v) for v in pooled["ci"])
    conf = 1.0 - 2.0 * alpha
    pvalue, how = _interval_pvalue_function(h, ep, pooled, protocol, ctx)
    if h.type == "equivalence":
        m = float(h.margin)
        p = max(pvalue(null - m, "greater"), pvalue(null + m, "less"))
    else:
        p = pvalue(null, "greater")
    # the statistic is the normal deviate of the inverting p-value (a Wald z from the interval's
    # standard error would not be the test that decided)
    stat = float(sps.norm.isf(p)) if 0.0 < p < 1.0 else None
    n_boot = pooled.get("n_boot")
    decision, reason = _reason_for_bound(h, (lo, hi), null, p, alpha, conf, how,
                                         floor=1.0 / n_boot if n_boot else None)
    label = CI_LABELS.get(str(ep.ci), str(ep.ci))
    if str(pooled.get("method", "")).endswith("-bca"):
        label = label.replace("percentile", "BCa")
    return {
        "type": h.type, "test": f"test inverting the {label} interval",
        "estimate": est, "ci": [lo, hi], "confidence": conf,
        "margin": float(h.margin) if h.margin is not None else None, "goal": ref,
        "null_value": null, "statistic": stat, "df": None, "p_value": p, "alpha": alpha,
        "decision": decision, "reason": reason, "method": pooled.get("method"),
        "references": list(pooled.get("references", [])),
    }


def _interval_pvalue_function(
    h: Any, ep: Any, pooled: dict[str, Any], protocol: Any, ctx: Any
) -> tuple[Any, str]:
    """``p(null, side)`` inverting the endpoint's interval, and how it was obtained."""
    from validation.stats.interval_inversion import (
        METHODS,
        bca_pvalue,
        percentile_pvalue,
        proportion_interval_pvalue,
    )

    ci = str(ep.ci)
    if ci in METHODS:
        n = float(pooled["n"])
        n_eff = float(pooled.get("effective_n") or n)
        x_eff = float(pooled["estimate"]) * n_eff
        where = (f" on the Rao-Scott effective sample size of {n_eff:.4g} findings, design "
                 f"effect {float(pooled.get('design_effect') or 1.0):.4g},"
                 if pooled.get("effective_n") is not None else "")

        def binomial(null: float, side: str) -> float:
            return proportion_interval_pvalue(x_eff, n_eff, null, method=ci, side=side)  # type: ignore[arg-type]

        return binomial, (f"p inverts the {CI_LABELS[ci]} interval{where or ','} so the bound "
                          "and p agree")
    if ci in ("bootstrap", "cluster_bootstrap"):
        boot = _bootstrap_result(h, ep, protocol, ctx)
        if boot.interval == "bca":
            def bca(null: float, side: str) -> float:
                return bca_pvalue(boot.replicates, null, bias_correction=boot.bias_correction,
                                  acceleration=boot.acceleration, side=side)  # type: ignore[arg-type]

            return bca, ("p inverts the BCa interval through the null value's position among "
                         "the bootstrap replicates, so the bound and p agree")

        def percentile(null: float, side: str) -> float:
            return percentile_pvalue(boot.replicates, null, side=side)  # type: ignore[arg-type]

        return percentile, ("p is the null value's position among the bootstrap replicates, "
                            "inverting the percentile interval, so the bound and p agree")
    raise ProtocolError(f"hypothesis {h.id!r}: endpoint {ep.id!r} has interval method {ci!r}, "
                        "which has no test of a fixed value.")


def _bootstrap_result(h: Any, ep: Any, protocol: Any, ctx: Any) -> Any:
    """The pooled endpoint's bootstrap (replicates, and BCa constants), redrawn with the
    analysis seed and the protocol's interval type, as the engine drew it."""
    from validation.analysis.endpoints import (
        analysis_scenario,
        proportion_outcome,
        score_bounds,
        unit_data,
    )
    from validation.stats.bootstrap import bootstrap_proportion

    cases = getattr(ctx, "cases", None) if ctx is not None else None
    if cases is None or protocol is None:
        raise DataError(f"hypothesis {h.id!r}: the bootstrap test of endpoint {ep.id!r} needs "
                        "the per-case data, which was not given.")
    d = unit_data(cases, unit=ep.unit, operating_point=float(protocol.model.operating_point),
                  scenario=analysis_scenario(protocol, ep), score_bounds=score_bounds(cases))
    if ep.kind == "auc":
        from validation.stats.bootstrap import bootstrap_auc

        return bootstrap_auc(
            d.truth, d.score, cluster=d.cluster if ep.ci == "cluster_bootstrap" else None,
            n_boot=int(protocol.analysis.bootstrap_replicates), seed=int(ctx.seed),
            alpha=float(ctx.ci_alpha), interval=str(protocol.analysis.bootstrap_interval),
        )
    outcome, cluster = proportion_outcome(ep.kind, d)
    res = bootstrap_proportion(
        outcome, cluster=cluster if ep.ci == "cluster_bootstrap" else None,
        n_boot=int(protocol.analysis.bootstrap_replicates), seed=int(ctx.seed),
        alpha=float(ctx.ci_alpha), interval=str(protocol.analysis.bootstrap_interval),
    )
    return res


def _normal_vs_value(
    h: Any, est: float, se: float, alpha: float, *, df: float | None, test: str,
    refs: tuple[str, ...], ref: float,
) -> dict[str, Any]:
    null = h.null_value(ref)
    if h.type == "performance_goal":
        t = normal_test(est - null, se, type="superiority", alpha=alpha, df=df, test=test,
                        references=refs)
    elif h.type == "equivalence":
        t = normal_test(est - ref, se, type="equivalence", margin=h.margin, alpha=alpha,
                        df=df, test=test, references=refs)
        return _shifted(t, ref, null, h) | {"reason": _rescale_reason(t.reason, ref)}
    else:
        t = normal_test(est - null, se, type="superiority", alpha=alpha, df=df, test=test,
                        references=refs)
    d = _shifted(t, null, null, h)
    conf = t.confidence
    ok = d["ci"][0] > null
    p = t.p_value
    d["reason"] = (f"lower bound of the {100 * conf:.4g}% CI {d['ci'][0]:.4g} "
                   f"{'>' if ok else '<='} {null:.4g}; one-sided p = {p:.4g} "
                   f"{'<=' if passes(p, alpha) else '>'} alpha = {alpha:g}")
    return d


def _rescale_reason(reason: str, ref: float) -> str:
    return reason if ref == 0.0 else f"{reason} (on the scale theta - {ref:g})"


def _reader_test(block: dict[str, Any], df: Any, *, single: bool = False) -> str:
    """The name of the reader-study test that ran: the analysis the design chose (Obuchowski-
    Rockette, its split-plot form, or the U-statistic analysis), with its reference distribution."""
    analysis = block.get("analysis") or (block.get("design") or {}).get("analysis")
    if analysis == "ustat":
        ref = "t test (BDG Satterthwaite df)" if df is not None else "z test (normal reference)"
        return f"U-statistic (Gallas) {'single-modality' if single else 'random-reader random-case'} {ref}"
    form = "OR split-plot" if analysis == "or_split_plot" else "OR"
    return f"{form} single-modality t test" if single else \
        f"{form} random-reader random-case t test (Hillis df)"


def _mrmc(h: Any, ep: Any, results: dict[str, Any], alpha: float, protocol: Any) -> dict[str, Any]:
    # a JAFROC (marks) endpoint lives in the localization block, with its own modalities
    marks = ep.kind == "mrmc_wafroc"
    rs = results.get("localization" if marks else "reader_study") or {}
    block = (rs.get("by_endpoint") or {}).get(ep.id)
    if block is None:
        raise DataError(
            f"hypothesis {h.id!r}: the reader study has no result for endpoint {ep.id!r}."
        )
    mods = [str(m) for m in (protocol.localization if marks else protocol.reader_study).modalities]
    rrrc = block["rrrc"]
    refs = tuple(rrrc.get("references", []))
    if h.type == "performance_goal":
        test_mod = mods[-1] if h.comparator is None else str(h.comparator)
        m = block["modalities"].get(test_mod)
        if m is None:
            raise ProtocolError(f"hypothesis {h.id!r}: modality {test_mod!r} is not in the "
                                "reader study.")
        return _normal_vs_value(h, float(m["estimate"]), float(m["se"]), alpha,
                                df=m.get("df"), test=_reader_test(block, m.get("df"), single=True),
                                refs=tuple(m.get("references", [])), ref=float(h.goal))
    comparison = str(block["difference"].get("comparison", f"{mods[1]} - {mods[0]}"))
    new, _, old = (s.strip() for s in comparison.partition(" - "))
    comparator = str(h.comparator) if h.comparator is not None else mods[0]
    est = float(block["difference"]["estimate"])
    if comparator == old:
        sign = 1.0
    elif comparator == new:
        sign = -1.0
    else:
        raise ProtocolError(
            f"hypothesis {h.id!r}: comparator {comparator!r} is not one of the compared "
            f"modalities ({new}, {old})."
        )
    d = _normal_vs_value(h, sign * est, float(rrrc["se"]), alpha, df=rrrc.get("df_den"),
                         test=_reader_test(block, rrrc.get("df_den")), refs=refs,
                         ref=0.0)
    d["comparator"] = comparator
    d["comparison"] = f"{new if sign > 0 else old} - {comparator}"
    return d


# --------------------------------------------------------------------------- main entry


def evaluate_hypothesis(
    protocol: Any, h: Any, results: dict[str, Any], context: Any, alpha: float
) -> dict[str, Any]:
    """Test one hypothesis (before multiplicity); a dict in the results.json layout."""
    try:
        ep = protocol.endpoint(h.endpoint)
    except KeyError:
        raise ProtocolError(
            f"hypothesis {h.id!r} names endpoint {h.endpoint!r}, which is not defined; "
            f"defined endpoints: {', '.join(e.id for e in protocol.endpoints)}."
        ) from None
    if ep.kind in MRMC_KINDS or ep.kind == "mrmc_wafroc":
        d = _mrmc(h, ep, results, alpha, protocol)
    elif h.comparator_column is not None or h.goal is None:
        from validation.analysis.paired_hypotheses import paired_comparison

        d = paired_comparison(h, ep, protocol, context, alpha)
    else:
        block = (results.get("endpoints") or {}).get(ep.id)
        if block is None:
            raise DataError(f"hypothesis {h.id!r}: endpoint {ep.id!r} was not computed.")
        pooled = block["pooled"]
        if ep.kind in PROPORTION_KINDS:
            d = _proportion_vs_value(h, ep, pooled, alpha, protocol, context)
        elif str(ep.ci) in ("bootstrap", "cluster_bootstrap") and pooled.get("estimate") is not None:
            # the AUC's own bootstrap interval (percentile or BCa) decides, as it is reported
            d = _interval_bound_test(h, ep, pooled, alpha, protocol, context)
        else:
            if pooled.get("estimate") is None or not pooled.get("se"):
                raise DataError(f"hypothesis {h.id!r}: endpoint {ep.id!r} has no estimate "
                                f"with a standard error ({pooled.get('note', 'no data')}).")
            d = _normal_vs_value(h, float(pooled["estimate"]), float(pooled["se"]), alpha,
                                 df=None, test=f"z test with the "
                                 f"{CI_LABELS.get(str(ep.ci), ep.ci)} standard error",
                                 refs=tuple(pooled.get("references", [])), ref=float(h.goal))
    d.update({"id": h.id, "endpoint": ep.id, "alpha": alpha})
    return d


def evaluate_hypotheses(
    protocol: Any, results: dict[str, Any], context: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Test every hypothesis of ``protocol`` and apply its multiplicity procedure.

    Parameters
    ----------
    protocol : validation.protocol.Protocol
    results : the ``results.json`` content built so far (``endpoints``, ``reader_study``).
    context : :class:`HypothesisContext` or any object with ``cases``, ``ratings``,
        ``ci_alpha`` and ``seed``.

    Returns
    -------
    (hypotheses, multiplicity)
        ``hypotheses``: one dict per hypothesis in protocol order with ``id, endpoint, type,
        test, estimate, ci, margin, goal, statistic, df, p_value, p_adjusted, alpha, decision,
        reason`` (and ``null_value``, ``method``, ``references``); ``multiplicity``:
        ``procedure, alpha, family, p_adjusted, rejected, rules, rejection_order`` (+ the
        graph for ``graphical``).

    Raises
    ------
    ProtocolError
        A hypothesis naming an undefined endpoint, a multiplicity family naming an undefined
        hypothesis, an invalid graph.
    DataError
        An endpoint without the estimate the test needs.
    """
    alpha = protocol.one_sided_level
    ids = [h.id for h in protocol.hypotheses]
    tested = {h.id: evaluate_hypothesis(protocol, h, results, context, alpha)
              for h in protocol.hypotheses}
    mult = protocol.multiplicity
    procedure = str(mult.procedure)
    family = list(mult.family()) if procedure != "none" else list(ids)
    unknown = [f for f in family if f not in tested]
    if unknown:
        raise ProtocolError(
            f"the multiplicity procedure names hypotheses that are not defined: "
            f"{', '.join(unknown)}; defined: {', '.join(ids)}."
        )
    kwargs: dict[str, Any] = {}
    if procedure == "graphical":
        kwargs["weights"], kwargs["transitions"] = protocol.multiplicity.graph(family)
    try:
        res: MultiplicityResult = adjust(procedure, [tested[f]["p_value"] for f in family],
                                         alpha=alpha, names=family, **kwargs)
    except InputError as exc:
        raise ProtocolError(f"multiplicity ({procedure}): {exc}") from None
    out = []
    for hid in ids:
        d = dict(tested[hid])
        raw_reason = d.get("reason", "")
        if hid in res.hypotheses:
            i = res.hypotheses.index(hid)
            d["p_adjusted"] = res.p_adjusted[i]
            decision = "pass" if res.rejected[i] else "fail"
            if procedure == "none":
                d["reason"] = raw_reason
            else:
                d["reason"] = f"{res.rules[i]}. Unadjusted: {raw_reason}"
        else:
            d["p_adjusted"] = d["p_value"]
            decision = d["decision"]
            d["reason"] = (f"not in the multiplicity family ({procedure}); unadjusted: "
                           f"{raw_reason}")
        d["decision"] = decision
        for key in ("margin", "goal", "statistic", "df"):
            d.setdefault(key, None)
        out.append(to_plain(d))
    multiplicity = {
        "procedure": procedure,
        "alpha": alpha,
        "protocol_alpha": float(protocol.alpha),
        "sidedness": protocol.sidedness,
        "family": family,
        "p_values": dict(zip(res.hypotheses, res.p_values, strict=True)),
        "p_adjusted": dict(zip(res.hypotheses, res.p_adjusted, strict=True)),
        "rejected": dict(zip(res.hypotheses, res.rejected, strict=True)),
        "rules": dict(zip(res.hypotheses, res.rules, strict=True)),
        "rejection_order": list(res.rejection_order),
        "all_rejected": bool(all(res.rejected)),
        "weights": None if res.weights is None else dict(zip(family, res.weights, strict=True)),
        "transitions": None if res.transitions is None else {
            a: dict(zip(family, row, strict=True))
            for a, row in zip(family, res.transitions, strict=True)
        },
        "method": res.method,
        "references": list(res.references),
    }
    return out, to_plain(multiplicity)

