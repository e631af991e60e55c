"""The analysis engine: a checked test set with scores in, the ``results.json`` content out.

:func:`analyse` computes every endpoint of the protocol pooled, per site and per subgroup,
at the protocol's unit of analysis and with its interval method, the confusion matrices at the
locked operating point, the empirical ROC curve, the reader study (when the protocol has one)
and the hypotheses with their multiplicity adjustment. The result is plain JSON-ready data
laid out as in ``docs/CONTRACTS.md``; it holds no timestamp, run id or absolute path, so the
same inputs and seed always give the same bytes.

Interval level: with ``sidedness: two-sided`` the intervals have level ``1 - alpha``; with
``one-sided`` they are two-sided ``1 - 2 alpha`` intervals, whose lower bound is the one-sided
``1 - alpha`` bound a performance goal is judged on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from validation.analysis.endpoints import (
    AUC_KINDS,
    PROPORTION_KINDS,
    analysis_scenario,
    endpoint_statistic,
    patient_ranks,
    score_bounds,
    unit_data,
)
from validation.analysis.results import SCHEMA_VERSION, unavailable
from validation.analysis.sample_size import sample_size_section
from validation.analysis.subgroups import subgroup_levels
from validation.data.testset import INDETERMINATE
from validation.errors import DataError, InputError
from validation.protocol.vocabulary import MRMC_KINDS
from validation.stats.roc_band import roc_sensitivity_band


@dataclass(frozen=True, slots=True)
class AnalysisContext:
    """What the engine passes on to hypothesis evaluation beyond ``results.json``."""

    cases: pd.DataFrame
    ratings: pd.DataFrame | None
    ci_alpha: float
    seed: int


def _confusion(cases: pd.DataFrame, operating_point: float) -> dict[str, int]:
    ind = cases[INDETERMINATE].to_numpy(dtype=bool)
    t = cases["truth"].to_numpy(dtype=np.int8)[~ind] == 1
    c = cases["score"].to_numpy(dtype=np.float64)[~ind] >= operating_point
    return {
        "tp": int(np.sum(t & c)),
        "fp": int(np.sum(~t & c)),
        "fn": int(np.sum(t & ~c)),
        "tn": int(np.sum(~t & ~c)),
        "n": int(t.size),
        "indeterminate": int(ind.sum()),
    }


def _roc(
    cases: pd.DataFrame, operating_point: float, *, alpha: float = 0.05, n_boot: int = 2000, seed: int = 0,
    progress: Any = None, map_blocks: Any = None,
) -> dict[str, Any] | None:
    from validation.stats.roc import operating_point as op_stats
    from validation.stats.roc import roc_curve_points

    det = cases[~cases[INDETERMINATE].to_numpy(dtype=bool)]
    truth = det["truth"].to_numpy(dtype=np.int8)
    score = det["score"].to_numpy(dtype=np.float64)
    try:
        curve = roc_curve_points(truth, score)
        op = op_stats(truth, score, operating_point)
    except InputError:
        return None
    c = curve.to_dict()
    return {
        "unit": "finding",
        "pooled": {
            "fpr": c["fpr"],
            "tpr": c["tpr"],
            "thresholds": c["thresholds"],
            "n_positive": c["n_positive"],
            "n_negative": c["n_negative"],
            "method": c["method"],
            "band": roc_sensitivity_band(
                truth, score, alpha=alpha, n_boot=n_boot, seed=seed, progress=progress,
                map_blocks=map_blocks,
            ).to_dict(),
        },
        "operating_point": {
            "threshold": float(operating_point),
            "sensitivity": op.sensitivity,
            "specificity": op.specificity,
        },
    }


def _confusion_task(shared: tuple[pd.DataFrame, Any], rows: Any, operating_point: float) -> dict[str, int]:
    cases = shared[0]
    return _confusion(cases if rows is None else cases.iloc[rows], operating_point)


def _block_mapper(ex: Any, progress: Any = None) -> Any:
    """``map_blocks`` for the ROC band: its replicate blocks as tasks of ``ex`` (data shared once);
    ``progress(done, total)`` counts replicates, as the in-process band does."""
    def map_blocks(fn: Any, data: Any, seed: int, blocks: list[tuple[int, int]]) -> list[Any]:
        k = len(blocks)
        total = sum(c for _, c in blocks)
        done = (None if progress is None else
                lambda d, _k: progress(sum(c for _, c in blocks[:d]), total))
        return list(ex.map(fn, [ex.share(data)] * k, [seed] * k, [i for i, _ in blocks],
                           [c for _, c in blocks], progress=done))
    return map_blocks


def _levels(cases: pd.DataFrame, protocol: Any) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    for sg in protocol.subgroups:
        out[sg.id] = subgroup_levels(
            cases[sg.column], bins=sg.bins, labels=sg.labels, name=sg.id
        )
    return out


def _stat_task(shared: tuple[pd.DataFrame, Any], rows: Any, params: dict[str, Any], scenario: str,
               refs: bool) -> dict[str, Any]:
    """One endpoint statistic on one subset (rows ``rows`` of the cases; ``None``: all).

    ``shared`` is the analysed cases and their :func:`patient_ranks`.
    """
    cases, ranks = shared
    sub = cases if rows is None else cases.iloc[rows]
    d = unit_data(sub, unit=params["unit"], operating_point=params["op"], scenario=scenario,
                  score_bounds=params["bounds"], patient_rank=ranks if rows is None else ranks[rows])
    if d.n == 0:
        return unavailable(params["ci"], "no analysable case in this subset", n=0)
    out = endpoint_statistic(
        params["kind"], d, ci=params["ci"], alpha=params["alpha"], seed=params["seed"],
        n_boot=params["n_boot"], interval=params["interval"],
    )
    if not refs:  # the references are given once, with the pooled estimate
        out.pop("references", None)
    return out


def _subsets(cases: pd.DataFrame, levels: dict[str, pd.Series]) -> list[tuple[str, str, Any]]:
    """(family, key, row positions) of every site and subgroup level, in results order."""
    out: list[tuple[str, str, Any]] = []
    site = cases["site"].astype(str).to_numpy()
    for s in sorted(set(site)):
        out.append(("site", s, np.flatnonzero(site == s)))
    for sid, lv in levels.items():
        arr = lv.to_numpy()
        for level in sorted(set(arr)):
            out.append((sid, str(level), np.flatnonzero(arr == level)))
    return out


def _standalone_endpoint(
    protocol: Any,
    ep: Any,
    cases: pd.DataFrame,
    levels: dict[str, pd.Series],
    *,
    alpha: float,
    seed: int,
    n_indeterminate: int,
    executor: Any = None,
    shared: Any = None,
    subsets: list[tuple[str, str, Any]] | None = None,
) -> dict[str, Any]:
    from validation.analysis.executor import InProcess

    ex = executor or InProcess()
    handle = (cases, patient_ranks(cases)) if shared is None else shared
    subs = _subsets(cases, levels) if subsets is None else subsets
    scenario = analysis_scenario(protocol, ep)
    params = {
        "unit": ep.unit, "op": float(protocol.model.operating_point), "bounds": score_bounds(cases),
        "ci": str(ep.ci), "kind": ep.kind, "alpha": alpha, "seed": seed,
        "n_boot": int(protocol.analysis.bootstrap_replicates),
        "interval": str(protocol.analysis.bootstrap_interval),
    }
    scenarios = ("as_positive", "as_negative", "worst_case", "determinate")
    jobs: list[tuple[Any, str, bool]] = [(None, scenario, True)]
    jobs += [(rows, scenario, False) for _, _, rows in subs]
    if n_indeterminate > 0:
        jobs += [(None, sc, False) for sc in scenarios]
    done = ex.map(_stat_task, [handle] * len(jobs), [j[0] for j in jobs], [params] * len(jobs),
                  [j[1] for j in jobs], [j[2] for j in jobs])
    pooled = done[0]
    if pooled.get("estimate") is None:
        raise DataError(
            f"endpoint {ep.id!r} ({ep.kind}, unit {ep.unit}) cannot be estimated on the pooled "
            f"test set: {pooled.get('note')}."
        )
    by_site: dict[str, Any] = {}
    by_subgroup: dict[str, dict[str, Any]] = {sid: {} for sid in levels}
    for (family, key, _), res in zip(subs, done[1:1 + len(subs)], strict=True):
        (by_site if family == "site" else by_subgroup[family])[key] = res
    indeterminate = None
    if n_indeterminate > 0:
        extra = dict(zip(scenarios, done[1 + len(subs):], strict=True))
        indeterminate = {
            "n": n_indeterminate,
            "primary_handling": scenario,
            "as_positive": extra["as_positive"],
            "as_negative": extra["as_negative"],
            "worst_case": extra["worst_case"],
            "excluded": extra["determinate"],
        }
    return {
        "kind": ep.kind,
        "unit": ep.unit,
        "role": ep.role,
        "ci_method": ep.ci,
        "population": protocol.endpoint_population(ep),
        "indeterminate_handling": scenario,
        "pooled": pooled,
        "by_site": by_site,
        "by_subgroup": by_subgroup,
        "indeterminate": indeterminate,
    }


def _ni_margin(protocol: Any, endpoint_id: str) -> float | None:
    for h in protocol.hypotheses:
        if h.endpoint == endpoint_id and h.type == "noninferiority" and h.margin is not None:
            return float(h.margin)
    return None


def _reader_study(
    protocol: Any, ratings: pd.DataFrame | None, *, alpha: float, seed: int,
    dropped_excluded: int,
) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
    mrmc_eps = [e for e in protocol.endpoints if e.kind in MRMC_KINDS]
    if not mrmc_eps:
        return None, {}
    if protocol.reader_study is None or ratings is None:
        raise DataError(
            "the protocol has reader-study endpoints "
            f"({', '.join(e.id for e in mrmc_eps)}) but no reader-study ratings were loaded."
        )
    from validation.stats.mrmc.analysis import mrmc_analysis

    modalities = tuple(str(m) for m in protocol.reader_study.modalities)
    by_endpoint: dict[str, Any] = {}
    endpoint_blocks: dict[str, dict[str, Any]] = {}
    for ep in mrmc_eps:
        fom = ep.kind.removeprefix("mrmc_")
        column = "rating"
        if fom != "auc":
            if "decision" not in ratings.columns or ratings["decision"].isna().any():
                raise DataError(
                    f"endpoint {ep.id!r} ({ep.kind}) needs the binary 'decision' column of the "
                    "ratings file filled for every reading."
                )
            column = "decision"
        df = pd.DataFrame(
            {
                "reader": ratings["reader_id"].astype(str).to_numpy(),
                "modality": ratings["modality"].astype(str).to_numpy(),
                "case": ratings["case_id"].astype(str).to_numpy(),
                "truth": ratings["truth"].astype(int).to_numpy(),
                "rating": ratings[column].astype(float).to_numpy(),
            }
        )
        if protocol.reader_study.design != "fully_crossed":  # split plot: by the design seen
            from validation.analysis.localization import split_plot_reader_block

            d = split_plot_reader_block(
                df, modalities=modalities, alpha=alpha, endpoint=fom, ci=ep.ci,
                margin=_ni_margin(protocol, ep.id), covariance=str(ep.covariance or "jackknife"),
                n_bootstrap=int(protocol.analysis.bootstrap_replicates), seed=seed)
        else:
            res = mrmc_analysis(
                df,
                endpoint=fom,
                covariance=str(ep.covariance or "jackknife"),
                method="or",
                modalities=modalities,
                margin=_ni_margin(protocol, ep.id),
                alpha=alpha,
                n_bootstrap=int(protocol.analysis.bootstrap_replicates),
                seed=seed,
            )
            d = res.to_dict()
        by_endpoint[ep.id] = d
        rrrc = d["rrrc"]
        endpoint_blocks[ep.id] = {
            "kind": ep.kind,
            "unit": ep.unit,
            "role": ep.role,
            "ci_method": ep.ci,
            "covariance": ep.covariance,
            "population": protocol.endpoint_population(ep),
            "pooled": {
                "estimate": d["difference"]["estimate"],
                "ci": rrrc.get("ci"),
                "comparison": d["difference"]["comparison"],
                "statistic": rrrc.get("statistic"),
                "df": rrrc.get("df_den"),
                "p_value": rrrc.get("p_value"),
                "method": d.get("method") or "obuchowski-rockette",
                "references": d.get("references", []),
            },
            "modalities": {
                name: {k: m.get(k) for k in ("estimate", "ci", "se") if k in m}
                for name, m in d["modalities"].items()
            },
            "by_site": {},
            "by_subgroup": {},
            "indeterminate": None,
        }
    # the block is the MRMC object of the first reader endpoint (the `validation mrmc --json`
    # layout the report reads), plus every reader endpoint's object under by_endpoint
    first = mrmc_eps[0].id
    block = dict(by_endpoint[first])
    block.update(
        {
            "endpoint_id": first,
            "modality_order": list(modalities),
            "n_ratings": int(len(ratings)),
            "dropped_excluded": int(dropped_excluded),
            "by_endpoint": by_endpoint,
            "conduct": _conduct(protocol, ratings),
        }
    )
    return block, endpoint_blocks


def _conduct(protocol: Any, ratings: pd.DataFrame) -> dict[str, Any]:
    """Study-conduct checks (fully crossed; washout when reading dates are given)."""
    from validation.stats.mrmc.conduct import study_conduct

    rs = protocol.reader_study
    df = pd.DataFrame(
        {
            "reader": ratings["reader_id"].astype(str).to_numpy(),
            "modality": ratings["modality"].astype(str).to_numpy(),
            "case": ratings["case_id"].astype(str).to_numpy(),
        }
    )
    date = None
    if (
        rs.washout_days_min is not None
        and "reading_date" in ratings.columns
        and ratings["reading_date"].notna().all()
    ):
        df["date"] = ratings["reading_date"].to_numpy()
        date = "date"
    res = study_conduct(
        df, date=date, washout_days_min=float(rs.washout_days_min or 0), truthers=None
    )
    if rs.design != "fully_crossed":
        from validation.analysis.localization import conduct_for_design

        return conduct_for_design(res.to_dict(), rs.design, df)
    return res.to_dict()


def analyse(
    protocol: Any,
    cases: pd.DataFrame,
    *,
    flow: dict[str, Any],
    protocol_sha256: str,
    model_sha256: str,
    seed: int,
    ratings: pd.DataFrame | None = None,
    ratings_dropped_excluded: int = 0,
    localization: Any = None,
    deviations: Sequence[dict[str, Any]] = (),
    executor: Any = None,
    progress: Any = None,
    progress_bar: Any = None,
    robustness: Any = None,
    protocol_dir: Any = None,
) -> dict[str, Any]:
    """Compute every endpoint and hypothesis of ``protocol``; return ``results.json``'s content.

    Parameters
    ----------
    protocol : validation.protocol.Protocol
    cases : the analysed cases (``TestSet.analysed``) joined with their ``score``
        (:func:`validation.data.predictions.match_predictions`).
    flow : STARD flow counts of the test set.
    protocol_sha256 : sha256 of the canonical protocol it runs under.
    model_sha256 : sha256 of the locked model artifact (or predictions file).
    seed : seed of every resampling method.
    ratings : reader-study ratings of the analysed cases (with ``truth``), if any.
    ratings_dropped_excluded : rating rows of excluded cases, dropped before the analysis.
    deviations : recorded deviations from the protocol (e.g. a seed given on the command line).
    executor : where the per-subset tasks run (:mod:`validation.analysis.executor`); default
        in process. The result does not depend on it.
    progress : optional ``callable(text)`` told as each part starts.
    progress_bar : optional ``callable(text)`` returning a context manager that yields an
        ``update(done, total)`` callable; used for the ROC band when it runs in process.
    robustness : the perturbed runs of the protocol's ``robustness`` section
        (:func:`validation.models.robust_inference.predict_robustness`), analysed into the
        ``robustness`` key (:mod:`validation.analysis.robustness`); None: no such key.
    protocol_dir : the protocol's folder; needed by a ``segmentation`` section (mask files).

    Raises
    ------
    DataError
        If a pooled endpoint cannot be estimated (e.g. no reference-positive case).
    """
    from validation.analysis.executor import InProcess

    say = progress or (lambda text: None)
    ex = executor or InProcess()
    a = protocol.ci_alpha
    levels = _levels(cases, protocol)
    subsets = _subsets(cases, levels)
    # the tasks read only these columns (patients as ranks): subsets copy, and Dask ships, less
    shared = ex.share((cases[["truth", "score", INDETERMINATE]], patient_ranks(cases)))
    n_ind = int(cases[INDETERMINATE].sum())
    endpoints: dict[str, Any] = {}
    for ep in protocol.endpoints:
        if ep.kind in PROPORTION_KINDS or ep.kind in AUC_KINDS:
            say(f"endpoint {ep.id}: pooled, {len(subsets)} sites and subgroup levels")
            endpoints[ep.id] = _standalone_endpoint(
                protocol, ep, cases, levels, alpha=a, seed=seed, n_indeterminate=n_ind,
                executor=ex, shared=shared, subsets=subsets,
            )
    reader, reader_endpoints = _reader_study(
        protocol, ratings, alpha=a, seed=seed, dropped_excluded=ratings_dropped_excluded
    )
    endpoints.update(reader_endpoints)
    loc_block = None
    if localization is not None:
        from validation.analysis.localization import localization_section

        say("localization: marks, JAFROC and standalone localization endpoints")
        loc_block, loc_endpoints = localization_section(protocol, localization, alpha=a,
                                                        seed=seed)
        endpoints.update(loc_endpoints)
    deviations = list(deviations)
    if reader is not None and not reader["conduct"].get("passed", True):
        failed = [
            f"{name}: {c.get('detail')}"
            for name, c in reader["conduct"]["checks"].items()
            if c.get("status") == "fail"
        ]
        deviations.append(
            {
                "id": f"D{len(deviations) + 1}",
                "kind": "reader_study_conduct",
                "description": "Reader-study conduct check failed: " + "; ".join(failed),
                "impact": "The MRMC analysis assumes the protocol's conduct; review before "
                "relying on the reader-study results.",
                "approved_by": None,
            }
        )

    op = float(protocol.model.operating_point)
    sites = [(key, rows) for family, key, rows in subsets if family == "site"]
    say("confusion counts per site; ROC curve and its bootstrap band")
    n_boot = int(protocol.analysis.bootstrap_replicates)
    confusion = ex.map(_confusion_task, [shared] * (len(sites) + 1), [None] + [r for _, r in sites],
                       [op] * (len(sites) + 1))
    if isinstance(ex, InProcess) and progress_bar is not None:
        with progress_bar("ROC band: bootstrap replicates") as update:
            roc = _roc(cases, op, alpha=a, n_boot=n_boot, seed=seed, progress=update)
    elif isinstance(ex, InProcess):
        roc = _roc(cases, op, alpha=a, n_boot=n_boot, seed=seed)
    elif progress_bar is not None:  # the band's replicate blocks are the Dask tasks
        with progress_bar("ROC band: bootstrap replicates (dask)") as update:
            roc = _roc(cases, op, alpha=a, n_boot=n_boot, seed=seed,
                       map_blocks=_block_mapper(ex, update))
    else:
        roc = _roc(cases, op, alpha=a, n_boot=n_boot, seed=seed, map_blocks=_block_mapper(ex))
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "protocol": {
            "study_id": protocol.study.id,
            "title": protocol.study.title,
            "version": protocol.study.version,
            "sha256": protocol_sha256,
        },
        "seed": int(seed),
        "analysis": {
            "alpha": float(protocol.alpha),
            "sidedness": protocol.sidedness,
            "ci_level": 1.0 - a,
            "bootstrap_replicates": int(protocol.analysis.bootstrap_replicates),
            "populations": list(protocol.populations),
            "indeterminate_primary": protocol.test_set.indeterminate.primary,
            "subgroups": {
                sg.id: {"column": sg.column, "bins": sg.bins, "labels": sg.labels}
                for sg in protocol.subgroups
            },
        },
        "model": {
            "kind": protocol.model.kind,
            "sha256": model_sha256,
            "operating_point": op,
            "training_sites": list(protocol.model.training_sites),
        },
        "flow": flow,
        "confusion": {
            "unit": "finding",
            "pooled": confusion[0],
            "by_site": {key: c for (key, _), c in zip(sites, confusion[1:], strict=True)},
        },
        "endpoints": endpoints,
        "roc": roc,
        "reader_study": reader,
        "explanations": None,
        "deviations": list(deviations),
    }
    if loc_block is not None:
        results["localization"] = loc_block
    say("hypotheses and multiplicity")
    hyps, mult = evaluate(protocol, results, cases=cases, ratings=ratings, alpha=a, seed=seed)
    results["hypotheses"] = hyps
    results["multiplicity"] = mult
    plan = sample_size_section(protocol)
    if plan is not None:
        results["sample_size"] = plan  # the justification the SAP and report show
    if robustness is not None:
        from validation.analysis.robustness import robustness_results

        say("robustness: endpoints per perturbation and severity, paired with the unperturbed run")
        results["robustness"] = robustness_results(protocol, cases, robustness, alpha=a, seed=seed)
    if getattr(protocol, "segmentation", None) is not None:
        from validation.analysis.segmentation import segmentation_section

        results["segmentation"] = segmentation_section(
            protocol, cases, protocol_dir=protocol_dir, alpha=a, seed=seed, levels=levels, progress=say)
    if protocol.consistency is not None:
        from validation.analysis.consistency import consistency_section

        say("consistency across sites and subgroups (pre-specified)")
        if progress_bar is not None:
            with progress_bar("consistency: factors") as update:
                results["consistency"] = consistency_section(protocol, cases, alpha=a, seed=seed,
                                                             progress=update)
        else:
            results["consistency"] = consistency_section(protocol, cases, alpha=a, seed=seed)
    if getattr(protocol, "risk", None) is not None:
        from validation.analysis.risk import risk_section

        say("risk output: calibration and prognostic endpoints")
        results["risk"] = risk_section(protocol, cases, alpha=a, seed=seed)
    return results


def evaluate(
    protocol: Any,
    results: dict[str, Any],
    *,
    cases: pd.DataFrame,
    ratings: pd.DataFrame | None,
    alpha: float,
    seed: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Hypotheses and multiplicity (``validation.analysis.hypotheses``)."""
    if not protocol.hypotheses:
        return [], {"procedure": protocol.multiplicity.procedure, "alpha": float(protocol.alpha)}
    from validation.analysis.hypotheses import evaluate_hypotheses

    context = AnalysisContext(cases=cases, ratings=ratings, ci_alpha=alpha, seed=seed)
    hyps, mult = evaluate_hypotheses(protocol, results, context)
    return list(hyps), dict(mult)
