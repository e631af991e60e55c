"""Sample size for the pre-specified hypotheses of a diagnostic-accuracy study.

All tests are one-sided at level ``alpha`` (0.025 for "the lower bound of the two-sided 95%
interval exceeds the goal"), with power ``power`` at the assumed true values.

* :func:`proportion_vs_goal_sample_size`: sensitivity or specificity against a performance goal, by the exact
  binomial test (searching n with the saw-tooth of exact power handled: the reported n is the
  smallest from which every larger n up to the search bound keeps the power; Chernick and Liu
  2002) or the normal approximation; inflated to a total number of cases by the prevalence
  (Buderer 1996).
* :func:`paired_difference_sample_size`: two tests on the same cases (McNemar / Tango design), with a
  non-inferiority margin (Nam 1997; Liu et al. 2002) or for superiority (Connor 1987).
* :func:`unpaired_difference_sample_size`: two independent groups with a non-inferiority margin
  (Farrington and Manning 1990; restricted or unrestricted variance).
* :func:`auc_vs_value_sample_size` and :func:`auc_difference_sample_size`: an AUC against a
  fixed value, or two AUCs on the same cases, with the binormal variance function of
  Obuchowski (1994; Obuchowski and McClish 1997) or the exponential approximation of Hanley and McNeil (1982).

* :func:`design_effect`: the inflation ``1 + (m - 1) icc`` for several findings per patient
  (Kish 1965; Donner and Klar 2000).

Multi-reader multi-case sample size is :mod:`validation.stats.mrmc.sample_size`.

References
----------
1. Chernick MR, Liu CY (2002). The saw-toothed behavior of power versus sample size and software
   solutions: single binomial proportion using exact methods. Am Stat 56(2):149-155.
   doi:10.1198/000313002317572835
2. Buderer NM (1996). Statistical methodology: I. Incorporating the prevalence of disease into
   the sample size calculation for sensitivity and specificity. Acad Emerg Med 3(9):895-900.
   doi:10.1111/j.1553-2712.1996.tb03538.x
3. Connor RJ (1987). Sample size for testing differences in proportions for the paired-sample
   design. Biometrics 43(1):207-211. doi:10.2307/2531961
4. Nam J (1997). Establishing equivalence of two treatments and sample size requirements in
   matched-pairs design. Biometrics 53(4):1422-1430. doi:10.2307/2533508
5. Liu JP, Hsueh HM, Hsieh E, Chen JJ (2002). Tests for equivalence or non-inferiority for
   paired binary data. Stat Med 21(2):231-245. doi:10.1002/sim.1012
6. Farrington CP, Manning G (1990). Stat Med 9(12):1447-1454. doi:10.1002/sim.4780091208
7. Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating
   characteristic (ROC) curve. Radiology 143(1):29-36. doi:10.1148/radiology.143.1.7063747
8. Obuchowski NA (1994). Computing sample size for receiver operating characteristic studies.
   Invest Radiol 29(2):238-243. doi:10.1097/00004424-199402000-00020
9. Obuchowski NA, McClish DK (1997). Sample size determination for diagnostic accuracy studies
   involving binormal ROC curve indices. Stat Med 16(13):1529-1542.
   doi:10.1002/(SICI)1097-0258(19970715)16:13<1529::AID-SIM565>3.0.CO;2-H
10. Obuchowski NA (1998). Sample size calculations in studies of test accuracy. Stat Methods
    Med Res 7(4):371-392. doi:10.1177/096228029800700405
11. Kish L (1965). Survey Sampling. New York: Wiley (the design effect).
12. Donner A, Klar N (2000). Design and Analysis of Cluster Randomization Trials in Health
    Research. London: Arnold (variance inflation 1 + (m - 1) rho for clusters of size m).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats._result import Result
from validation.stats.differences import check_margin, restricted_mle_proportions, tango_q21

REF_CHERNICK_2002 = (
    "Chernick MR, Liu CY (2002). The saw-toothed behavior of power versus sample size and "
    "software solutions: single binomial proportion using exact methods. Am Stat 56(2):149-155. "
    "doi:10.1198/000313002317572835"
)
REF_BUDERER_1996 = (
    "Buderer NM (1996). Statistical methodology: I. Incorporating the prevalence of disease into "
    "the sample size calculation for sensitivity and specificity. Acad Emerg Med 3(9):895-900. "
    "doi:10.1111/j.1553-2712.1996.tb03538.x"
)
REF_CONNOR_1987 = (
    "Connor RJ (1987). Sample size for testing differences in proportions for the paired-sample "
    "design. Biometrics 43(1):207-211. doi:10.2307/2531961"
)
REF_NAM_1997 = (
    "Nam J (1997). Establishing equivalence of two treatments and sample size requirements in "
    "matched-pairs design. Biometrics 53(4):1422-1430. doi:10.2307/2533508"
)
REF_LIU_2002 = (
    "Liu JP, Hsueh HM, Hsieh E, Chen JJ (2002). Tests for equivalence or non-inferiority for "
    "paired binary data. Stat Med 21(2):231-245. doi:10.1002/sim.1012"
)
REF_FM_1990 = (
    "Farrington CP, Manning G (1990). Test statistics and sample size formulae for comparative "
    "binomial trials with null hypothesis of non-zero risk difference or non-unity relative "
    "risk. Stat Med 9(12):1447-1454. doi:10.1002/sim.4780091208"
)
REF_HANLEY_MCNEIL_1982 = (
    "Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating "
    "characteristic (ROC) curve. Radiology 143(1):29-36. doi:10.1148/radiology.143.1.7063747"
)
REF_OBUCHOWSKI_1994 = (
    "Obuchowski NA (1994). Computing sample size for receiver operating characteristic studies. "
    "Invest Radiol 29(2):238-243. doi:10.1097/00004424-199402000-00020"
)
REF_OBUCHOWSKI_MCCLISH_1997 = (
    "Obuchowski NA, McClish DK (1997). Sample size determination for diagnostic accuracy studies "
    "involving binormal ROC curve indices. Stat Med 16(13):1529-1542. "
    "doi:10.1002/(SICI)1097-0258(19970715)16:13<1529::AID-SIM565>3.0.CO;2-H"
)
REF_OBUCHOWSKI_1998 = (
    "Obuchowski NA (1998). Sample size calculations in studies of test accuracy. Stat Methods "
    "Med Res 7(4):371-392. doi:10.1177/096228029800700405"
)

_N_MAX = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleSizeResult(Result):
    """A sample-size requirement with the assumptions and the justification text.

    ``n`` is the requirement in ``unit`` (cases with the condition, pairs, subjects in group
    1, positive cases); ``n_total`` the total number of cases to enrol (after the prevalence
    inflation, or both groups together), or ``None``; ``power`` the power achieved at ``n``
    (exact for the exact binomial design, otherwise from the same normal approximation);
    ``n_unrounded`` the closed-form value before rounding up (``None`` for searches);
    ``justification`` is the paragraph a reviewer expects in the protocol.
    """

    design: str
    n: int
    n_unrounded: float | None
    unit: str
    n_total: int | None
    groups: dict[str, int]
    power: float
    target_power: float
    alpha: float
    assumptions: dict[str, Any]
    formula: str
    justification: str
    method: str
    references: tuple[str, ...]


# --------------------------------------------------------------------------- checks


def _prob(value: Any, name: str, *, open_low: bool = True, open_high: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be a probability; got {value!r}.") from None
    lo_ok = v > 0.0 if open_low else v >= 0.0
    hi_ok = v < 1.0 if open_high else v <= 1.0
    if not (math.isfinite(v) and lo_ok and hi_ok):
        rng = f"{'(' if open_low else '['}0, 1{')' if open_high else ']'}"
        raise InputError(f"'{name}' must be in {rng}; got {value!r}.")
    return v


def _power(power: Any) -> float:
    p = _prob(power, "power")
    if p <= 0.5:
        raise InputError(f"'power' must be above 0.5 (e.g. 0.8 or 0.9); got {power!r}.")
    return p


def _ceil(x: float) -> int:
    # guard against 100.00000000001 -> 101 from rounding error
    if not x <= _N_MAX:
        raise InputError(
            f"the requirement exceeds {_N_MAX:,} units ({x:.4g}): the assumed value is too close "
            "to the null boundary (or the power too high) for any feasible study."
        )
    return int(math.ceil(x - 1e-9))


def _inflate(n: int, prevalence: float | None, endpoint: str) -> tuple[int | None, str]:
    if prevalence is None:
        return None, ""
    prev = _prob(prevalence, "prevalence")
    frac = prev if endpoint == "sensitivity" else 1.0 - prev
    total = int(math.ceil(n / frac - 1e-9))
    who = "with" if endpoint == "sensitivity" else "without"
    return total, (f" With an expected prevalence of {prev:.4g}, {total} cases in total are "
                   f"needed so that about {n} are {who} the condition (Buderer 1996).")


# --------------------------------------------------------------------------- single proportion


def exact_binomial_power(
    n: Any, goal: float, expected: float, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Critical values and power of the one-sided exact binomial test of ``H0: p <= goal``.

    For each ``n`` the test rejects when ``X >= k``, ``k`` the smallest count with
    ``P(X >= k | goal) <= alpha``; the power is ``P(X >= k | expected)``.

    Returns
    -------
    (k, power) : integer and float arrays of the shape of ``n``.
    """
    n_arr = np.atleast_1d(np.asarray(n, dtype=np.int64))
    k = sps.binom.isf(alpha, n_arr, goal).astype(np.int64) + 1
    # make k exact despite floating point in isf: smallest k with sf(k - 1) <= alpha
    for _ in range(3):
        too_small = sps.binom.sf(k - 1, n_arr, goal) > alpha
        k = np.where(too_small, k + 1, k)
        could_lower = (k > 0) & (sps.binom.sf(k - 2, n_arr, goal) <= alpha)
        k = np.where(could_lower, k - 1, k)
    power = sps.binom.sf(k - 1, n_arr, expected)
    power = np.where(k > n_arr, 0.0, power)
    return k, power


def proportion_vs_goal_sample_size(
    expected: float,
    goal: float,
    *,
    alpha: float = 0.025,
    power: float = 0.8,
    method: str = "exact",
    endpoint: str = "sensitivity",
    prevalence: float | None = None,
) -> SampleSizeResult:
    """Cases needed to show that a sensitivity (or specificity) exceeds a performance goal.

    One-sided test of ``H0: p <= goal`` against ``H1: p > goal`` at level ``alpha`` with power
    ``power`` when the true value is ``expected``.

    * ``method="normal"``: ``n = [z_{1-a} sqrt(p0 q0) + z_{1-b} sqrt(p1 q1)]^2 / (p1 - p0)^2``.
    * ``method="exact"``: the exact binomial test. Exact power is not monotone in ``n``
      (saw-tooth); the reported ``n`` is the smallest from which the power stays at or above
      the target for every larger ``n`` up to the search bound (twice the normal-approximation
      size plus 100), and the first ``n`` reaching the power is reported in ``assumptions``.

    Parameters
    ----------
    expected : float
        Assumed true sensitivity (or specificity), above ``goal``.
    goal : float
        Performance goal (the null value), in (0, 1).
    alpha : float
        One-sided level.
    power : float
        Target power, in (0.5, 1).
    method : {"exact", "normal"}
    endpoint : {"sensitivity", "specificity", "accuracy"}
        Decides whether the prevalence or its complement converts ``n`` to a total (accuracy
        counts every case: ``n_total = n``).
    prevalence : float, optional
        Expected prevalence among enrolled cases; then ``n_total = ceil(n / prevalence)`` (or
        ``n / (1 - prevalence)`` for specificity).

    Returns
    -------
    SampleSizeResult
        ``n`` cases with (sensitivity) or without (specificity) the condition.

    References
    ----------
    Chernick and Liu (2002) doi:10.1198/000313002317572835; Buderer (1996)
    doi:10.1111/j.1553-2712.1996.tb03538.x.

    Examples
    --------
    >>> proportion_vs_goal_sample_size(0.9, 0.8, alpha=0.025, power=0.8, method="normal").n
    108
    """
    p1 = _prob(expected, "expected")
    p0 = _prob(goal, "goal")
    if p1 <= p0:
        raise InputError(
            f"'expected' must exceed 'goal' (the test shows the value is above the goal); got "
            f"expected={expected!r}, goal={goal!r}."
        )
    alpha = check_alpha(alpha)
    target = _power(power)
    meth = check_choice(method, "method", ("exact", "normal"))
    ep = check_choice(endpoint, "endpoint", ("sensitivity", "specificity", "accuracy"))
    za, zb = sps.norm.ppf(1 - alpha), sps.norm.ppf(target)
    n_norm_f = (za * math.sqrt(p0 * (1 - p0)) + zb * math.sqrt(p1 * (1 - p1))) ** 2 / (p1 - p0) ** 2
    n_norm = max(_ceil(n_norm_f), 1)
    assumptions: dict[str, Any] = {"expected": p1, "goal": p0, "endpoint": ep}
    if meth == "normal":
        n = n_norm
        achieved = float(sps.norm.cdf(((p1 - p0) * math.sqrt(n) - za * math.sqrt(p0 * (1 - p0)))
                                      / math.sqrt(p1 * (1 - p1))))
        formula = "n = [z(1-alpha) sqrt(p0 q0) + z(power) sqrt(p1 q1)]^2 / (p1 - p0)^2"
        test = "one-sided score (normal approximation) test"
        saw = ""
        refs: tuple[str, ...] = ()
    else:
        upper = min(2 * n_norm + 100, _N_MAX)
        ns = np.arange(1, upper + 1)
        _, pw = exact_binomial_power(ns, p0, p1, alpha)
        ok = pw >= target
        if not ok[-1]:
            raise InputError(
                f"no sample size up to {upper} reaches power {target:g} with the exact test; "
                "check 'expected', 'goal' and 'power'."
            )
        first = int(ns[np.argmax(ok)])
        bad = np.flatnonzero(~ok)
        n = int(ns[bad[-1] + 1]) if bad.size else 1
        achieved = float(pw[n - 1])
        assumptions.update({"n_first_reaching_power": first, "search_upper_bound": upper})
        formula = ("smallest n with exact power >= target for every n' >= n up to the search "
                   "bound; power(n) = P(X >= k_n | p1), k_n the exact critical value under p0")
        test = "one-sided exact binomial test"
        saw = (f" Exact power is saw-toothed in n: it first reaches {target:g} at n = {first} and "
               f"stays at or above it from n = {n} on (checked up to {upper})."
               if first != n else
               f" Exact power stays at or above {target:g} for every n from {n} to {upper}.")
        refs = (REF_CHERNICK_2002,)
    n_total: int | None
    if ep == "accuracy":  # every case counts: no prevalence inflation
        n_total, prev_txt = n, ""
        unit = "cases"
    else:
        n_total, prev_txt = _inflate(n, prevalence, ep)
        if prevalence is not None:
            assumptions["prevalence"] = float(prevalence)
            refs = refs + (REF_BUDERER_1996,)
        unit = f"cases {'with' if ep == 'sensitivity' else 'without'} the condition"
    justification = (
        f"The {ep} is tested against the performance goal {p0:.4g} (H0: {ep} <= {p0:.4g}) by a "
        f"{test} at one-sided alpha = {alpha:g}. Assuming a true {ep} of {p1:.4g}, {n} {unit} "
        f"give a power of {achieved:.3f} (target {target:g}).{saw}{prev_txt}"
    )
    return SampleSizeResult(
        design="proportion_vs_goal", n=n, n_unrounded=n_norm_f if meth == "normal" else None,
        unit=unit, n_total=n_total,
        groups={}, power=achieved, target_power=target, alpha=alpha, assumptions=assumptions,
        formula=formula, justification=justification, method=f"{test} ({meth})",
        references=refs,
    )


# --------------------------------------------------------------------------- paired


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


# --------------------------------------------------------------------------- unpaired


def unpaired_difference_sample_size(
    p1: float,
    p2: float,
    *,
    margin: float,
    ratio: float = 1.0,
    alpha: float = 0.025,
    power: float = 0.8,
    variance: str = "restricted",
) -> SampleSizeResult:
    """Subjects per group to show non-inferiority of group 1 (``H0: p1 - p2 <= -margin``).

    Farrington and Manning (1990)::

        n1 = [z_{1-a} sqrt(pt1 qt1 + pt2 qt2 / r) + z_{1-b} sqrt(p1 q1 + p2 q2 / r)]^2
             / (p1 - p2 + margin)^2,     n2 = r n1

    with ``(pt1, pt2)`` the restricted estimates under ``p1 - p2 = -margin`` at the expected
    proportions (``variance="restricted"``), or ``(p1, p2)`` themselves
    (``variance="unrestricted"``, the Wald form ``(z_a + z_b)^2 (p1 q1 + p2 q2 / r) / ...``).

    Parameters
    ----------
    p1, p2 : float
        Expected proportions of group 1 (new test) and group 2 (comparator).
    margin : float
        Positive non-inferiority margin.
    ratio : float
        ``n2 / n1``.
    variance : {"restricted", "unrestricted"}

    Returns
    -------
    SampleSizeResult
        ``n`` = ``n1``; ``groups`` = ``{"group1": n1, "group2": n2}``; ``n_total = n1 + n2``.

    References
    ----------
    Farrington and Manning (1990) doi:10.1002/sim.4780091208.
    """
    a1 = _prob(p1, "p1")
    a2 = _prob(p2, "p2")
    m = check_margin(margin)
    try:
        r = float(ratio)
    except (TypeError, ValueError):
        raise InputError(f"'ratio' must be a positive number; got {ratio!r}.") from None
    if not (math.isfinite(r) and r > 0):
        raise InputError(f"'ratio' must be a positive number (n2 / n1); got {ratio!r}.")
    alpha = check_alpha(alpha)
    target = _power(power)
    var = check_choice(variance, "variance", ("restricted", "unrestricted"))
    if a1 - a2 <= -m:
        raise InputError(
            f"the expected difference p1 - p2 = {a1 - a2:.4g} must exceed -margin = {-m:.4g}."
        )
    if var == "restricted":
        t1, t2 = restricted_mle_proportions(a1, 1.0, a2, r, -m)
    else:
        t1, t2 = a1, a2
    s0 = math.sqrt(t1 * (1 - t1) + t2 * (1 - t2) / r)
    s1 = math.sqrt(a1 * (1 - a1) + a2 * (1 - a2) / r)
    za, zb = sps.norm.ppf(1 - alpha), sps.norm.ppf(target)
    eff = a1 - a2 + m
    n1_f = (za * s0 + zb * s1) ** 2 / eff**2
    n1 = max(_ceil(n1_f), 1)
    n2 = max(int(math.ceil(r * n1 - 1e-9)), 1)
    achieved = float(sps.norm.cdf((eff * math.sqrt(n1) - za * s0) / s1))
    justification = (
        f"Non-inferiority of the new test to the comparator in independent groups "
        f"(H0: p1 - p2 <= -{m:g}) is tested by the Farrington-Manning score test at one-sided "
        f"alpha = {alpha:g}. Assuming p1 = {a1:.4g} and p2 = {a2:.4g}, {n1} subjects in group 1 "
        f"and {n2} in group 2 ({n1 + n2} in total) give a power of {achieved:.3f} "
        f"(target {target:g}; {var} variance under H0)."
        + (" The unrestricted variance sizes a Wald-type test; the Farrington-Manning score "
           "test that is analysed uses the restricted variance and can have less power at "
           "this size (size it with the restricted variance)." if var == "unrestricted" else "")
    )
    return SampleSizeResult(
        design="unpaired_difference", n=n1, n_unrounded=n1_f, unit="subjects in group 1",
        n_total=n1 + n2,
        groups={"group1": n1, "group2": n2}, power=achieved, target_power=target, alpha=alpha,
        assumptions={"p1": a1, "p2": a2, "margin": m, "ratio": r, "variance": var},
        formula=("n1 = [z(1-alpha) sqrt(pt1 qt1 + pt2 qt2 / r) + z(power) sqrt(p1 q1 + p2 q2 / r)]"
                 "^2 / (p1 - p2 + margin)^2"),
        justification=justification,
        method=f"Farrington-Manning non-inferiority ({var} variance)", references=(REF_FM_1990,),
    )


# --------------------------------------------------------------------------- AUC


def design_effect(cluster_size: float, icc: float) -> float:
    """Variance inflation of a mean over clusters of equal size: ``1 + (m - 1) icc``.

    With ``m`` findings per patient and intra-cluster correlation ``icc`` of the per-finding
    outcome, a clustered sample of ``N`` findings carries the information of ``N / deff``
    independent ones (Kish 1965; Donner and Klar 2000, section 5.2); the sample size computed
    for independent findings is multiplied by it.

    Raises
    ------
    InputError
        When ``cluster_size < 1`` or ``icc`` is outside [0, 1].
    """
    try:
        m, rho = float(cluster_size), float(icc)
    except (TypeError, ValueError):
        raise InputError(f"'cluster_size' and 'icc' must be numbers; got {cluster_size!r}, "
                         f"{icc!r}.") from None
    if not (math.isfinite(m) and m >= 1.0):
        raise InputError(f"'cluster_size' (findings per patient) must be at least 1; got {m!r}.")
    _prob(rho, "icc", open_low=False, open_high=False)
    return 1.0 + (m - 1.0) * rho


def auc_variance_obuchowski(auc: float, ratio: float = 1.0) -> float:
    """Obuchowski's binormal variance function ``V(A)`` (variance of the AUC times n_pos).

    ``V(A) = 0.0099 exp(-a^2 / 2) [(5 a^2 + 8) + (a^2 + 8) / ratio]``,
    ``a = 1.414 Phi^{-1}(A)`` (binormal with equal variances; the constant 1.414 as published,
    and as pROC's ``power.roc.test`` uses it), ``ratio = n_neg / n_pos``; at ``A = 0.5`` it is
    ``0.0792 (1 + 1 / ratio)``.

    References
    ----------
    Obuchowski (1994) doi:10.1097/00004424-199402000-00020; Obuchowski and McClish (1997).
    """
    a = 1.414 * sps.norm.ppf(auc)
    return 0.0099 * math.exp(-a * a / 2.0) * ((5 * a * a + 8) + (a * a + 8) / ratio)


def auc_variance_hanley_mcneil(auc: float, n_pos: float, n_neg: float) -> float:
    """Hanley and McNeil (1982) variance of the AUC for ``n_pos`` positives and ``n_neg``
    negatives: ``[A(1-A) + (n_pos - 1)(Q1 - A^2) + (n_neg - 1)(Q2 - A^2)] / (n_pos n_neg)`` with
    ``Q1 = A / (2 - A)``, ``Q2 = 2 A^2 / (1 + A)``.

    References
    ----------
    Hanley and McNeil (1982) doi:10.1148/radiology.143.1.7063747.
    """
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    return (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (
        n_pos * n_neg
    )


def _auc_n(
    v0: Any, v1: Any, effect: float, za: float, zb: float
) -> int:
    """Smallest n_pos with ``za sd0(n) + zb sd1(n) <= effect`` (sd as functions of n)."""
    lo, hi = 2, 4
    while za * math.sqrt(v0(hi)) + zb * math.sqrt(v1(hi)) > effect:
        hi *= 2
        if hi > _N_MAX:
            raise InputError("no sample size up to 1,000,000 positives reaches the power.")
    while lo < hi:
        mid = (lo + hi) // 2
        if za * math.sqrt(v0(mid)) + zb * math.sqrt(v1(mid)) <= effect:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _auc_common(
    alpha: Any, power: Any, ratio: Any, variance: str
) -> tuple[float, float, float, str]:
    alpha = check_alpha(alpha)
    target = _power(power)
    try:
        k = float(ratio)
    except (TypeError, ValueError):
        raise InputError(f"'ratio' must be a positive number; got {ratio!r}.") from None
    if not (math.isfinite(k) and k > 0):
        raise InputError(f"'ratio' must be positive (negatives per positive case); got {ratio!r}.")
    var = check_choice(variance, "variance", ("obuchowski", "hanley-mcneil"))
    return alpha, target, k, var


def auc_vs_value_sample_size(
    auc: float,
    null_auc: float = 0.5,
    *,
    alpha: float = 0.025,
    power: float = 0.8,
    ratio: float = 1.0,
    variance: str = "obuchowski",
    prevalence: float | None = None,
) -> SampleSizeResult:
    """Positive and negative cases to show that an AUC exceeds ``null_auc``.

    One-sided ``H0: AUC <= null_auc``:
    ``n_pos = [z_{1-a} sqrt(V(A0)) + z_{1-b} sqrt(V(A1))]^2 / (A1 - A0)^2`` with Obuchowski's
    variance function, or the smallest ``n_pos`` with
    ``z_{1-a} SE_0(n) + z_{1-b} SE_1(n) <= A1 - A0`` with Hanley and McNeil's variance;
    ``n_neg = ceil(ratio n_pos)``.

    Parameters
    ----------
    auc : float
        Expected AUC.
    null_auc : float
        AUC under the null (0.5 for "better than chance", or a performance goal).
    ratio : float
        Negatives per positive case.
    variance : {"obuchowski", "hanley-mcneil"}
    prevalence : float, optional
        If given, ``n_total = ceil(n_pos / prevalence)`` (then ``ratio`` should equal
        ``(1 - prevalence) / prevalence``; the total is reported beside the two counts).

    References
    ----------
    Hanley and McNeil (1982); Obuchowski (1994); Obuchowski and McClish (1997); Obuchowski
    (1998) doi:10.1177/096228029800700405.

    Examples
    --------
    >>> r = auc_vs_value_sample_size(0.8, 0.5, alpha=0.025, power=0.9)
    >>> r.groups
    {'positive': 17, 'negative': 17}
    """
    a1 = _prob(auc, "auc")
    a0 = _prob(null_auc, "null_auc")
    if a1 <= a0:
        raise InputError(f"'auc' must exceed 'null_auc'; got auc={auc!r}, null_auc={null_auc!r}.")
    alpha, target, k, var = _auc_common(alpha, power, ratio, variance)
    za, zb = sps.norm.ppf(1 - alpha), sps.norm.ppf(target)
    if var == "obuchowski":
        v0 = auc_variance_obuchowski(a0, k)
        v1 = auc_variance_obuchowski(a1, k)
        n_f: float | None = (za * math.sqrt(v0) + zb * math.sqrt(v1)) ** 2 / (a1 - a0) ** 2
        n_pos = max(_ceil(n_f), 2)  # type: ignore[arg-type]
        achieved = float(sps.norm.cdf(((a1 - a0) * math.sqrt(n_pos) - za * math.sqrt(v0))
                                      / math.sqrt(v1)))
        refs: tuple[str, ...] = (REF_OBUCHOWSKI_1994, REF_OBUCHOWSKI_MCCLISH_1997)
        formula = ("n_pos = [z(1-alpha) sqrt(V(A0)) + z(power) sqrt(V(A1))]^2 / (A1 - A0)^2, "
                   "V = Obuchowski binormal variance function")
    else:
        def vh0(n: float) -> float:
            return auc_variance_hanley_mcneil(a0, n, k * n)

        def vh1(n: float) -> float:
            return auc_variance_hanley_mcneil(a1, n, k * n)

        n_f = None
        n_pos = _auc_n(vh0, vh1, a1 - a0, za, zb)
        achieved = float(sps.norm.cdf(((a1 - a0) - za * math.sqrt(vh0(n_pos)))
                                      / math.sqrt(vh1(n_pos))))
        refs = (REF_HANLEY_MCNEIL_1982,)
        formula = ("smallest n_pos with z(1-alpha) SE(A0; n) + z(power) SE(A1; n) <= A1 - A0, "
                   "SE from Hanley and McNeil (1982)")
    n_neg = max(int(math.ceil(k * n_pos - 1e-9)), 1)
    n_total = None
    prev_txt = ""
    if prevalence is not None:
        n_total, prev_txt = _inflate(n_pos, prevalence, "sensitivity")
        n_total = max(n_total or 0, n_pos + n_neg)
    justification = (
        f"The AUC is tested against {a0:.4g} (H0: AUC <= {a0:.4g}) by a one-sided z test at "
        f"alpha = {alpha:g} with the {'Obuchowski' if var == 'obuchowski' else 'Hanley-McNeil'} "
        f"variance. Assuming a true AUC of {a1:.4g} and {k:.4g} negative per positive case, "
        f"{n_pos} positive and {n_neg} negative cases give a power of {achieved:.3f} "
        f"(target {target:g}).{prev_txt}"
    )
    return SampleSizeResult(
        design="auc_vs_value", n=n_pos, n_unrounded=n_f, unit="positive cases",
        n_total=n_total or n_pos + n_neg,
        groups={"positive": n_pos, "negative": n_neg}, power=achieved, target_power=target,
        alpha=alpha, assumptions={"auc": a1, "null_auc": a0, "ratio": k, "variance": var},
        formula=formula, justification=justification, method=f"AUC vs value ({var} variance)",
        references=refs,
    )


def auc_difference_sample_size(
    auc_new: float,
    auc_comparator: float,
    *,
    correlation: float,
    margin: float | None = None,
    alpha: float = 0.025,
    power: float = 0.8,
    ratio: float = 1.0,
) -> SampleSizeResult:
    """Cases to compare two AUCs measured on the same cases (paired design).

    ``theta = A_new - A_comp``; ``H0: theta <= -margin`` (non-inferiority) or ``theta <= 0``
    (superiority, no margin). With Obuchowski's variance function ``V`` and the correlation
    ``r`` between the two AUC estimates::

        Vd(A, B) = V(A) + V(B) - 2 r sqrt(V(A) V(B))
        n_pos = [z_{1-a} sqrt(Vd(A_comp - margin, A_comp)) + z_{1-b} sqrt(Vd(A_new, A_comp))]^2
                / (theta + margin)^2

    (Obuchowski and McClish 1997; Obuchowski 1998). ``r`` is typically 0.3-0.6 for two tests
    read on the same images (Hanley and McNeil 1983 relate it to the correlation of the
    ratings).

    Parameters
    ----------
    auc_new, auc_comparator : float
        Expected AUCs.
    correlation : float
        Correlation of the two AUC estimates, in [0, 1).
    margin : float, optional
        Positive non-inferiority margin; superiority when omitted.
    ratio : float
        Negatives per positive case.

    References
    ----------
    Obuchowski and McClish (1997); Obuchowski (1998) doi:10.1177/096228029800700405.
    """
    an = _prob(auc_new, "auc_new")
    ac = _prob(auc_comparator, "auc_comparator")
    r = _prob(correlation, "correlation", open_low=False)
    alpha, target, k, _ = _auc_common(alpha, power, ratio, "obuchowski")
    m = 0.0 if margin is None else check_margin(margin, allow_zero=True)
    theta = an - ac
    if theta <= -m:
        raise InputError(
            f"the expected difference auc_new - auc_comparator = {theta:.4g} must exceed "
            f"-margin = {-m:.4g}."
        )
    a_null = ac - m
    if not 0.0 < a_null < 1.0:
        raise InputError(f"'auc_comparator - margin' must be in (0, 1); got {a_null!r}.")

    def vd(a: float, b: float) -> float:
        va, vb = auc_variance_obuchowski(a, k), auc_variance_obuchowski(b, k)
        return va + vb - 2 * r * math.sqrt(va * vb)

    v0, v1 = vd(a_null, ac), vd(an, ac)
    za, zb = sps.norm.ppf(1 - alpha), sps.norm.ppf(target)
    n_f = (za * math.sqrt(v0) + zb * math.sqrt(v1)) ** 2 / (theta + m) ** 2
    n_pos = max(_ceil(n_f), 2)
    n_neg = max(int(math.ceil(k * n_pos - 1e-9)), 1)
    achieved = float(sps.norm.cdf(((theta + m) * math.sqrt(n_pos) - za * math.sqrt(v0))
                                  / math.sqrt(v1)))
    kind = "non-inferiority" if m > 0 else "superiority"
    h0 = f"AUC_new - AUC_comparator <= -{m:g}" if m > 0 else "AUC_new - AUC_comparator <= 0"
    justification = (
        f"The AUCs of the new test and the comparator on the same cases are compared ({kind}, "
        f"H0: {h0}) by a one-sided z test at alpha = {alpha:g} (paired DeLong in the analysis; "
        f"Obuchowski variance function for planning). Assuming AUCs of {an:.4g} and {ac:.4g} "
        f"with a correlation of {r:.3g} between the AUC estimates, {n_pos} positive and {n_neg} "
        f"negative cases give a power of {achieved:.3f} (target {target:g})."
    )
    return SampleSizeResult(
        design="auc_difference", n=n_pos, n_unrounded=n_f, unit="positive cases",
        n_total=n_pos + n_neg,
        groups={"positive": n_pos, "negative": n_neg}, power=achieved, target_power=target,
        alpha=alpha,
        assumptions={"auc_new": an, "auc_comparator": ac, "correlation": r,
                     "margin": m if m > 0 else None, "ratio": k},
        formula=("n_pos = [z(1-alpha) sqrt(Vd0) + z(power) sqrt(Vd1)]^2 / (theta + margin)^2, "
                 "Vd = V(A) + V(B) - 2 r sqrt(V(A) V(B))"),
        justification=justification, method=f"paired AUC {kind} (Obuchowski variance)",
        references=(REF_OBUCHOWSKI_MCCLISH_1997, REF_OBUCHOWSKI_1998),
    )


# --------------------------------------------------------------------------- power at other sizes


def power_at(result: SampleSizeResult, n: Any) -> np.ndarray:
    """Power of the design behind ``result`` with ``n`` units instead of ``result.n``.

    ``n`` counts the unit of ``result.unit`` (cases with or without the condition, pairs,
    positive cases, subjects in group 1) and may be an array; the test, one-sided level and
    assumed true values are those of ``result``, with the same formulas (the exact binomial
    power for the exact design). ``power_at(result, result.n)`` equals ``result.power``.

    Used to evaluate every hypothesis of a study at one common size: co-primary hypotheses
    must all succeed, so the study's power is their joint power at the size actually enrolled,
    not each one's power at its own requirement.

    Returns
    -------
    ndarray of the shape of ``n``; 0 where ``n < 1``.
    """
    nn = np.atleast_1d(np.asarray(n, dtype=np.float64))
    if not np.all(np.isfinite(nn)):
        raise InputError("'n' must be finite.")
    a = result.assumptions
    za = float(sps.norm.ppf(1 - result.alpha))
    safe = np.maximum(nn, 1.0)

    def normal(effect: float, s0: float, s1: float) -> np.ndarray:
        if s1 <= 0:
            return np.ones_like(safe)
        return np.asarray(sps.norm.cdf((effect * np.sqrt(safe) - za * s0) / s1))

    design = result.design
    if design == "proportion_vs_goal":
        p1, p0 = float(a["expected"]), float(a["goal"])
        if result.method.endswith("(exact)"):
            out = exact_binomial_power(safe.astype(np.int64), p0, p1, result.alpha)[1]
        else:
            out = normal(p1 - p0, math.sqrt(p0 * (1 - p0)), math.sqrt(p1 * (1 - p1)))
    elif design == "paired_difference":
        a10, a01 = float(a["p10"]), float(a["p01"])
        m = float(a["margin"] or 0.0)
        delta, psi, d0 = a10 - a01, a10 + a01, -m
        if m > 0:
            q = tango_q21(a10, a01, 1.0, d0)
            s0 = math.sqrt(max(2 * q + d0 * (1 - d0), 0.0))
        else:
            s0 = math.sqrt(psi)
        out = normal(delta - d0, s0, math.sqrt(max(psi - delta * delta, 0.0)))
    elif design == "unpaired_difference":
        a1, a2, m, r = (float(a[k]) for k in ("p1", "p2", "margin", "ratio"))
        t1, t2 = restricted_mle_proportions(a1, 1.0, a2, r, -m) if a["variance"] == "restricted" else (a1, a2)
        out = normal(a1 - a2 + m, math.sqrt(t1 * (1 - t1) + t2 * (1 - t2) / r),
                     math.sqrt(a1 * (1 - a1) + a2 * (1 - a2) / r))
    elif design == "auc_vs_value":
        a1, a0, k = float(a["auc"]), float(a["null_auc"]), float(a["ratio"])
        if a["variance"] == "obuchowski":
            out = normal(a1 - a0, math.sqrt(auc_variance_obuchowski(a0, k)),
                         math.sqrt(auc_variance_obuchowski(a1, k)))
        else:
            v0 = np.array([auc_variance_hanley_mcneil(a0, x, k * x) for x in safe])
            v1 = np.array([auc_variance_hanley_mcneil(a1, x, k * x) for x in safe])
            out = np.asarray(sps.norm.cdf(((a1 - a0) - za * np.sqrt(v0)) / np.sqrt(v1)))
    elif design == "auc_difference":
        an, ac, r, k = (float(a[x]) for x in ("auc_new", "auc_comparator", "correlation",
                                               "ratio"))
        m = float(a["margin"] or 0.0)

        def vd(x: float, y: float) -> float:
            vx, vy = auc_variance_obuchowski(x, k), auc_variance_obuchowski(y, k)
            return vx + vy - 2 * r * math.sqrt(vx * vy)

        out = normal(an - ac + m, math.sqrt(vd(ac - m, ac)), math.sqrt(vd(an, ac)))
    else:
        raise InputError(f"no power function for design {design!r}.")
    return np.where(nn < 1, 0.0, np.asarray(out, dtype=np.float64))
