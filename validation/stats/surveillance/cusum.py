"""Bernoulli CUSUM on case outcomes and its binomial form on period counts.

The chart watches the rate ``p`` of a bad event (a miss among positives, a false positive
among negatives) for an increase from the in-control ``p0`` to the out-of-control ``p1``:

``S_0 = 0``, ``S_t = max(0, S_{t-1} + W_t)``, a signal at the first ``t`` with
``S_t >= limit`` (no restart), where ``W_t`` is the log-likelihood ratio of the observation
under ``p1`` against ``p0`` (Page 1954; Steiner et al. 2000 without risk adjustment; Reynolds
and Stoumbos 1999):

* one case with outcome ``y``: ``W = y log(p1/p0) + (1 - y) log((1 - p1)/(1 - p0))``;
* one period with ``x`` events among ``n`` cases: ``W = x log(p1/p0) + (n - x) log((1 - p1)/(1 -
  p0))`` (the binomial CUSUM, Gan 1993).

Average run lengths (ARL) by the Markov-chain method of Brook and Evans (1972) on
integer-scaled weights: both weights are expressed in units of ``1/m`` nats with ``m =
resolution / min(|w_event|, |w_no_event|)`` (``resolution`` = 100 grid steps for the smaller
weight by default), the chart's states are ``0, 1, ..., H - 1`` with ``H = ceil(limit m)``, and
``(I - Q) L = 1`` is solved exactly (sparse LU). Rounding each weight to the nearest unit gives
the reported ``arl``. Because ``S_t`` is monotone in each weight, rounding the event weight up
and the no-event weight's magnitude down gives a chart that signals no later on every path,
and the reverse rounding one that signals no earlier: their ARLs are strict bounds on the ARL
of the chart with the exact weights (``arl_bounds``). Accuracy of ``arl`` at the default
resolution: within 0.5% of a ten times finer grid and of 40,000-run simulations of the exact
chart (tests); the strict bounds are wider (a few percent for case-level charts, and wide for
binomial charts of large periods, where one period's weight moves the statistic across the
limit), so they are reported but the nearest-rounded value is the figure used.

References
----------
1. Page ES (1954). Biometrika 41:100-115. doi:10.1093/biomet/41.1-2.100
2. Brook D, Evans DA (1972). Biometrika 59:539-549. doi:10.1093/biomet/59.3.539
3. Reynolds MR Jr, Stoumbos ZG (1999). J Qual Technol 31:87-108.
   doi:10.1080/00224065.1999.11979900
4. Steiner SH, Cook RJ, Farewell VT, Treasure T (2000). Biostatistics 1:441-452.
   doi:10.1093/biostatistics/1.4.441
5. Gan FF (1993). J Appl Stat 20:445-460. doi:10.1080/02664769300000045
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._result import Result
from validation.stats.surveillance._common import (
    REF_BROOK_EVANS_1972,
    REF_GAN_1993,
    REF_PAGE_1954,
    REF_REYNOLDS_STOUMBOS_1999,
    REF_STEINER_2000,
    check_arl0,
    check_binary,
    check_counts,
    check_positive,
    check_rate,
    check_upward,
    first_index,
)

DEFAULT_RESOLUTION = 100
MAX_STATES = 150_000
_REFS = (REF_PAGE_1954, REF_STEINER_2000, REF_REYNOLDS_STOUMBOS_1999)
_ARL_REFS = (REF_BROOK_EVANS_1972, REF_REYNOLDS_STOUMBOS_1999)


@dataclass(frozen=True, slots=True, kw_only=True)
class CusumResult(Result):
    """A CUSUM chart: one statistic per observation (case or period) and its signals.

    ``statistic[t]`` is ``S_{t+1}`` (after observation ``t``, 0-based); ``signals[t]`` is
    ``statistic[t] >= limit``; ``first_signal`` the 0-based index of the first signal or
    ``None``. ``weights`` = (event weight, no-event weight) per case in nats.
    """

    statistic: NDArray[np.float64]
    signals: NDArray[np.bool_]
    first_signal: int | None
    limit: float
    p0: float
    p1: float
    weights: tuple[float, float]
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CusumARL(Result):
    """Average run length of a Bernoulli (``n = 1``) or binomial CUSUM at true rate ``p``.

    ``arl`` in observations (cases for ``n = 1``, periods otherwise); ``arl_bounds`` the
    strict bounds from rounding the weights outward and inward; ``grid`` = ``m``, the number
    of grid units per nat; ``states`` = ``H``.
    """

    arl: float
    arl_bounds: tuple[float, float]
    limit: float
    p0: float
    p1: float
    p: float
    n: int
    grid: float
    states: int
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CusumLimit(Result):
    """The decision limit reaching a target in-control ARL, with its ARL0 and ARL1.

    ``limit`` is the smallest grid value whose ``arl0`` is at least ``target_arl0`` (less half a
    grid unit); ``arl1``
    is the ARL when the rate is ``p1`` (the expected detection delay, in observations, from a
    start at zero).
    """

    limit: float
    target_arl0: float
    arl0: float
    arl0_bounds: tuple[float, float]
    arl1: float
    arl1_bounds: tuple[float, float]
    p0: float
    p1: float
    n: int
    grid: float
    method: str
    references: tuple[str, ...]


def llr_weights(p0: float, p1: float) -> tuple[float, float]:
    """``(log(p1/p0), log((1-p1)/(1-p0)))``: the weight of an event and of a non-event."""
    return math.log(p1 / p0), math.log((1.0 - p1) / (1.0 - p0))


def _cusum_path(w: NDArray[np.float64]) -> NDArray[np.float64]:
    """``S_t = max(0, S_{t-1} + w_t)`` without restart, vectorised.

    With ``C_t`` the cumulative sum of ``w`` (``C_0 = 0``), ``S_t = C_t - min_{j<=t} C_j``
    (Lindley's recursion), exact for a reflecting barrier at 0.
    """
    c = np.concatenate(([0.0], np.cumsum(w)))
    s = c - np.minimum.accumulate(c)
    return np.asarray(s[1:], dtype=np.float64)


def bernoulli_cusum(outcomes: object, *, p0: float, p1: float, limit: float) -> CusumResult:
    """Bernoulli CUSUM of case outcomes for an increase of the event rate from p0 to p1.

    Parameters
    ----------
    outcomes : array of 0/1, shape (n_cases,)
        1 = the bad event (e.g. a miss among labelled positives), in time order.
    p0, p1 : float
        In-control and out-of-control event rates, ``0 < p0 < p1 < 1``.
    limit : float
        Decision limit ``h > 0`` (e.g. from :func:`cusum_limit`).

    Returns
    -------
    CusumResult
        ``statistic`` (one per case; ``S_0 = 0`` not included), ``signals``, ``first_signal``.

    Notes
    -----
    The statistic is computed with the exact weights; the chart is not restarted after a
    signal, so ``signals`` marks every case at or above the limit.

    References
    ----------
    Page (1954); Steiner et al. (2000), doi:10.1093/biostatistics/1.4.441; Reynolds and
    Stoumbos (1999), doi:10.1080/00224065.1999.11979900.

    Examples
    --------
    >>> r = bernoulli_cusum([0, 1, 1, 0, 1], p0=0.1, p1=0.2, limit=1.9)
    >>> r.first_signal
    4
    """
    a, b = check_upward(p0, p1)
    h = check_positive(limit, "limit", hint=" Choose it with cusum_limit(p0=, p1=, arl0=).")
    y = check_binary(outcomes, "outcomes")
    w1, w0 = llr_weights(a, b)
    w = np.where(y == 1, w1, w0)
    s = _cusum_path(w)
    sig = s >= h
    return CusumResult(statistic=s, signals=sig, first_signal=first_index(sig), limit=h, p0=a,
                       p1=b, weights=(w1, w0), method="Bernoulli CUSUM (log-likelihood ratio)",
                       references=_REFS)


def binomial_cusum(events: object, trials: object, *, p0: float, p1: float,
                   limit: float) -> CusumResult:
    """Binomial CUSUM of period counts (``events`` out of ``trials`` per period).

    ``W_t = x_t log(p1/p0) + (n_t - x_t) log((1-p1)/(1-p0))``; periods may differ in size
    (the weights follow each period's ``n_t``; the ARL from :func:`binomial_cusum_arl`
    assumes one size). See :func:`bernoulli_cusum` for the fields.

    References
    ----------
    Gan (1993), doi:10.1080/02664769300000045; Reynolds and Stoumbos (1999).
    """
    a, b = check_upward(p0, p1)
    h = check_positive(limit, "limit", hint=" Choose it with binomial_cusum_limit().")
    x, n = check_counts(events, trials, s_name="events")
    w1, w0 = llr_weights(a, b)
    w = x * w1 + (n - x) * w0
    s = _cusum_path(w.astype(np.float64))
    sig = s >= h
    return CusumResult(statistic=s, signals=sig, first_signal=first_index(sig), limit=h, p0=a,
                       p1=b, weights=(w1, w0), method="binomial CUSUM of period counts",
                       references=(REF_GAN_1993, *_REFS))


# ---------------------------------------------------------------- Markov chain (Brook-Evans)

def _grid(p0: float, p1: float, n: int, resolution: int) -> float:
    """Grid units per nat: ``resolution`` units for the smaller case weight (n = 1) or for the
    spacing ``w1 - w0`` between the weights of consecutive counts (n > 1)."""
    w1, w0 = llr_weights(p0, p1)
    return resolution / (min(w1, -w0) if n == 1 else w1 - w0)


def _chain_arl(states: int, d: NDArray[np.int64], n: int, p: float) -> float:
    """ARL from state 0 of the integer chart ``S' = max(0, S + d(x))``, ``x ~ Binomial(n,
    p)``, absorbed at ``S' >= states``; ``(I - Q) L = 1`` by sparse LU."""
    H = states
    x = np.arange(n + 1)
    pmf = sps.binom.pmf(x, n, p)
    cdf = np.cumsum(pmf)
    i = np.arange(H)
    # to state 0: every x with d(x) <= -i (d is non-decreasing in x)
    k0 = np.searchsorted(d, -i, side="right")
    p_zero = np.where(k0 > 0, cdf[np.maximum(k0 - 1, 0)], 0.0)
    mid = np.flatnonzero((d > -H) & (d < H))
    rows = [i]
    cols = [np.zeros(H, dtype=np.int64)]
    vals = [p_zero]
    for j in mid:
        t = i + d[j]
        ok = (t > 0) & (t < H)
        rows.append(i[ok])
        cols.append(t[ok])
        vals.append(np.full(int(ok.sum()), pmf[j]))
    q = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(H, H))
    m = sp.identity(H, format="csc") - q
    sol = spla.spsolve(m, np.ones(H))
    return float(np.asarray(sol)[0])


def _round(w: NDArray[np.float64], rounding: str) -> NDArray[np.int64]:
    if rounding == "low":
        r = np.ceil(w - 1e-9)
    elif rounding == "high":
        r = np.floor(w + 1e-9)
    else:
        r = np.rint(w)
    return np.asarray(r, dtype=np.int64)


@lru_cache(maxsize=8192)
def _arl_grid(states: int, grid: float, p0: float, p1: float, n: int, p: float,
              rounding: str) -> float:
    """ARL on the grid with each period's weight ``W(x)`` in grid units rounded up ("low":
    a lower bound of the exact chart's ARL), to the nearest, or down ("high")."""
    w1, w0 = llr_weights(p0, p1)
    x = np.arange(n + 1)
    w = (x * w1 + (n - x) * w0) * grid
    return _chain_arl(states, _round(w, rounding), n, p)


def _arl_triple(states: int, grid: float, p0: float, p1: float, n: int, p: float
                ) -> tuple[float, float, float]:
    """(lower bound, nearest-rounded, upper bound)."""
    return tuple(_arl_grid(states, grid, p0, p1, n, p, r)  # type: ignore[return-value]
                 for r in ("low", "near", "high"))


def _states(limit: float, grid: float) -> int:
    return max(1, math.ceil(limit * grid - 1e-9))


def _check_n(n: object) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or int(n) < 1:
        raise InputError(f"'n' must be a whole number >= 1 (cases per period); got {n!r}.")
    return int(n)


def _check_resolution(resolution: object) -> int:
    if isinstance(resolution, (bool, np.bool_)) or not isinstance(resolution, (int, np.integer)) \
            or not 10 <= int(resolution) <= 10_000:
        raise InputError(f"'resolution' must be a whole number in [10, 10000]; got {resolution!r}.")
    return int(resolution)


def _arl(limit: float, p0: float, p1: float, p: float, n: int, resolution: int,
         method: str) -> CusumARL:
    a, b = check_upward(p0, p1)
    h = check_positive(limit, "limit")
    q = check_rate(p, "p")
    grid = _grid(a, b, n, resolution)
    if h * grid > MAX_STATES:
        grid = MAX_STATES / h
    H = _states(h, grid)
    low, near, high = _arl_triple(H, grid, a, b, n, q)
    return CusumARL(arl=near, arl_bounds=(low, high), limit=h, p0=a, p1=b, p=q, n=n, grid=grid,
                    states=H, method=method, references=_ARL_REFS)


def cusum_arl(limit: float, *, p0: float, p1: float, p: float,
              resolution: int = DEFAULT_RESOLUTION) -> CusumARL:
    """Average run length (in cases) of the Bernoulli CUSUM when the true event rate is ``p``.

    Parameters
    ----------
    limit : float
        Decision limit ``h > 0``.
    p0, p1 : float
        The chart's design rates (``0 < p0 < p1 < 1``).
    p : float
        The true rate, in (0, 1): ``p0`` gives ARL0 (mean cases to a false alarm), ``p1``
        ARL1 (the expected detection delay from a start at zero).
    resolution : int
        Grid steps of the smaller weight (default 100; the state count is capped at 150,000,
        reducing the grid for very long charts).

    Returns
    -------
    CusumARL
        ``arl`` (nearest-rounded weights) and strict ``arl_bounds``.

    Notes
    -----
    Markov chain of Brook and Evans (1972) with integer-scaled weights (see the module notes
    for the bounds). ARL is counted from ``S_0 = 0``.

    References
    ----------
    Brook and Evans (1972), doi:10.1093/biomet/59.3.539; Reynolds and Stoumbos (1999),
    doi:10.1080/00224065.1999.11979900.
    """
    return _arl(limit, p0, p1, p, 1, _check_resolution(resolution),
                "Markov chain (Brook-Evans), integer-scaled weights")


def binomial_cusum_arl(limit: float, *, p0: float, p1: float, p: float, n: int,
                       resolution: int = DEFAULT_RESOLUTION) -> CusumARL:
    """Average run length (in periods of ``n`` cases) of the binomial CUSUM at rate ``p``.

    Markov chain over the integer-scaled CUSUM with binomial transitions over the period's
    count ``x = 0..n`` (see :func:`cusum_arl`).

    References
    ----------
    Brook and Evans (1972); Gan (1993), doi:10.1080/02664769300000045.
    """
    return _arl(limit, p0, p1, p, _check_n(n), _check_resolution(resolution),
                "Markov chain (Brook-Evans) over binomial period counts, integer-scaled weights")


def _limit(p0: float, p1: float, arl0: float, n: int, resolution: int, method: str
           ) -> CusumLimit:
    a, b = check_upward(p0, p1)
    target = check_arl0(arl0)
    grid = _grid(a, b, n, resolution)

    def arl_at(H: int) -> float:
        return _arl_grid(H, grid, a, b, n, a, "near")

    hi = max(1, int(grid * 0.5))
    while arl_at(hi) < target:
        hi *= 2
        if hi > MAX_STATES:
            grid_c = MAX_STATES / (hi / grid)
            grid, hi = grid_c, MAX_STATES  # a coarser grid for a very long chart
            if arl_at(hi) < target:
                raise InputError(
                    f"'arl0' must be reachable with at most {MAX_STATES} chart states; got "
                    f"{arl0!r}. Use a larger shift (p1) or a smaller ARL0."
                )
            break
    lo = 0  # arl_at(0) would be 1 (a signal at once) < target
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if arl_at(mid) >= target:
            hi = mid
        else:
            lo = mid
    l0, n0, u0 = _arl_triple(hi, grid, a, b, n, a)
    l1, n1, u1 = _arl_triple(hi, grid, a, b, n, b)
    # the limit midway between grid states H - 1 and H: the same chain (ceil(limit m) = H),
    # and no exact tie between the limit and a reachable value on the grid
    return CusumLimit(limit=(hi - 0.5) / grid, target_arl0=target, arl0=n0, arl0_bounds=(l0, u0),
                      arl1=n1, arl1_bounds=(l1, u1), p0=a, p1=b, n=n, grid=grid, method=method,
                      references=_ARL_REFS)


def cusum_limit(*, p0: float, p1: float, arl0: float,
                resolution: int = DEFAULT_RESOLUTION) -> CusumLimit:
    """Decision limit of the Bernoulli CUSUM reaching the target in-control ARL (in cases).

    The smallest limit on the grid of :func:`cusum_arl` whose ARL0 is at least ``arl0``
    (integer bisection; the ARL is non-decreasing in the limit), with its ARL0 and the ARL1 at
    ``p1``, both by the Markov-chain method.

    Parameters
    ----------
    p0, p1 : float
        Design rates, ``0 < p0 < p1 < 1``.
    arl0 : float
        Target in-control ARL (> 1), e.g. 1/false-alarm rate per case.

    Returns
    -------
    CusumLimit

    References
    ----------
    Brook and Evans (1972); Steiner et al. (2000); Reynolds and Stoumbos (1999).
    """
    return _limit(p0, p1, arl0, 1, _check_resolution(resolution),
                  "limit from target ARL0, Markov chain (Brook-Evans), integer-scaled weights")


def binomial_cusum_limit(*, p0: float, p1: float, n: int, arl0: float,
                         resolution: int = DEFAULT_RESOLUTION) -> CusumLimit:
    """Decision limit of the binomial CUSUM (periods of ``n`` cases) for a target ARL0 in
    periods; see :func:`cusum_limit` and :func:`binomial_cusum_arl`."""
    return _limit(p0, p1, arl0, _check_n(n), _check_resolution(resolution),
                  "limit from target ARL0, Markov chain (Brook-Evans) over binomial counts")
