"""Pre-specified hypotheses: performance goals, non-inferiority, superiority, equivalence.

Each function tests one hypothesis at the one-sided level ``alpha`` and returns a
:class:`HypothesisTest`: the estimate, the two-sided ``1 - 2 alpha`` interval (the interval
whose bound is compared with the goal or margin), the statistic, the one-sided p-value, the
decision before any multiplicity adjustment and the reason in words.

Hypotheses (``theta`` is the endpoint, or the difference new minus comparator)::

    performance goal   H0: theta <= goal         H1: theta > goal
    non-inferiority    H0: theta <= -margin      H1: theta > -margin
    superiority        H0: theta <= 0            H1: theta > 0
    equivalence        H0: |theta| >= margin     H1: |theta| < margin  (two one-sided tests)

A protocol's ``alpha`` with ``sidedness: two-sided`` corresponds to a one-sided level of
``alpha / 2`` (the usual regulatory convention: the lower bound of the two-sided 95% interval
must exceed the goal); callers convert it before calling these functions.

References
----------
1. Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
   J Am Stat Assoc 22(158):209-212. doi:10.1080/01621459.1927.10502953
2. Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the
   case of the binomial. Biometrika 26(4):404-413. doi:10.1093/biomet/26.4.404
3. Schuirmann DJ (1987). A comparison of the two one-sided tests procedure and the power
   approach for assessing the equivalence of average bioavailability. J Pharmacokinet
   Biopharm 15(6):657-680. doi:10.1007/BF01068419
4. DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
   correlated receiver operating characteristic curves. Biometrics 44(3):837-845.
   doi:10.2307/2531595
5. Blackwelder WC (1982). "Proving the null hypothesis" in clinical trials. Control Clin
   Trials 3(4):345-353. doi:10.1016/0197-2456(82)90024-1
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from scipy import stats as sps

import validation.stats.differences as dif
from validation.errors import InputError
from validation.stats._checks import (
    check_alpha,
    check_choice,
    check_count,
    check_one_sided_alpha,
)
from validation.stats._result import Result

REF_WILSON_1927 = (
    "Wilson EB (1927). Probable inference, the law of succession, and statistical inference. "
    "J Am Stat Assoc 22(158):209-212. doi:10.1080/01621459.1927.10502953"
)
REF_CLOPPER_PEARSON_1934 = (
    "Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the "
    "case of the binomial. Biometrika 26(4):404-413. doi:10.1093/biomet/26.4.404"
)
REF_SCHUIRMANN_1987 = (
    "Schuirmann DJ (1987). A comparison of the two one-sided tests procedure and the power "
    "approach for assessing the equivalence of average bioavailability. J Pharmacokinet "
    "Biopharm 15(6):657-680. doi:10.1007/BF01068419"
)
REF_DELONG_1988 = (
    "DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more "
    "correlated receiver operating characteristic curves: a nonparametric approach. "
    "Biometrics 44(3):837-845. doi:10.2307/2531595"
)
REF_BLACKWELDER_1982 = (
    "Blackwelder WC (1982). 'Proving the null hypothesis' in clinical trials. Control Clin "
    "Trials 3(4):345-353. doi:10.1016/0197-2456(82)90024-1"
)

HYPOTHESIS_TYPES = ("performance_goal", "noninferiority", "superiority", "equivalence")
COMPARISON_TYPES = ("noninferiority", "superiority", "equivalence")
GOAL_CI_METHODS = ("wilson", "clopper-pearson")


@dataclass(frozen=True, slots=True, kw_only=True)
class HypothesisTest(Result):
    """One hypothesis tested at the one-sided level ``alpha``.

    ``ci`` is the two-sided ``confidence = 1 - 2 alpha`` interval of ``estimate``;
    ``null_value`` is the boundary of the null hypothesis on the estimate's scale (the goal,
    ``-margin`` or 0); ``p_value`` is one-sided (for equivalence, the larger of the two
    one-sided p-values). ``decision`` is ``"pass"`` when ``p_value <= alpha`` (before any
    multiplicity adjustment); ``reason`` says why.
    """

    type: str
    test: str
    estimate: float
    ci: tuple[float, float]
    confidence: float
    margin: float | None
    goal: float | None
    null_value: float
    statistic: float | None
    df: float | None
    p_value: float
    alpha: float
    decision: str
    reason: str
    method: str
    references: tuple[str, ...]

    def with_decision(self, decision: str, reason: str) -> HypothesisTest:
        """A copy with the decision and reason replaced (after multiplicity adjustment)."""
        return replace(self, decision=check_choice(decision, "decision", ("pass", "fail")),
                       reason=reason)


# --------------------------------------------------------------------------- helpers


def one_sided_alpha(alpha: float, sidedness: str) -> float:
    """The one-sided test level for a protocol's ``alpha`` and ``sidedness``.

    ``two-sided`` halves ``alpha`` (lower bound of the two-sided ``1 - alpha`` CI against the
    goal); ``one-sided`` keeps it.
    """
    a = check_alpha(alpha)
    side = check_choice(sidedness, "sidedness", ("one-sided", "two-sided"))
    return a / 2.0 if side == "two-sided" else check_one_sided_alpha(a)


def _check_goal(goal: Any, name: str = "goal") -> float:
    try:
        g = float(goal)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be a number in (0, 1); got {goal!r}.") from None
    if not (math.isfinite(g) and 0.0 < g < 1.0):
        raise InputError(
            f"'{name}' must be a proportion in (0, 1), e.g. 0.80 for 80%; got {goal!r}."
        )
    return g


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _pct(conf: float) -> str:
    return f"{100 * conf:.4g}%"


def _decide(
    *, kind: str, estimate: float, ci: tuple[float, float], p: float, alpha: float,
    null_value: float, margin: float | None, goal: float | None,
) -> tuple[str, str]:
    conf = 1.0 - 2.0 * alpha
    ok = p <= alpha
    ptxt = f"one-sided p = {_fmt(p)} {'<=' if ok else '>'} alpha = {alpha:g}"
    if kind == "equivalence":
        inside = -margin < ci[0] and ci[1] < margin  # type: ignore[operator]
        where = "inside" if inside else "not inside"
        txt = (f"the {_pct(conf)} CI ({_fmt(ci[0])}, {_fmt(ci[1])}) is {where} "
               f"(-{_fmt(margin)}, {_fmt(margin)}); {ptxt} (two one-sided tests)")  # type: ignore[arg-type]
        return ("pass" if ok else "fail"), txt
    what = {"performance_goal": f"the goal {_fmt(null_value)}",
            "noninferiority": f"-margin = {_fmt(null_value)}",
            "superiority": "0"}[kind]
    above = ci[0] > null_value
    txt = (f"lower bound of the {_pct(conf)} CI {_fmt(ci[0])} "
           f"{'>' if above else '<='} {what}; {ptxt}")
    return ("pass" if ok else "fail"), txt


def _bound_disagrees(
    kind: str, ci: tuple[float, float], null: float, margin: float, decision: str
) -> bool:
    """Whether the interval alone would decide otherwise than the test did."""
    if kind == "equivalence":
        by_ci = -margin < ci[0] and ci[1] < margin
    else:
        by_ci = ci[0] > null
    return by_ci != (decision == "pass")


# --------------------------------------------------------------------------- performance goal


def performance_goal_test(
    successes: int,
    n: int,
    goal: float,
    *,
    alpha: float = 0.025,
    ci: str = "wilson",
) -> HypothesisTest:
    """Test a proportion (sensitivity, specificity, ...) against a fixed performance goal.

    ``H0: p <= goal`` against ``H1: p > goal`` at one-sided level ``alpha``. With
    ``ci="wilson"`` the test is the score test ``z = (p_hat - goal) / sqrt(goal (1 - goal) / n)``
    and the interval the Wilson interval; with ``ci="clopper-pearson"`` the exact binomial test
    and the Clopper-Pearson interval. In both cases the lower bound of the two-sided
    ``1 - 2 alpha`` interval exceeds the goal exactly when ``p <= alpha``, so the interval and
    the test never disagree.

    Parameters
    ----------
    successes, n : int
        E.g. true positives and diseased cases for sensitivity.
    goal : float
        Performance goal in (0, 1).
    alpha : float
        One-sided level (0.025 for "lower bound of the two-sided 95% CI > goal").
    ci : {"wilson", "clopper-pearson"}

    Returns
    -------
    HypothesisTest

    References
    ----------
    Wilson (1927) doi:10.1080/01621459.1927.10502953; Clopper and Pearson (1934)
    doi:10.1093/biomet/26.4.404.

    Examples
    --------
    >>> r = performance_goal_test(180, 200, 0.80, alpha=0.025)
    >>> r.decision, round(r.ci[0], 4)
    ('pass', 0.8506)
    """
    from statsmodels.stats.proportion import proportion_confint

    x = check_count(successes, "successes")
    n = check_count(n, "n", minimum=1)
    if x > n:
        raise InputError(f"'successes' must be at most n = {n}; got {successes!r}.")
    g = _check_goal(goal)
    alpha = check_one_sided_alpha(alpha)
    method = check_choice(ci, "ci", GOAL_CI_METHODS)
    est = x / n
    if method == "wilson":
        low, high = proportion_confint(x, n, alpha=2 * alpha, method="wilson")
        stat: float | None = (est - g) / math.sqrt(g * (1.0 - g) / n)
        p = float(sps.norm.sf(stat))
        test, refs = "score test against the goal (Wilson interval)", (REF_WILSON_1927,)
    else:
        low, high = proportion_confint(x, n, alpha=2 * alpha, method="beta")
        stat = float(x)
        p = float(sps.binomtest(x, n, g, alternative="greater").pvalue)
        test, refs = "exact binomial test against the goal (Clopper-Pearson interval)", (
            REF_CLOPPER_PEARSON_1934,
        )
    # exact ends at x = 0 and x = n (the Wilson formula leaves ~1e-18 of rounding there)
    ci_ = (0.0 if x == 0 else float(low), 1.0 if x == n else float(high))
    decision, reason = _decide(kind="performance_goal", estimate=est, ci=ci_, p=p, alpha=alpha,
                               null_value=g, margin=None, goal=g)
    return HypothesisTest(
        type="performance_goal", test=test, estimate=est, ci=ci_, confidence=1 - 2 * alpha,
        margin=None, goal=g, null_value=g, statistic=stat, df=None, p_value=p, alpha=alpha,
        decision=decision, reason=reason, method=test, references=refs,
    )


# --------------------------------------------------------------------------- normal / t tests


def normal_test(
    estimate: float,
    se: float,
    *,
    type: str,
    alpha: float = 0.025,
    margin: float | None = None,
    goal: float | None = None,
    df: float | None = None,
    test: str = "Wald z test",
    references: tuple[str, ...] = (),
) -> HypothesisTest:
    """Test a hypothesis about an estimate with a standard error (z, or t with ``df``).

    Used for an AUC against a goal (DeLong standard error), for a difference of AUCs (paired
    DeLong) and for an MRMC difference (t with the Obuchowski-Rockette or Hillis ``df``).
    The statistic is ``(estimate - null_value) / se``; the interval is
    ``estimate +/- q_{1 - alpha} se``.

    Parameters
    ----------
    estimate, se : float
        The estimate (an AUC, or a difference new minus comparator) and its standard error.
    type : {"performance_goal", "noninferiority", "superiority", "equivalence"}
    alpha : float
        One-sided level.
    margin : float
        Positive margin (non-inferiority, equivalence).
    goal : float
        Goal (performance goal).
    df : float, optional
        Degrees of freedom of a t reference distribution; a normal one when omitted.

    Returns
    -------
    HypothesisTest
    """
    kind = check_choice(type, "type", HYPOTHESIS_TYPES)
    alpha = check_one_sided_alpha(alpha)
    if kind == "superiority" and margin:
        raise InputError(
            f"a superiority margin ({margin!r}) is not supported; test superiority against 0 "
            "(shift the estimate by the margin to test against another value)."
        )
    try:
        est = float(estimate)
        s = float(se)
    except (TypeError, ValueError):
        raise InputError(f"'estimate' and 'se' must be numbers; got {estimate!r} and "
                         f"{se!r}.") from None
    if not math.isfinite(est):
        raise InputError(f"'estimate' must be finite; got {estimate!r}.")
    if not (math.isfinite(s) and s > 0.0):
        raise InputError(
            f"'se' must be a positive finite number; got {se!r}. A zero standard error means "
            "the two scores rank every case pair identically; no test is defined."
        )
    if df is not None:
        dfv = float(df)
        if not (dfv > 0.0):
            raise InputError(f"'df' must be positive; got {df!r}.")
        dist: Any = sps.t(dfv)
    else:
        dfv = None
        dist = sps.norm()
    m = None
    g = None
    if kind == "performance_goal":
        g = _check_goal(goal)
        null = g
    elif kind == "superiority":
        null = 0.0
    else:
        m = dif.check_margin(margin)  # type: ignore[arg-type]  # None is refused there
        null = -m
    q = float(dist.ppf(1.0 - alpha))
    ci_ = (est - q * s, est + q * s)
    if kind == "equivalence" and m is not None:
        stat_lo = (est + m) / s
        stat_hi = (est - m) / s
        p = max(float(dist.sf(stat_lo)), float(dist.cdf(stat_hi)))
        stat = stat_lo if dist.sf(stat_lo) >= dist.cdf(stat_hi) else stat_hi
        refs = references + (REF_SCHUIRMANN_1987,)
    else:
        stat = (est - null) / s
        p = float(dist.sf(stat))
        refs = references + ((REF_BLACKWELDER_1982,) if kind == "noninferiority" else ())
    decision, reason = _decide(kind=kind, estimate=est, ci=ci_, p=p, alpha=alpha,
                               null_value=null, margin=m, goal=g)
    name = test if df is None else test.replace("z test", "t test")
    return HypothesisTest(
        type=kind, test=name, estimate=est, ci=ci_, confidence=1 - 2 * alpha, margin=m, goal=g,
        null_value=null, statistic=stat, df=dfv, p_value=p, alpha=alpha, decision=decision,
        reason=reason, method=name, references=tuple(dict.fromkeys(refs)),
    )


def auc_comparison_test(
    truth: Any,
    score_new: Any,
    score_comparator: Any,
    *,
    type: str,
    alpha: float = 0.025,
    margin: float | None = None,
    cluster: Any = None,
) -> HypothesisTest:
    """Non-inferiority, superiority or equivalence of two AUCs on the same cases (DeLong).

    ``theta = AUC(new) - AUC(comparator)`` with the paired DeLong standard error from
    :func:`validation.stats.roc.compare_auc` (Obuchowski's clustered covariance when ``cluster``
    gives the patient of each finding); the test is :func:`normal_test`.

    References
    ----------
    DeLong et al. (1988) doi:10.2307/2531595; Obuchowski (1997) doi:10.2307/2533958.
    """
    from validation.stats.roc import compare_auc

    kind = check_choice(type, "type", COMPARISON_TYPES)
    one_sided = check_one_sided_alpha(alpha)
    cmp_ = compare_auc(truth, score_new, score_comparator, alpha=2 * one_sided,
                       cluster=cluster)
    if cluster is None:
        return normal_test(cmp_.estimate, cmp_.se, type=kind, alpha=alpha, margin=margin,
                           test="paired DeLong z test", references=(REF_DELONG_1988,))
    return normal_test(cmp_.estimate, cmp_.se, type=kind, alpha=alpha, margin=margin,
                       test="paired z test with Obuchowski's clustered DeLong covariance",
                       references=cmp_.references)


def clustered_paired_proportion_test(
    success_new: Any,
    success_comparator: Any,
    cluster: Any,
    *,
    type: str,
    alpha: float = 0.025,
    margin: float | None = None,
) -> HypothesisTest:
    """Two readings of the same clustered findings: difference of proportions (new - comparator).

    The difference of the two proportions of correct readings with the ratio-estimator
    variance of :func:`validation.stats.clustered.clustered_paired_difference` (Obuchowski
    1998), tested by :func:`normal_test` (Wald z). With one finding per patient use Tango's score
    test (:func:`proportion_difference_test`), which holds its level better in small samples.

    Parameters
    ----------
    success_new, success_comparator : bool arrays of shape (N,)
        Correct reading per finding (called positive among reference-positive findings for a
        sensitivity; called negative among reference-negative findings for a specificity).
    cluster : array of shape (N,)
        Patient of each finding.
    type : {"noninferiority", "superiority", "equivalence"}
    alpha : float
        One-sided level.
    margin : float
        Positive margin (non-inferiority, equivalence).

    References
    ----------
    Obuchowski (1998) doi:10.1002/(SICI)1097-0258(19980715)17:13<1495::AID-SIM863>3.0.CO;2-I;
    Rao and Scott (1992) doi:10.2307/2532311.
    """
    from validation.stats.clustered import (
        OBUCHOWSKI_1998,
        RAO_SCOTT_1992,
        clustered_paired_difference,
    )

    kind = check_choice(type, "type", COMPARISON_TYPES)
    diff, var, n_cl, _ = clustered_paired_difference(success_new, success_comparator, cluster)
    if not var > 0.0:
        raise InputError(
            "the two readings agree on every finding (or differ by the same amount in every "
            f"cluster of the {n_cl}); the variance of the difference is zero and no test is "
            "defined."
        )
    return normal_test(diff, math.sqrt(var), type=kind, alpha=alpha, margin=margin,
                       test="clustered paired Wald z test (ratio-estimator variance)",
                       references=(OBUCHOWSKI_1998, RAO_SCOTT_1992))


def auc_goal_test(
    truth: Any, score: Any, goal: float, *, alpha: float = 0.025
) -> HypothesisTest:
    """An AUC against a performance goal: ``H0: AUC <= goal`` with the DeLong standard error.

    References
    ----------
    DeLong et al. (1988) doi:10.2307/2531595.
    """
    from validation.stats.roc import auc_ci

    res = auc_ci(truth, score, alpha=2 * check_one_sided_alpha(alpha))
    return normal_test(res.estimate, res.se, type="performance_goal", goal=goal, alpha=alpha,
                       test="DeLong z test against the goal", references=(REF_DELONG_1988,))


# --------------------------------------------------------------------------- proportions


def proportion_difference_test(
    counts: dict[str, int],
    *,
    design: str,
    type: str,
    alpha: float = 0.025,
    margin: float | None = None,
    ci: str | None = None,
) -> HypothesisTest:
    """Non-inferiority, superiority or equivalence of two proportions (new minus comparator).

    Paired data (``counts`` with ``a, b, c, d``) use Tango's score test and, by default, Tango's
    interval; unpaired data (``x1, n1, x2, n2``) the Farrington-Manning score test and, by
    default, Mee's score interval. The decision follows the test's p-value; the two-sided
    ``1 - 2 alpha`` interval is reported beside it. The default intervals invert the tests, so
    the bound and the p-value agree; with another interval (``newcombe``, or ``mn`` with its
    ``N / (N - 1)`` factor) they can disagree near the margin, and the reason says that the
    decision follows the test.

    Parameters
    ----------
    counts : dict
        ``{"a", "b", "c", "d"}`` (paired) or ``{"x1", "n1", "x2", "n2"}`` (unpaired).
    design : {"paired", "unpaired"}
    type : {"noninferiority", "superiority", "equivalence"}
    alpha : float
        One-sided level.
    margin : float
        Positive margin (non-inferiority, equivalence).
    ci : str, optional
        ``tango``/``newcombe`` (paired) or ``mee``/``mn``/``newcombe`` (unpaired).

    Returns
    -------
    HypothesisTest

    References
    ----------
    Tango (1998); Farrington and Manning (1990); Miettinen and Nurminen (1985) (see
    :mod:`validation.stats.differences`).
    """
    kind = check_choice(type, "type", COMPARISON_TYPES)
    des = check_choice(design, "design", ("paired", "unpaired"))
    alpha = check_one_sided_alpha(alpha)
    need = ("a", "b", "c", "d") if des == "paired" else ("x1", "n1", "x2", "n2")
    if not isinstance(counts, dict) or set(counts) != set(need):
        got = sorted(counts) if isinstance(counts, dict) else counts
        raise InputError(
            f"'counts' must hold exactly {', '.join(need)} for {des} data; got {got!r}."
        )
    if kind == "superiority" and margin:
        raise InputError(
            f"a superiority margin ({margin!r}) is not supported for a difference of two "
            "proportions; test superiority against 0 (omit 'margin'), or non-inferiority."
        )
    m = dif.check_margin(margin) if kind != "superiority" else 0.0  # type: ignore[arg-type]
    if des == "paired":
        method = ci or "tango"
        res = dif.paired_difference(*(counts[k] for k in need), ci=method, alpha=2 * alpha)
        tfun: Any = dif.tango_test
        args = tuple(counts[k] for k in need)
    else:
        method = ci or "mee"
        res = dif.unpaired_difference(*(counts[k] for k in need), ci=method, alpha=2 * alpha)
        tfun = dif.farrington_manning_test
        args = tuple(counts[k] for k in need)
    if kind == "superiority":
        t = tfun(*args, margin=0.0, superiority=True)
        stat, p = t.statistic, t.p_value
        null = 0.0
    elif kind == "noninferiority":
        t = tfun(*args, margin=m)
        stat, p = t.statistic, t.p_value
        null = -m
    else:
        lower = tfun(*args, margin=m)
        # upper one-sided test H0: theta >= margin, by symmetry (swap the groups)
        if des == "paired":
            a, b, c, d = args
            upper = tfun(a, c, b, d, margin=m)
        else:
            x1, n1, x2, n2 = args
            upper = tfun(x2, n2, x1, n1, margin=m)
        if lower.p_value >= upper.p_value:
            stat, p = lower.statistic, lower.p_value
        else:
            stat, p = -upper.statistic, upper.p_value
        null = -m
        t = lower
    decision, reason = _decide(kind=kind, estimate=res.estimate, ci=res.ci, p=p, alpha=alpha,
                               null_value=null, margin=m if kind != "superiority" else None,
                               goal=None)
    if _bound_disagrees(kind, res.ci, null, m, decision):
        reason += (f"; the {res.method} does not invert the {t.method}, and the decision "
                   "follows the test")
    test = f"{t.method} with {res.method}"
    refs = tuple(dict.fromkeys(res.references + t.references
                               + ((REF_SCHUIRMANN_1987,) if kind == "equivalence" else ())))
    return HypothesisTest(
        type=kind, test=test, estimate=res.estimate, ci=res.ci, confidence=1 - 2 * alpha,
        margin=m if kind != "superiority" else None, goal=None, null_value=null,
        statistic=stat, df=None, p_value=p, alpha=alpha, decision=decision, reason=reason,
        method=test, references=refs,
    )
