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
from typing import Any

import numpy as np
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats._sample_size_common import (
    _N_MAX,
    REF_BUDERER_1996,
    REF_CHERNICK_2002,
    REF_FM_1990,
    SampleSizeResult,
    _ceil,
    _inflate,
    _power,
    _prob,
)

# the paired and AUC designs live in their own modules; their public names are part of this one
from validation.stats._sample_size_common import REF_CONNOR_1987 as REF_CONNOR_1987
from validation.stats._sample_size_common import REF_HANLEY_MCNEIL_1982 as REF_HANLEY_MCNEIL_1982
from validation.stats._sample_size_common import REF_LIU_2002 as REF_LIU_2002
from validation.stats._sample_size_common import REF_NAM_1997 as REF_NAM_1997
from validation.stats._sample_size_common import REF_OBUCHOWSKI_1994 as REF_OBUCHOWSKI_1994
from validation.stats._sample_size_common import REF_OBUCHOWSKI_1998 as REF_OBUCHOWSKI_1998
from validation.stats._sample_size_common import REF_OBUCHOWSKI_MCCLISH_1997 as REF_OBUCHOWSKI_MCCLISH_1997
from validation.stats.differences import check_margin, restricted_mle_proportions, tango_q21
from validation.stats.sample_size_auc import auc_difference_sample_size as auc_difference_sample_size
from validation.stats.sample_size_auc import auc_variance_hanley_mcneil, auc_variance_obuchowski
from validation.stats.sample_size_auc import auc_vs_value_sample_size as auc_vs_value_sample_size
from validation.stats.sample_size_paired import discordant_probabilities as discordant_probabilities
from validation.stats.sample_size_paired import paired_difference_sample_size as paired_difference_sample_size
from validation.stats.sample_size_paired import paired_exact_power as paired_exact_power

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


# --------------------------------------------------------------------------- design effect


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
