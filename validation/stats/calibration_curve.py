"""Smoothed calibration curve with a pointwise bootstrap band.

The curve is Cleveland's locally weighted linear regression (LOWESS) of the outcome on the
prediction [1]_, with span ``frac`` and no robustness iterations (a 0/1 outcome has no outliers
to down-weight; ``rms::val.prob`` uses the same, ``iter = 0``) [2]_; statsmodels computes it.
``delta = 0.01 * range(p)`` as R's ``lowess`` default, so the fitted values equal R's. The curve
is read on a grid of predictions by linear interpolation of the fitted points.

The band resamples cases with replacement ``n_boot`` times (numpy ``default_rng(seed)``),
refits the smoother and takes the pointwise ``alpha/2`` and ``1 - alpha/2`` percentiles at each
grid point [3]_. It is pointwise, not simultaneous.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_count
from validation.stats._result import Result
from validation.stats.calibration import binary_inputs

CLEVELAND_1979 = (
    "Cleveland WS. Robust locally weighted regression and smoothing scatterplots. J Am Stat Assoc "
    "1979;74:829-836. doi:10.1080/01621459.1979.10481038"
)
AUSTIN_2014 = (
    "Austin PC, Steyerberg EW. Graphical assessment of internal and external calibration of "
    "logistic regression models by using loess smoothers. Stat Med 2014;33:517-535. doi:10.1002/sim.5941"
)
#: Fewest cases for a smoothed curve (below it LOWESS fits lines through a handful of points).
MIN_CASES = 10
EFRON_1993 = (
    "Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993. doi:10.1201/9780429246593"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationCurve(Result):
    """Smoothed observed event rate (``estimate``) at each ``grid`` prediction, with the band."""

    grid: NDArray[np.float64]
    estimate: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    frac: float
    level: float
    n_boot: int
    seed: int
    method: str
    references: tuple[str, ...]


def lowess_fit(
    y: NDArray[np.float64], p: NDArray[np.float64], frac: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sorted predictions and the LOWESS fitted values at them (as R ``lowess(p, y, f, iter=0)``)."""
    from statsmodels.nonparametric.smoothers_lowess import lowess

    delta = 0.01 * float(p.max() - p.min())
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a degenerate local fit gives NaN: checked
        out = lowess(y, p, frac=frac, it=0, delta=delta, return_sorted=True)
    return out[:, 0], out[:, 1]


def _on_grid(x: NDArray[np.float64], f: NDArray[np.float64], grid: NDArray[np.float64]) -> NDArray[np.float64]:
    ux, first = np.unique(x, return_index=True)  # tied predictions share one fitted value
    return np.clip(np.interp(grid, ux, f[first]), 0.0, 1.0)


def calibration_curve(
    truth: Any,
    probability: Any,
    *,
    grid: Any = None,
    frac: float = 2.0 / 3.0,
    n_boot: int = 200,
    seed: int = 20240101,
    alpha: float = 0.05,
) -> CalibrationCurve:
    """LOWESS calibration curve with a seeded pointwise percentile bootstrap band.

    Parameters
    ----------
    truth, probability : array_like of shape (n,)
        Outcome (0/1, both present) and predicted probability in [0, 1].
    grid : array_like, optional
        Predictions at which to read the curve; default 41 points evenly spaced between the 1st
        and 99th percentiles of ``probability`` (the curve is not extrapolated).
    frac : float
        Span of the smoother, in (0, 1] (R's ``f``; 2/3 by default as in R).
    n_boot : int
        Bootstrap replicates of the band (>= 20; 0 is refused: the band is part of the output).
    seed : int
        Seed of the resampling.
    alpha : float
        The band is the pointwise ``1 - alpha`` percentile interval.

    Returns
    -------
    CalibrationCurve

    Notes
    -----
    Estimated event rates are clipped to [0, 1]. In sparse regions (few cases with extreme
    predictions) the smoother leans on few points and the band widens; read the curve with the
    histogram of predictions [2]_.

    References
    ----------
    .. [1] Cleveland WS. J Am Stat Assoc 1979;74:829-836. doi:10.1080/01621459.1979.10481038
    .. [2] Austin PC, Steyerberg EW. Stat Med 2014;33:517-535. doi:10.1002/sim.5941
    .. [3] Efron B, Tibshirani RJ. An Introduction to the Bootstrap. 1993. doi:10.1201/9780429246593
    """
    y8, p = binary_inputs(truth, probability)
    y = y8.astype(np.float64)
    a = check_alpha(alpha)
    b = check_count(n_boot, "n_boot", minimum=20)
    sd = check_count(seed, "seed")
    try:
        f = float(frac)
    except (TypeError, ValueError):
        raise InputError(f"'frac' must be a number in (0, 1]; got {frac!r}.") from None
    if not 0.0 < f <= 1.0:
        raise InputError(f"'frac' must be in (0, 1], e.g. 2/3; got {frac!r}.")
    if grid is None:
        lo, hi = np.quantile(p, [0.01, 0.99])
        g = np.linspace(lo, hi, 41)
    else:
        g = np.asarray(grid, dtype=np.float64)
        if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)) or g.min() < 0 or g.max() > 1:
            raise InputError(f"'grid' must be a non-empty list of probabilities in [0, 1]; got {grid!r}.")
    if y.size < MIN_CASES or np.unique(p).size < 3:
        raise InputError(
            f"'probability' must hold at least {MIN_CASES} cases and 3 distinct values for a smoothed "
            f"calibration curve; got {y.size} cases, {np.unique(p).size} distinct. Use the binned "
            "reliability diagram instead."
        )
    x, fit = lowess_fit(y, p, f)
    if not np.all(np.isfinite(fit)):
        raise InputError("The LOWESS smoother has no finite fit for these data; widen 'frac'.")
    est = _on_grid(x, fit, g)
    rng = np.random.default_rng(sd)
    n = y.size
    reps = np.empty((b, g.size))
    for i in range(b):
        idx = rng.integers(0, n, n)
        pb = p[idx]
        if pb.max() == pb.min():
            reps[i] = np.nan
            continue
        xb, fb = lowess_fit(y[idx], pb, f)
        reps[i] = _on_grid(xb, fb, g) if np.all(np.isfinite(fb)) else np.nan
    low, high = np.nanquantile(reps, [a / 2.0, 1.0 - a / 2.0], axis=0)
    return CalibrationCurve(
        grid=g,
        estimate=est,
        low=low,
        high=high,
        frac=f,
        level=1.0 - a,
        n_boot=b,
        seed=sd,
        method=f"LOWESS (span {f:.3g}, no robustness iterations) with a pointwise percentile "
        f"bootstrap band ({b} replicates)",
        references=(CLEVELAND_1979, AUSTIN_2014, EFRON_1993),
    )
