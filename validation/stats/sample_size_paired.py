"""Sample size of two tests read on the same cases (paired proportions: McNemar / Tango design).

Re-exported by :mod:`validation.stats.sample_size`; references there and in each docstring.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats._sample_size_common import (
    REF_BUDERER_1996,
    REF_CONNOR_1987,
    REF_LIU_2002,
    REF_NAM_1997,
    SampleSizeResult,
    _ceil,
    _inflate,
    _power,
    _prob,
)
from validation.stats.differences import check_margin, tango_q21


def paired_difference_sample_size(
    p10: float,
    p01: float,
    *,
    margin: float | None = None,
    alpha: float = 0.025,
    power: float = 0.8,
    endpoint: str = "sensitivity",
    prevalence: float | None = None,
) -> SampleSizeResult:
    """Pairs needed to compare two tests on the same cases (difference ``p1 - p2``).

    ``p10`` is the probability that only test 1 (the new test) is positive, ``p01`` that only
    test 2 is; the true difference is ``delta = p10 - p01`` and ``psi = p10 + p01``.

    * Non-inferiority, ``H0: delta <= -margin`` (Nam 1997; Liu et al. 2002), Tango's score test::

          n = [z_{1-a} s0 + z_{1-b} s1]^2 / (delta + margin)^2,
          s0^2 = 2 q + d0 (1 - d0),  d0 = -margin,  s1^2 = psi - delta^2

      with ``q`` the restricted estimate of ``p01`` under ``delta = d0`` (Tango's quadratic at the
      expected cell probabilities).
    * Superiority (``margin`` None or 0), ``H0: delta <= 0`` (Connor 1987):
      ``s0^2 = psi``.

    Parameters
    ----------
    p10, p01 : float
        Discordant cell probabilities (among the cases analysed: diseased cases for a
        sensitivity comparison).
    margin : float, optional
        Positive non-inferiority margin; superiority when omitted.
    alpha, power : float
        One-sided level and target power.
    endpoint, prevalence :
        Convert the pairs to a total number of cases (see :func:`proportion_vs_goal_sample_size`).

    Returns
    -------
    SampleSizeResult

    References
    ----------
    Connor (1987) doi:10.2307/2531961; Nam (1997) doi:10.2307/2533508; Liu et al. (2002)
    doi:10.1002/sim.1012.
    """
    a10 = _prob(p10, "p10", open_low=False)
    a01 = _prob(p01, "p01", open_low=False)
    psi = a10 + a01
    if not (0.0 < psi <= 1.0):
        raise InputError(
            f"'p10 + p01' (the discordant proportion) must be in (0, 1]; got {psi!r}."
        )
    alpha = check_alpha(alpha)
    target = _power(power)
    ep = check_choice(endpoint, "endpoint", ("sensitivity", "specificity"))
    m = 0.0 if margin is None else check_margin(margin, allow_zero=True)
    delta = a10 - a01
    d0 = -m
    if delta <= d0:
        bound = (f"-margin = {d0:.4g}" if m > 0 else "0 (superiority)")
        raise InputError(
            f"the expected difference p10 - p01 = {delta + 0.0:.4g} must exceed {bound}; "
            "otherwise no sample size gives the power."
        )
    if m > 0:
        q = tango_q21(a10, a01, 1.0, d0)
        s0 = math.sqrt(max(2 * q + d0 * (1 - d0), 0.0))
        refs: tuple[str, ...] = (REF_NAM_1997, REF_LIU_2002)
        kind, test = "non-inferiority", "Tango's score test"
        formula = ("n = [z(1-alpha) sqrt(2 q + d0 (1 - d0)) + z(power) sqrt(psi - delta^2)]^2 "
                   "/ (delta - d0)^2, d0 = -margin, q = restricted p01 under d0")
    else:
        s0 = math.sqrt(psi)
        refs = (REF_CONNOR_1987,)
        kind, test = "superiority", "McNemar's test"
        formula = "n = [z(1-alpha) sqrt(psi) + z(power) sqrt(psi - delta^2)]^2 / delta^2"
    s1 = math.sqrt(max(psi - delta * delta, 0.0))
    za, zb = sps.norm.ppf(1 - alpha), sps.norm.ppf(target)
    n_f = (za * s0 + zb * s1) ** 2 / (delta - d0) ** 2
    n = max(_ceil(n_f), 1)
    achieved = float(sps.norm.cdf(((delta - d0) * math.sqrt(n) - za * s0) / s1)) if s1 > 0 else 1.0
    exact = (float(paired_exact_power(n, a10, a01, margin=m, alpha=alpha))
             if n <= _EXACT_PAIRED_MAX else None)
    n_total, prev_txt = _inflate(n, prevalence, ep)
    if prevalence is not None:
        refs = refs + (REF_BUDERER_1996,)
    h0 = f"p1 - p2 <= -{m:g}" if m > 0 else "p1 - p2 <= 0"
    justification = (
        f"The {ep} of the new test is compared with the comparator's on the same cases "
        f"({kind}, H0: {h0}) by {test} at one-sided alpha = {alpha:g}. Assuming discordant "
        f"proportions of {a10:.4g} (new test only correct: "
        f"{'positive' if ep == 'sensitivity' else 'negative'}) and {a01:.4g} (comparator only), "
        f"i.e. a true difference of {delta:.4g}, {n} paired cases give a power of "
        f"{achieved:.3f} (target {target:g}).{_exact_check_text(exact, target, n, psi)}"
        f"{prev_txt}"
    )
    assumptions: dict[str, Any] = {"p10": a10, "p01": a01, "difference": delta,
                                   "margin": m if m > 0 else None, "endpoint": ep}
    if exact is not None:
        assumptions["exact_power"] = exact
    if prevalence is not None:
        assumptions["prevalence"] = float(prevalence)
    return SampleSizeResult(
        design="paired_difference", n=n, n_unrounded=n_f, unit="paired cases",
        n_total=n_total, groups={},
        power=achieved, target_power=target, alpha=alpha, assumptions=assumptions,
        formula=formula, justification=justification, method=f"{kind}, {test} (normal)",
        references=refs,
    )


_EXACT_PAIRED_MAX = 1500  # pairs up to which the exact power is enumerated (n^2 / 2 cells)


def paired_exact_power(
    n: int, p10: float, p01: float, *, margin: float = 0.0, alpha: float = 0.025
) -> float:
    """Exact power of the paired test that the analysis uses, by complete enumeration.

    The discordant counts ``(b, c)`` of ``n`` pairs are trinomial with probabilities
    ``(p10, p01, 1 - p10 - p01)``; the test rejects when Tango's score statistic for
    ``H0: p1 - p2 = -margin`` (McNemar's signed statistic ``(b - c) / sqrt(b + c)`` when
    ``margin = 0``) reaches ``z_{1-alpha}``. The power is the total probability of the
    rejecting ``(b, c)``: no normal approximation, so with few discordant pairs it shows how
    far the planning formula's power (Connor 1987; Nam 1997) is from the real one.

    References
    ----------
    Tango T (1998) Stat Med 17:891-908; Connor (1987) doi:10.2307/2531961.
    """
    from scipy.special import gammaln, xlogy

    nn = int(n)
    if nn < 1:
        raise InputError(f"'n' must be a positive number of pairs; got {n!r}.")
    a10, a01 = float(p10), float(p01)
    d0 = -float(margin)
    za = float(sps.norm.ppf(1 - check_alpha(alpha)))
    b = np.arange(nn + 1, dtype=np.float64)[:, None]
    c = np.arange(nn + 1, dtype=np.float64)[None, :]
    rest = nn - b - c
    ok = rest >= 0
    # restricted MLE of p01 under p1 - p2 = d0 (Tango 1998), vectorised
    qa = 2.0 * nn
    qb = -b - c + (2.0 * nn - b + c) * d0
    qc = -c * d0 * (1.0 - d0)
    q = np.maximum((np.sqrt(np.maximum(qb * qb - 4.0 * qa * qc, 0.0)) - qb) / (2.0 * qa), 0.0)
    var = np.maximum(nn * (2.0 * q + d0 * (1.0 - d0)), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (b - c - nn * d0) / np.sqrt(var), -np.inf)
    reject = ok & (z >= za)
    p00 = max(1.0 - a10 - a01, 0.0)
    rest = np.where(ok, rest, 0.0)
    with np.errstate(divide="ignore"):
        logp = (gammaln(nn + 1) - gammaln(b + 1) - gammaln(c + 1) - gammaln(rest + 1)
                + xlogy(b, a10) + xlogy(c, a01) + xlogy(rest, p00))
    return float(np.exp(logp[reject]).sum())


def _exact_check_text(exact: float | None, target: float, n: int, psi: float) -> str:
    if exact is None:
        return ""
    if exact >= target:
        return (f" By complete enumeration of the discordant counts, the exact power of the "
                f"test at {n} pairs is {exact:.3f}.")
    return (f" Caution: with about {n * psi:.0f} discordant pairs expected, the normal "
            f"approximation overstates the power; by complete enumeration of the discordant "
            f"counts the exact power of the test at {n} pairs is {exact:.3f}, below the target. "
            f"Plan more pairs (e.g. search n with paired_exact_power).")


def discordant_probabilities(p1: float, p2: float, correlation: float) -> tuple[float, float]:
    """Discordant cell probabilities ``(p10, p01)`` of two binary readings of the same cases.

    From the marginal proportions ``p1`` (new test) and ``p2`` (comparator) and the correlation
    ``phi`` between the two readings: ``p11 = p1 p2 + phi sqrt(p1 q1 p2 q2)``,
    ``p10 = p1 - p11``, ``p01 = p2 - p11`` (the parametrisation used for McNemar-type sample
    sizes, e.g. Connor 1987). Raises :class:`InputError` when the correlation is impossible for
    these marginals (a negative cell).
    """
    a = _prob(p1, "expected")
    b = _prob(p2, "comparator_expected")
    try:
        phi = float(correlation)
    except (TypeError, ValueError):
        raise InputError(f"'correlation' must be a number in [-1, 1]; got {correlation!r}.") from None
    if not (math.isfinite(phi) and -1.0 <= phi <= 1.0):
        raise InputError(f"'correlation' must be in [-1, 1]; got {correlation!r}.")
    p11 = a * b + phi * math.sqrt(a * (1 - a) * b * (1 - b))
    p10, p01 = a - p11, b - p11
    p00 = 1.0 - p11 - p10 - p01
    if min(p11, p10, p01, p00) < -1e-12:
        lo = max(-math.sqrt(a * b / ((1 - a) * (1 - b))), -math.sqrt((1 - a) * (1 - b) / (a * b)))
        hi = min(math.sqrt(a * (1 - b) / ((1 - a) * b)), math.sqrt((1 - a) * b / (a * (1 - b))))
        raise InputError(
            f"'correlation' {phi:g} is impossible for proportions {a:g} and {b:g}: it must lie "
            f"in [{lo:.4f}, {hi:.4f}]."
        )
    return max(p10, 0.0), max(p01, 0.0)
