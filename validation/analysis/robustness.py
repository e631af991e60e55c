"""Robustness analysis: endpoints under each perturbation and severity, paired with level 0.

For every family and severity level of the protocol's ``robustness`` section, the listed
endpoints are re-estimated on the same analysed cases with the perturbed scores, with the
endpoint's own interval method, unit and indeterminate handling (level 0 is the unperturbed
run, re-estimated the same way). Each perturbed estimate is compared with level 0 on the same
cases (perturbed minus unperturbed, two-sided at the protocol's CI level):

* AUC: paired DeLong (Obuchowski's clustered covariance for ``unit: finding``),
  :func:`validation.stats.roc.compare_auc`;
* sensitivity, specificity, accuracy per patient: Tango's score interval of the paired
  difference with McNemar's test (:func:`validation.stats.paired_differences.paired_difference`);
  per finding: the clustered paired difference with its ratio-estimator variance
  (:func:`validation.stats.hypotheses.clustered_paired_proportion_test`, Wald z, two-sided p);
* PPV and NPV have no paired comparison (their denominators change with the calls).

A pre-specified *claim* is a hypothesis of the protocol with a fixed goal on a listed endpoint;
it counts as held at a severity when the lower bound of the endpoint's interval exceeds the
hypothesis's null value (the bound performance goals are judged on). The first severity level
at which it does not is reported per family. The acceptance *rules* of the section are decided
the same way and listed as pre-specified secondary assessments (descriptive: no multiplicity
adjustment, no effect on the confirmatory decisions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from validation.analysis.endpoints import (
    UnitData,
    analysis_scenario,
    endpoint_statistic,
    score_bounds,
    unit_data,
)
from validation.analysis.results import stat_dict, unavailable
from validation.errors import DataError, InputError
from validation.protocol.robustness import FAMILIES, PAIRED_KINDS

REFERENCES = (
    "DeLong ER, DeLong DM, Clarke-Pearson DL (1988) Comparing the areas under two or more "
    "correlated ROC curves. Biometrics 44:837-845. doi:10.2307/2531595",
    "Obuchowski NA (1997) Nonparametric analysis of clustered ROC curve data. Biometrics "
    "53:567-578. doi:10.2307/2533958",
    "Tango T (1998) Equivalence test and confidence interval for the difference in proportions "
    "for the paired-sample design. Stat Med 17:891-908. "
    "doi:10.1002/(SICI)1097-0258(19980430)17:8<891::AID-SIM780>3.0.CO;2-B",
    "McNemar Q (1947) Note on the sampling error of the difference between correlated "
    "proportions or percentages. Psychometrika 12:153-157. doi:10.1007/BF02295996",
    "Obuchowski NA (1998) On the comparison of correlated proportions for clustered data. "
    "Stat Med 17:1495-1507. doi:10.1002/(SICI)1097-0258(19980715)17:13<1495::AID-SIM863>3.0.CO;2-I",
)


def _units(protocol: Any, ep: Any, cases: pd.DataFrame) -> UnitData:
    return unit_data(cases, unit=ep.unit, operating_point=float(protocol.model.operating_point),
                     scenario=analysis_scenario(protocol, ep), score_bounds=score_bounds(cases))


def _estimate(protocol: Any, ep: Any, d: UnitData, alpha: float, seed: int) -> dict[str, Any]:
    out = endpoint_statistic(
        ep.kind, d, ci=str(ep.ci), alpha=alpha, seed=seed,
        n_boot=int(protocol.analysis.bootstrap_replicates),
        interval=str(protocol.analysis.bootstrap_interval),
    )
    out.pop("references", None)
    return out


def _success(kind: str, d: UnitData) -> tuple[np.ndarray, np.ndarray]:
    t = d.truth == 1
    if kind == "sensitivity":
        return t, d.called
    if kind == "specificity":
        return ~t, ~d.called
    return np.ones_like(t), d.called == t  # accuracy


def paired_comparison(kind: str, pert: UnitData, base: UnitData, alpha: float) -> dict[str, Any]:
    """Perturbed minus unperturbed on the same units: estimate, two-sided CI and p-value."""
    if kind == "auc":
        from validation.stats.roc import compare_auc

        try:
            cmp_ = compare_auc(pert.truth, pert.score, base.score, alpha=alpha, cluster=pert.cluster)
        except InputError as exc:
            return unavailable("paired DeLong", str(exc))
        d = stat_dict(cmp_)
        d.pop("references", None)
        d["test"] = "paired DeLong z" if pert.cluster is None else \
            "paired z with Obuchowski's clustered DeLong covariance"
        return d
    mask, ok_p = _success(kind, pert)
    _, ok_b = _success(kind, base)
    a1, b1 = ok_p[mask], ok_b[mask]
    counts = {"a": int((a1 & b1).sum()), "b": int((a1 & ~b1).sum()),
              "c": int((~a1 & b1).sum()), "d": int((~a1 & ~b1).sum())}
    if pert.cluster is None:
        from validation.stats.paired_differences import paired_difference

        try:
            r = paired_difference(counts["a"], counts["b"], counts["c"], counts["d"], ci="tango",
                                  alpha=alpha)
        except InputError as exc:
            return unavailable("Tango score interval", str(exc), counts=counts)
        out: dict[str, Any] = {"estimate": r.estimate, "ci": list(r.ci), "method": r.method,
                               "test": "McNemar chi-square (two-sided)", "counts": counts}
        if r.mcnemar is None:
            out.update(statistic=None, p_value=None,
                       note="no discordant pairs: the calls agree on every case")
        else:
            out.update(statistic=r.mcnemar.statistic, df=1, p_value=r.mcnemar.p_value)
        return out
    from validation.stats.hypotheses import clustered_paired_proportion_test

    try:
        t = clustered_paired_proportion_test(a1, b1, pert.cluster[mask], type="superiority",
                                             alpha=alpha / 2.0)
    except InputError as exc:
        diff = float(a1.mean() - b1.mean()) if a1.size else None
        return {"estimate": diff, "ci": [None, None], "method": "clustered paired difference",
                "test": None, "statistic": None, "p_value": None, "counts": counts,
                "note": str(exc)}
    p_one = float(t.p_value)  # H1: perturbed > unperturbed; the two-sided p doubles the smaller
    return {"estimate": t.estimate, "ci": list(t.ci),
            "method": "clustered paired difference (Obuchowski 1998 ratio-estimator variance)",
            "test": "clustered paired Wald z (two-sided)", "statistic": t.statistic,
            "p_value": min(1.0, 2.0 * min(p_one, 1.0 - p_one)), "counts": counts}


def robustness_results(
    protocol: Any, cases: pd.DataFrame, perturbed: Mapping[str, Any], *, alpha: float, seed: int,
) -> dict[str, Any]:
    """The ``robustness`` object of ``results.json``.

    Parameters
    ----------
    protocol : the protocol (with a ``robustness`` section)
    cases : the analysed cases with their unperturbed ``score`` (as for :func:`analyse`)
    perturbed : ``{"plan", "predictions", "examples"}`` of
        :func:`validation.models.robust_inference.predict_robustness`; ``predictions`` has
        ``case_id``, ``family``, ``level``, ``score``
    alpha : two-sided level of every interval (the protocol's ``ci_alpha``)
    seed : the run's seed (bootstrap intervals)
    """
    rob = protocol.robustness
    preds: pd.DataFrame = perturbed["predictions"]
    eps = [protocol.endpoint(e) for e in rob.endpoints]
    base_units = {ep.id: _units(protocol, ep, cases) for ep in eps}
    families: dict[str, Any] = {}
    for fam in rob.families:
        name = str(fam.family)
        spec = FAMILIES[name]
        levels: list[dict[str, Any]] = [{"level": 0, "value": None, "label": "unperturbed",
                   "endpoints": {ep.id: _estimate(protocol, ep, base_units[ep.id], alpha, seed)
                                 for ep in eps}, "paired": {}}]
        for k, v in enumerate(fam.severities, start=1):
            rows = preds[(preds["family"] == name) & (preds["level"] == k)]
            score = rows.set_index("case_id")["score"].reindex(cases["case_id"].astype(str))
            if score.isna().any():
                raise DataError(f"robustness predictions lack {int(score.isna().sum())} case(s) "
                                f"for {name} level {k}; re-run the inference.")
            pc = cases.assign(score=score.to_numpy(dtype=np.float64))
            est: dict[str, Any] = {}
            paired: dict[str, Any] = {}
            for ep in eps:
                d = _units(protocol, ep, pc)
                est[ep.id] = _estimate(protocol, ep, d, alpha, seed)
                if ep.kind in PAIRED_KINDS:
                    paired[ep.id] = paired_comparison(ep.kind, d, base_units[ep.id], alpha)
            levels.append({"level": k, "value": float(v), "label": f"{float(v):g} {spec.unit}",
                           "endpoints": est, "paired": paired})
        families[name] = {"parameter": spec.parameter, "unit": spec.unit,
                          "description": spec.description, "levels": levels}
    claims = _claims(protocol, families)
    rules = _rules(rob, families)
    return {
        "plan": dict(perturbed["plan"]),
        "ci_level": 1.0 - alpha,
        "endpoints": [{"id": ep.id, "kind": ep.kind, "unit": ep.unit, "ci_method": str(ep.ci)}
                      for ep in eps],
        "families": families,
        "claims": claims,
        "rules": rules,
        "examples": list(perturbed.get("examples") or []),
        "n_cases": int(len(cases)),
        "comparison": "perturbed minus unperturbed on the same cases, two-sided at the CI level",
        "assessment": "pre-specified secondary (descriptive; no multiplicity adjustment)",
        "references": list(REFERENCES),
    }


def _first_failing(levels: list[dict[str, Any]], eid: str, bound: str, threshold: float,
                   strict: bool) -> dict[str, Any]:
    """First level >= 1 at which the bound is not above (``strict``) / at least the threshold."""
    for lv in levels[1:]:
        stat = lv["endpoints"].get(eid) or {}
        value = stat.get("estimate") if bound == "estimate" else (stat.get("ci") or [None])[0]
        if value is None or (value <= threshold if strict else value < threshold):
            return {"level": lv["level"], "value": lv["value"],
                    "bound_value": value}
    return {"level": None, "value": None, "bound_value": None}


def _claims(protocol: Any, families: Mapping[str, Any]) -> list[dict[str, Any]]:
    listed = set(protocol.robustness.endpoints)
    out: list[dict[str, Any]] = []
    for h in protocol.hypotheses:
        if h.endpoint not in listed or h.goal is None or h.comparator_column is not None \
                or h.type == "equivalence":
            continue
        null = float(h.null_value())
        first = {name: _first_failing(f["levels"], h.endpoint, "lower", null, strict=True)
                 for name, f in families.items()}
        held0 = (families[next(iter(families))]["levels"][0]["endpoints"][h.endpoint]
                 .get("ci") or [None])[0]
        out.append({"hypothesis": h.id, "endpoint": h.endpoint, "type": h.type,
                    "null_value": null, "bound": "lower",
                    "held_unperturbed": None if held0 is None else bool(held0 > null),
                    "first_lost": first})
    return out


def _rules(rob: Any, families: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in rob.rules:
        for name in [r.family] if r.family is not None else list(families):
            levels = families[str(name)]["levels"]
            first = _first_failing(levels, r.endpoint, r.bound, float(r.threshold), strict=False)
            within = first["level"] is not None and first["level"] <= int(r.up_to)
            upto_value = levels[int(r.up_to)]["value"]
            what = "CI lower bound" if r.bound == "lower" else "estimate"
            if within:
                reason = (f"{r.endpoint} {what} below {r.threshold:g} at {name} level "
                          f"{first['level']} (value {first['value']:g})")
            else:
                reason = (f"{r.endpoint} {what} >= {r.threshold:g} at every {name} level up to "
                          f"{r.up_to} (value {upto_value:g})")
            out.append({"id": r.id if r.family is not None else f"{r.id}:{name}", "rule": r.id,
                        "endpoint": r.endpoint, "family": str(name), "bound": r.bound,
                        "threshold": float(r.threshold), "up_to": int(r.up_to),
                        "up_to_value": upto_value, "first_failing": first,
                        "decision": "fail" if within else "pass", "reason": reason,
                        "role": "pre-specified secondary assessment"})
    return out

