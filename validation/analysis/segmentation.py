"""Segmentation and measurement-agreement endpoints: ``results.json['segmentation']``.

Mask endpoints (dice, iou, hausdorff95, hausdorff, assd, surface_dice): per case and label
:func:`validation.stats.segmentation_metrics`, then per study, site and subgroup level

* the mean and the median, each with a patient-clustered bootstrap interval (the protocol's
  seed, replicates and interval type; patients are resampled, so several cases or labels of a
  patient count as one unit);
* when the endpoint has a clinical ``threshold``: the proportion of cases meeting it (overlap
  at or above it, distance at or below it) with the Wilson score interval on the Rao-Scott
  effective sample size (patients as clusters).

A distance is undefined when exactly one mask of a case is empty; the case then gets the
worst possible distance, the diagonal of its array in millimetres, and is counted
(``substituted_worst``). Two empty masks are perfect agreement (distance 0, Dice 1).

Measurement endpoints (bland_altman, ccc, icc, kappa) read the measurements table: pooled and
per site and subgroup level (a level too small for the statistic is "not estimable" with the
reason). A Bland-Altman endpoint also reports the repeated-measures version (Bland and Altman
2007) when a patient contributes several cases, proportional bias, and the points of its plot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation.analysis.results import stat_dict, unavailable
from validation.data.masks import load_pairs, read_mask_index, read_measurements
from validation.errors import DataError, InputError
from validation.protocol.vocabulary import MASK_KINDS
from validation.stats import (
    bland_altman,
    bland_altman_repeated,
    bootstrap_statistic,
    clustered_proportion_ci,
    cohen_kappa,
    fleiss_kappa,
    icc,
    lin_ccc,
    proportional_bias,
    segmentation_metrics,
)

METRIC_FIELD = {"dice": "dice", "iou": "iou", "hausdorff95": "hd95", "hausdorff": "hausdorff",
                "assd": "assd", "surface_dice": "surface_dice"}
DISTANCE_KINDS = ("hausdorff95", "hausdorff", "assd")
CONVENTIONS = {
    "surface": "border voxels: foreground voxels with a face neighbour in the background (6-connectivity "
               "in 3-D, 4 in 2-D; outside the array counts as background), at their centres in mm",
    "distance": "Euclidean distance from each border voxel to the nearest border voxel of the other mask",
    "hd95": "larger of the two directed 95th percentiles (linear interpolation)",
    "assd": "mean of the distances of both directions pooled",
    "surface_dice": "share of border voxels of both masks within the tolerance of the other surface",
    "empty": "both masks empty: Dice 1, distances 0; one empty: Dice 0, surface Dice 0, distances "
             "replaced by the array diagonal in mm (counted)",
}


def _subsets(frame: pd.DataFrame, levels: Mapping[str, pd.Series]) -> list[tuple[str, str, np.ndarray]]:
    """(family, key, boolean row mask) of the sites and subgroup levels of ``frame``'s cases."""
    out: list[tuple[str, str, np.ndarray]] = []
    site = frame["site"].astype(str).to_numpy()
    for s in sorted(set(site)):
        out.append(("site", s, site == s))
    for sid, lv in levels.items():
        arr = frame["case_id"].map(lv).astype(str).to_numpy()
        for level in sorted(set(arr)):
            out.append((sid, level, arr == level))
    return out


def _nest(pooled: dict[str, Any], parts: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    by_site = {k: v for fam, k, v in parts if fam == "site"}
    by_sub: dict[str, dict[str, Any]] = {}
    for fam, k, v in parts:
        by_sub.setdefault(fam, {})[k] = v
    return {"pooled": pooled, "by_site": by_site, "by_subgroup": by_sub}


# ---------------------------------------------------------------------------------------------
# mask endpoints


UNREADABLE_REASON = "unreadable or invalid mask"
"""The STARD exclusion reason of a case whose mask file cannot be read (``unreadable: exclude``)."""


def case_metrics(plan: Any, protocol_dir: Path, cases: pd.DataFrame,
                 excluded: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """One row per analysed case and label: site, patient and every metric (worst distances
    substituted where one mask is empty, flagged in ``substituted``).

    With ``excluded`` (a list; the protocol's ``unreadable: exclude``) a case with an unreadable
    or invalid mask file is left out, every label of it, and ``{"case_id", "label", "reason"}``
    appended to ``excluded`` for each such mask pair."""
    masks_root = protocol_dir / (plan.masks_root or Path(plan.masks_index).parent)
    spec = plan.data_spec
    spec_path = protocol_dir / spec
    pairs = read_mask_index(
        protocol_dir / plan.masks_index, masks_root=masks_root,
        spec=str(spec_path) if spec.endswith((".yaml", ".yml")) else spec,
        case_ids=cases["case_id"].astype(str).tolist(), reference_annotator=plan.reference_annotator,
    )
    info = cases.assign(case_id=cases["case_id"].astype(str)).set_index("case_id")
    rows = []
    for pair in load_pairs(pairs, mask_format=plan.mask_format, excluded=excluded):
        m = segmentation_metrics(pair.reference, pair.prediction, spacing=pair.spacing,
                                 tolerance_mm=float(plan.tolerance_mm))
        sub = m.empty in ("reference", "prediction")
        row = {"case_id": pair.case_id, "label": pair.label, "site": str(info.at[pair.case_id, "site"]),
               "patient_id": str(info.at[pair.case_id, "patient_id"]), "empty": m.empty or "",
               "substituted": sub}
        for kind, field in METRIC_FIELD.items():
            v = getattr(m, field)
            row[kind] = m.max_distance_mm if v is None else float(v)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["case_id", "label", "site", "patient_id", "empty", "substituted",
                                        *METRIC_FIELD])
    if excluded:
        frame = frame[~frame["case_id"].isin({e["case_id"] for e in excluded})].reset_index(drop=True)
    if frame.empty and excluded:
        gone = excluded or []
        raise DataError(f"segmentation masks: every case is excluded ({len({e['case_id'] for e in gone})} "
                        "case(s) with an unreadable or invalid mask); nothing is left to analyse.",
                        [f"case {e['case_id']!r} label {e['label']}: {e['reason']}" for e in gone])
    return frame


def mask_flow(pairs_cases: set[str], excluded: list[dict[str, Any]], policy: str) -> dict[str, Any]:
    """STARD flow of the mask endpoints: the cases of the mask index, those excluded for an
    unreadable or invalid mask (with each mask's reason) and those analysed."""
    out_ids = sorted({e["case_id"] for e in excluded})
    return {"unit": "case", "unreadable": policy, "eligible": len(pairs_cases | set(out_ids)),
            "excluded": {UNREADABLE_REASON: len(out_ids)}, "excluded_total": len(out_ids),
            "analysed": len(pairs_cases - set(out_ids)),
            "excluded_cases": [{"case_id": e["case_id"], "label": int(e["label"]), "reason": e["reason"]}
                               for e in sorted(excluded, key=lambda e: (e["case_id"], e["label"]))]}


def _meets(values: np.ndarray, threshold: float, higher_is_better: bool) -> np.ndarray:
    return values >= threshold if higher_is_better else values <= threshold


def _mask_summary(values: np.ndarray, patients: np.ndarray, ep: Any, *, alpha: float, seed: int,
                  n_boot: int, interval: str, substituted: int, refs: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"n": int(values.size), "n_patients": int(len(set(patients.tolist()))),
                           "substituted_worst": int(substituted)}
    for name, fn in (("mean", np.mean), ("median", np.median)):
        if values.size < 2 or out["n_patients"] < 2:
            out[name] = unavailable(f"cluster-bootstrap-{interval}", "fewer than 2 patients in this subset",
                                    n=int(values.size))
            continue
        try:
            r = bootstrap_statistic(fn, values, cluster=patients, n_boot=n_boot, seed=seed, alpha=alpha,
                                    interval=interval)
        except InputError as exc:
            out[name] = unavailable(f"cluster-bootstrap-{interval}", str(exc), n=int(values.size))
            continue
        d = stat_dict(r)
        if not refs:
            d.pop("references", None)
        out[name] = d
    if ep.threshold is not None:
        hits = _meets(values, float(ep.threshold), ep.higher_is_better).astype(int)
        extra = {"threshold": float(ep.threshold),
                 "direction": "at or above" if ep.higher_is_better else "at or below"}
        try:
            d = stat_dict(clustered_proportion_ci(hits, patients, method="wilson", alpha=alpha), **extra)
        except InputError as exc:
            d = unavailable("wilson-clustered", str(exc), n=int(values.size), **extra)
        if not refs:
            d.pop("references", None)
        out["proportion"] = d
    else:
        out["proportion"] = None
    return out


def _mask_endpoint(ep: Any, frame: pd.DataFrame, levels: Mapping[str, pd.Series], **kw: Any) -> dict[str, Any]:
    f = frame if ep.label is None else frame[frame["label"] == ep.label]
    if f.empty:
        raise DataError(f"segmentation endpoint {ep.id!r}: no mask of label {ep.label} in the index.")
    values = f[ep.kind].to_numpy(dtype=np.float64)
    patients = f["patient_id"].to_numpy()
    subst = f["substituted"].to_numpy(dtype=bool)
    pooled = _mask_summary(values, patients, ep, substituted=int(subst.sum()), refs=True, **kw)
    parts = [(fam, key, _mask_summary(values[rows], patients[rows], ep, substituted=int(subst[rows].sum()),
                                      refs=False, **kw))
             for fam, key, rows in _subsets(f, levels)]
    site = f["site"].astype(str).to_numpy()
    out = {"kind": ep.kind, "family": "mask", "role": ep.role, "label": ep.label,
           "unit": "mm" if ep.kind in DISTANCE_KINDS else None,
           "threshold": ep.threshold, "higher_is_better": ep.higher_is_better,
           **_nest(pooled, parts),
           "values_by_site": {s: sorted(values[site == s].tolist()) for s in sorted(set(site))}}
    return out


# ---------------------------------------------------------------------------------------------
# measurement endpoints


def _measure(ep: Any, sub: pd.DataFrame, alpha: float, refs: bool) -> dict[str, Any]:
    try:
        if ep.kind == "bland_altman":
            r = bland_altman(sub[ep.device], sub[ep.reference], alpha=alpha)
            d = r.to_dict()
            exact = ep.limits_ci == "exact"
            d.update(estimate=r.bias, ci=list(r.bias_ci),
                     lower_bound_ci=list(r.lower_ci_exact if exact else r.lower_ci),
                     upper_bound_ci=list(r.upper_ci_exact if exact else r.upper_ci),
                     limits_ci=ep.limits_ci)
        elif ep.kind == "ccc":
            d = lin_ccc(sub[ep.device], sub[ep.reference], alpha=alpha).to_dict()
        elif ep.kind == "icc":
            d = icc(sub[[ep.device, ep.reference]].to_numpy(dtype=float), form=ep.form, alpha=alpha).to_dict()
        else:
            cols = list(ep.columns)
            if len(cols) == 2:
                d = cohen_kappa(sub[cols[0]].to_numpy(), sub[cols[1]].to_numpy(), weights=ep.weights,
                                alpha=alpha).to_dict()
            else:
                d = fleiss_kappa(sub[cols].to_numpy(), alpha=alpha).to_dict()
    except InputError as exc:
        return unavailable(ep.kind, str(exc), n=len(sub))
    d.setdefault("n", len(sub))
    if not refs:
        d.pop("references", None)
    return d


def _measurement_endpoint(
    ep: Any, frame: pd.DataFrame, levels: Mapping[str, pd.Series], alpha: float
) -> dict[str, Any]:
    pooled = _measure(ep, frame, alpha, refs=True)
    if pooled.get("estimate") is None:
        raise DataError(f"segmentation endpoint {ep.id!r}: not estimable on the analysed cases: {pooled['note']}")
    parts = [(fam, key, _measure(ep, frame[rows], alpha, refs=False))
             for fam, key, rows in _subsets(frame, levels)]
    out: dict[str, Any] = {"kind": ep.kind, "family": "measurement", "role": ep.role, **_nest(pooled, parts)}
    if ep.kind == "bland_altman":
        a = frame[ep.device].to_numpy(dtype=float)
        b = frame[ep.reference].to_numpy(dtype=float)
        out["columns"] = {"device": ep.device, "reference": ep.reference}
        order = np.lexsort(((a - b), (a + b) / 2.0))  # no case order leaks; sorted points
        out["plot"] = {"mean": ((a + b) / 2.0)[order].tolist(), "difference": (a - b)[order].tolist()}
        try:
            out["proportional_bias"] = proportional_bias(a, b, alpha=alpha).to_dict()
        except InputError as exc:
            out["proportional_bias"] = unavailable("ols-difference-on-mean", str(exc))
        patients = frame["patient_id"].astype(str)
        if patients.duplicated().any():
            try:
                out["repeated"] = bland_altman_repeated(a, b, patients.to_numpy(), alpha=alpha).to_dict()
            except InputError as exc:
                out["repeated"] = unavailable("bland-altman-2007-repeated", str(exc))
        else:
            out["repeated"] = None
    elif ep.kind in ("ccc", "icc"):
        out["columns"] = {"device": ep.device, "reference": ep.reference}
    else:
        out["columns"] = {"raters": list(ep.columns)}
    return out


# ---------------------------------------------------------------------------------------------
# hypotheses


def _hypothesis(h: Any, res: Mapping[str, Any]) -> dict[str, Any]:
    pooled = res["pooled"]
    out: dict[str, Any] = {"id": h.id, "endpoint": h.endpoint, "type": h.type, "goal": h.goal,
                           "lower": h.lower, "upper": h.upper, "p_value": None, "test": "confidence bound"}
    if h.type in ("mean_above", "mean_below"):
        stat = pooled["mean"]
        est, (lo, hi) = stat["estimate"], stat["ci"]
        bound = lo if h.type == "mean_above" else hi
        ok = bound is not None and (bound > h.goal if h.type == "mean_above" else bound < h.goal)
        word = "lower" if h.type == "mean_above" else "upper"
        rel = ">" if h.type == "mean_above" else "<"
        reason = f"{word} bound of the mean {bound!r} {rel} goal {h.goal!r}: {'yes' if ok else 'no'}"
        out.update(estimate=est, ci=[lo, hi], bound=bound)
    elif h.type == "proportion_above":
        stat = pooled["proportion"]
        est, (lo, hi) = stat["estimate"], stat["ci"]
        ok = lo > h.goal
        reason = (f"lower bound of the proportion {stat['direction']} {stat['threshold']!r} is {lo!r} "
                  f"> goal {h.goal!r}: {'yes' if ok else 'no'}")
        out.update(estimate=est, ci=[lo, hi], bound=lo)
    elif h.type == "limits_within":
        lo_b = pooled["lower_bound_ci"][0]
        hi_b = pooled["upper_bound_ci"][1]
        ok = h.lower < lo_b and hi_b < h.upper
        reason = (f"outer confidence bounds of the limits of agreement [{lo_b!r}, {hi_b!r}] inside the "
                  f"clinical range [{h.lower!r}, {h.upper!r}] ({pooled['limits_ci']} intervals): "
                  f"{'yes' if ok else 'no'}")
        out.update(estimate=pooled["bias"], ci=[lo_b, hi_b], bound=None)
    else:
        est, (lo, hi) = pooled["estimate"], pooled["ci"]
        ok = lo > h.goal
        reason = f"lower bound {lo!r} > goal {h.goal!r}: {'yes' if ok else 'no'}"
        out.update(estimate=est, ci=[lo, hi], bound=lo)
    out.update(decision="pass" if ok else "fail", reason=reason)
    return out


def _decide(h: Any, res: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`_hypothesis`, or a failed decision with the reason when the bound is not estimable."""
    pooled = res["pooled"]
    stat = pooled.get("mean") if h.type in ("mean_above", "mean_below") else (
        pooled.get("proportion") if h.type == "proportion_above" else pooled)
    if not stat or stat.get("estimate") is None:
        note = (stat or {}).get("note", "no estimate")
        return {"id": h.id, "endpoint": h.endpoint, "type": h.type, "goal": h.goal, "lower": h.lower,
                "upper": h.upper, "p_value": None, "test": "confidence bound", "estimate": None,
                "ci": [None, None], "bound": None, "decision": "fail",
                "reason": f"not estimable on the analysed cases ({note}); the hypothesis cannot be shown"}
    return _hypothesis(h, res)


def segmentation_section(protocol: Any, cases: pd.DataFrame, *, protocol_dir: str | Path | None, alpha: float,
                         seed: int, levels: Mapping[str, pd.Series],
                         progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``results.json['segmentation']`` for a protocol with a ``segmentation`` section.

    Parameters
    ----------
    protocol : validation.protocol.Protocol (``protocol.segmentation`` set)
    cases : the analysed cases (``case_id``, ``patient_id``, ``site`` and the subgroup columns)
    protocol_dir : the protocol's folder (the paths of the section are relative to it)
    alpha : two-sided alpha of the intervals (``protocol.ci_alpha``)
    seed : the seed of every bootstrap
    levels : subgroup id -> level of each case (indexed like ``cases``)

    Raises
    ------
    DataError
        Naming each case and reason for a bad mask or measurement.
    """
    plan = protocol.segmentation
    if protocol_dir is None:
        raise InputError("'protocol_dir' must be the protocol's folder for a segmentation section; got None.")
    base = Path(protocol_dir)
    say = progress or (lambda text: None)
    by_case = {sid: pd.Series(lv.to_numpy(), index=cases["case_id"].astype(str).to_numpy())
               for sid, lv in levels.items()}
    kw = {"alpha": alpha, "seed": int(seed), "n_boot": int(protocol.analysis.bootstrap_replicates),
          "interval": protocol.analysis.bootstrap_interval}
    endpoints: dict[str, Any] = {}
    out: dict[str, Any] = {"tolerance_mm": float(plan.tolerance_mm), "mask_format": plan.mask_format,
                           "conventions": CONVENTIONS, "ci_level": 1.0 - alpha}
    mask_eps = [e for e in plan.endpoints if e.kind in MASK_KINDS]
    if mask_eps:
        say("segmentation: reading masks and computing per-case metrics")
        policy = getattr(plan, "unreadable", "refuse")
        excluded: list[dict[str, Any]] = []
        frame = case_metrics(plan, base, cases, excluded if policy == "exclude" else None)
        out["flow"] = mask_flow(set(frame["case_id"]), excluded, policy)
        out["cases"] = {"n_cases": int(frame["case_id"].nunique()), "n_masks": len(frame),
                        "labels": sorted(int(v) for v in frame["label"].unique()),
                        "both_empty": int((frame["empty"] == "both").sum()),
                        "reference_empty": int((frame["empty"] == "reference").sum()),
                        "prediction_empty": int((frame["empty"] == "prediction").sum())}
        for ep in mask_eps:
            say(f"segmentation endpoint {ep.id}: pooled, sites and subgroup levels")
            endpoints[ep.id] = _mask_endpoint(ep, frame, by_case, **kw)
    meas_eps = [e for e in plan.endpoints if e.kind not in MASK_KINDS]
    if meas_eps:
        numeric = [c for e in meas_eps if e.kind != "kappa" for c in (e.device, e.reference)]
        categorical = [c for e in meas_eps if e.kind == "kappa" for c in e.columns]
        m = read_measurements(base / plan.measurements, case_ids=cases["case_id"].astype(str).tolist(),
                              numeric=numeric, categorical=categorical)
        info = cases.assign(case_id=cases["case_id"].astype(str))[["case_id", "site", "patient_id"]]
        # case order fixed by case id: sums (hence the bytes of results.json) do not depend on
        # the order of the manifest
        m = m.merge(info, on="case_id", how="left").sort_values("case_id", kind="stable").reset_index(drop=True)
        for ep in meas_eps:
            say(f"measurement endpoint {ep.id}")
            endpoints[ep.id] = _measurement_endpoint(ep, m, by_case, alpha)
    out["endpoints"] = endpoints
    out["endpoint_order"] = [e.id for e in plan.endpoints]
    out["hypotheses"] = [_decide(h, endpoints[h.endpoint]) for h in plan.hypotheses]
    out["hypotheses_note"] = ("each segmentation hypothesis is tested at the one-sided level "
                              f"{alpha / 2!r} on its confidence bound; they are outside the "
                              "protocol's multiplicity procedure")
    return out
