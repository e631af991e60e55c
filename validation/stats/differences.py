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

from scipy.stats import norm

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats._differences_common import PAIRED_CI_METHODS as PAIRED_CI_METHODS
from validation.stats._differences_common import REF_FAGERLAND_2014 as REF_FAGERLAND_2014
from validation.stats._differences_common import (
    REF_FM_1990,
    REF_MEE_1984,
    REF_MN_1985,
    REF_NEWCOMBE_1998A,
    UNPAIRED_CI_METHODS,
    DifferenceResult,
    ScoreTest,
    _check_unpaired,
    _score_bounds,
    _score_z,
    check_margin,
)
from validation.stats._differences_common import REF_MCNEMAR_1947 as REF_MCNEMAR_1947
from validation.stats._differences_common import REF_NEWCOMBE_1998B as REF_NEWCOMBE_1998B
from validation.stats._differences_common import REF_TANGO_1998 as REF_TANGO_1998

# shared names and the paired designs, importable from here as before
from validation.stats._differences_common import McNemarTest as McNemarTest
from validation.stats.paired_differences import mcnemar_test as mcnemar_test
from validation.stats.paired_differences import newcombe_paired_interval as newcombe_paired_interval
from validation.stats.paired_differences import newcombe_paired_phi as newcombe_paired_phi
from validation.stats.paired_differences import paired_difference as paired_difference
from validation.stats.paired_differences import tango_interval as tango_interval
from validation.stats.paired_differences import tango_q21 as tango_q21
from validation.stats.paired_differences import tango_statistic as tango_statistic
from validation.stats.paired_differences import tango_test as tango_test

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
