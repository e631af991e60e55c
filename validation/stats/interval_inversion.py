"""One-sided p-values that agree with a confidence interval's bound (test inversion).

A performance goal is often stated on an interval ("the lower bound of the 95% CI of
sensitivity exceeds 0.80"), while a multiplicity procedure needs p-values. When the p-value
comes from a different test than the interval (e.g. a Wald z test beside a Jeffreys interval),
the two can disagree near the goal: the bound fails and the p-value passes. The p-values here
invert the interval itself: ``p`` is the smallest one-sided level ``a`` at which the interval at
two-sided level ``2a`` excludes the null value on the tested side, so

    ``p <= a``  exactly when  the bound at level ``2a`` lies beyond the null value

(up to a tie of measure zero where the bound equals the null value).

* Wilson: the score test, :math:`z = (\\hat p - p_0) / \\sqrt{p_0 (1 - p_0) / n}` (Wilson 1927).
* Clopper-Pearson ("exact"): the exact binomial tail, written through the Beta distribution
  so that a non-integer (effective) number of successes is allowed (Clopper and Pearson 1934).
* Jeffreys: the Beta(x + 1/2, n - x + 1/2) posterior tail (Brown, Cai and DasGupta 2001).
* Agresti-Coull: no closed form; the critical value at which the adjusted Wald bound equals
  the null value is found numerically (Agresti and Coull 1998).
* Bootstrap percentile interval: the position of the null value among the sorted replicates,
  with the linear interpolation :func:`numpy.quantile` uses for the interval itself
  (Efron and Tibshirani 1993, section 16.4). Replicates of a proportion are discrete, so the
  bound can equal the null value exactly at the returned level (e.g. 2001 replicates at
  one-sided 0.025); such a tie does not exceed the null value, and the p-value is then
  returned a relative 1e-9 above that level, so that ``p <= a`` still means "rejected".

The binomial methods accept the Rao-Scott effective sample size of clustered findings
(``successes`` and ``n`` may be non-integer), as
:func:`validation.stats.proportions.clustered_proportion_ci` uses it.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from scipy import optimize
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_choice

Side = Literal["greater", "less"]
METHODS = ("wilson", "exact", "jeffreys", "agresti-coull")
SIDES = ("greater", "less")
_Z_MAX = 40.0  # norm.sf(40) underflows to 0 in double precision
TIE_STEP = 1e-9
"""Relative step above the level at which a bootstrap bound ties with the null value."""


def _check(successes: float, n: float, null: float, side: str) -> tuple[float, float, float]:
    check_choice(side, "side", SIDES)
    x, nn, p0 = float(successes), float(n), float(null)
    if not (math.isfinite(nn) and nn > 0):
        raise InputError(f"'n' must be positive; got {n!r}.")
    if not (math.isfinite(x) and 0.0 <= x <= nn):
        raise InputError(f"'successes' must lie in [0, n] = [0, {nn:g}]; got {successes!r}.")
    if not (0.0 < p0 < 1.0):
        raise InputError(f"'null' must lie strictly between 0 and 1; got {null!r}.")
    return x, nn, p0


def _agresti_coull_lower(x: float, n: float, z: float) -> float:
    """The adjusted Wald lower bound at critical value ``z`` (for ``z < 0``: the upper bound
    at ``-z``), unclipped."""
    nt = n + z * z
    pt = (x + z * z / 2.0) / nt
    return pt - z * math.sqrt(pt * (1.0 - pt) / nt)


def _greater(x: float, n: float, p0: float, method: str) -> float:
    """p-value of H0: p <= p0 against p > p0 (lower bound above ``p0``)."""
    if method == "wilson":
        z = (x / n - p0) / math.sqrt(p0 * (1.0 - p0) / n)
        return float(sps.norm.sf(z))
    if x <= 0.0:  # the lower bound is 0 at x = 0 under these methods
        return 1.0
    if method == "exact":
        return float(sps.beta.cdf(p0, x, n - x + 1.0))
    if method == "jeffreys":
        return float(sps.beta.cdf(p0, x + 0.5, n - x + 0.5))

    def f(z: float) -> float:
        return _agresti_coull_lower(x, n, z) - p0

    if f(_Z_MAX) > 0.0:
        return 0.0
    if f(-_Z_MAX) < 0.0:
        return 1.0
    z = optimize.brentq(f, -_Z_MAX, _Z_MAX, xtol=1e-13, maxiter=500)
    return float(sps.norm.sf(z))


def proportion_interval_pvalue(
    successes: float, n: float, null: float, *, method: str, side: Side = "greater"
) -> float:
    """One-sided p-value of the test that inverts a binomial interval.

    Parameters
    ----------
    successes, n : float
        Counts; non-integer values are allowed (a Rao-Scott effective sample size).
    null : float in (0, 1)
        The null value: H0 ``p <= null`` (``side="greater"``) or ``p >= null`` (``"less"``).
    method : {"wilson", "exact", "jeffreys", "agresti-coull"}
        The interval of :func:`validation.stats.proportions.proportion_ci`.
    side : {"greater", "less"}

    Returns
    -------
    float
        The smallest one-sided level at which the interval's bound on ``side`` excludes
        ``null``; ``p <= a`` exactly when the bound at two-sided level ``2a`` does.

    Notes
    -----
    All four intervals are symmetric under ``x -> n - x``, ``p -> 1 - p``, so the ``less`` side is
    the ``greater`` side of the complementary proportion.

    Examples
    --------
    >>> round(proportion_interval_pvalue(90, 100, 0.8, method="exact"), 6)
    0.005696
    """
    check_choice(method, "method", METHODS)
    x, nn, p0 = _check(successes, n, null, side)
    if side == "greater":
        return _greater(x, nn, p0, method)
    return _greater(nn - x, nn, 1.0 - p0, method)


def percentile_pvalue(replicates: Any, null: float, *, side: Side = "greater") -> float:
    """One-sided p-value that inverts a bootstrap percentile interval.

    With the replicates sorted, the percentile bound at one-sided level ``a`` is
    ``numpy.quantile(replicates, a)`` (linear interpolation between order statistics). The
    p-value is the level at which that bound equals ``null``: the bound exceeds ``null``
    exactly for levels above it.

    Parameters
    ----------
    replicates : array of the bootstrap replicates (finite)
    null : float
    side : {"greater", "less"}
        ``greater``: H0 ``theta <= null`` (lower bound); ``less``: H0 ``theta >= null``.

    Returns
    -------
    float in [0, 1]
    """
    check_choice(side, "side", SIDES)
    r = np.asarray(replicates, dtype=np.float64).ravel()
    if r.size < 2 or not np.all(np.isfinite(r)):
        raise InputError("'replicates' must hold at least 2 finite values.")
    if not math.isfinite(float(null)):
        raise InputError(f"'null' must be finite; got {null!r}.")
    v = float(null)
    if side == "less":
        r, v = -r, -v
    r = np.sort(r)
    b = r.size
    j = int(np.searchsorted(r, v, side="right"))  # replicates <= null
    if j == 0:
        return 0.0
    if j == b:
        return 1.0
    lo, hi = float(r[j - 1]), float(r[j])
    position = (j - 1) + (v - lo) / (hi - lo)
    p = float(position / (b - 1))
    if lo == v:
        # A tie: replicates of a proportion are fractions k/n, so the null value can be a
        # replicate, and at level p the bound equals it without exceeding it. Only levels above
        # p reject; the returned level is just above p, beyond the relative tolerance (1e-12)
        # with which the multiplicity procedures compare p-values with alpha.
        p = p * (1.0 + TIE_STEP) if p > 0 else TIE_STEP
    return p


def bca_pvalue(
    replicates: Any, null: float, *, bias_correction: float, acceleration: float,
    side: Side = "greater",
) -> float:
    """One-sided p-value that inverts a bootstrap BCa interval (Efron 1987).

    The BCa bound at one-sided level ``a`` is the replicates' quantile at
    ``Phi(z0 + (z0 + z_a) / (1 - acc (z0 + z_a)))``. With ``pi`` the quantile level at which
    the replicates reach ``null`` (:func:`percentile_pvalue`), the bound passes ``null`` where
    that adjusted level passes ``pi``; solving for ``z_a`` gives, with
    ``w = Phi^{-1}(pi) - z0``, ``z_a = w / (1 + acc w) - z0`` and ``p = Phi(z_a)`` (mirrored for
    the upper bound). Where ``1 + acc w <= 0`` the BCa map is outside its monotone range; the
    null value then lies beyond every bound the interval can give, and ``p`` is 0 or 1.

    Parameters
    ----------
    replicates : array of the bootstrap replicates
    null : float
    bias_correction, acceleration : the interval's ``z0`` and ``acc``
        (:class:`validation.stats.bootstrap.BootstrapResult` ``bias_correction`` and
        ``acceleration``).
    side : {"greater", "less"}
    """
    from scipy.special import ndtr, ndtri

    check_choice(side, "side", SIDES)
    z0, acc = float(bias_correction), float(acceleration)
    if not (math.isfinite(z0) and math.isfinite(acc)):
        raise InputError("'bias_correction' and 'acceleration' must be finite numbers.")
    if side == "greater":
        level = percentile_pvalue(replicates, null, side="greater")
    else:
        level = 1.0 - percentile_pvalue(replicates, null, side="less")
    if level <= 0.0:
        return 0.0 if side == "greater" else 1.0
    if level >= 1.0:
        return 1.0 if side == "greater" else 0.0
    w = float(ndtri(level)) - z0
    if 1.0 + acc * w <= 0.0:
        beyond = w < 0 if side == "greater" else w > 0
        return 0.0 if beyond else 1.0
    z = w / (1.0 + acc * w) - z0
    return float(ndtr(z)) if side == "greater" else float(ndtr(-z))
