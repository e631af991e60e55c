"""Kaplan-Meier curves by risk group, median survival with its interval, and the log-rank test.

The Kaplan-Meier estimate [1]_ at each distinct time ``u`` (events and censorings) is
``S(u) = prod_{v <= u} (1 - d_v / n_v)`` with ``n_v`` subjects at risk (time >= v) and ``d_v``
events. ``std_err`` is Greenwood's standard error of ``-log S`` (R ``survfit``'s ``std.err``),
and the pointwise interval is R's default ``conf.type = "log"``:
``S exp(-/+ z std_err)``, the upper end capped at 1.

The median and its interval follow R ``quantile.survfit`` [2]_, [3]_: the median is the first
time the curve reaches 0.5 (if the curve is flat at exactly 0.5, the midpoint of that flat
stretch); the lower and upper limits are the first times the lower and the upper pointwise
limits reach 0.5 (Brookmeyer-Crowley inversion with the log transform). A limit the curve never
reaches is ``None`` (not estimable in the follow-up).

The log-rank test [4]_ (R ``survdiff`` with ``rho = 0``) is computed by statsmodels
(``statsmodels.duration.survfunc.survdiff``); observed and expected events per group are given
beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_alpha
from validation.stats._result import Result
from validation.stats.concordance import check_survival

KAPLAN_MEIER_1958 = (
    "Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc "
    "1958;53:457-481. doi:10.1080/01621459.1958.10501452"
)
BROOKMEYER_1982 = (
    "Brookmeyer R, Crowley J. A confidence interval for the median survival time. Biometrics "
    "1982;38:29-41. doi:10.2307/2530286"
)
THERNEAU_2000 = (
    "Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model. Springer 2000. "
    "doi:10.1007/978-1-4757-3294-8"
)
MANTEL_1966 = (
    "Mantel N. Evaluation of survival data and two new rank order statistics arising in its "
    "consideration. Cancer Chemother Rep 1966;50:163-170. PMID:5910392"
)
_TOL = float(np.sqrt(np.finfo(np.float64).eps))


@dataclass(frozen=True, slots=True, kw_only=True)
class KaplanMeierCurve(Result):
    """One Kaplan-Meier curve at its distinct times, with median survival and its interval."""

    group: str
    n: int
    n_events: int
    time: NDArray[np.float64]
    n_risk: NDArray[np.int64]
    n_event: NDArray[np.int64]
    n_censor: NDArray[np.int64]
    surv: NDArray[np.float64]
    std_err: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    median: float | None
    median_ci: tuple[float | None, float | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRankTest(Result):
    """Log-rank chi-square over groups, with observed and expected events per group."""

    statistic: float
    df: int
    p_value: float
    groups: tuple[str, ...]
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SurvivalByGroup(Result):
    """Kaplan-Meier curves of each risk group, numbers at risk at stated times, log-rank test."""

    curves: tuple[KaplanMeierCurve, ...]
    at_risk_times: tuple[float, ...]
    at_risk: dict[str, tuple[int, ...]]
    logrank: LogRankTest
    level: float
    method: str
    references: tuple[str, ...]


def _findq(x: NDArray[np.float64], y: NDArray[np.float64], p: float) -> float | None:
    """First ``x`` where the non-decreasing ``y`` reaches ``p`` (R survival's ``findq``)."""
    ok = ~np.isnan(y)
    if not ok.any() or np.nanmax(y) < p:
        return None
    xmax = float(x[-1])
    keep = np.ones(y.size, dtype=bool)
    seen: set[float] = set()
    for i, v in enumerate(y):  # R duplicated(): keep the first of equal values (NaN kept once)
        key = float("nan") if np.isnan(v) else float(v)
        if key in seen or (np.isnan(v) and any(np.isnan(s) for s in seen)):
            keep[i] = False
        else:
            seen.add(key)
    x, y = x[keep], y[keep]
    finite = ~np.isnan(y)
    xf, yf = x[finite], y[finite]

    def first(shift: float) -> int | None:
        hit = np.flatnonzero(yf + shift >= p)
        return int(hit[0]) if hit.size else None

    i1, i2 = first(_TOL), first(-_TOL)
    if i1 is None:
        return None
    if not np.isnan(y[-1]) and abs(p - y[-1]) < _TOL:
        return (float(xf[i1]) + xmax) / 2.0
    if i2 is None:
        return None
    return (float(xf[i1]) + float(xf[i2])) / 2.0


def kaplan_meier(time: Any, event: Any, *, alpha: float = 0.05, group: str = "all") -> KaplanMeierCurve:
    """Kaplan-Meier curve with log-transformed pointwise intervals and median survival.

    Parameters
    ----------
    time, event : array_like of shape (n,)
        Follow-up time (>= 0) and event indicator (1 event, 0 censored).
    alpha : float
        Two-sided level of the pointwise intervals and of the median's interval.
    group : str
        Label of the curve.

    Returns
    -------
    KaplanMeierCurve

    Notes
    -----
    Greenwood's variance is unstable where few subjects remain at risk; the interval of the
    median is ``None`` at an end the curve's limits never reach.

    References
    ----------
    .. [1] Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-481. doi:10.1080/01621459.1958.10501452
    .. [2] Brookmeyer R, Crowley J. Biometrics 1982;38:29-41. doi:10.2307/2530286
    .. [3] Therneau TM, Grambsch PM. Modeling Survival Data. 2000. doi:10.1007/978-1-4757-3294-8
    """
    a = check_alpha(alpha)
    t, e = check_survival(time, event, need_events=False)
    u, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=e, minlength=u.size).astype(np.int64)
    c = np.bincount(inv, weights=~e, minlength=u.size).astype(np.int64)
    at_risk = (t.size - np.concatenate(([0], np.cumsum(d + c)[:-1]))).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv: NDArray[np.float64] = np.cumprod(1.0 - d / at_risk).astype(np.float64)
        gw = np.cumsum(np.where(d > 0, d / (at_risk * (at_risk - d).astype(np.float64)), 0.0))
        se = np.sqrt(gw)
        z = float(sps.norm.ppf(1.0 - a / 2.0))
        low = surv * np.exp(-z * se)
        high = np.minimum(1.0, surv * np.exp(z * se))
    dead = surv == 0.0
    se[dead], low[dead], high[dead] = np.nan, np.nan, np.nan
    x = np.concatenate(([0.0], u))
    med = _findq(x, np.concatenate(([0.0], 1.0 - surv)), 0.5)
    m_lo = _findq(x, np.concatenate(([0.0], 1.0 - low)), 0.5)
    m_hi = _findq(x, np.concatenate(([0.0], 1.0 - high)), 0.5)
    return KaplanMeierCurve(
        group=str(group),
        n=int(t.size),
        n_events=int(e.sum()),
        time=u,
        n_risk=at_risk,
        n_event=d,
        n_censor=c,
        surv=surv,
        std_err=se,
        low=low,
        high=high,
        median=med,
        median_ci=(m_lo, m_hi),
    )


def _labels(group: Any, n: int, name: str = "group") -> tuple[NDArray[np.intp], tuple[str, ...]]:
    g = np.asarray(group)
    if g.ndim != 1 or g.size != n:
        raise InputError(f"'{name}' must be one-dimensional with the length of 'time' ({n}); got shape {g.shape}.")
    labels = g.astype(str)
    if np.any(labels == "nan") or np.any(labels == ""):
        i = int(np.flatnonzero((labels == "nan") | (labels == ""))[0])
        raise InputError(f"'{name}' must be given for every subject; got {g[i]!r} at position {i}.")
    levels, codes = np.unique(labels, return_inverse=True)
    if levels.size < 2:
        raise InputError(
            f"'{name}' must hold at least two risk groups; got only {str(levels[0])!r}. "
            "Check the cut points that define the groups."
        )
    return codes, tuple(str(v) for v in levels)


def group_codes(group: Any, n: int, order: Any = None) -> tuple[NDArray[np.intp], tuple[str, ...]]:
    """Group of each subject as a code into ``levels`` (``order``, else sorted labels); at least
    two groups."""
    codes, levels = _labels(group, n)
    if order is None:
        return codes, levels
    wanted = tuple(str(v) for v in order)
    if sorted(wanted) != sorted(levels):
        raise InputError(f"'order' must list each group once, {list(levels)}; got {list(wanted)}.")
    lookup = {v: i for i, v in enumerate(wanted)}
    return np.array([lookup[v] for v in np.asarray(group).astype(str)], dtype=np.intp), wanted


def survival_by_group(
    time: Any, event: Any, group: Any, *, order: Any = None, at_risk_times: Any = None, alpha: float = 0.05
) -> SurvivalByGroup:
    """Kaplan-Meier curve per risk group, numbers at risk and the log-rank test across groups.

    ``H0`` of the log-rank test: the groups share one hazard function; the statistic is
    chi-square with ``groups - 1`` df [1]_.

    Parameters
    ----------
    time, event : array_like of shape (n,)
        Follow-up time (>= 0) and event indicator; at least one event.
    group : array_like of shape (n,)
        Risk group of each subject (at least two groups).
    order : sequence of str, optional
        Groups in reporting order (e.g. low, intermediate, high); default sorted labels.
    at_risk_times : sequence of float, optional
        Times at which the numbers at risk are tabulated; default 0 and the quartiles of the
        follow-up times.
    alpha : float

    Returns
    -------
    SurvivalByGroup

    References
    ----------
    .. [1] Mantel N. Cancer Chemother Rep 1966;50:163-170.
    .. [2] Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-481. doi:10.1080/01621459.1958.10501452
    """
    from statsmodels.duration.survfunc import survdiff

    a = check_alpha(alpha)
    t, e = check_survival(time, event)
    codes, levels = group_codes(group, t.size, order)
    if at_risk_times is None:
        times = np.concatenate(([0.0], np.quantile(t, [0.25, 0.5, 0.75])))
    else:
        times = np.asarray(at_risk_times, dtype=np.float64)
        if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0):
            raise InputError(f"'at_risk_times' must be a list of times >= 0; got {at_risk_times!r}.")
    curves = tuple(kaplan_meier(t[codes == k], e[codes == k], alpha=a, group=lv) for k, lv in enumerate(levels))
    at_risk = {lv: tuple(int(np.sum(t[codes == k] >= x)) for x in times) for k, lv in enumerate(levels)}
    try:
        stat, _ = survdiff(t, e.astype(np.float64), codes)
    except np.linalg.LinAlgError:
        stat = np.nan
    if not np.isfinite(stat):
        raise InputError(
            "The log-rank test has no variance: no event happened while two or more risk groups "
            "were at risk. Report the Kaplan-Meier curves without the test, or merge groups."
        )
    p = sps.chi2.sf(stat, len(levels) - 1)
    # observed and expected events per group (expected: sum over event times of n_gk d_k / n_k)
    u, inv = np.unique(t, return_inverse=True)
    d_all = np.bincount(inv, weights=e, minlength=u.size)
    left = np.concatenate(([0], np.cumsum(np.bincount(inv, minlength=u.size))[:-1]))
    n_all = t.size - left
    expected = []
    for k in range(len(levels)):
        tk = np.sort(t[codes == k])
        n_k = tk.size - np.searchsorted(tk, u, side="left")
        expected.append(float(np.sum(n_k * d_all / n_all)))
    observed = tuple(int(e[codes == k].sum()) for k in range(len(levels)))
    lr = LogRankTest(
        statistic=float(stat),
        df=len(levels) - 1,
        p_value=float(p),
        groups=levels,
        observed=observed,
        expected=tuple(expected),
        method="log-rank test (statsmodels survdiff, rho = 0)",
        references=(MANTEL_1966,),
    )
    return SurvivalByGroup(
        curves=curves,
        at_risk_times=tuple(float(x) for x in times),
        at_risk=at_risk,
        logrank=lr,
        level=1.0 - a,
        method="Kaplan-Meier per group (Greenwood, log-transformed intervals; median "
        "interval by Brookmeyer-Crowley inversion as R quantile.survfit)",
        references=(KAPLAN_MEIER_1958, BROOKMEYER_1982, THERNEAU_2000, MANTEL_1966),
    )
