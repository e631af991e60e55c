"""ROC analysis: empirical AUC with DeLong and clustered intervals, paired and unpaired tests.

Conventions: ``truth`` is 0/1 (1 = positive); a higher ``score`` means more likely positive
(never flipped automatically); ties between a positive and a negative count one half.

All DeLong quantities come from placement values computed with a single sort of the pooled
scores (Sun and Xu 2014): within a run of tied scores, the number of negatives below and
inside the run gives each positive's placement, and likewise for negatives, so the midranks
within each class never need their own sort.

References
----------
1. DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
   correlated receiver operating characteristic curves: a nonparametric approach.
   Biometrics 44(3):837-845. doi:10.2307/2531595
2. Sun X, Xu W (2014). Fast implementation of DeLong's algorithm for comparing the areas under
   correlated receiver operating characteristic curves. IEEE Signal Processing Letters
   21(11):1389-1393. doi:10.1109/LSP.2014.2337313
3. Obuchowski NA (1997). Nonparametric analysis of clustered ROC curve data. Biometrics
   53(2):567-578. doi:10.2307/2533958
4. Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating
   characteristic (ROC) curve. Radiology 143(1):29-36. doi:10.1148/radiology.143.1.7063747
5. Pepe MS (2003). The Statistical Evaluation of Medical Tests for Classification and
   Prediction. Oxford University Press. Section 5.2 (logit-transformed interval for the AUC).
   doi:10.1093/oso/9780198509844.001.0001
6. Robin X, Turck N, Hainard A, et al. (2011). pROC: an open-source package for R and S+ to
   analyze and compare ROC curves. BMC Bioinformatics 12:77. doi:10.1186/1471-2105-12-77
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from validation.errors import InputError
from validation.stats._checks import (
    check_alpha,
    check_alternative,
    check_choice,
    check_count,
    check_roc_inputs,
    check_scores,
)
from validation.stats._result import Result
from validation.stats.clustered import OBUCHOWSKI_1997, cluster_codes, obuchowski_auc_covariance
from validation.stats.placements import case_placements, sorted_placements
from validation.stats.roc_points import (  # noqa: F401  (public names of this module too)
    HANLEY_MCNEIL_1982,
    OperatingPoint,
    ROCCurve,
    operating_point,
    roc_curve_points,
)

DELONG_1988 = (
    "DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more "
    "correlated receiver operating characteristic curves: a nonparametric approach. "
    "Biometrics 44(3):837-845. doi:10.2307/2531595"
)
SUN_XU_2014 = (
    "Sun X, Xu W (2014). Fast implementation of DeLong's algorithm for comparing the areas "
    "under correlated receiver operating characteristic curves. IEEE Signal Processing "
    "Letters 21(11):1389-1393. doi:10.1109/LSP.2014.2337313"
)
PEPE_2003 = (
    "Pepe MS (2003). The Statistical Evaluation of Medical Tests for Classification and "
    "Prediction. Oxford University Press, section 5.2. doi:10.1093/oso/9780198509844.001.0001"
)

ROBIN_2011 = (
    "Robin X, Turck N, Hainard A, et al. (2011). pROC: an open-source package for R and S+ to "
    "analyze and compare ROC curves. BMC Bioinformatics 12:77. doi:10.1186/1471-2105-12-77"
)

AUC_CI_METHODS = ("delong", "logit", "bootstrap")


_prepare = check_roc_inputs


def _need_two_each(n_pos: int, n_neg: int) -> None:
    if n_pos < 2 or n_neg < 2:
        raise InputError(
            "'truth' must hold at least two positive and two negative cases for a DeLong "
            f"variance; got {n_pos} positive and {n_neg} negative."
        )


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AUCResult(Result):
    """Empirical AUC with its standard error and confidence interval.

    ``method`` is one of ``delong``, ``delong-logit``, ``obuchowski-clustered``,
    ``obuchowski-clustered-logit``, ``bootstrap-stratified-percentile`` or
    ``bootstrap-cluster-percentile``. ``n_clusters`` is set for clustered methods,
    ``n_boot`` and ``seed`` for the bootstrap.
    """

    estimate: float
    se: float
    ci: tuple[float, float]
    n_positive: int
    n_negative: int
    alpha: float
    method: str
    references: tuple[str, ...]
    n_clusters: int | None = None
    n_boot: int | None = None
    seed: int | None = None

    @property
    def variance(self) -> float:
        return self.se**2


@dataclass(frozen=True, slots=True, kw_only=True)
class AUCComparison(Result):
    """Test of the difference of two AUCs (``estimate = auc_a - auc_b``).

    ``statistic`` is ``estimate / se`` (a z, or a t when ``df`` is set); ``p_value`` is for ``alternative``
    (two-sided by default); ``ci`` is always the two-sided ``1 - alpha`` interval of the
    difference. ``df`` is set only when the statistic is referred to a t distribution
    (the unpaired test with ``distribution="t-welch"``); otherwise it is standard normal.
    """

    auc_a: float
    auc_b: float
    estimate: float
    se: float
    statistic: float
    p_value: float
    ci: tuple[float, float]
    alternative: str
    alpha: float
    paired: bool
    n_positive: int
    n_negative: int
    method: str
    references: tuple[str, ...]
    se_a: float
    se_b: float
    covariance: float
    n_clusters: int | None = None
    df: float | None = None


# ---------------------------------------------------------------------------------------------
# intervals
# ---------------------------------------------------------------------------------------------


def _wald_interval(estimate: float, se: float, alpha: float) -> tuple[float, float]:
    z = float(ndtri(1.0 - alpha / 2.0))
    lo = max(0.0, estimate - z * se)
    hi = min(1.0, estimate + z * se)
    return lo, hi


def _logit_interval(estimate: float, se: float, alpha: float) -> tuple[float, float]:
    if not (0.0 < estimate < 1.0):
        raise InputError(
            f"the logit interval needs an AUC strictly between 0 and 1; got {estimate!r}. "
            "Use method='bootstrap' (or 'delong') for a perfectly separating score."
        )
    z = float(ndtri(1.0 - alpha / 2.0))
    lg = np.log(estimate / (1.0 - estimate))
    half = z * se / (estimate * (1.0 - estimate))
    lo = 1.0 / (1.0 + np.exp(-(lg - half)))
    hi = 1.0 / (1.0 + np.exp(-(lg + half)))
    return float(lo), float(hi)


def auc_ci(
    truth: Any,
    score: Any,
    *,
    method: str = "delong",
    alpha: float = 0.05,
    cluster: Any = None,
    n_boot: int = 2000,
    seed: int | None = None,
    interval: str = "percentile",
) -> AUCResult:
    """Empirical AUC with a confidence interval.

    The AUC estimates :math:`\\theta = P(X > Y) + \\tfrac12 P(X = Y)` for the score ``X`` of a
    positive and ``Y`` of a negative case (Hanley and McNeil 1982).

    Parameters
    ----------
    truth : array of shape (n,)
        0/1 reference standard (1 = positive).
    score : array of shape (n,)
        Finite scores; higher means more likely positive.
    method : {"delong", "logit", "bootstrap"}
        ``delong``: Wald interval ``AUC +/- z * SE`` with the DeLong (1988) variance, clipped to
        [0, 1] as pROC does. ``logit``: the same SE on the logit scale (delta method,
        Pepe 2003), back-transformed, so the bounds stay inside (0, 1). ``bootstrap``:
        percentile interval of a stratified (by truth) bootstrap, or a cluster bootstrap when
        ``cluster`` is given; see :func:`validation.stats.bootstrap.bootstrap_auc`.
    alpha : float
        Two-sided level: the interval has coverage ``1 - alpha``.
    cluster : array of shape (n,), optional
        Patient (or site) id of each finding when a patient contributes several findings.
        With ``delong`` or ``logit`` the variance is Obuchowski's (1997) clustered variance
        (equal to DeLong's when every cluster holds one finding).
    n_boot : int
        Bootstrap replicates (``method="bootstrap"`` only).
    seed : int, optional
        Seed of the bootstrap; when omitted a fresh one is drawn and recorded in the result.
    interval : {"percentile", "bca"}
        Bootstrap interval type (``method="bootstrap"`` only).

    Returns
    -------
    AUCResult

    Notes
    -----
    DeLong's variance needs at least two cases of each class and, like any Wald interval,
    may under-cover for small samples or an AUC near 1; the logit interval behaves better
    there. A perfectly separating score has DeLong SE 0 and a degenerate interval.

    References
    ----------
    DeLong et al. (1988) doi:10.2307/2531595; Sun and Xu (2014) doi:10.1109/LSP.2014.2337313;
    Obuchowski (1997) doi:10.2307/2533958; Pepe (2003) doi:10.1093/oso/9780198509844.001.0001.

    Examples
    --------
    >>> r = auc_ci([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> round(r.estimate, 4)
    0.8889
    """
    check_choice(method, "method", AUC_CI_METHODS)
    a = check_alpha(alpha)
    pos, s, n_pos, n_neg = _prepare(truth, score)
    if method == "bootstrap":
        from validation.stats.bootstrap import bootstrap_auc

        b = bootstrap_auc(
            pos.astype(np.int8), s, cluster=cluster, n_boot=n_boot, seed=seed, alpha=a,
            interval=interval,
        )
        return AUCResult(
            estimate=b.estimate,
            se=b.se,
            ci=b.ci,
            n_positive=n_pos,
            n_negative=n_neg,
            alpha=a,
            method=b.method,
            references=b.references,
            n_clusters=b.n_clusters,
            n_boot=b.n_boot,
            seed=b.seed,
        )
    check_count(n_boot, "n_boot", minimum=1)
    _need_two_each(n_pos, n_neg)
    if cluster is None:
        _, ps, vals, auc = sorted_placements(pos, s, n_pos, n_neg)
        v10 = vals[ps]
        v01 = vals[~ps]
        var = float(v10.var(ddof=1)) / n_pos + float(v01.var(ddof=1)) / n_neg
        name = "delong"
        refs: tuple[str, ...] = (DELONG_1988, SUN_XU_2014)
        n_clusters = None
    else:
        codes, n_clusters = cluster_codes(cluster, s.size)
        pl, auc = case_placements(pos, s, n_pos, n_neg)
        cov = obuchowski_auc_covariance(pl[None, :], pos, codes, n_clusters, np.array([auc]))
        var = float(cov[0, 0])
        name = "obuchowski-clustered"
        refs = (OBUCHOWSKI_1997, DELONG_1988, SUN_XU_2014)
    se = float(np.sqrt(max(var, 0.0)))
    if method == "logit":
        ci = _logit_interval(auc, se, a)
        name += "-logit"
        refs = (*refs, PEPE_2003)
    else:
        ci = _wald_interval(auc, se, a)
    return AUCResult(
        estimate=auc,
        se=se,
        ci=ci,
        n_positive=n_pos,
        n_negative=n_neg,
        alpha=a,
        method=name,
        references=refs,
        n_clusters=n_clusters,
    )


def _p_value(z: float, alternative: str) -> float:
    if alternative == "two-sided":
        return float(2.0 * ndtr(-abs(z)))
    if alternative == "greater":
        return float(ndtr(-z))
    return float(ndtr(z))


def compare_auc(
    truth: Any,
    score_a: Any,
    score_b: Any,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    cluster: Any = None,
) -> AUCComparison:
    """Paired DeLong test of two scores on the same cases.

    Tests :math:`H_0: \\theta_a = \\theta_b` with
    :math:`z = (\\hat\\theta_a - \\hat\\theta_b) / \\sqrt{V_a + V_b - 2 C_{ab}}`, where the
    variances and the covariance come from the placement values of both scores on the same
    cases (DeLong et al. 1988), or from Obuchowski's (1997) clustered estimator when
    ``cluster`` is given.

    Parameters
    ----------
    truth : array of shape (n,), 0/1
    score_a, score_b : arrays of shape (n,), finite; higher means more likely positive
    alpha : float
        Level of the two-sided ``1 - alpha`` interval of the difference.
    alternative : {"two-sided", "greater", "less"}
        ``greater``: :math:`H_1: \\theta_a > \\theta_b`.
    cluster : array of shape (n,), optional
        Patient id of each finding (several findings per patient).

    Returns
    -------
    AUCComparison
        ``estimate`` = AUC(a) - AUC(b), ``se``, ``statistic`` (z), ``p_value``, ``ci``.

    Notes
    -----
    If the two scores rank every positive-negative pair identically (for instance two scores
    that both separate the classes perfectly) the variance of the difference is zero and the
    test is undefined; this raises :class:`InputError`. R pROC's ``roc.test`` instead reports
    ``z = 0, p = 1`` for that case. The suite refuses on purpose: a p-value of 1 from a test
    whose variance is zero is not evidence of anything, and printed in a report it reads as a
    computed result; the refusal makes the analysis state the two AUCs (and their identity)
    instead.

    References
    ----------
    DeLong et al. (1988) doi:10.2307/2531595; Sun and Xu (2014) doi:10.1109/LSP.2014.2337313;
    Obuchowski (1997) doi:10.2307/2533958.
    """
    a = check_alpha(alpha)
    check_alternative(alternative)
    pos, sa, n_pos, n_neg = _prepare(truth, score_a, name="score_a")
    sb = check_scores(score_b, sa.size, name="score_b")
    _need_two_each(n_pos, n_neg)
    pla, auc_a = case_placements(pos, sa, n_pos, n_neg)
    plb, auc_b = case_placements(pos, sb, n_pos, n_neg)
    n_clusters: int | None = None
    if cluster is None:
        x = np.vstack((pla[pos], plb[pos]))
        y = np.vstack((pla[~pos], plb[~pos]))
        cov = np.cov(x) / n_pos + np.cov(y) / n_neg
        name = "delong-paired"
        refs: tuple[str, ...] = (DELONG_1988, SUN_XU_2014)
    else:
        codes, n_clusters = cluster_codes(cluster, sa.size)
        cov = obuchowski_auc_covariance(
            np.vstack((pla, plb)), pos, codes, n_clusters, np.array([auc_a, auc_b])
        )
        name = "obuchowski-clustered-paired"
        refs = (OBUCHOWSKI_1997, DELONG_1988, SUN_XU_2014)
    var = float(cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1])
    return _comparison(
        auc_a, auc_b, var, float(cov[0, 0]), float(cov[1, 1]), float(cov[0, 1]), a,
        alternative, True, n_pos, n_neg, name, refs, n_clusters,
    )


def _comparison(
    auc_a: float, auc_b: float, var: float, var_a: float, var_b: float, cov_ab: float,
    alpha: float, alternative: str, paired: bool, n_pos: int, n_neg: int, name: str,
    refs: tuple[str, ...], n_clusters: int | None, df: float | None = None,
) -> AUCComparison:
    diff = auc_a - auc_b
    # Round-off can leave a tiny positive variance for identical rankings.
    if not var > 1e-14 * max(var_a + var_b, 1e-300):
        raise InputError(
            "the variance of the AUC difference is zero (the two scores rank every "
            "positive-negative pair the same way); the DeLong test is undefined. "
            "Check that 'score_a' and 'score_b' are different scores."
        )
    se = float(np.sqrt(var))
    z = diff / se
    if df is None:
        zq = float(ndtri(1.0 - alpha / 2.0))
        p = _p_value(z, alternative)
    else:
        from scipy.stats import t as student_t

        zq = float(student_t.ppf(1.0 - alpha / 2.0, df))
        if alternative == "two-sided":
            p = float(2.0 * student_t.sf(abs(z), df))
        elif alternative == "greater":
            p = float(student_t.sf(z, df))
        else:
            p = float(student_t.cdf(z, df))
    return AUCComparison(
        auc_a=auc_a,
        auc_b=auc_b,
        estimate=diff,
        se=se,
        statistic=z,
        p_value=p,
        ci=(diff - zq * se, diff + zq * se),
        alternative=alternative,
        alpha=alpha,
        paired=paired,
        n_positive=n_pos,
        n_negative=n_neg,
        method=name,
        references=refs,
        se_a=float(np.sqrt(max(var_a, 0.0))),
        se_b=float(np.sqrt(max(var_b, 0.0))),
        covariance=cov_ab,
        n_clusters=n_clusters,
        df=df,
    )


def compare_auc_unpaired(
    truth_a: Any,
    score_a: Any,
    truth_b: Any,
    score_b: Any,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    distribution: str = "normal",
) -> AUCComparison:
    """DeLong test of two AUCs from independent samples.

    :math:`z = (\\hat\\theta_a - \\hat\\theta_b) / \\sqrt{V_a + V_b}` with each DeLong variance
    from its own sample (the covariance is zero for independent samples).

    Parameters
    ----------
    truth_a, score_a : arrays of shape (n_a,), sample a
    truth_b, score_b : arrays of shape (n_b,), sample b
    alpha : float
    alternative : {"two-sided", "greater", "less"}
    distribution : {"normal", "t-welch"}
        ``normal``: ``z`` is referred to the standard normal (Hanley and McNeil 1982).
        ``t-welch``: referred to Student's t with Welch-Satterthwaite degrees of freedom
        :math:`(V_a + V_b)^2 / (V_a^2/(N_a - 1) + V_b^2/(N_b - 1))` (``N`` = all cases of a
        sample), as R pROC's ``roc.test(method = "delong", paired = FALSE)`` does; the interval
        then uses the t quantile.

    Returns
    -------
    AUCComparison
        ``n_positive``/``n_negative`` are the totals over both samples.

    Raises
    ------
    InputError
        When both samples' DeLong variances are zero (both scores perfect, or one perfect and
        one constant), before the Welch degrees of freedom are formed (they would be 0/0),
        with either ``distribution``. R pROC returns NaN there; the suite refuses with a
        message about the two independent samples, since no test statistic exists.

    References
    ----------
    DeLong et al. (1988) doi:10.2307/2531595; Robin et al. (2011) doi:10.1186/1471-2105-12-77.
    """
    a = check_alpha(alpha)
    check_alternative(alternative)
    check_choice(distribution, "distribution", ("normal", "t-welch"))
    ra = auc_ci(truth_a, score_a, alpha=a)
    try:
        rb = auc_ci(truth_b, score_b, alpha=a)
    except InputError as exc:
        raise InputError(f"sample b: {exc}") from None
    var_a = ra.se**2
    var_b = rb.se**2
    if not var_a + var_b > 0.0:
        raise InputError(
            "the DeLong variances of both samples are zero (in each sample the score separates "
            "the positive and negative cases perfectly, or one sample is perfect and the other "
            f"constant: AUC {ra.estimate:g} in sample a and {rb.estimate:g} in sample b); the "
            "unpaired test of two independent AUCs is undefined. Report the two AUCs with their "
            "intervals (e.g. auc_ci(..., method='bootstrap')) instead of a test."
        )
    df = None
    name = "delong-unpaired"
    refs: tuple[str, ...] = (DELONG_1988, SUN_XU_2014, HANLEY_MCNEIL_1982)
    if distribution == "t-welch":
        na = ra.n_positive + ra.n_negative
        nb = rb.n_positive + rb.n_negative
        df = (var_a + var_b) ** 2 / (var_a**2 / (na - 1) + var_b**2 / (nb - 1))
        name = "delong-unpaired-welch"
        refs = (*refs, ROBIN_2011)
    return _comparison(
        ra.estimate, rb.estimate, var_a + var_b, var_a, var_b, 0.0, a, alternative, False,
        ra.n_positive + rb.n_positive, ra.n_negative + rb.n_negative, name, refs, None, df,
    )
