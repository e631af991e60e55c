"""Harrell's concordance index of a risk score against a right-censored time to event.

A pair of subjects is *comparable* when the one with the shorter time had the event: ``T_i <
T_j`` with ``delta_i = 1``, or ``T_i = T_j`` with ``delta_i = 1`` and ``delta_j = 0`` (a
subject censored at an event time is taken as still at risk then). Pairs of two events at the
same time are not comparable (R's ``tied.y``). Within comparable pairs the higher score must
belong to the earlier event (a higher score is a higher risk): concordant if ``s_i > s_j``,
discordant if ``s_i < s_j``, tied in the score (``tied.x``) counted one half:

    C = (concordant + tied_score / 2) / (concordant + discordant + tied_score).

These are the counts and the estimate of R ``survival::concordance(Surv(time, event) ~ score,
reverse = TRUE)`` with its default ``timewt = "n"`` [1]_, [2]_. The standard error is the
infinitesimal jackknife [3]_ (R's default ``std.err``): with case weights ``w``,
``C(w) = N(w) / D(w)``, and ``dC/dw_i = (N_i - C D_i) / D`` where ``N_i`` and ``D_i`` are the
concordance credit and the comparable pairs that involve subject ``i``;
``se^2 = sum_i (dC/dw_i)^2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_scores
from validation.stats._result import Result

HARRELL_1982 = (
    "Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA. Evaluating the yield of medical tests. "
    "JAMA 1982;247:2543-2546. doi:10.1001/jama.1982.03320430047030"
)
THERNEAU_2020 = (
    "Therneau TM, Atkinson EJ. Concordance. Vignette of the R package survival, version 3.5 (2023); "
    "Therneau T. A Package for Survival Analysis in R. doi:10.32614/CRAN.package.survival"
)
JAECKEL_1972 = (
    "Jaeckel LA. The infinitesimal jackknife. Bell Laboratories Memorandum MM 72-1215-11, 1972; "
    "see Efron B. Jackknife-after-bootstrap standard errors and influence functions. J R Stat Soc "
    "B 1992;54:83-127. doi:10.1111/j.2517-6161.1992.tb01866.x"
)

#: Boolean cells of the pair matrix held at once (rows of events times all subjects).
PAIR_BLOCK = 4_000_000


def check_survival(
    time: Any, event: Any, *, need_events: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """``time`` (finite, >= 0) and ``event`` (0/1) as arrays of one length, with >= 1 event."""
    t = check_scores(time, name="time")
    if t.size == 0:
        raise InputError("'time' must not be empty.")
    neg = np.flatnonzero(t < 0)
    if neg.size:
        i = int(neg[0])
        raise InputError(
            f"'time' must be >= 0 (time from the index date to the event or censoring); got "
            f"{t[i].item()!r} at position {i}. Check the dates that define it."
        )
    e = np.asarray(event)
    if e.ndim != 1 or e.size != t.size:
        raise InputError(
            f"'event' must be one-dimensional with the length of 'time' ({t.size}); got shape {e.shape}."
        )
    try:
        ef = e.astype(np.float64)
    except (TypeError, ValueError):
        raise InputError("'event' must hold 1 (event) and 0 (censored).") from None
    bad = ~np.isin(ef, (0.0, 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"'event' must hold only 1 (event) and 0 (censored); got {e[i].item()!r} at position {i}."
        )
    ev = ef.astype(bool)
    if need_events and not ev.any():
        raise InputError(
            f"'event' has no events among {t.size} subjects; a time-to-event statistic needs at "
            "least one event. Check the event coding (1 = event, 0 = censored)."
        )
    return t, ev


@dataclass(frozen=True, slots=True, kw_only=True)
class ConcordanceResult(Result):
    """Harrell's C with its infinitesimal-jackknife standard error and Wald interval."""

    estimate: float
    se: float
    ci: tuple[float, float]
    concordant: int
    discordant: int
    tied_score: int
    tied_time: int
    n: int
    n_events: int
    method: str
    references: tuple[str, ...]


def _pair_counts(
    t: NDArray[np.float64], e: NDArray[np.bool_], s: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, int, int, int]:
    """Per-subject concordance credit ``N_i`` and comparable pairs ``D_i``, and the totals."""
    n = t.size
    credit = np.zeros(n)
    pairs = np.zeros(n)
    conc = disc = tie_s = tie_t = 0
    events = np.flatnonzero(e)
    step = max(1, PAIR_BLOCK // max(n, 1))
    for start in range(0, events.size, step):
        rows = events[start : start + step]
        ti = t[rows][:, None]
        si = s[rows][:, None]
        comp = (t[None, :] > ti) | ((t[None, :] == ti) & ~e[None, :])
        higher = comp & (si > s[None, :])
        lower = comp & (si < s[None, :])
        same = comp & (si == s[None, :])
        c_r, d_r, s_r = higher.sum(1), lower.sum(1), same.sum(1)
        credit[rows] += c_r + 0.5 * s_r
        pairs[rows] += c_r + d_r + s_r
        credit += higher.sum(0) + 0.5 * same.sum(0)
        pairs += comp.sum(0)
        conc += int(c_r.sum())
        disc += int(d_r.sum())
        tie_s += int(s_r.sum())
        tie_t += int(((t[None, :] == ti) & e[None, :]).sum()) - rows.size
    return credit, pairs, conc, disc, tie_s, tie_t // 2


def concordance_index(time: Any, event: Any, score: Any, *, alpha: float = 0.05) -> ConcordanceResult:
    """Harrell's C-index of a risk score (higher score = higher risk = earlier event).

    Pairs, ties and the estimate as the module docstring states (R ``survival::concordance``
    with ``reverse = TRUE``); ``se`` is the infinitesimal jackknife and ``ci`` the Wald
    interval ``C +/- z_{1-alpha/2} se``, truncated to [0, 1].

    Parameters
    ----------
    time : array_like of shape (n,)
        Time to the event or to censoring, >= 0.
    event : array_like of shape (n,)
        1 if the event was observed at ``time``, 0 if censored; at least one event.
    score : array_like of shape (n,)
        The risk score; only its order matters.
    alpha : float
        Two-sided level of ``ci``.

    Returns
    -------
    ConcordanceResult

    Notes
    -----
    Harrell's C depends on the censoring distribution when censoring is heavy (it weights
    early pairs more); Uno's time-dependent AUC (``time_dependent_auc``) corrects for it at
    stated horizons. The pair count is ``O(n x events)``, evaluated in blocks.

    References
    ----------
    .. [1] Harrell FE et al. JAMA 1982;247:2543-2546. doi:10.1001/jama.1982.03320430047030
    .. [2] Therneau TM, Atkinson EJ. Concordance (vignette of R survival 3.5).
    .. [3] Efron B. J R Stat Soc B 1992;54:83-127. doi:10.1111/j.2517-6161.1992.tb01866.x

    Examples
    --------
    >>> r = concordance_index([1, 2, 3, 4], [1, 1, 0, 1], [4, 3, 2, 1])
    >>> r.estimate
    1.0
    """
    a = check_alpha(alpha)
    t, e = check_survival(time, event)
    s = check_scores(score, t.size)
    credit, pairs, conc, disc, tie_s, tie_t = _pair_counts(t, e, s)
    denom = float(conc + disc + tie_s)
    if denom == 0.0:
        raise InputError(
            "No comparable pair: every event has no subject followed longer. The C-index needs "
            "subjects still at risk after some event."
        )
    c = (conc + 0.5 * tie_s) / denom
    se = float(np.sqrt(np.sum(((credit - c * pairs) / denom) ** 2)))
    z = float(sps.norm.ppf(1.0 - a / 2.0))
    return ConcordanceResult(
        estimate=float(c),
        se=se,
        ci=(max(0.0, c - z * se), min(1.0, c + z * se)),
        concordant=conc,
        discordant=disc,
        tied_score=tie_s,
        tied_time=tie_t,
        n=int(t.size),
        n_events=int(e.sum()),
        method="Harrell's C (score ties one half, tied event times not comparable), "
        "infinitesimal-jackknife standard error, Wald interval",
        references=(HARRELL_1982, THERNEAU_2020, JAECKEL_1972),
    )
