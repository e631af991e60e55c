"""Case-by-case comparison of a new model version with the original and previous versions,
against a change-control plan's criteria (analysis: no files, plain data out).

Every version is scored on the same analysed cases of the sequestered test set; each
criterion is a paired non-inferiority test of the new version against its comparator, with the
suite's existing statistics:

- sensitivity / specificity at each version's operating point, in the unit of the pivotal
  protocol's endpoint of that kind: per finding with patients as clusters, Obuchowski's
  clustered paired difference (``stats.hypotheses.clustered_paired_proportion_test``); per
  patient, Tango's paired score test (``proportion_difference_test``). McNemar's test of
  equality (``stats.paired_differences.mcnemar_test``) is reported beside, for information.
- AUC: paired DeLong (Obuchowski's clustered covariance per finding),
  ``stats.hypotheses.auc_comparison_test``.

Indeterminate results are handled as the protocol's primary analysis handles them (worst case
by default), identically for every version. The plan's multiplicity rule
(``stats.multiplicity.adjust``) decides the criteria together at the plan's one-sided alpha;
the site consistency re-check is a rule on point estimates outside that family. The version is
accepted only when every criterion and the consistency re-check pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from validation.analysis.endpoints import (
    _proportion_subset,
    analysis_scenario,
    unit_data,
)
from validation.errors import InputError
from validation.stats import multiplicity
from validation.stats.hypotheses import (
    auc_comparison_test,
    clustered_paired_proportion_test,
    proportion_difference_test,
)
from validation.stats.paired_differences import mcnemar_test
from validation.stats.roc_points import roc_curve_points


def _endpoint_for(protocol: Any, kind: str) -> Any:
    return next((e for e in protocol.endpoints if str(e.kind) == kind), None)


def _unit_and_scenario(protocol: Any, kind: str) -> tuple[str, str]:
    ep = _endpoint_for(protocol, kind)
    if ep is None:
        return "finding", str(protocol.test_set.indeterminate.primary)
    return str(ep.unit), analysis_scenario(protocol, ep)


def _data(protocol: Any, cases: pd.DataFrame, op: float, kind: str) -> Any:
    unit, scenario = _unit_and_scenario(protocol, kind)
    return unit_data(cases, unit=unit, operating_point=op, scenario=scenario)


def _proportion_criterion(protocol: Any, kind: str, new: tuple[pd.DataFrame, float],
                          cmp_: tuple[pd.DataFrame, float], *, alpha: float,
                          margin: float) -> dict[str, Any]:
    dn = _data(protocol, new[0], new[1], kind)
    dc = _data(protocol, cmp_[0], cmp_[1], kind)
    mask, s_new = _proportion_subset(kind, dn)
    _, s_cmp = _proportion_subset(kind, dc)
    sn, sc = s_new[mask].astype(bool), s_cmp[mask].astype(bool)
    a, b = int(np.sum(sn & sc)), int(np.sum(sn & ~sc))
    c, d = int(np.sum(~sn & sc)), int(np.sum(~sn & ~sc))
    note = None
    if dn.cluster is not None and b + c > 0:
        test = clustered_paired_proportion_test(sn, sc, dn.cluster[mask], type="noninferiority",
                                                alpha=alpha, margin=margin)
    else:
        # per patient; or no discordant finding at all, where the clustered variance is zero
        # but Tango's null-restricted variance is not (clustering cannot move a difference
        # that is zero in every cluster)
        test = proportion_difference_test({"a": a, "b": b, "c": c, "d": d}, design="paired",
                                          type="noninferiority", alpha=alpha, margin=margin)
        if dn.cluster is not None:
            note = ("no discordant finding: Tango's score test on the findings (the clustered "
                    "variance of a difference that is zero in every cluster is zero)")
    mcn = mcnemar_test(a, b, c, d).to_dict() if b + c > 0 else None
    return {"unit": dn.unit, "n": int(mask.sum()), "new": float(sn.mean()),
            "comparator": float(sc.mean()), "paired_counts": {"a": a, "b": b, "c": c, "d": d},
            "test": test.to_dict(), "mcnemar": mcn, "note": note}


def _auc_criterion(protocol: Any, new: tuple[pd.DataFrame, float],
                   cmp_: tuple[pd.DataFrame, float], *, alpha: float,
                   margin: float) -> dict[str, Any]:
    dn = _data(protocol, new[0], new[1], "auc")
    dc = _data(protocol, cmp_[0], cmp_[1], "auc")
    test = auc_comparison_test(dn.truth, dn.score, dc.score, type="noninferiority", alpha=alpha,
                               margin=margin, cluster=dn.cluster)
    return {"unit": dn.unit, "n": dn.n, "test": test.to_dict(), "mcnemar": None,
            "paired_counts": None, "note": None}


def compare_versions(protocol: Any, plan: Any, modification: Any,
                     versions: dict[str, tuple[pd.DataFrame, float]]) -> dict[str, Any]:
    """Decide every criterion of ``modification`` for the ``new`` version.

    Parameters
    ----------
    protocol : the pivotal Protocol (units, indeterminate handling).
    plan : the ChangePlan (alpha, multiplicity).
    modification : the plan's Modification for this version's type.
    versions : ``{"original": (cases, op), "previous": ..., "new": ...}``: the analysed cases
        with each version's ``score`` (same rows, same order) and its operating point.

    Returns
    -------
    dict with ``criteria`` (one per criterion: endpoint, versus, margin, estimates, paired
    counts, test, McNemar, p_adjusted, decision), ``multiplicity``, ``consistency``,
    ``roc`` (points per version) and ``decision`` (``accepted`` / ``rejected``) with reasons.
    """
    ids = [c.id for c in modification.criteria]
    rows: list[dict[str, Any]] = []
    for c in modification.criteria:
        cmp_ = versions[c.versus]
        try:
            if c.endpoint == "auc":
                r = _auc_criterion(protocol, versions["new"], cmp_, alpha=plan.alpha,
                                   margin=c.margin)
            else:
                r = _proportion_criterion(protocol, c.endpoint, versions["new"], cmp_,
                                          alpha=plan.alpha, margin=c.margin)
        except InputError as exc:  # e.g. the two versions agree on every case
            r = {"unit": None, "n": None, "test": None, "mcnemar": None, "paired_counts": None,
                 "note": str(exc)}
        rows.append({"id": c.id, "endpoint": c.endpoint, "versus": c.versus,
                     "margin": c.margin} | r)
    p = [1.0 if r["test"] is None else float(r["test"]["p_value"]) for r in rows]
    adj = multiplicity.adjust(plan.multiplicity, p, alpha=plan.alpha, names=ids)
    for i, r in enumerate(rows):
        r["p_value"] = p[i]
        r["p_adjusted"] = float(adj.p_adjusted[i])
        r["own_decision"] = "pass" if r["test"] is not None and p[i] <= plan.alpha else "fail"
        r["decision"] = "pass" if adj.rejected[i] and r["test"] is not None else "fail"
        r["rule"] = adj.rules[i] if r["test"] is not None else f"not testable: {r['note']}"
    consistency = _consistency(protocol, modification.consistency, versions)
    own = [r for r in rows if r["own_decision"] == "fail"]
    reasons = [f"criterion {r['id']} failed (p = {r['p_value']:.4g} > alpha = {plan.alpha:g}"
               + (f"; {r['note']}" if r["test"] is None else "") + ")" for r in own]
    by_rule = [r["id"] for r in rows if r["decision"] == "fail" and r["own_decision"] == "pass"]
    if by_rule:
        reasons.append(f"the {plan.multiplicity} rule fails {', '.join(by_rule)} with them")
    if consistency is not None and not consistency["passed"]:
        reasons.append("site consistency re-check failed at "
                       + ", ".join(f"{f['site']} ({f['endpoint']})" for f in consistency["failing"]))
    return {
        "alpha": plan.alpha,
        "criteria": rows,
        "multiplicity": adj.to_dict(),
        "consistency": consistency,
        "roc": {name: _roc(protocol, v) for name, v in versions.items()},
        "decision": "rejected" if reasons else "accepted",
        "reasons": reasons or ["every criterion and the consistency re-check passed"],
    }


def _consistency(protocol: Any, rule: Any, versions: dict[str, tuple[pd.DataFrame, float]]
                 ) -> dict[str, Any] | None:
    if rule is None:
        return None
    new_cases, new_op = versions["new"]
    orig_cases, orig_op = versions["original"]
    sites: list[dict[str, Any]] = []
    for site in sorted(new_cases["site"].astype(str).unique()):
        m = (new_cases["site"].astype(str) == site).to_numpy()
        for kind in rule.endpoints:
            dn = _data(protocol, new_cases[m], new_op, kind)
            do = _data(protocol, orig_cases[m], orig_op, kind)
            mask, sn = _proportion_subset(kind, dn)
            _, so = _proportion_subset(kind, do)
            n = int(mask.sum())
            if n < rule.min_cases:
                sites.append({"site": site, "endpoint": kind, "n": n, "new": None,
                              "original": None, "difference": None, "status": "too few cases"})
                continue
            diff = float(sn[mask].mean() - so[mask].mean())
            sites.append({"site": site, "endpoint": kind, "n": n, "new": float(sn[mask].mean()),
                          "original": float(so[mask].mean()), "difference": diff,
                          "status": "pass" if diff >= -rule.margin else "fail"})
    failing = [s for s in sites if s["status"] == "fail"]
    return {"by": rule.by, "margin": rule.margin, "min_cases": rule.min_cases, "sites": sites,
            "failing": failing, "passed": not failing}


def _roc(protocol: Any, version: tuple[pd.DataFrame, float]) -> dict[str, Any]:
    d = _data(protocol, version[0], version[1], "auc")
    curve = roc_curve_points(d.truth, d.score, drop_intermediate=True)
    return {"fpr": [float(x) for x in curve.fpr], "tpr": [float(x) for x in curve.tpr]}
