"""The ``risk`` block of ``results.json``: calibration and prognostic endpoints of a risk output.

Maps the protocol's risk endpoints and ``risk`` section onto :mod:`validation.stats`:

* calibration (``score_is_probability``): ``calibration_summary`` (intercept, slope, Brier,
  calibration-in-the-large), ``brier_score`` (decomposition, Spiegelhalter z),
  ``expected_calibration_error`` and ``calibration_bins`` (the reliability diagram, stated
  bins), ``hosmer_lemeshow_test`` and ``calibration_curve`` (LOWESS with a seeded band), pooled
  and per site and subgroup level (intercept, slope, Brier);
* prognostic (``outcomes``): ``concordance_index``, ``time_dependent_auc`` at the horizons,
  ``survival_by_group`` (Kaplan-Meier with numbers at risk, log-rank, medians) over the
  protocol's risk groups, ``cox_hazard_ratio`` per unit of score and ``cox_group_hazard_ratios``
  with the proportional-hazards test;
* acceptance rules (``risk.rules``) judged on each endpoint's reported interval.

Indeterminate cases (no score) are left out and counted. Intervals have the protocol's level
``1 - ci_alpha``; bootstrap intervals use the protocol's seed and replicate count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from validation.analysis.results import unavailable
from validation.analysis.subgroups import subgroup_levels
from validation.data.testset import INDETERMINATE
from validation.errors import DataError, InputError
from validation.protocol.vocabulary import RISK_KINDS
from validation.stats import (
    bootstrap_statistic,
    brier_score,
    calibration_bins,
    calibration_curve,
    calibration_summary,
    concordance_index,
    cox_group_hazard_ratios,
    cox_hazard_ratio,
    expected_calibration_error,
    fit_recalibration,
    hosmer_lemeshow_test,
    survival_by_group,
    time_dependent_auc,
    to_plain,
)

HISTOGRAM_BINS = 20


def risk_group_labels(score: np.ndarray, cuts: list[float], labels: list[str]) -> np.ndarray:
    """Risk group of each score: ``[-inf, c1)`` is the first label, ``[ck, inf)`` the last."""
    return np.asarray(labels, dtype=object)[np.searchsorted(np.asarray(cuts, dtype=float), score, side="right")]


def at_risk_ticks(t_max: float, most: int = 7) -> np.ndarray:
    """0 and round multiples of a 1-2-2.5-5 step up to ``t_max`` (at most ``most`` times)."""
    if t_max <= 0:
        return np.array([0.0])
    base = 10.0 ** np.floor(np.log10(t_max / (most - 1)))
    step = next(m * base for m in (1.0, 2.0, 2.5, 5.0, 10.0) if t_max / (m * base) <= most - 1)
    return np.arange(0.0, t_max + 1e-9 * t_max, step)


def _coef(c: dict[str, Any]) -> dict[str, Any]:
    return {k: c[k] for k in ("estimate", "se", "ci", "statistic", "p_value", "null", "method")}


def _calibration(y: np.ndarray, p: np.ndarray, risk: Any, alpha: float, seed: int, n_boot: int) -> dict[str, Any]:
    cal = risk.calibration
    summary = calibration_summary(y, p, alpha=alpha).to_dict()
    brier = brier_score(y, p, bins=cal.bins, strategy=cal.strategy).to_dict()
    ece = expected_calibration_error(y, p, bins=cal.bins, strategy=cal.strategy).to_dict()
    try:
        hl: dict[str, Any] = hosmer_lemeshow_test(y, p).to_dict()
    except InputError as exc:
        hl = unavailable("Hosmer-Lemeshow", str(exc))
    curve = calibration_curve(
        y, p, frac=float(cal.smoother_span), n_boot=int(cal.band_replicates), seed=seed, alpha=alpha
    ).to_dict()
    boot = {}
    for name, fn in (
        ("brier", lambda yy, pp: float(np.mean((pp - yy) ** 2))),
        ("ece", lambda yy, pp: _ece(yy, pp, cal.bins, cal.strategy)),
    ):
        boot[name] = bootstrap_statistic(fn, y.astype(float), p, n_boot=n_boot, seed=seed, alpha=alpha).to_dict()
    hist, edges = np.histogram(p, bins=HISTOGRAM_BINS, range=(0.0, 1.0))
    return {
        "summary": summary,
        "brier": brier,
        "ece": ece,
        "hosmer_lemeshow": hl,
        "curve": curve,
        "bins": calibration_bins(y, p, bins=cal.bins, strategy=cal.strategy).to_dict(),
        "bootstrap": boot,
        "histogram": {
            "edges": edges.tolist(),
            "events": np.histogram(p[y == 1], bins=edges)[0].tolist(),
            "non_events": np.histogram(p[y == 0], bins=edges)[0].tolist(),
            "n": hist.tolist(),
        },
    }


def _ece(y: np.ndarray, p: np.ndarray, bins: int, strategy: str) -> float:
    try:
        return float(expected_calibration_error(y.astype(int), p, bins=bins, strategy=strategy).estimate)
    except InputError:
        return float("nan")


def _prognostic(
    t: np.ndarray, e: np.ndarray, s: np.ndarray, risk: Any, alpha: float, seed: int, n_boot: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"time_unit": risk.outcomes.time_unit, "n": int(t.size), "n_events": int(e.sum())}
    out["concordance"] = concordance_index(t, e, s, alpha=alpha).to_dict()
    out["time_auc"] = (
        time_dependent_auc(t, e, s, horizons=list(risk.horizons), alpha=alpha, n_boot=n_boot, seed=seed).to_dict()
        if risk.horizons
        else None
    )
    per = float(risk.hazard_ratio_per)
    out["cox_score"] = {**cox_hazard_ratio(t, e, s / per, alpha=alpha).to_dict(), "per": per}
    if risk.risk_groups is not None:
        rg = risk.risk_groups
        groups = risk_group_labels(s, list(rg.cuts), list(rg.labels))
        present = [lv for lv in rg.labels if np.any(groups == lv)]
        ticks = at_risk_ticks(float(np.max(t)))
        out["groups"] = {
            "cuts": list(rg.cuts),
            "labels": list(rg.labels),
            "n": {lv: int(np.sum(groups == lv)) for lv in rg.labels},
        }
        out["survival"] = survival_by_group(
            t, e, groups, order=present, at_risk_times=ticks, alpha=alpha
        ).to_dict()
        try:
            out["cox_groups"] = cox_group_hazard_ratios(t, e, groups, order=present, alpha=alpha).to_dict()
        except InputError as exc:
            out["cox_groups"] = unavailable("Cox model of risk groups", str(exc))
    return out


def _need(block: dict[str, Any] | None, ep: Any, what: str) -> dict[str, Any]:
    """``block``, or a DataError naming the endpoint (the protocol checks normally prevent it)."""
    if block is None:
        raise DataError(f"endpoint {ep.id!r} ({ep.kind}) needs {what}, which this run does not have.")
    return block


def _endpoint(ep: Any, cal: dict[str, Any] | None, prog: dict[str, Any] | None, level: float) -> dict[str, Any]:
    kind = ep.kind
    head = {"kind": kind, "role": ep.role, "ci_method": ep.ci, "ci_level": level}
    if kind in ("calibration_slope", "calibration_intercept"):
        cal = _need(cal, ep, "a probability score (risk.score_is_probability)")
        c = cal["summary"]["slope" if kind == "calibration_slope" else "intercept"]
        return {**head, **_coef(c), "references": cal["summary"]["references"]}
    if kind in ("brier", "ece"):
        cal = _need(cal, ep, "a probability score (risk.score_is_probability)")
        b = cal["bootstrap"][kind]
        est = cal["brier"]["estimate"] if kind == "brier" else cal["ece"]["estimate"]
        refs = cal["brier" if kind == "brier" else "ece"]["references"]
        return {
            **head,
            "estimate": est,
            "ci": b["ci"],
            "se": b.get("se"),
            "method": cal["brier" if kind == "brier" else "ece"]["method"] + "; " + b["method"],
            "references": refs + b.get("references", []),
        }
    prog = _need(prog, ep, "the time-to-event outcomes (risk.outcomes)")
    if kind == "c_index":
        c = prog["concordance"]
        return {**head, **{k: c[k] for k in ("estimate", "se", "ci", "method", "references")}}
    if kind == "time_auc":
        ta = prog["time_auc"]
        first = ta["horizons"][0]
        return {
            **head,
            "estimate": first["estimate"],
            "ci": first["ci"],
            "horizon": first["horizon"],
            "by_horizon": ta["horizons"],
            "method": ta["method"],
            "references": ta["references"],
        }
    cox = prog["cox_score"]
    hr = cox["hazard_ratios"][0]
    return {
        **head,
        "estimate": hr["estimate"],
        "ci": hr["ci"],
        "se": hr["se"],
        "log_hr": hr["log_hr"],
        "p_value": hr["p_value"],
        "per": cox["per"],
        "ph_test": cox["ph_tests"][0],
        "method": cox["method"],
        "references": cox["references"],
    }


def _by_subset(
    kind: str,
    y: np.ndarray,
    p: np.ndarray,
    t: np.ndarray | None,
    e: np.ndarray | None,
    s: np.ndarray,
    alpha: float,
    hr_per: float,
) -> dict[str, Any]:
    """Pooled-method estimate on one site or subgroup level (Wald kinds and point estimates)."""
    try:
        if kind in ("calibration_slope", "calibration_intercept"):
            c = calibration_summary(y, p, alpha=alpha).to_dict()
            return {**_coef(c["slope" if kind == "calibration_slope" else "intercept"]), "n": int(y.size)}
        if kind == "brier":
            return {
                "estimate": float(np.mean((p - y) ** 2)),
                "ci": [None, None],
                "n": int(y.size),
                "note": "point estimate (the interval is given pooled)",
            }
        if kind == "ece":
            return {
                "estimate": expected_calibration_error(y, p).estimate,
                "ci": [None, None],
                "n": int(y.size),
                "note": "point estimate (the interval is given pooled)",
            }
        if t is None or e is None:
            return unavailable(kind, "no outcomes")
        if kind == "c_index":
            cc = concordance_index(t, e, s, alpha=alpha)
            return {"estimate": cc.estimate, "se": cc.se, "ci": list(cc.ci), "n": int(t.size)}
        if kind == "hazard_ratio":
            h = cox_hazard_ratio(t, e, s / hr_per, alpha=alpha).hazard_ratios[0]
            return {"estimate": h.estimate, "ci": list(h.ci), "se": h.se, "n": int(t.size)}
        return unavailable(kind, "given pooled only (bootstrap over horizons)")
    except InputError as exc:
        return unavailable(kind, str(exc), n=int(s.size))


def _recalibration(det: pd.DataFrame, y: np.ndarray, p: np.ndarray, spec: Any, alpha: float) -> dict[str, Any]:
    """Recalibration fitted on the tuning cases, judged beside the locked model on the others."""
    if spec.column not in det.columns:
        raise DataError(f"risk.recalibration: the manifest has no column {spec.column!r} (the split); "
                        "add it or name the column that holds each case's split.")
    tune = det[spec.column].astype(str).to_numpy() == str(spec.tuning)
    if not tune.any() or tune.all():
        raise DataError(f"risk.recalibration: {int(tune.sum())} of {tune.size} analysed cases have "
                        f"{spec.column} = {spec.tuning!r}; both a tuning and an evaluation split are needed.")
    model = fit_recalibration(y[tune], p[tune], alpha=alpha)
    locked = calibration_summary(y[~tune], p[~tune], alpha=alpha).to_dict()
    recal = calibration_summary(y[~tune], model.recalibrate(p[~tune]), alpha=alpha).to_dict()

    def brief(c: dict[str, Any]) -> dict[str, Any]:
        return {"intercept": _coef(c["intercept"]), "slope": _coef(c["slope"]), "brier": c["brier"],
                "calibration_in_the_large": c["calibration_in_the_large"]}

    return {
        "column": spec.column,
        "tuning": spec.tuning,
        "n_tuning": int(tune.sum()),
        "n_evaluation": int((~tune).sum()),
        "model": model.to_dict(),
        "evaluation": {"locked": brief(locked), "recalibrated": brief(recal)},
        "note": "Fitted on the tuning cases only and judged on the evaluation cases; the locked model's "
        "endpoints and rules above use every case and are unchanged by it.",
    }


def _rule(rule: Any, block: dict[str, Any]) -> dict[str, Any]:
    lo, hi = block.get("ci") or (None, None)
    base = {
        "id": rule.id,
        "endpoint": rule.endpoint,
        "rule": rule.rule,
        "bounds": rule.bounds,
        "goal": rule.goal,
        "estimate": block.get("estimate"),
        "ci": [lo, hi],
        "ci_level": block["ci_level"],
    }
    if lo is None or hi is None:
        return {**base, "decision": "fail", "reason": "the endpoint has no interval"}
    if rule.rule == "interval_inside":
        a, b = rule.bounds
        ok = a <= lo and hi <= b
        reason = f"interval [{lo:.4g}, {hi:.4g}] {'inside' if ok else 'not inside'} [{a:g}, {b:g}]"
    elif rule.rule == "lower_bound_above":
        ok = lo > rule.goal
        reason = f"lower bound {lo:.4g} {'>' if ok else '<='} goal {rule.goal:g}"
    else:
        ok = hi < rule.goal
        reason = f"upper bound {hi:.4g} {'<' if ok else '>='} goal {rule.goal:g}"
    return {**base, "decision": "pass" if ok else "fail", "reason": reason}


def risk_section(protocol: Any, cases: pd.DataFrame, *, alpha: float, seed: int) -> dict[str, Any] | None:
    """The ``risk`` block of ``results.json`` (``None`` for a protocol without risk endpoints).

    ``cases`` are the analysed cases with ``score`` and, when the protocol names outcomes,
    ``time`` and ``event`` (:func:`validation.data.time_to_event.match_outcomes`).
    """
    risk = getattr(protocol, "risk", None)
    eps = [ep for ep in protocol.endpoints if ep.kind in RISK_KINDS]
    if risk is None or not eps:
        return None
    det = cases[~cases[INDETERMINATE].to_numpy(dtype=bool)]
    s = det["score"].to_numpy(dtype=np.float64)
    y = det["truth"].to_numpy(dtype=np.int8)
    n_boot = int(protocol.analysis.bootstrap_replicates)
    kinds = {ep.kind for ep in eps}
    cal = prog = None
    t = e = None
    try:
        if risk.score_is_probability and kinds & {"calibration_slope", "calibration_intercept", "brier", "ece"}:
            cal = _calibration(y, s, risk, alpha, seed, n_boot)
        if risk.outcomes is not None and "time" in det.columns:
            t = det["time"].to_numpy(dtype=np.float64)
            e = det["event"].to_numpy(dtype=np.int64)
            prog = _prognostic(t, e, s, risk, alpha, seed, n_boot)
    except InputError as exc:
        raise DataError(f"risk analysis: {exc}") from None
    level = 1.0 - alpha
    endpoints = {}
    subsets: list[tuple[str, str, np.ndarray]] = []
    site = det["site"].astype(str).to_numpy()
    subsets += [("site", k, np.flatnonzero(site == k)) for k in sorted(set(site))]
    for sg in protocol.subgroups:
        lv = subgroup_levels(det[sg.column], bins=sg.bins, labels=sg.labels, name=sg.id).astype(str).to_numpy()
        subsets += [(sg.id, k, np.flatnonzero(lv == k)) for k in sorted(set(lv))]
    for ep in eps:
        block = _endpoint(ep, cal, prog, level)
        by: dict[str, dict[str, Any]] = {"site": {}}
        for fam, key, rows in subsets:
            res = _by_subset(
                ep.kind,
                y[rows],
                s[rows],
                None if t is None else t[rows],
                None if e is None else e[rows],
                s[rows],
                alpha,
                float(risk.hazard_ratio_per),
            )
            by.setdefault(fam, {})[key] = res
        block["by_site"] = by.pop("site")
        block["by_subgroup"] = by
        endpoints[ep.id] = block
    rules = [_rule(r, endpoints[r.endpoint]) for r in risk.rules]
    recalibration = None
    if getattr(risk, "recalibration", None) is not None and risk.score_is_probability:
        try:
            recalibration = _recalibration(det, y, s, risk.recalibration, alpha)
        except InputError as exc:
            raise DataError(f"risk recalibration: {exc}") from None
    return to_plain(
        {
            "score_is_probability": bool(risk.score_is_probability),
            "n": int(len(det)),
            "n_indeterminate_left_out": int(len(cases) - len(det)),
            "ci_level": level,
            "seed": int(seed),
            "bootstrap_replicates": n_boot,
            "calibration_settings": risk.calibration.model_dump(mode="json"),
            "endpoints": endpoints,
            "calibration": cal,
            "prognostic": prog,
            "rules": rules,
            **({"recalibration": recalibration} if recalibration is not None else {}),
            "note": "Acceptance rules are judged on each endpoint's reported interval; they are not part "
            "of the multiplicity family of the hypotheses.",
        }
    )
