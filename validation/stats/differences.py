"""Differences of two proportions: unpaired (independent groups) and paired (same cases).

Unpaired (group 1 = the new test, group 2 = the comparator; difference ``p1 - p2``):

* Newcombe's hybrid score interval (method 10 of Newcombe 1998a), computed by statsmodels
  (``confint_proportions_2indep(method="newcomb")``, which agrees with R to 1e-12);
* the Miettinen-Nurminen score interval and the Farrington-Manning score test of
  ``H0: p1 - p2 <= -margin``, both built on the restricted maximum likelihood estimate under
  ``p1 - p2 = delta`` in the closed form of Farrington and Manning (1990). statsmodels' ``score``
  method is not used: its restricted estimate is wrong when ``delta != 0``.

Paired (a = both positive, b = test 1 only, c = test 2 only, d = both negative; difference
``p1 - p2 = (b - c) / n``):

* McNemar's test (statsmodels);
* Tango's (1998) score interval and score test of ``H0: p1 - p2 <= -margin``;
* Newcombe's (1998b) interval, method 10, with the correlation ``phi`` adjusted as Newcombe
  recommends (default) or plain.

All intervals are two-sided with confidence ``1 - alpha``; the tests are one-sided (upper tail).

References
----------
1. Newcombe RG (1998a). Interval estimation for the difference between independent proportions:
   comparison of eleven methods. Stat Med 17(8):873-890.
   doi:10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I
2. Miettinen O, Nurminen M (1985). Comparative analysis of two rates. Stat Med 4(2):213-226.
   doi:10.1002/sim.4780040211
3. Farrington CP, Manning G (1990). Test statistics and sample size formulae for comparative
   binomial trials with null hypothesis of non-zero risk difference or non-unity relative risk.
   Stat Med 9(12):1447-1454. doi:10.1002/sim.4780091208
4. McNemar Q (1947). Note on the sampling error of the difference between correlated proportions
   or percentages. Psychometrika 12(2):153-157. doi:10.1007/BF02295996
5. Tango T (1998). Equivalence test and confidence interval for the difference in proportions
   for the paired-sample design. Stat Med 17(8):891-908.
   doi:10.1002/(SICI)1097-0258(19980430)17:8<891::AID-SIM780>3.0.CO;2-B
6. Newcombe RG (1998b). Improved confidence intervals for the difference between binomial
   proportions based on paired data. Stat Med 17(22):2635-2650.
   doi:10.1002/(SICI)1097-0258(19981130)17:22<2635::AID-SIM954>3.0.CO;2-C
7. Fagerland MW, Lydersen S, Laake P (2014). Recommended tests and confidence intervals for
   paired binomial proportions. Stat Med 33(16):2850-2875. doi:10.1002/sim.6148
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.stats import norm

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice, check_count
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


# --------------------------------------------------------------------------- unpaired


def restricted_mle(
    x1: int, n1: int, x2: int, n2: int, delta: float
) -> tuple[float, float]:
    """Maximum likelihood estimates of ``(p1, p2)`` restricted to ``p1 - p2 = delta``.

    The closed-form solution of the likelihood cubic given by Farrington and Manning (1990),
    also used by Miettinen and Nurminen (1985).

    Parameters
    ----------
    x1, n1, x2, n2 : int
        Successes and sample sizes of groups 1 and 2.
    delta : float
        The difference ``p1 - p2`` under the null hypothesis, in [-1, 1].

    Returns
    -------
    (p1_tilde, p2_tilde) : tuple of float with ``p1_tilde - p2_tilde = delta`` (up to rounding).
    """
    x1, n1, x2, n2 = _check_unpaired(x1, n1, x2, n2)
    try:
        d = float(delta)
    except (TypeError, ValueError):
        raise InputError(f"'delta' must be a number in [-1, 1]; got {delta!r}.") from None
    if not (math.isfinite(d) and -1.0 <= d <= 1.0):
        raise InputError(f"'delta' (the null difference p1 - p2) must be in [-1, 1]; "
                         f"got {delta!r}.")
    return restricted_mle_proportions(x1 / n1, n1, x2 / n2, n2, d)


def restricted_mle_proportions(
    p1: float, n1: float, p2: float, n2: float, delta: float
) -> tuple[float, float]:
    """:func:`restricted_mle` from proportions and (possibly fractional) group sizes, without
    input checks: the form sample-size planning evaluates at anticipated proportions."""
    theta = n2 / n1
    a = 1.0 + theta
    b = -(1.0 + theta + p1 + theta * p2 + delta * (theta + 2.0))
    c = delta * delta + delta * (2.0 * p1 + theta + 1.0) + p1 + theta * p2
    d = -p1 * delta * (1.0 + delta)
    v = b**3 / (3.0 * a) ** 3 - b * c / (6.0 * a * a) + d / (2.0 * a)
    u2 = b * b / (3.0 * a) ** 2 - c / (3.0 * a)
    u = math.copysign(math.sqrt(max(u2, 0.0)), v) if v != 0.0 else math.sqrt(max(u2, 0.0))
    if u == 0.0:
        t1 = -b / (3.0 * a)
    else:
        ratio = min(1.0, max(-1.0, v / u**3))
        w = (math.pi + math.acos(ratio)) / 3.0
        t1 = 2.0 * u * math.cos(w) - b / (3.0 * a)
    lo, hi = max(0.0, delta), min(1.0, 1.0 + delta)
    t1 = min(max(t1, lo), hi)
    return t1, t1 - delta


def _unpaired_variance(
    p1: float, n1: int, p2: float, n2: int, delta: float, mn_correction: bool
) -> float:
    t1, t2 = restricted_mle_proportions(p1, n1, p2, n2, delta)
    var = max(t1 * (1.0 - t1), 0.0) / n1 + max(t2 * (1.0 - t2), 0.0) / n2
    if mn_correction:
        n = n1 + n2
        var *= n / (n - 1.0)
    return var


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


def miettinen_nurminen_interval(
    x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05, mn_correction: bool = True
) -> tuple[float, float]:
    """Miettinen-Nurminen score interval for ``p1 - p2`` (independent groups).

    The set of ``delta`` with ``(p1 - p2 - delta)^2 / V(delta) <= z_{1-alpha/2}^2``, where
    ``V(delta)`` is the variance at the restricted MLE under ``p1 - p2 = delta`` multiplied by
    ``N / (N - 1)``, ``N = n1 + n2`` (Miettinen and Nurminen 1985). With
    ``mn_correction=False`` the factor is omitted (the Mee / Farrington-Manning score interval).

    Parameters
    ----------
    x1, n1, x2, n2 : int
        Successes and sizes of group 1 (new test) and group 2 (comparator).
    alpha : float
        Two-sided level; the interval has confidence ``1 - alpha``.
    mn_correction : bool
        Multiply the variance by ``N / (N - 1)``.

    Returns
    -------
    (low, high) : tuple of float, within [-1, 1].

    References
    ----------
    Miettinen and Nurminen (1985) doi:10.1002/sim.4780040211; Farrington and Manning (1990)
    doi:10.1002/sim.4780091208.

    Examples
    --------
    >>> low, high = miettinen_nurminen_interval(56, 70, 48, 80)
    >>> round(low, 4), round(high, 4)
    (0.0528, 0.3382)
    """
    x1, n1, x2, n2 = _check_unpaired(x1, n1, x2, n2)
    alpha = check_alpha(alpha)
    p1, p2 = x1 / n1, x2 / n2
    est = p1 - p2
    z2 = norm.ppf(1.0 - alpha / 2.0) ** 2

    def g(delta: float) -> float:
        return (est - delta) ** 2 - z2 * _unpaired_variance(p1, n1, p2, n2, delta, mn_correction)

    return _score_bounds(est, g)


def farrington_manning_statistic(
    x1: int, n1: int, x2: int, n2: int, *, null_difference: float
) -> float:
    """Farrington-Manning score statistic ``z`` for ``H0: p1 - p2 = null_difference``.

    ``z = (p1 - p2 - delta0) / sqrt(pt1 (1 - pt1) / n1 + pt2 (1 - pt2) / n2)`` with
    ``(pt1, pt2)`` the restricted MLE under ``p1 - p2 = delta0``.
    """
    x1, n1, x2, n2 = _check_unpaired(x1, n1, x2, n2)
    delta = float(null_difference)
    if not -1.0 < delta < 1.0:
        raise InputError(f"'null_difference' must be in (-1, 1); got {null_difference!r}.")
    p1, p2 = x1 / n1, x2 / n2
    return _score_z(p1 - p2 - delta, _unpaired_variance(p1, n1, p2, n2, delta, False))


def farrington_manning_test(
    x1: int, n1: int, x2: int, n2: int, *, margin: float, superiority: bool = False
) -> ScoreTest:
    """Farrington-Manning score test of non-inferiority (or superiority) of group 1.

    Hypotheses (one-sided, upper tail)::

        H0: p1 - p2 <= -margin      H1: p1 - p2 > -margin

    With ``superiority=True`` the margin must be 0 and the test is of ``H0: p1 - p2 <= 0``.

    Parameters
    ----------
    x1, n1, x2, n2 : int
        Successes and sizes of group 1 (new test) and group 2 (comparator).
    margin : float
        Non-inferiority margin, positive, on the proportion scale (0.05 = 5 points).
    superiority : bool
        Test superiority instead (``margin`` must then be 0).

    Returns
    -------
    ScoreTest
        ``statistic`` (z) and the one-sided ``p_value = 1 - Phi(z)``.

    References
    ----------
    Farrington and Manning (1990) doi:10.1002/sim.4780091208.
    """
    m = check_margin(margin, allow_zero=superiority)
    if superiority and m != 0.0:
        raise InputError(f"'margin' must be 0 for a superiority test; got {margin!r}.")
    z = farrington_manning_statistic(x1, n1, x2, n2, null_difference=-m)
    return ScoreTest(
        margin=m,
        null_difference=-m,
        statistic=z,
        p_value=float(norm.sf(z)),
        alternative="greater",
        method="Farrington-Manning score test",
        references=(REF_FM_1990,),
    )


def unpaired_difference(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    *,
    ci: str = "newcombe",
    alpha: float = 0.05,
    margin: float | None = None,
) -> DifferenceResult:
    """Difference ``p1 - p2`` of two independent proportions with a CI and optional NI test.

    Parameters
    ----------
    x1, n1 : int
        Successes and size of group 1 (the new test).
    x2, n2 : int
        Successes and size of group 2 (the comparator).
    ci : {"newcombe", "mn", "mee"}
        Newcombe's hybrid score interval (method 10; statsmodels), the Miettinen-Nurminen
        score interval, or Mee's score interval (Miettinen-Nurminen without the ``N / (N - 1)``
        factor: the interval that inverts the Farrington-Manning test, so its bound and the
        test's p-value never disagree).
    alpha : float
        The interval has confidence ``1 - alpha`` (two-sided).
    margin : float, optional
        If given, the Farrington-Manning test of ``H0: p1 - p2 <= -margin`` is added.

    Returns
    -------
    DifferenceResult

    References
    ----------
    Newcombe (1998a) doi:10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I;
    Miettinen and Nurminen (1985) doi:10.1002/sim.4780040211; Farrington and Manning (1990)
    doi:10.1002/sim.4780091208.

    Examples
    --------
    >>> r = unpaired_difference(56, 70, 48, 80, margin=0.05)
    >>> round(r.estimate, 2), round(r.ci[0], 4), round(r.noninferiority.p_value, 6)
    (0.2, 0.0524, 0.000497)
    """
    x1, n1, x2, n2 = _check_unpaired(x1, n1, x2, n2)
    alpha = check_alpha(alpha)
    method = check_choice(ci, "ci", UNPAIRED_CI_METHODS)
    p1, p2 = x1 / n1, x2 / n2
    if method == "newcombe":
        from statsmodels.stats.proportion import confint_proportions_2indep

        low, high = confint_proportions_2indep(
            x1, n1, x2, n2, method="newcomb", compare="diff", alpha=alpha
        )
        # clip rounding spill-over (e.g. 1.0000000000000002 for 197/197 vs 0/1)
        bounds = (max(float(low), -1.0), min(float(high), 1.0))
        name = "Newcombe hybrid score interval (method 10)"
        refs: tuple[str, ...] = (REF_NEWCOMBE_1998A,)
    elif method == "mn":
        bounds = miettinen_nurminen_interval(x1, n1, x2, n2, alpha=alpha)
        name, refs = "Miettinen-Nurminen score interval", (REF_MN_1985, REF_FM_1990)
    else:
        bounds = miettinen_nurminen_interval(x1, n1, x2, n2, alpha=alpha, mn_correction=False)
        name, refs = "Mee score interval", (REF_MEE_1984, REF_FM_1990)
    test = None
    if margin is not None:
        test = farrington_manning_test(x1, n1, x2, n2, margin=margin)
        refs = refs + tuple(r for r in test.references if r not in refs)
    return DifferenceResult(
        design="unpaired",
        estimate=p1 - p2,
        ci=bounds,
        confidence=1.0 - alpha,
        p1=p1,
        p2=p2,
        counts={"x1": x1, "n1": n1, "x2": x2, "n2": n2},
        noninferiority=test,
        mcnemar=None,
        method=name,
        references=refs,
    )


# --------------------------------------------------------------------------- paired


def tango_q21(b: float, c: float, n: float, delta: float) -> float:
    """Restricted MLE of the cell probability ``p21`` (test 2 only) under ``p1 - p2 = delta``."""
    a_ = 2.0 * n
    b_ = -b - c + (2.0 * n - b + c) * delta
    c_ = -c * delta * (1.0 - delta)
    disc = max(b_ * b_ - 4.0 * a_ * c_, 0.0)
    return max((math.sqrt(disc) - b_) / (2.0 * a_), 0.0)


def _tango_variance(b: float, c: float, n: float, delta: float) -> float:
    """``n (2 q21 + delta (1 - delta))``: the null variance of ``b - c`` times ... per Tango."""
    return max(n * (2.0 * tango_q21(b, c, n, delta) + delta * (1.0 - delta)), 0.0)


def tango_statistic(a: int, b: int, c: int, d: int, *, null_difference: float) -> float:
    """Tango's (1998) score statistic for ``H0: p1 - p2 = null_difference`` (paired data).

    ``z = (b - c - n delta0) / sqrt(n (2 q21 + delta0 (1 - delta0)))`` with ``q21`` the
    restricted MLE of the probability of the (test 1 negative, test 2 positive) cell.
    At ``delta0 = 0`` it equals the signed McNemar statistic ``(b - c) / sqrt(b + c)``.
    """
    a, b, c, d = _check_paired(a, b, c, d)
    delta = float(null_difference)
    if not -1.0 < delta < 1.0:
        raise InputError(f"'null_difference' must be in (-1, 1); got {null_difference!r}.")
    n = a + b + c + d
    return _score_z(b - c - n * delta, _tango_variance(b, c, n, delta))


def tango_interval(a: int, b: int, c: int, d: int, *, alpha: float = 0.05) -> tuple[float, float]:
    """Tango's (1998) score interval for the paired difference ``p1 - p2 = (b - c) / n``.

    The set of ``delta`` with ``|z(delta)| <= z_{1-alpha/2}``, where ``z`` is
    :func:`tango_statistic`; the bounds are found by root search.

    Examples
    --------
    >>> low, high = tango_interval(4, 9, 3, 16)
    >>> round(low, 3), round(high, 3)
    (-0.027, 0.39)
    """
    a, b, c, d = _check_paired(a, b, c, d)
    alpha = check_alpha(alpha)
    n = a + b + c + d
    est = (b - c) / n
    z2 = norm.ppf(1.0 - alpha / 2.0) ** 2

    def g(delta: float) -> float:
        return (est - delta) ** 2 - z2 * _tango_variance(b, c, n, delta) / (n * n)

    return _score_bounds(est, g)


def tango_test(
    a: int, b: int, c: int, d: int, *, margin: float, superiority: bool = False
) -> ScoreTest:
    """Tango's score test of non-inferiority (or superiority) for paired proportions.

    Hypotheses (one-sided, upper tail)::

        H0: p1 - p2 <= -margin      H1: p1 - p2 > -margin

    Parameters
    ----------
    a, b, c, d : int
        Paired table: both positive, test 1 only, test 2 only, both negative.
    margin : float
        Positive margin on the proportion scale; 0 with ``superiority=True``.

    Returns
    -------
    ScoreTest

    References
    ----------
    Tango (1998) doi:10.1002/(SICI)1097-0258(19980430)17:8<891::AID-SIM780>3.0.CO;2-B.
    """
    m = check_margin(margin, allow_zero=superiority)
    if superiority and m != 0.0:
        raise InputError(f"'margin' must be 0 for a superiority test; got {margin!r}.")
    z = tango_statistic(a, b, c, d, null_difference=-m)
    return ScoreTest(
        margin=m,
        null_difference=-m,
        statistic=z,
        p_value=float(norm.sf(z)),
        alternative="greater",
        method="Tango score test (paired)",
        references=(REF_TANGO_1998,),
    )


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    p = x / n
    centre = p + z * z / (2.0 * n)
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    den = 1.0 + z * z / n
    return (centre - half) / den, (centre + half) / den


def newcombe_paired_phi(a: int, b: int, c: int, d: int, *, adjusted: bool = True) -> float:
    """The correlation ``phi`` used by Newcombe's paired method 10.

    ``phi = (ad - bc) / sqrt((a+b)(c+d)(a+c)(b+d))``, 0 when a margin is empty. With
    ``adjusted=True`` (Newcombe 1998b) the numerator ``ad - bc`` is replaced by
    ``max(ad - bc - n/2, 0)`` when ``ad > bc``.
    """
    a, b, c, d = _check_paired(a, b, c, d)
    n = a + b + c + d
    den = float(a + b) * float(c + d) * float(a + c) * float(b + d)
    if den == 0.0:
        return 0.0
    num = float(a * d - b * c)
    if adjusted and num > 0.0:
        num = max(num - n / 2.0, 0.0)
    return num / math.sqrt(den)


def newcombe_paired_interval(
    a: int, b: int, c: int, d: int, *, alpha: float = 0.05, phi_adjusted: bool = True
) -> tuple[float, float]:
    """Newcombe's (1998b) method 10 interval for the paired difference ``p1 - p2``.

    With Wilson intervals ``(l1, u1)`` for ``p1 = (a+b)/n`` and ``(l2, u2)`` for
    ``p2 = (a+c)/n``::

        L = D - sqrt((p1-l1)^2 - 2 phi (p1-l1)(u2-p2) + (u2-p2)^2)
        U = D + sqrt((u1-p1)^2 - 2 phi (u1-p1)(p2-l2) + (p2-l2)^2)

    Parameters
    ----------
    a, b, c, d : int
        Paired table.
    alpha : float
        The interval has confidence ``1 - alpha``.
    phi_adjusted : bool
        Use Newcombe's adjusted ``phi`` (see :func:`newcombe_paired_phi`); implementations
        differ here (Fagerland et al. 2014 use the adjusted one).

    References
    ----------
    Newcombe (1998b) doi:10.1002/(SICI)1097-0258(19981130)17:22<2635::AID-SIM954>3.0.CO;2-C;
    Fagerland et al. (2014) doi:10.1002/sim.6148.
    """
    a, b, c, d = _check_paired(a, b, c, d)
    alpha = check_alpha(alpha)
    n = a + b + c + d
    z = float(norm.ppf(1.0 - alpha / 2.0))
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = _wilson(a + b, n, z)
    l2, u2 = _wilson(a + c, n, z)
    phi = newcombe_paired_phi(a, b, c, d, adjusted=phi_adjusted)
    est = p1 - p2
    dl = math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    du = math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return max(est - dl, -1.0), min(est + du, 1.0)


def mcnemar_test(
    a: int, b: int, c: int, d: int, *, correction: bool = False, exact: bool = False
) -> McNemarTest:
    """McNemar's test of ``H0: p1 = p2`` for a paired 2x2 table (statsmodels).

    Asymptotic: ``(b - c)^2 / (b + c)`` (or ``(|b - c| - 1)^2 / (b + c)`` with ``correction``)
    against chi-square with 1 df. Exact: the two-sided binomial test of ``b`` out of ``b + c``
    at 1/2 (``statistic`` is then ``min(b, c)``).

    References
    ----------
    McNemar (1947) doi:10.1007/BF02295996.
    """
    a, b, c, d = _check_paired(a, b, c, d)
    if b + c == 0:
        raise InputError(
            "'b + c' (the discordant pairs) must be positive for McNemar's test; got 0. "
            "With no discordant pairs the two tests agree on every case."
        )
    from statsmodels.stats.contingency_tables import mcnemar

    res = mcnemar(np.array([[a, b], [c, d]]), exact=exact, correction=correction)
    if exact:
        name = "McNemar exact (binomial) test"
    else:
        name = "McNemar chi-square test" + (" with continuity correction" if correction else "")
    return McNemarTest(
        statistic=float(res.statistic),
        df=1,
        p_value=float(min(res.pvalue, 1.0)),
        discordant=(b, c),
        correction=correction,
        exact=exact,
        method=name,
        references=(REF_MCNEMAR_1947,),
    )


def paired_difference(
    a: int,
    b: int,
    c: int,
    d: int,
    *,
    ci: str = "tango",
    alpha: float = 0.05,
    margin: float | None = None,
) -> DifferenceResult:
    """Difference ``p1 - p2 = (b - c) / n`` of two paired proportions with CI and tests.

    Parameters
    ----------
    a, b, c, d : int
        a = both positive, b = test 1 positive only, c = test 2 positive only,
        d = both negative (for a sensitivity comparison, diseased cases only).
    ci : {"tango", "newcombe"}
        Tango's score interval or Newcombe's method 10 (adjusted phi).
    alpha : float
        Interval confidence ``1 - alpha``.
    margin : float, optional
        If given, Tango's score test of ``H0: p1 - p2 <= -margin`` is added.

    Returns
    -------
    DifferenceResult
        With ``mcnemar`` (uncorrected chi-square; ``None`` when there are no discordant pairs).

    References
    ----------
    Tango (1998); Newcombe (1998b); McNemar (1947); Fagerland et al. (2014) doi:10.1002/sim.6148.

    Examples
    --------
    >>> r = paired_difference(4, 9, 3, 16, margin=0.05)
    >>> round(r.estimate, 4), round(r.mcnemar.statistic, 1), round(r.noninferiority.statistic, 4)
    (0.1875, 3.0, 2.1488)
    """
    a, b, c, d = _check_paired(a, b, c, d)
    alpha = check_alpha(alpha)
    method = check_choice(ci, "ci", PAIRED_CI_METHODS)
    n = a + b + c + d
    if method == "tango":
        bounds = tango_interval(a, b, c, d, alpha=alpha)
        name = "Tango score interval"
        refs: tuple[str, ...] = (REF_TANGO_1998,)
    else:
        bounds = newcombe_paired_interval(a, b, c, d, alpha=alpha)
        name, refs = (
            "Newcombe paired interval (method 10, adjusted phi)",
            (REF_NEWCOMBE_1998B, REF_FAGERLAND_2014),
        )
    mcn = mcnemar_test(a, b, c, d) if b + c > 0 else None
    test = tango_test(a, b, c, d, margin=margin) if margin is not None else None
    extra = [REF_MCNEMAR_1947] if mcn is not None else []
    if test is not None:
        extra.append(REF_TANGO_1998)
    refs = refs + tuple(r for r in dict.fromkeys(extra) if r not in refs)
    return DifferenceResult(
        design="paired",
        estimate=(b - c) / n,
        ci=bounds,
        confidence=1.0 - alpha,
        p1=(a + b) / n,
        p2=(a + c) / n,
        counts={"a": a, "b": b, "c": c, "d": d, "n": n},
        noninferiority=test,
        mcnemar=mcn,
        method=name,
        references=refs,
    )
