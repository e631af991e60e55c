"""EWMA chart of a proportion with exact time-varying limits for unequal period sizes.

With ``x_t`` successes out of ``n_t`` in period ``t``:

``z_0 = target``, ``z_t = lam x_t / n_t + (1 - lam) z_{t-1}``,

and, in control (every case a success with probability ``target``, independently),

``Var(z_t) = target (1 - target) sum_{i<=t} lam^2 (1 - lam)^(2 (t - i)) / n_i``,

the exact variance for any sequence of period sizes (Roberts 1959; Lucas and Saccucci 1990
give the equal-size form ``lam / (2 - lam) (1 - (1 - lam)^(2t)) sigma^2 / n``). The limits are
``target +/- width sd_t``, clipped to [0, 1]; a period signals when ``z_t`` is outside them.

References
----------
1. Roberts SW (1959). doi:10.1080/00401706.1959.10489860
2. Lucas JM, Saccucci MS (1990). doi:10.1080/00401706.1990.10484583
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._result import Result
from validation.stats.surveillance._common import (
    REF_LUCAS_SACCUCCI_1990,
    REF_ROBERTS_1959,
    check_counts,
    check_positive,
    check_rate,
    first_index,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class EwmaResult(Result):
    """EWMA of a proportion: ``statistic`` (z_t), ``lower``, ``upper``, ``sd`` (one per period),
    ``signals`` (z_t outside the limits), ``first_signal`` (0-based index or None)."""

    statistic: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    sd: NDArray[np.float64]
    signals: NDArray[np.bool_]
    first_signal: int | None
    target: float
    lam: float
    width: float
    method: str
    references: tuple[str, ...]


def ewma_proportion(successes: object, trials: object, *, target: float, lam: float,
                    width: float) -> EwmaResult:
    """EWMA chart of a per-period proportion with exact limits for unequal period sizes.

    Parameters
    ----------
    successes, trials : arrays of whole numbers, shape (n_periods,)
        Successes and cases per period (``1 <= trials``, ``successes <= trials``), in order.
    target : float
        In-control proportion, in (0, 1) (e.g. the pivotal sensitivity).
    lam : float
        Smoothing constant in (0, 1]; ``lam = 1`` is a Shewhart p-chart.
    width : float
        Limit width in standard deviations (> 0), e.g. 3 or the normal quantile of the
        per-period false-alarm rate.

    Returns
    -------
    EwmaResult

    Notes
    -----
    The limits are normal-theory: with few cases per period the in-control false-alarm rate
    departs from the nominal one (the EWMA of binomial proportions is only approximately
    normal); the chart is two-sided, and a caller watching one direction reads the side it
    needs.

    References
    ----------
    Roberts (1959), doi:10.1080/00401706.1959.10489860; Lucas and Saccucci (1990),
    doi:10.1080/00401706.1990.10484583.

    Examples
    --------
    >>> r = ewma_proportion([90, 80], [100, 100], target=0.9, lam=0.2, width=3.0)
    >>> [round(v, 3) for v in r.statistic]
    [0.9, 0.88]
    """
    x, n = check_counts(successes, trials)
    t0 = check_rate(target, "target")
    try:
        lm = float(lam)
    except (TypeError, ValueError):
        raise InputError(f"'lam' must be a number in (0, 1]; got {lam!r}.") from None
    if not (0.0 < lm <= 1.0):
        raise InputError(f"'lam' must be in (0, 1] (e.g. 0.2); got {lam!r}.")
    L = check_positive(width, "width", hint=" Use e.g. 3 (standard deviations).")
    p = x / n
    z = np.empty(p.size)
    var = np.empty(p.size)
    zt, vt = t0, 0.0
    base = t0 * (1.0 - t0)
    for t in range(p.size):
        zt = lm * p[t] + (1.0 - lm) * zt
        vt = (1.0 - lm) ** 2 * vt + lm * lm * base / n[t]
        z[t], var[t] = zt, vt
    sd = np.sqrt(var)
    lower = np.clip(t0 - L * sd, 0.0, 1.0)
    upper = np.clip(t0 + L * sd, 0.0, 1.0)
    sig = (z < lower) | (z > upper)
    return EwmaResult(statistic=z, lower=lower, upper=upper, sd=sd, signals=sig,
                      first_signal=first_index(sig), target=t0, lam=lm, width=L,
                      method="EWMA of a proportion, exact time-varying limits",
                      references=(REF_ROBERTS_1959, REF_LUCAS_SACCUCCI_1990))
