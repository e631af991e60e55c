"""Difference of two proportions read on the same cases: Tango's score interval and test,
Newcombe's paired interval, McNemar's test and :func:`paired_difference`.

Re-exported by :mod:`validation.stats.differences` (module docstring there has the
references).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats._differences_common import (
    PAIRED_CI_METHODS,
    REF_FAGERLAND_2014,
    REF_MCNEMAR_1947,
    REF_NEWCOMBE_1998B,
    REF_TANGO_1998,
    DifferenceResult,
    McNemarTest,
    ScoreTest,
    _check_paired,
    _score_bounds,
    _score_z,
    check_margin,
)


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
