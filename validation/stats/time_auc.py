"""Uno's cumulative/dynamic time-dependent AUC at stated horizons.

At horizon ``tau``, *cases* are subjects with an event by ``tau`` (``T_i <= tau``,
``delta_i = 1``) and *controls* those still event-free after it (``T_j > tau``). Censoring
before ``tau`` hides some cases; inverse probability of censoring weights restore them [1]_,
[2]_: case ``i`` is weighted ``1 / G(T_i-)`` with ``G`` the Kaplan-Meier estimate of the
censoring distribution (censoring as the event; a censoring at an event's time counts as after
it, so the left limit ``G(T_i-)`` excludes it). Controls share the weight ``1 / G(tau)``, which
cancels. With score ties counted one half,

    AUC(tau) = sum_i sum_j w_i [I(s_i > s_j) + I(s_i = s_j) / 2] / (sum_i w_i x n_controls).

The interval is a seeded percentile bootstrap over subjects (the censoring weights re-estimated
in each replicate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_count, check_scores
from validation.stats._result import Result
from validation.stats.calibration_curve import EFRON_1993
from validation.stats.concordance import check_survival

UNO_2007 = (
    "Uno H, Cai T, Tian L, Wei LJ. Evaluating prediction rules for t-year survivors with censored "
    "regression models. J Am Stat Assoc 2007;102:527-537. doi:10.1198/016214507000000149"
)
HUNG_2010 = (
    "Hung H, Chiang CT. Estimation methods for time-dependent AUC models with survival data. "
    "Can J Stat 2010;38:8-26. doi:10.1002/cjs.10046"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeAUC(Result):
    """Uno's AUC at one horizon with its bootstrap interval and the case/control counts."""

    horizon: float
    estimate: float
    ci: tuple[float, float]
    n_cases: int
    n_controls: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeAUCResult(Result):
    """Uno's cumulative/dynamic AUC at each stated horizon."""

    horizons: tuple[TimeAUC, ...]
    level: float
    n_boot: int
    seed: int
    method: str
    references: tuple[str, ...]


def _censoring_left(
    t: NDArray[np.float64], e: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distinct times and ``G`` just after each, the KM of the censoring distribution."""
    u, inv = np.unique(t, return_inverse=True)
    c = np.bincount(inv, weights=~e, minlength=u.size)
    n = t.size - np.concatenate(([0], np.cumsum(np.bincount(inv, minlength=u.size))[:-1]))
    return u, np.cumprod(1.0 - c / n)


def _auc_at(
    t: NDArray[np.float64], e: NDArray[np.bool_], s: NDArray[np.float64], taus: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    u, g = _censoring_left(t, e)
    k = np.searchsorted(u, t, side="left")  # G(T-) = G just after the previous distinct time
    g_left = np.where(k > 0, g[np.maximum(k - 1, 0)], 1.0)
    out = np.full(taus.size, np.nan)
    n_case = np.zeros(taus.size, dtype=np.int64)
    n_ctrl = np.zeros(taus.size, dtype=np.int64)
    for h, tau in enumerate(taus):
        case = e & (t <= tau)
        ctrl = np.sort(s[t > tau])
        n_case[h], n_ctrl[h] = int(case.sum()), ctrl.size
        if n_case[h] == 0 or ctrl.size == 0 or np.any(g_left[case] <= 0.0):
            continue
        w = 1.0 / g_left[case]
        sc = s[case]
        below = np.searchsorted(ctrl, sc, side="left")
        equal = np.searchsorted(ctrl, sc, side="right") - below
        out[h] = float(np.sum(w * (below + 0.5 * equal)) / (w.sum() * ctrl.size))
    return out, n_case, n_ctrl


def time_dependent_auc(
    time: Any,
    event: Any,
    score: Any,
    *,
    horizons: Any,
    alpha: float = 0.05,
    n_boot: int = 200,
    seed: int = 20240101,
) -> TimeAUCResult:
    """Uno's cumulative/dynamic AUC of a risk score at each horizon (module docstring).

    Parameters
    ----------
    time, event : array_like of shape (n,)
        Follow-up time (>= 0) and event indicator; at least one event.
    score : array_like of shape (n,)
        Risk score; higher means an earlier event.
    horizons : sequence of float
        Horizons ``tau`` (> 0), each with at least one case and one control.
    alpha : float
        Two-sided level of the percentile bootstrap interval.
    n_boot : int
        Bootstrap replicates (>= 20).
    seed : int

    Returns
    -------
    TimeAUCResult

    Notes
    -----
    The weights assume censoring independent of the score (Uno et al. [1]_). Near the end of
    follow-up ``G`` is small and a few cases carry large weights; choose horizons well inside
    the follow-up.

    References
    ----------
    .. [1] Uno H et al. J Am Stat Assoc 2007;102:527-537. doi:10.1198/016214507000000149
    .. [2] Hung H, Chiang CT. Can J Stat 2010;38:8-26. doi:10.1002/cjs.10046
    .. [3] Efron B, Tibshirani RJ. An Introduction to the Bootstrap. 1993. doi:10.1201/9780429246593
    """
    a = check_alpha(alpha)
    b = check_count(n_boot, "n_boot", minimum=20)
    sd = check_count(seed, "seed")
    t, e = check_survival(time, event)
    s = check_scores(score, t.size)
    try:
        taus = np.atleast_1d(np.asarray(horizons, dtype=np.float64))
    except (TypeError, ValueError):
        raise InputError(f"'horizons' must be a list of times > 0; got {horizons!r}.") from None
    if taus.ndim != 1 or taus.size == 0 or not np.all(np.isfinite(taus)) or np.any(taus <= 0):
        raise InputError(f"'horizons' must be a non-empty list of times > 0; got {horizons!r}.")
    est, n_case, n_ctrl = _auc_at(t, e, s, taus)
    for h, tau in enumerate(taus):
        if not np.isfinite(est[h]):
            raise InputError(
                f"'horizons' holds {float(tau)!r}, where there are {n_case[h]} cases (events by then) and "
                f"{n_ctrl[h]} controls (followed beyond it); choose a horizon with both."
            )
    rng = np.random.default_rng(sd)
    reps = np.empty((b, taus.size))
    for i in range(b):
        idx = rng.integers(0, t.size, t.size)
        reps[i] = _auc_at(t[idx], e[idx], s[idx], taus)[0]
    low, high = np.nanquantile(reps, [a / 2.0, 1.0 - a / 2.0], axis=0)
    rows = tuple(
        TimeAUC(
            horizon=float(tau),
            estimate=float(est[h]),
            ci=(float(low[h]), float(high[h])),
            n_cases=int(n_case[h]),
            n_controls=int(n_ctrl[h]),
        )
        for h, tau in enumerate(taus)
    )
    return TimeAUCResult(
        horizons=rows,
        level=1.0 - a,
        n_boot=b,
        seed=sd,
        method=f"Uno's cumulative/dynamic AUC (inverse probability of censoring weights), percentile "
        f"bootstrap interval ({b} replicates)",
        references=(UNO_2007, HUNG_2010, EFRON_1993),
    )
