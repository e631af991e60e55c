"""What the difference modules share: references, result types, input checks, score-test
helpers. Private to :mod:`validation.stats`; the public names are re-exported by
:mod:`validation.stats.differences`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scipy import optimize

from validation.errors import InputError
from validation.stats._checks import check_count
from validation.stats._result import Result

REF_NEWCOMBE_1998A = (
    "Newcombe RG (1998). Interval estimation for the difference between independent "
    "proportions: comparison of eleven methods. Stat Med 17(8):873-890. "
    "doi:10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I"
)
REF_MN_1985 = (
    "Miettinen O, Nurminen M (1985). Comparative analysis of two rates. Stat Med 4(2):213-226. "
    "doi:10.1002/sim.4780040211"
)
REF_FM_1990 = (
    "Farrington CP, Manning G (1990). Test statistics and sample size formulae for comparative "
    "binomial trials with null hypothesis of non-zero risk difference or non-unity relative "
    "risk. Stat Med 9(12):1447-1454. doi:10.1002/sim.4780091208"
)
REF_MEE_1984 = (
    "Mee RW (1984). Confidence bounds for the difference between two probabilities. "
    "Biometrics 40(4):1175-1176."
)
REF_MCNEMAR_1947 = (
    "McNemar Q (1947). Note on the sampling error of the difference between correlated "
    "proportions or percentages. Psychometrika 12(2):153-157. doi:10.1007/BF02295996"
)
REF_TANGO_1998 = (
    "Tango T (1998). Equivalence test and confidence interval for the difference in "
    "proportions for the paired-sample design. Stat Med 17(8):891-908. "
    "doi:10.1002/(SICI)1097-0258(19980430)17:8<891::AID-SIM780>3.0.CO;2-B"
)
REF_NEWCOMBE_1998B = (
    "Newcombe RG (1998). Improved confidence intervals for the difference between binomial "
    "proportions based on paired data. Stat Med 17(22):2635-2650. "
    "doi:10.1002/(SICI)1097-0258(19981130)17:22<2635::AID-SIM954>3.0.CO;2-C"
)
REF_FAGERLAND_2014 = (
    "Fagerland MW, Lydersen S, Laake P (2014). Recommended tests and confidence intervals for "
    "paired binomial proportions. Stat Med 33(16):2850-2875. doi:10.1002/sim.6148"
)

UNPAIRED_CI_METHODS = ("newcombe", "mn", "mee")
PAIRED_CI_METHODS = ("tango", "newcombe")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreTest(Result):
    """One-sided score test of ``H0: p1 - p2 <= null_difference`` (upper-tail p-value).

    For a non-inferiority test ``margin > 0`` and ``null_difference = -margin``; for a
    superiority test ``margin = 0``.
    """

    margin: float
    null_difference: float
    statistic: float
    p_value: float
    alternative: str
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class McNemarTest(Result):
    """McNemar's test of marginal homogeneity of a paired 2x2 table (two-sided)."""

    statistic: float
    df: int
    p_value: float
    discordant: tuple[int, int]
    correction: bool
    exact: bool
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DifferenceResult(Result):
    """A difference of two proportions ``p1 - p2`` with its two-sided CI.

    ``noninferiority`` holds the score test of ``H0: p1 - p2 <= -margin`` when a margin was
    given; ``mcnemar`` is set for paired data only.
    """

    design: str
    estimate: float
    ci: tuple[float, float]
    confidence: float
    p1: float
    p2: float
    counts: dict[str, int]
    noninferiority: ScoreTest | None
    mcnemar: McNemarTest | None
    method: str
    references: tuple[str, ...]


# --------------------------------------------------------------------------- checks


def check_margin(margin: float, name: str = "margin", *, allow_zero: bool = False) -> float:
    """A non-inferiority margin on the difference scale: a number in (0, 1) (or [0, 1))."""
    try:
        m = float(margin)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be a number in (0, 1); got {margin!r}.") from None
    low_ok = m >= 0.0 if allow_zero else m > 0.0
    if not (math.isfinite(m) and low_ok and m < 1.0):
        raise InputError(
            f"'{name}' must be {'>= 0' if allow_zero else 'positive'} and below 1 on the "
            f"proportion scale (e.g. 0.05 for 5 points); got {margin!r}. The null hypothesis is "
            f"written p1 - p2 <= -{name}, so give the margin as a positive number."
        )
    return m


def _check_unpaired(x1: int, n1: int, x2: int, n2: int) -> tuple[int, int, int, int]:
    x1 = check_count(x1, "x1")
    n1 = check_count(n1, "n1", minimum=1)
    x2 = check_count(x2, "x2")
    n2 = check_count(n2, "n2", minimum=1)
    if x1 > n1:
        raise InputError(f"'x1' must be at most n1 = {n1}; got {x1!r}.")
    if x2 > n2:
        raise InputError(f"'x2' must be at most n2 = {n2}; got {x2!r}.")
    return x1, n1, x2, n2


def _check_paired(a: int, b: int, c: int, d: int) -> tuple[int, int, int, int]:
    a, b, c, d = (check_count(v, k) for v, k in ((a, "a"), (b, "b"), (c, "c"), (d, "d")))
    if a + b + c + d == 0:
        raise InputError(
            "'a + b + c + d' must be positive; got an empty paired table (all cells 0)."
        )
    return a, b, c, d



# --------------------------------------------------------------------------- score tests


def _score_z(numerator: float, variance: float) -> float:
    if variance > 0.0:
        return numerator / math.sqrt(variance)
    if numerator == 0.0:
        return 0.0
    return math.copysign(math.inf, numerator)


def _score_bounds(
    estimate: float, g: Callable[[float], float]
) -> tuple[float, float]:
    """Bounds of ``{delta in [-1, 1] : g(delta) <= 0}`` around ``estimate``.

    ``g(delta) = (estimate - delta)^2 - z^2 var(delta)`` is positive far from the estimate and
    non-positive at it; each bound is a root found by Brent's method.
    """

    def inner(side: float) -> float:
        # a point next to the estimate where g < 0 (g can be 0 at the estimate itself when the
        # restricted variance vanishes, e.g. 0/n1 vs 0/n2)
        x = estimate
        if g(x) < 0.0:
            return x
        step = 1e-12
        while step < 1e-3:
            x = estimate + side * step
            if -1.0 <= x <= 1.0 and g(x) < 0.0:
                return x
            step *= 10.0
        return estimate

    bounds = []
    for side, edge in ((-1.0, -1.0), (1.0, 1.0)):
        if estimate == edge or g(edge) <= 0.0:
            bounds.append(edge)
            continue
        start = inner(side)
        lo, hi = (edge, start) if side < 0 else (start, edge)
        bounds.append(float(optimize.brentq(g, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=500)))
    return bounds[0], bounds[1]
