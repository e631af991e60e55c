"""Normal-theory CUSUM of a periodic metric (the set-up of FDA's AIM-CU).

A metric observed once per period (e.g. the period's AUC) with in-control mean ``mu0`` and
standard deviation ``sigma``; the shift to detect is ``delta`` (in the metric's units, negative
for a drop). On the standardised scale ``z_t = (x_t - mu0) / sigma`` and with ``d = |delta| /
sigma``, the reference value is ``k = d / 2`` (the optimal value for a shift of ``d``, Page
1954) and the one-sided statistic is

``S_t = max(0, S_{t-1} + z_t - k)`` for an increase, ``S_t = max(0, S_{t-1} - z_t - k)`` for a
drop, ``S_0 = 0``; a signal when ``S_t >= h``.

The limit ``h`` is chosen so that the in-control ARL (in periods) equals the target ARL0; the
ARL1 at the shift ``d`` is the expected detection delay (from ``S_0 = 0``). ARLs solve the
integral equation of the zero-start ARL,

``L(u) = 1 + L(0) Phi(k - u - m) + int_0^h L(y) phi(y - u + k - m) dy``,

(``m`` the standardised mean, in the direction watched) by the Nyström method with
Gauss-Legendre nodes on ``[0, h]`` (Vance 1986; Knoth 2005), the method of R package ``spc``
``xcusum.arl``; with the default 60 nodes the ARL agrees with ``spc`` to about 1e-8 relative
(tests).

References
----------
1. Page ES (1954). doi:10.1093/biomet/41.1-2.100
2. Vance LC (1986). doi:10.1080/00224065.1986.11979011
3. Knoth S (2005). doi:10.1007/s11222-005-3393-z
4. Brook D, Evans DA (1972). doi:10.1093/biomet/59.3.539
5. US FDA (2024). AIM-CU. https://github.com/DIDSR/AIM-CU
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import optimize
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._result import Result
from validation.stats.surveillance._common import (
    REF_AIMCU,
    REF_BROOK_EVANS_1972,
    REF_KNOTH_2005,
    REF_PAGE_1954,
    REF_VANCE_1986,
    check_arl0,
    check_finite,
    check_positive,
    first_index,
)

DEFAULT_NODES = 60
_REFS = (REF_PAGE_1954, REF_VANCE_1986, REF_KNOTH_2005, REF_BROOK_EVANS_1972, REF_AIMCU)


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalCusumARL(Result):
    """Zero-start ARL (in periods) of a one-sided CUSUM of standardised normal observations
    with mean ``mu``, reference value ``k`` and limit ``h``."""

    arl: float
    limit: float
    k: float
    mu: float
    nodes: int
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalCusumDesign(Result):
    """Limit ``h`` for a target ARL0 and the ARL1 at the shift (standardised units)."""

    limit: float
    k: float
    shift: float
    target_arl0: float
    arl0: float
    arl1: float
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalCusumResult(Result):
    """A normal CUSUM of a periodic metric.

    ``statistic`` (one per period, in standard deviations), ``signals``, ``first_signal``;
    ``limit`` and ``k`` in standard deviations; ``direction`` "increase" or "decrease";
    ``arl0`` and ``arl1`` (periods) of the chart; ``mean``, ``sd`` and ``shift`` as given.
    """

    statistic: NDArray[np.float64]
    signals: NDArray[np.bool_]
    first_signal: int | None
    limit: float
    k: float
    direction: str
    mean: float
    sd: float
    shift: float
    arl0: float
    arl1: float
    method: str
    references: tuple[str, ...]


@lru_cache(maxsize=4096)
def _arl(h: float, k: float, mu: float, r: int) -> float:
    x, w = np.polynomial.legendre.leggauss(r)
    z = h / 2.0 * (x + 1.0)
    wz = w * h / 2.0
    # unknowns: L(0), L(z_1..z_r)
    u = np.concatenate(([0.0], z))
    a = np.empty((r + 1, r + 1))
    a[:, 0] = sps.norm.cdf(k - u - mu)
    a[:, 1:] = wz[None, :] * sps.norm.pdf(z[None, :] - u[:, None] + k - mu)
    m = np.eye(r + 1) - a
    sol = np.linalg.solve(m, np.ones(r + 1))
    return float(sol[0])


def _check_nodes(nodes: object) -> int:
    if isinstance(nodes, (bool, np.bool_)) or not isinstance(nodes, (int, np.integer)) \
            or not 8 <= int(nodes) <= 400:
        raise InputError(f"'nodes' must be a whole number in [8, 400]; got {nodes!r}.")
    return int(nodes)


def _check_k(k: object) -> float:
    try:
        v = float(k)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"'k' must be a number >= 0; got {k!r}.") from None
    if not (v >= 0.0) or not math.isfinite(v):
        raise InputError(f"'k' must be a finite number >= 0 (half the shift, in SDs); got {k!r}.")
    return v


def normal_cusum_arl(limit: float, *, k: float, mu: float = 0.0,
                     nodes: int = DEFAULT_NODES) -> NormalCusumARL:
    """Zero-start ARL of the one-sided normal CUSUM ``S = max(0, S + z - k)``, z ~ N(mu, 1).

    Parameters
    ----------
    limit : float
        ``h > 0`` in standard deviations.
    k : float
        Reference value (>= 0), in standard deviations.
    mu : float
        Mean of the standardised observations in the watched direction (0 in control, the
        shift ``d`` out of control).
    nodes : int
        Gauss-Legendre nodes of the Nyström solution (default 60).

    Returns
    -------
    NormalCusumARL

    References
    ----------
    Vance (1986), doi:10.1080/00224065.1986.11979011; Knoth (2005),
    doi:10.1007/s11222-005-3393-z; Brook and Evans (1972), doi:10.1093/biomet/59.3.539.

    Examples
    --------
    >>> round(normal_cusum_arl(4.0, k=0.5).arl, 1)
    168.1
    """
    h = check_positive(limit, "limit")
    kk = _check_k(k)
    try:
        m = float(mu)
    except (TypeError, ValueError):
        raise InputError(f"'mu' must be a finite number; got {mu!r}.") from None
    if not math.isfinite(m):
        raise InputError(f"'mu' must be a finite number; got {mu!r}.")
    r = _check_nodes(nodes)
    return NormalCusumARL(arl=_arl(h, kk, m, r), limit=h, k=kk, mu=m, nodes=r,
                          method="integral equation, Nyström with Gauss-Legendre nodes",
                          references=_REFS)


def normal_cusum_design(*, shift: float, arl0: float, k: float | None = None,
                        nodes: int = DEFAULT_NODES) -> NormalCusumDesign:
    """Limit ``h`` reaching the in-control ARL0 and the ARL1 (detection delay) at ``shift``.

    Parameters
    ----------
    shift : float
        The shift to detect in standard deviations (its sign is ignored here; the chart's
        direction is set by :func:`normal_cusum`).
    arl0 : float
        Target in-control ARL in periods (> 1).
    k : float, optional
        Reference value; default ``|shift| / 2``.

    Returns
    -------
    NormalCusumDesign
        ``limit`` solves ``ARL(h; mu = 0) = arl0`` (Brent's method, to 1e-10 in h).

    References
    ----------
    Page (1954); Vance (1986); AIM-CU (FDA, 2024).
    """
    if not _is_number(shift) or float(shift) == 0.0:  # type: ignore[arg-type]
        raise InputError(f"'shift' must be a non-zero number of standard deviations; "
                         f"got {shift!r}.")
    d = check_positive(abs(float(shift)), "shift")  # type: ignore[arg-type]
    target = check_arl0(arl0)
    kk = d / 2.0 if k is None else _check_k(k)
    r = _check_nodes(nodes)

    def f(h: float) -> float:
        return math.log(_arl(h, kk, 0.0, r)) - math.log(target)

    if f(1e-6) > 0:
        floor = _arl(1e-6, kk, 0.0, r)
        raise InputError(f"'arl0' must exceed {floor:.4g}, the in-control ARL of a limit near 0 "
                         f"for k = {kk:.4g}; got {arl0!r}. Ask for a longer in-control run length.")
    hi = 1.0
    while f(hi) < 0:
        hi *= 2.0
        if hi > 1e3:
            raise InputError(f"'arl0' must be reachable with a limit below 1000 SDs; got {arl0!r}.")
    h = float(optimize.brentq(f, 1e-6, hi, xtol=1e-10, rtol=1e-12))
    return NormalCusumDesign(limit=h, k=kk, shift=d, target_arl0=target,
                             arl0=_arl(h, kk, 0.0, r), arl1=_arl(h, kk, d, r),
                             method="limit from target ARL0; ARL by the integral equation "
                                    "(Nyström, Gauss-Legendre)", references=_REFS)


def _is_number(x: object) -> bool:
    try:
        float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def normal_cusum(values: object, *, mean: float, sd: float, shift: float,
                 arl0: float | None = None, limit: float | None = None,
                 k: float | None = None, nodes: int = DEFAULT_NODES) -> NormalCusumResult:
    """One-sided normal CUSUM of a periodic metric (AIM-CU set-up).

    Parameters
    ----------
    values : array, shape (n_periods,)
        The metric per period, in time order.
    mean, sd : float
        In-control mean and standard deviation of one period's value (``sd > 0``).
    shift : float
        The shift to detect in the metric's units: negative to watch for a drop, positive
        for an increase.
    arl0 : float, optional
        Target in-control ARL (periods); the limit is chosen from it. Give ``arl0`` or
        ``limit``, not both.
    limit : float, optional
        A decision limit in standard deviations.
    k : float, optional
        Reference value in SDs; default ``|shift| / (2 sd)``.

    Returns
    -------
    NormalCusumResult
        The statistic in SDs, signals, the limit, ``arl0`` and ``arl1`` (detection delay in
        periods for the stated shift).

    References
    ----------
    Page (1954); Vance (1986); AIM-CU (FDA, 2024).
    """
    x = check_finite(values, "values")
    try:
        mu0 = float(mean)
    except (TypeError, ValueError):
        raise InputError(f"'mean' must be a finite number; got {mean!r}.") from None
    if not math.isfinite(mu0):
        raise InputError(f"'mean' must be a finite number; got {mean!r}.")
    s = check_positive(sd, "sd")
    try:
        delta = float(shift)
    except (TypeError, ValueError):
        raise InputError(f"'shift' must be a non-zero number; got {shift!r}.") from None
    if delta == 0.0 or not math.isfinite(delta):
        raise InputError(f"'shift' must be a non-zero finite number (negative for a drop); "
                         f"got {shift!r}.")
    if (arl0 is None) == (limit is None):
        raise InputError("'arl0' or 'limit' must be given (exactly one); got "
                         f"arl0={arl0!r}, limit={limit!r}.")
    d = abs(delta) / s
    kk = d / 2.0 if k is None else _check_k(k)
    r = _check_nodes(nodes)
    if arl0 is not None:
        design = normal_cusum_design(shift=d, arl0=arl0, k=kk, nodes=r)
        h = design.limit
    else:
        h = check_positive(limit, "limit")
    sign = 1.0 if delta > 0 else -1.0
    z = sign * (x - mu0) / s - kk
    c = np.concatenate(([0.0], np.cumsum(z)))
    stat = (c - np.minimum.accumulate(c))[1:]
    sig = stat >= h
    return NormalCusumResult(
        statistic=stat, signals=sig, first_signal=first_index(sig), limit=h, k=kk,
        direction="increase" if delta > 0 else "decrease", mean=mu0, sd=s, shift=delta,
        arl0=_arl(h, kk, 0.0, r), arl1=_arl(h, kk, d, r),
        method="one-sided normal CUSUM; ARL by the integral equation (Nyström)",
        references=_REFS)
