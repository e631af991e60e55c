"""From analysed cases to the statistic of one endpoint (the only place that maps kinds to calls).

Units of analysis
-----------------
``finding`` (one row per case of the manifest): the findings of a patient form a cluster and
the interval is cluster-adjusted (ratio-estimator variance of
Rao and Scott 1992 / Obuchowski 1998 for proportions, Obuchowski 1997 for the AUC, or a
cluster bootstrap). ``patient``: the findings of a patient are first collapsed: the patient is
positive when any finding is positive, called positive when any finding is called positive, and
scored by its highest score.

Indeterminate results
---------------------
Following the FDA 2007 statistical guidance (section 7) every endpoint is computed on all
analysed cases with the indeterminate results taken as positive and as negative: called
positive (resp. negative) and, for the AUC, given a score above (resp. below) every observed
score. The protocol's ``test_set.indeterminate.primary`` chooses the handling of the primary
(``all_eligible``) analysis, by default ``worst_case`` (each indeterminate result counted as an
error); the ``per_protocol`` population drops the indeterminate cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from validation.analysis.results import stat_dict, unavailable
from validation.data.testset import INDETERMINATE
from validation.errors import InputError
from validation.protocol.vocabulary import PROPORTION_KINDS

AUC_KINDS = ("auc",)
SCENARIOS = ("determinate", "as_positive", "as_negative", "worst_case")


@dataclass(frozen=True, slots=True)
class UnitData:
    """Per-unit arrays of one analysis: truth (0/1), score, positive call, cluster (or None)."""

    truth: NDArray[np.int8]
    score: NDArray[np.float64]
    called: NDArray[np.bool_]
    cluster: NDArray[Any] | None
    unit: str

    @property
    def n(self) -> int:
        return int(self.truth.size)


def analysis_scenario(protocol: Any, endpoint: Any) -> str:
    """How an endpoint's primary analysis treats indeterminate results (a ``SCENARIOS`` entry).

    ``determinate`` for the ``per_protocol`` population, else the protocol's
    ``test_set.indeterminate.primary`` (``worst_case`` by default).
    """
    if protocol.endpoint_population(endpoint) == "per_protocol":
        return "determinate"
    return str(protocol.test_set.indeterminate.primary)


def score_bounds(cases: pd.DataFrame) -> tuple[float, float]:
    """Scores given to indeterminate results: one below / above every finite score of ``cases``."""
    s = cases["score"].to_numpy(dtype=np.float64)
    finite = s[np.isfinite(s)]
    if finite.size == 0:
        return -1.0, 1.0
    return float(finite.min()) - 1.0, float(finite.max()) + 1.0


def patient_ranks(cases: pd.DataFrame) -> NDArray[np.int64]:
    """Each row's patient as its rank among the sorted distinct ``patient_id`` strings.

    Ranks keep the order of the ids, so any subset's sorted distinct ranks are in the order of
    its sorted distinct ids: grouping or coding clusters by rank gives the same clusters, in the
    same order, as by id (:func:`unit_data`'s ``patient_rank``).
    """
    codes, _ = pd.factorize(cases["patient_id"].astype(str).to_numpy(), sort=True)
    return np.asarray(codes, dtype=np.int64)


def unit_data(
    cases: pd.DataFrame,
    *,
    unit: str,
    operating_point: float,
    scenario: str = "determinate",
    score_bounds: tuple[float, float] | None = None,
    patient_rank: NDArray[np.int64] | None = None,
) -> UnitData:
    """Arrays for one analysis of ``cases`` (analysed cases with ``score`` and ``indeterminate``).

    Parameters
    ----------
    cases : rows of the analysed test set (possibly a site or subgroup subset).
    unit : ``"finding"`` or ``"patient"``.
    operating_point : ``score >= operating_point`` is a positive call.
    scenario : ``"determinate"`` drops indeterminate cases; ``"as_positive"`` /
        ``"as_negative"`` keep them as positive / negative calls; ``"worst_case"`` counts each
        as an error (a reference-positive case as a negative call, a reference-negative case
        as a positive call).
    score_bounds : (low, high) scores given to indeterminate cases as negative / positive;
        default one below the lowest and one above the highest finite score in ``cases``.
    patient_rank : optional, one integer per row of ``cases``: :func:`patient_ranks` of the
        table ``cases`` was taken from. Saves the string work on large tables; clusters,
        patients and their order are the same as from ``patient_id``.
    """
    if unit not in ("finding", "patient"):
        raise InputError(f"'unit' must be finding or patient; got {unit!r}.")
    if scenario not in SCENARIOS:
        raise InputError(f"'scenario' must be one of {', '.join(SCENARIOS)}; got {scenario!r}.")
    ind = cases[INDETERMINATE].to_numpy(dtype=bool)
    score = cases["score"].to_numpy(dtype=np.float64).copy()
    truth = cases["truth"].to_numpy(dtype=np.int8)
    patient = cases["patient_id"].astype(str).to_numpy() if patient_rank is None else np.asarray(patient_rank)
    if scenario == "determinate":
        keep = ~ind
        score, truth, patient = score[keep], truth[keep], patient[keep]
        called = score >= operating_point
    else:
        if score_bounds is None:
            finite = score[np.isfinite(score)]
            lo = float(finite.min()) - 1.0 if finite.size else -1.0
            hi = float(finite.max()) + 1.0 if finite.size else 1.0
        else:
            lo, hi = score_bounds
        if scenario == "worst_case":
            # an indeterminate result counts as an error: wrong call, worst-ranked score
            as_pos = truth == 0
        else:
            as_pos = np.full(truth.size, scenario == "as_positive")
        called = np.where(ind, as_pos, score >= operating_point)
        score = np.where(ind, np.where(as_pos, hi, lo), score)
    if unit == "patient":
        frame = pd.DataFrame({"p": patient, "t": truth, "s": score, "c": called})
        g = frame.groupby("p", sort=True)
        agg = g.agg(t=("t", "max"), s=("s", "max"), c=("c", "max"))
        return UnitData(
            truth=agg["t"].to_numpy(dtype=np.int8),
            score=agg["s"].to_numpy(dtype=np.float64),
            called=agg["c"].to_numpy(dtype=bool),
            cluster=None,
            unit=unit,
        )
    return UnitData(
        truth=truth.astype(np.int8),
        score=score,
        called=called.astype(bool),
        cluster=patient,
        unit=unit,
    )


def _proportion_subset(kind: str, d: UnitData) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(mask of the denominator, success indicator) of a proportion endpoint."""
    t = d.truth == 1
    c = d.called
    if kind == "sensitivity":
        return t, c
    if kind == "specificity":
        return ~t, ~c
    if kind == "ppv":
        return c, t
    if kind == "npv":
        return ~c, ~t
    if kind == "accuracy":
        return np.ones_like(t), c == t
    raise InputError(f"'kind' must be one of {', '.join(PROPORTION_KINDS)}; got {kind!r}.")


def proportion_outcome(kind: str, d: UnitData) -> tuple[NDArray[np.int8], NDArray[Any] | None]:
    """Success (0/1) of each unit in a proportion endpoint's denominator, and its cluster."""
    mask, success = _proportion_subset(kind, d)
    outcome = success[mask].astype(np.int8)
    return outcome, (d.cluster[mask] if d.cluster is not None else None)


_DENOMINATOR = {
    "sensitivity": "reference-positive cases",
    "specificity": "reference-negative cases",
    "ppv": "cases called positive",
    "npv": "cases called negative",
    "accuracy": "cases",
}


PROPORTION_CI = ("wilson", "exact", "jeffreys", "agresti-coull")
"""Binomial interval methods (names of :func:`validation.stats.proportions.proportion_ci`)."""


def proportion_endpoint(
    kind: str, d: UnitData, *, ci: str, alpha: float, seed: int, n_boot: int,
    interval: str = "percentile",
) -> dict[str, Any]:
    """Statistic object of a proportion endpoint.

    ``ci``: ``wilson``, ``exact`` (Clopper-Pearson), ``jeffreys``, ``agresti-coull`` or
    ``bootstrap`` (cases resampled; ``interval`` percentile or BCa, the protocol's
    ``analysis.bootstrap_interval``). With ``unit: finding`` the binomial methods use the
    Rao-Scott effective sample size over patients
    (:func:`validation.stats.proportions.clustered_proportion_ci`) and ``cluster_bootstrap``
    resamples patients.
    """
    mask, success = _proportion_subset(kind, d)
    n = int(mask.sum())
    x = int((success & mask).sum())
    if n == 0:
        return unavailable(ci, f"no {_DENOMINATOR[kind]}", successes=0, n=0)
    outcome, cluster = proportion_outcome(kind, d)
    res: Any
    try:
        if ci in PROPORTION_CI and cluster is None:
            from validation.stats.proportions import proportion_ci

            res = proportion_ci(x, n, method=ci, alpha=alpha)
        elif ci in PROPORTION_CI:
            from validation.stats.proportions import clustered_proportion_ci

            res = clustered_proportion_ci(outcome, cluster, method=ci, alpha=alpha)
        elif ci in ("bootstrap", "cluster_bootstrap"):
            from validation.stats.bootstrap import bootstrap_proportion

            res = bootstrap_proportion(
                outcome,
                cluster=cluster if ci == "cluster_bootstrap" else None,
                n_boot=n_boot,
                seed=seed,
                alpha=alpha,
                interval=interval,
            )
        else:
            raise InputError(f"'ci' {ci!r} is not an interval method of a proportion.")
    except InputError as exc:
        return unavailable(ci, str(exc), successes=x, n=n)
    return stat_dict(res, successes=x, n=n)


_AUC_CALL: dict[str, tuple[str, bool]] = {
    # protocol name: (auc_ci method, pass the patient cluster)
    "delong": ("delong", False),
    "logit": ("logit", False),
    "bootstrap": ("bootstrap", False),
    "obuchowski": ("delong", True),
    "cluster_bootstrap": ("bootstrap", True),
}


def auc_endpoint(
    d: UnitData, *, ci: str, alpha: float, seed: int, n_boot: int,
    interval: str = "percentile",
) -> dict[str, Any]:
    """Statistic object of an AUC endpoint.

    ``ci`` (protocol names): ``delong``, ``logit``, ``bootstrap`` (stratified) for independent
    units; ``obuchowski`` (clustered DeLong variance) or ``cluster_bootstrap`` for findings.
    """
    from validation.stats.roc import auc_ci

    if ci not in _AUC_CALL:
        raise InputError(f"'ci' must be one of {', '.join(_AUC_CALL)} for an AUC; got {ci!r}.")
    method, clustered = _AUC_CALL[ci]
    n_pos = int((d.truth == 1).sum())
    n_neg = int(d.n - n_pos)
    try:
        res = auc_ci(
            d.truth,
            d.score,
            method=method,
            alpha=alpha,
            cluster=d.cluster if clustered else None,
            n_boot=n_boot,
            seed=seed,
            interval=interval,
        )
    except InputError as exc:
        return unavailable(ci, str(exc), n_positive=n_pos, n_negative=n_neg)
    return stat_dict(res)


def endpoint_statistic(
    kind: str, d: UnitData, *, ci: str, alpha: float, seed: int, n_boot: int,
    interval: str = "percentile",
) -> dict[str, Any]:
    """Dispatch one endpoint kind to its statistics call (``interval``: bootstrap type)."""
    if kind in PROPORTION_KINDS:
        return proportion_endpoint(kind, d, ci=ci, alpha=alpha, seed=seed, n_boot=n_boot,
                                   interval=interval)
    if kind in AUC_KINDS:
        return auc_endpoint(d, ci=ci, alpha=alpha, seed=seed, n_boot=n_boot, interval=interval)
    raise InputError(
        f"'kind' must be one of {', '.join(PROPORTION_KINDS + AUC_KINDS)} for a standalone "
        f"endpoint; got {kind!r}."
    )
