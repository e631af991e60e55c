"""Subgroup consistency: per-level accuracy, interaction tests, gaps and equalized odds.

For a factor (site, scanner, sex, age band, ... or two of them crossed) the function
:func:`subgroup_consistency` reports, per level, the counts, sensitivity and specificity with
their intervals (and the AUC when a score is given), flags the levels whose denominators are
below a stated minimum (they stay in the table), and, over the levels that reach the minimum:

* an interaction test of :math:`H_0`: the probability of a positive call among positives
  (sensitivity) is the same at every level; likewise among negatives (specificity). It is the
  Wald chi-square of the level terms in a logistic GEE (Liang and Zeger 1986) of the call on
  the factor, clustered by patient, with robust (sandwich) covariance, on ``L - 1`` df;
* the largest gap between levels (max minus min) of sensitivity, of specificity (together the
  equalized-odds differences of Hardt et al. 2016; fairlearn's
  ``equalized_odds_difference`` is the larger of the two; its interval is that of the
  replicate-wise larger of the two gaps over the same resamples) and of the AUC, each with a
  bootstrap interval from :func:`validation.stats.bootstrap.bootstrap_statistic` (cluster
  bootstrap by patient when ``cluster`` is given, otherwise stratified by level and truth).

References
----------
1. Liang KY, Zeger SL (1986). Longitudinal data analysis using generalized linear models.
   Biometrika 73(1):13-22. doi:10.1093/biomet/73.1.13
2. Hardt M, Price E, Srebro N (2016). Equality of opportunity in supervised learning. NeurIPS
   29:3315-3323. arXiv:1610.02413
3. Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall.
   doi:10.1007/978-1-4899-4541-9
4. Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
   JASA 22(158):209-212. doi:10.1080/01621459.1927.10502953
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_binary_truth, check_choice, check_count, check_scores
from validation.stats._gee_logit import GEEFitError, logistic_gee
from validation.stats._result import Result
from validation.stats._subgroup_gaps import _finish_gap, _gap_replicates, _larger_of, _RawGap, _TieGroups
from validation.stats.bootstrap import BootstrapResult
from validation.stats.proportions import ProportionResult, clustered_proportion_ci, proportion_ci
from validation.stats.roc import AUCResult, auc_ci

LIANG_ZEGER_1986 = (
    "Liang KY, Zeger SL (1986). Longitudinal data analysis using generalized linear models. "
    "Biometrika 73(1):13-22. doi:10.1093/biomet/73.1.13"
)
HARDT_2016 = (
    "Hardt M, Price E, Srebro N (2016). Equality of opportunity in supervised learning. NeurIPS "
    "29:3315-3323. arXiv:1610.02413"
)
CORRELATIONS = ("exchangeable", "independence")
ENDPOINTS = ("sensitivity", "specificity", "auc")


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelSummary(Result):
    """One level of the factor: counts, sensitivity, specificity, AUC and the small-level flag.

    An endpoint whose denominator is 0 at this level is ``None`` (an AUC needs both classes
    and at least two of each). ``below_minimum`` is True when the level has fewer positives
    or fewer negatives than the stated minimum; such a level is shown but left out of the
    interaction tests and gaps of that endpoint.
    """

    level: str
    n: int
    n_positive: int
    n_negative: int
    sensitivity: ProportionResult | None
    specificity: ProportionResult | None
    auc: AUCResult | None
    below_minimum: bool
    below_minimum_positives: bool
    below_minimum_negatives: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionTest(Result):
    """Wald test that the call rate among positives (or negatives) is equal across levels."""

    endpoint: str
    statistic: float
    df: int
    p_value: float
    levels: tuple[str, ...]
    n: int
    n_clusters: int
    working_correlation: str
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelGap(Result):
    """The largest gap (max minus min over the compared levels) with a bootstrap interval."""

    endpoint: str
    estimate: float
    ci: tuple[float, float]
    highest_level: str
    lowest_level: str
    levels: tuple[str, ...]
    bootstrap: BootstrapResult
    method: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EqualizedOddsGap(Result):
    """The equalized-odds difference (the larger of the sensitivity and specificity gaps).

    Its interval is the percentile interval of the replicate-wise larger of the two gaps, over
    the same resamples (same seed, strata or clusters) as the component gaps' intervals, so it
    is consistent with them; ``larger_of`` names the component that is larger on the data.
    """

    estimate: float
    ci: tuple[float, float]
    larger_of: str
    bootstrap: BootstrapResult
    method: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SubgroupConsistencyResult(Result):
    """Per-level table, interaction tests and gaps for one factor (or two crossed).

    ``sensitivity_gap`` and ``specificity_gap`` are the equalized-odds differences;
    ``equalized_odds_difference`` the larger of the two point estimates (fairlearn's
    definition), ``equalized_odds`` the same with its bootstrap interval. A comparison that
    cannot be made (fewer than two levels reach the minimum, or a level with every call the
    same so the GEE has no finite estimate) is ``None`` and the reason is in ``notes``.
    """

    factor: str
    levels: tuple[LevelSummary, ...]
    min_level_size: int
    interaction_sensitivity: InteractionTest | None
    interaction_specificity: InteractionTest | None
    sensitivity_gap: LevelGap | None
    specificity_gap: LevelGap | None
    auc_gap: LevelGap | None
    equalized_odds_difference: float | None
    equalized_odds: EqualizedOddsGap | None
    alpha: float
    method: str
    references: tuple[str, ...]
    notes: tuple[str, ...] = ()


def _labels(values: Any, n: int, name: str) -> NDArray[np.str_]:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size != n:
        raise InputError(f"'{name}' must be one-dimensional with one entry per case ({n}); got shape {arr.shape}.")
    out = arr.astype(str)
    missing = np.isin(out, ("nan", "None", ""))
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError(
            f"'{name}' must name a level for every case; got {arr[i]!r} at position {i}. Code missing "
            "values as their own level (e.g. 'unknown') so that they stay visible."
        )
    return out


def _rate(y: NDArray[np.float64], codes: NDArray[np.intp], k: int) -> NDArray[np.float64]:
    num = np.bincount(codes, weights=y, minlength=k)
    den = np.bincount(codes, minlength=k).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _auc_levels(truth: NDArray[np.int8], score: NDArray[np.float64], codes: NDArray[np.intp],
                k: int) -> NDArray[np.float64]:
    """Mann-Whitney AUC of every level at once (ties count one half); NaN for a one-class level.

    One sort by (level, score): a case's rank within its level is its position minus the level's
    first position, averaged over ties, so the positives' rank sums come from one bincount.
    """
    order = np.lexsort((score, codes))
    c, s, t = codes[order], score[order], truth[order].astype(np.float64)
    n = c.size
    new = np.ones(n, dtype=bool)
    new[1:] = (c[1:] != c[:-1]) | (s[1:] != s[:-1])
    first = np.flatnonzero(new)
    size = np.diff(np.append(first, n))
    tie_pos = (first + (size - 1) / 2.0)[np.cumsum(new) - 1]
    rank = tie_pos - np.searchsorted(c, np.arange(k))[c] + 1.0
    n1 = np.bincount(c, weights=t, minlength=k)
    n0 = np.bincount(c, minlength=k) - n1
    r1 = np.bincount(c, weights=rank * t, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((n1 > 0) & (n0 > 0), (r1 - n1 * (n1 + 1) / 2.0) / (n1 * n0), np.nan)


def _gee_wald(
    called: NDArray[np.float64], codes: NDArray[np.intp], groups: NDArray[np.intp],
    levels: list[str], correlation: str, endpoint: str,
) -> InteractionTest:
    k = len(levels)
    x = np.zeros((called.size, k))
    x[:, 0] = 1.0
    for j in range(1, k):
        x[:, j] = codes == j
    try:
        fit = logistic_gee(called, x, groups, correlation=correlation)
    except GEEFitError as e:  # no clean solution becomes a stated refusal
        raise _GEEFailure(f"the GEE for {endpoint} did not fit cleanly ({e}).") from None
    b = fit.params[1:]
    v = fit.cov_robust[1:, 1:]
    stat = float(b @ np.linalg.solve(v, b))
    df = k - 1
    return InteractionTest(
        endpoint=endpoint,
        statistic=stat,
        df=df,
        p_value=float(sps.chi2.sf(stat, df)),
        levels=tuple(levels),
        n=int(called.size),
        n_clusters=int(np.unique(groups).size),
        working_correlation=correlation,
        method=f"gee-logit-{correlation}-robust-wald",
        references=(LIANG_ZEGER_1986,),
    )


class _GEEFailure(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Prepared:
    y: NDArray[np.int8]
    c: NDArray[np.int8]
    s: NDArray[np.float64] | None
    names: NDArray[np.str_]
    codes: NDArray[np.intp]
    groups: NDArray[np.intp]
    rows: list[LevelSummary]
    notes: list[str]
    minimum: int
    alpha: float


def _prepare(truth: Any, called: Any, factor: Any, second_factor: Any, score: Any, cluster: Any,
             min_level_size: Any, alpha: Any) -> _Prepared:
    """Checked inputs and the per-level table (counts, intervals, small-level flags)."""
    y = check_binary_truth(truth)
    c = check_binary_truth(called, name="called")
    n = y.size
    if c.size != n:
        raise InputError(f"'called' must have the same length as truth ({n}); got {c.size}.")
    lab = _labels(factor, n, "factor")
    if second_factor is not None:
        lab2 = _labels(second_factor, n, "second_factor")
        lab = np.char.add(np.char.add(lab, " x "), lab2)
    s = None if score is None else check_scores(score, n)
    minimum = check_count(min_level_size, "min_level_size", minimum=1)
    a = check_alpha(alpha)
    if cluster is None:
        groups = np.arange(n)
    else:
        cl = np.asarray(cluster)
        if cl.ndim != 1 or cl.size != n:
            raise InputError(f"'cluster' must have one entry per case ({n}); got shape {cl.shape}.")
        groups = np.unique(cl, return_inverse=True)[1].astype(np.intp)
    names, codes = np.unique(lab, return_inverse=True)
    codes = codes.astype(np.intp)
    rows: list[LevelSummary] = []
    notes: list[str] = []
    for j, name in enumerate(names):
        m = codes == j
        pos, neg = m & (y == 1), m & (y == 0)
        npos, nneg = int(pos.sum()), int(neg.sum())

        def prop(sel: NDArray[np.bool_], value: int, name: str = str(name)) -> ProportionResult | None:
            if not sel.any():
                return None
            hits = (c[sel] == value).astype(np.int8)
            if cluster is None or np.unique(groups[sel]).size < 2:
                if cluster is not None:
                    notes.append(
                        f"level {name!r}: one patient only, so its interval is not adjusted "
                        "for clustering (Wilson)."
                    )
                return proportion_ci(int(hits.sum()), int(hits.size), alpha=a)
            return clustered_proportion_ci(hits, groups[sel], alpha=a)

        auc = None
        if s is not None and npos >= 2 and nneg >= 2:
            try:
                auc = auc_ci(y[m], s[m], alpha=a, cluster=None if cluster is None else groups[m])
            except InputError as e:
                notes.append(f"level {str(name)!r}: no AUC ({e})")
        rows.append(LevelSummary(
            level=str(name), n=int(m.sum()), n_positive=npos, n_negative=nneg,
            sensitivity=prop(pos, 1), specificity=prop(neg, 0), auc=auc,
            below_minimum=npos < minimum or nneg < minimum,
            below_minimum_positives=npos < minimum, below_minimum_negatives=nneg < minimum,
        ))
    return _Prepared(y=y, c=c, s=s, names=names, codes=codes, groups=groups, rows=rows, notes=notes,
                     minimum=minimum, alpha=a)


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelTable(Result):
    """The per-level table of :func:`level_table` (no comparison between levels)."""

    levels: tuple[LevelSummary, ...]
    min_level_size: int
    alpha: float
    method: str
    notes: tuple[str, ...] = ()


def level_table(
    truth: Any,
    called: Any,
    factor: Any,
    *,
    second_factor: Any = None,
    score: Any = None,
    cluster: Any = None,
    min_level_size: int = 30,
    alpha: float = 0.05,
) -> LevelTable:
    """Per-level counts, sensitivity, specificity (and AUC) with intervals, small levels flagged.

    The table of :func:`subgroup_consistency` without the comparisons, so it exists for any
    number of levels (one level, or every level below the minimum, where nothing can be
    compared). Parameters as in :func:`subgroup_consistency`; intervals are Wilson, or
    Rao-Scott clustered Wilson with ``cluster`` (Obuchowski's clustered AUC).

    Returns
    -------
    LevelTable
    """
    p = _prepare(truth, called, factor, second_factor, score, cluster, min_level_size, alpha)
    return LevelTable(levels=tuple(p.rows), min_level_size=p.minimum, alpha=p.alpha,
                      method="per-level-wilson" if cluster is None else "per-level-clustered",
                      notes=tuple(p.notes))


def subgroup_consistency(
    truth: Any,
    called: Any,
    factor: Any,
    *,
    second_factor: Any = None,
    score: Any = None,
    cluster: Any = None,
    factor_name: str = "factor",
    min_level_size: int = 30,
    working_correlation: str = "exchangeable",
    n_boot: int = 2000,
    seed: int | None = None,
    alpha: float = 0.05,
) -> SubgroupConsistencyResult:
    """Consistency of sensitivity, specificity (and AUC) across the levels of a factor.

    Parameters
    ----------
    truth : array of shape (n,), 0/1
        Reference standard per case (finding).
    called : array of shape (n,), 0/1
        The locked model's binary call.
    factor : array of shape (n,)
        The level of each case (site, sex, age band, scanner model...). Missing values must
        be coded as a level of their own.
    second_factor : array of shape (n,), optional
        A second factor; the levels are then the crossed (intersectional) levels ``"a x b"``.
    score : array of shape (n,), optional
        Continuous score for the per-level AUC (DeLong, or Obuchowski's clustered variance
        with ``cluster``) and the AUC gap.
    cluster : array of shape (n,), optional
        Patient of each case: clusters the GEE, the intervals and the bootstrap. Without it,
        each case is its own cluster.
    factor_name : str
        Name of the factor for the result.
    min_level_size : int
        Minimum positives (for sensitivity and AUC) and negatives (for specificity and AUC) a
        level needs to enter a comparison; smaller levels are flagged, never dropped from the
        table.
    working_correlation : {"exchangeable", "independence"}
        GEE working correlation within a patient (the Wald test uses the robust covariance,
        valid under either).
    n_boot, seed : bootstrap replicates and seed of the gap intervals (percentile).
    alpha : float
        Two-sided level of every interval.

    Returns
    -------
    SubgroupConsistencyResult

    Notes
    -----
    The robust covariance is the plain sandwich (no small-sample correction), as geepack's
    ``std.err = "san.se"``; with few clusters (below about 40) the Wald test is liberal.
    A level in which every positive (or negative) gets the same call has no finite logit; the
    interaction test for that endpoint is then not computed and the reason is stated. The
    gap's percentile interval is that of the max-minus-min statistic, which is biased upward
    when the levels are truly equal (the maximum of noisy differences): read it with the
    interaction test.
    """
    p = _prepare(truth, called, factor, second_factor, score, cluster, min_level_size, alpha)
    y, c, s, names, codes, groups = p.y, p.c, p.s, p.names, p.codes, p.groups
    rows, notes, minimum, a, k = p.rows, p.notes, p.minimum, p.alpha, p.names.size
    corr = check_choice(working_correlation, "working_correlation", CORRELATIONS)
    nb = check_count(n_boot, "n_boot", minimum=2)
    ok_pos = [j for j in range(k) if not rows[j].below_minimum_positives]
    ok_neg = [j for j in range(k) if not rows[j].below_minimum_negatives]
    if len(ok_pos) < 2 and len(ok_neg) < 2:
        raise InputError(
            f"'min_level_size' must be reached by at least two levels of '{factor_name}' to compare "
            f"them; got {min_level_size!r} with positives per level "
            f"{ {r.level: r.n_positive for r in rows} } and negatives per level "
            f"{ {r.level: r.n_negative for r in rows} }. Merge small levels (pre-specified) or lower "
            "the minimum in the protocol."
        )
    small = [r.level for r in rows if r.below_minimum]
    if small:
        notes.append(f"levels below the minimum of {minimum} (shown, not compared): {small}.")

    def interaction(ok: list[int], cls: int, endpoint: str) -> InteractionTest | None:
        if len(ok) < 2:
            notes.append(f"no {endpoint} interaction test: fewer than two levels reach the minimum.")
            return None
        sel = (y == cls) & np.isin(codes, ok)
        hit = (c[sel] == (1 if cls == 1 else 0)).astype(np.float64)
        remap = np.searchsorted(np.array(ok), codes[sel])
        rates = _rate(hit, remap, len(ok))
        if np.any((rates == 0.0) | (rates == 1.0)):
            notes.append(
                f"no {endpoint} interaction test: a compared level has {endpoint} of 0 or 1, so the "
                "logistic GEE has no finite estimate; read the gap's interval instead."
            )
            return None
        try:
            return _gee_wald(hit, remap, groups[sel], [str(names[j]) for j in ok], corr, endpoint)
        except _GEEFailure as e:
            notes.append(f"no {endpoint} interaction test: {e}")
            return None

    boot_kw: dict[str, Any] = {"n_boot": nb, "seed": seed, "alpha": a, "strata": None, "cluster": None}
    if cluster is None:
        boot_kw["strata"] = codes * 2 + y
    else:
        boot_kw["cluster"] = groups

    raw: dict[str, _RawGap] = {}

    def finish(r: _RawGap, endpoint: str) -> BootstrapResult:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            boot = _finish_gap(r)
        if caught:
            notes.append(
                f"{endpoint} gap: {boot.n_dropped} bootstrap replicates lacked a case class in a "
                "compared level and were dropped."
            )
        return boot

    def gap(ok: list[int], endpoint: str) -> LevelGap | None:
        if len(ok) < 2:
            notes.append(f"no {endpoint} gap: fewer than two levels reach the minimum.")
            return None
        oka = np.array(ok)
        boot = finish(raw[endpoint], endpoint)
        if endpoint == "auc":
            point = _auc_levels(y, s, codes, k)[oka]  # type: ignore[arg-type]
        else:
            cls = 1 if endpoint == "sensitivity" else 0
            sel = y == cls
            point = _rate((c[sel] == cls).astype(np.float64), codes[sel], k)[oka]
        return LevelGap(
            endpoint=endpoint,
            estimate=boot.estimate,
            ci=boot.ci,
            highest_level=str(names[oka[int(np.argmax(point))]]),
            lowest_level=str(names[oka[int(np.argmin(point))]]),
            levels=tuple(str(names[j]) for j in oka),
            bootstrap=boot,
            method=f"max-minus-min-{boot.method}",
        )

    compared = {"sensitivity": ok_pos, "specificity": ok_neg}
    if s is not None:
        compared["auc"] = [j for j in ok_pos if j in ok_neg]
    specs = {e: np.array(ok) for e, ok in compared.items() if len(ok) >= 2}
    ties = _TieGroups(codes, s, k) if "auc" in specs else None  # type: ignore[arg-type]
    raw.update(_gap_replicates(specs, y, c, codes, k, ties, **boot_kw))
    sens_gap = gap(ok_pos, "sensitivity")
    spec_gap = gap(ok_neg, "specificity")
    auc_gap = None
    if s is not None:
        auc_gap = gap(compared["auc"], "auc")
    inter_sens = interaction(ok_pos, 1, "sensitivity")
    inter_spec = interaction(ok_neg, 0, "specificity")
    eod = eo = None
    if sens_gap is not None and spec_gap is not None:
        eod = max(sens_gap.estimate, spec_gap.estimate)
        eo_boot = finish(_larger_of(raw["sensitivity"], raw["specificity"]), "equalized-odds")
        eo = EqualizedOddsGap(
            estimate=eo_boot.estimate, ci=eo_boot.ci,
            larger_of="sensitivity" if sens_gap.estimate >= spec_gap.estimate else "specificity",
            bootstrap=eo_boot, method=f"max-of-sensitivity-and-specificity-gaps-{eo_boot.method}",
        )
    return SubgroupConsistencyResult(
        factor=factor_name if second_factor is None else f"{factor_name} (crossed)",
        levels=tuple(rows),
        min_level_size=minimum,
        interaction_sensitivity=inter_sens,
        interaction_specificity=inter_spec,
        sensitivity_gap=sens_gap,
        specificity_gap=spec_gap,
        auc_gap=auc_gap,
        equalized_odds_difference=eod,
        equalized_odds=eo,
        alpha=a,
        method=f"subgroup-consistency-gee-{corr}",
        references=(LIANG_ZEGER_1986, HARDT_2016,
                    "Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall. "
                    "doi:10.1007/978-1-4899-4541-9"),
        notes=tuple(notes),
    )
