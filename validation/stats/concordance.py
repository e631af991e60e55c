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


def _prior_counts(
    rank: NDArray[np.int64], point: NDArray[np.bool_], query: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """For each entry of a sequence, the points before it with a lower and with an equal rank.

    Every pair of positions ``p < q`` is split at exactly one level ``k`` of a bottom-up merge
    (the highest bit in which ``p`` and ``q`` differ): ``p`` in the left half and ``q`` in the
    right half of one block of ``2^(k+1)`` positions. At each level the left-half points are
    sorted by (block, rank) and each right-half query is located by binary search, so the
    counts take ``log2(m)`` vectorised passes of ``O(m log m)`` (no loop over subjects).
    Returns (lower, equal, before) of every entry; meaningful where ``query``.
    """
    m = rank.size
    pos = np.arange(m, dtype=np.int64)
    width = np.int64(int(rank.max(initial=0)) + 2)
    lower = np.zeros(m, dtype=np.int64)
    equal = np.zeros(m, dtype=np.int64)
    for k in range(max(1, (m - 1).bit_length())):
        right = ((pos >> k) & 1).astype(bool)
        left_pts = point & ~right
        right_q = query & right
        if not (left_pts.any() and right_q.any()):
            continue
        block = pos >> (k + 1)
        keys = np.sort(block[left_pts] * width + rank[left_pts])
        base = block[right_q] * width
        key = base + rank[right_q]
        first = np.searchsorted(keys, base, side="left")
        lo = np.searchsorted(keys, key, side="left")
        hi = np.searchsorted(keys, key, side="right")
        lower[right_q] += lo - first
        equal[right_q] += hi - lo
    before = np.cumsum(point, dtype=np.int64) - point
    return lower, equal, before


def _pair_counts(
    t: NDArray[np.float64], e: NDArray[np.bool_], s: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, int, int, int]:
    """Per-subject concordance credit ``N_i`` and comparable pairs ``D_i``, and the totals.

    Two passes over the subjects in time order, as R's ``concordance`` walks a tree of score
    ranks [2]_. Subject ``j`` is at risk after event ``i`` when ``t_j > t_i``, or ``t_j = t_i``
    and ``j`` is censored. (A) each event, as the earlier member of its pairs: the subjects at
    risk after it with a lower, equal and higher score (time descending; the censored at a time
    enter before the events at that time are counted, the events after). (B) each subject, as
    the later member: the events it is at risk after, with a higher and an equal score (time
    ascending; events at a time are counted before they enter, the censored at that time after).
    """
    n = t.size
    rank = np.unique(s, return_inverse=True)[1].astype(np.int64)
    ev = np.flatnonzero(e)
    idx = np.arange(n)
    # (A) points: every subject (censored type 0, event type 2); queries: events (type 1)
    a_subj = np.concatenate([idx, ev])
    a_type = np.concatenate([np.where(e, 2, 0), np.ones(ev.size, dtype=np.int64)])
    order = np.lexsort((a_type, -t[a_subj]))
    a_subj, a_type = a_subj[order], a_type[order]
    low, eq, before = _prior_counts(rank[a_subj], a_type != 1, a_type == 1)
    q = a_type == 1
    who, below, same, risk = a_subj[q], low[q], eq[q], before[q]
    above = risk - below - same
    credit = np.zeros(n)
    pairs = np.zeros(n)
    credit[who] += below + 0.5 * same
    pairs[who] += risk
    # (B) points: events (type 1); queries: events (type 0) and the censored (type 2)
    b_subj = np.concatenate([idx, ev])
    b_type = np.concatenate([np.where(e, 0, 2), np.ones(ev.size, dtype=np.int64)])
    order = np.lexsort((b_type, t[b_subj]))
    b_subj, b_type = b_subj[order], b_type[order]
    low, eq, before = _prior_counts(rank[b_subj], b_type == 1, b_type != 1)
    q = b_type != 1
    credit[b_subj[q]] += before[q] - low[q] - eq[q] + 0.5 * eq[q]
    pairs[b_subj[q]] += before[q]
    d = np.unique(t[ev], return_counts=True)[1].astype(np.int64)
    tie_t = int(np.sum(d * (d - 1) // 2))
    return credit, pairs, int(below.sum()), int(above.sum()), int(same.sum()), tie_t


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
    stated horizons. The counts take ``O(n log^2 n)`` time and ``O(n)`` memory (sorting passes,
    no pair matrix).

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
