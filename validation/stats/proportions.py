"""Binomial proportions: sensitivity, specificity, PPV, NPV and accuracy with intervals.

Intervals (``method``):

* ``wilson`` -- Wilson (1927) score interval, the default;
* ``exact`` -- Clopper and Pearson (1934) interval from Beta quantiles;
* ``jeffreys`` -- equal-tailed Jeffreys interval (Beta(1/2, 1/2) prior), with the lower bound
  set to 0 when ``x = 0`` and the upper bound to 1 when ``x = n`` as Brown, Cai and
  DasGupta (2001) recommend;
* ``agresti-coull`` -- Agresti and Coull (1998) adjusted Wald interval, clipped to [0, 1].

The interval arithmetic is statsmodels' ``proportion_confint`` (which agrees with R's
``binom.test``/``prop.test`` to 12+ digits); this module adds the boundary conventions, the
diagnostic-accuracy table and a cluster-adjusted interval for several findings per patient.

References
----------
1. Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
   Journal of the American Statistical Association 22(158):209-212.
   doi:10.1080/01621459.1927.10502953
2. Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the
   case of the binomial. Biometrika 26(4):404-413. doi:10.1093/biomet/26.4.404
3. Brown LD, Cai TT, DasGupta A (2001). Interval estimation for a binomial proportion.
   Statistical Science 16(2):101-133. doi:10.1214/ss/1009213286
4. Agresti A, Coull BA (1998). Approximate is better than "exact" for interval estimation of
   binomial proportions. The American Statistician 52(2):119-126.
   doi:10.1080/00031305.1998.10480550
5. Rao JNK, Scott AJ (1992). A simple method for the analysis of clustered binary data.
   Biometrics 48(2):577-585. doi:10.2307/2532311
6. Obuchowski NA (1998). On the comparison of correlated proportions for clustered data.
   Statistics in Medicine 17(13):1495-1507.
7. Korn EL, Graubard BI (1998). Confidence intervals for proportions with small expected
   number of positive counts estimated from survey data. Survey Methodology 24(2):193-201.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._checks import (
    check_alpha,
    check_binary_truth,
    check_choice,
    check_count,
    check_two_classes,
)
from validation.stats._result import Result
from validation.stats.clustered import (
    KORN_GRAUBARD_1998,
    OBUCHOWSKI_1998,
    RAO_SCOTT_1992,
    cluster_codes,
    ratio_estimator_variance,
)

WILSON_1927 = (
    "Wilson EB (1927). Probable inference, the law of succession, and statistical inference. "
    "Journal of the American Statistical Association 22(158):209-212. "
    "doi:10.1080/01621459.1927.10502953"
)
CLOPPER_PEARSON_1934 = (
    "Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the "
    "case of the binomial. Biometrika 26(4):404-413. doi:10.1093/biomet/26.4.404"
)
BROWN_CAI_DASGUPTA_2001 = (
    "Brown LD, Cai TT, DasGupta A (2001). Interval estimation for a binomial proportion. "
    "Statistical Science 16(2):101-133. doi:10.1214/ss/1009213286"
)
AGRESTI_COULL_1998 = (
    'Agresti A, Coull BA (1998). Approximate is better than "exact" for interval estimation of '
    "binomial proportions. The American Statistician 52(2):119-126. "
    "doi:10.1080/00031305.1998.10480550"
)

CI_METHODS = ("wilson", "exact", "jeffreys", "agresti-coull")
_STATSMODELS = {
    "wilson": "wilson",
    "exact": "beta",
    "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull",
}
_REFERENCES = {
    "wilson": (WILSON_1927, BROWN_CAI_DASGUPTA_2001),
    "exact": (CLOPPER_PEARSON_1934,),
    "jeffreys": (BROWN_CAI_DASGUPTA_2001,),
    "agresti-coull": (AGRESTI_COULL_1998, BROWN_CAI_DASGUPTA_2001),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ProportionResult(Result):
    """A proportion ``successes / n`` with its ``1 - alpha`` interval.

    For a cluster-adjusted interval, ``se`` is the ratio-estimator standard error,
    ``design_effect`` the (truncated) design effect, ``effective_n`` the sample size the
    interval was computed with (``n / design_effect``) and ``n_clusters`` the number of
    clusters that contribute.
    """

    estimate: float
    ci: tuple[float, float]
    successes: int
    n: int
    alpha: float
    method: str
    references: tuple[str, ...]
    se: float | None = None
    design_effect: float | None = None
    effective_n: float | None = None
    n_clusters: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfusionMatrix(Result):
    """The 2x2 table of reference standard against the binary call."""

    tp: int
    fp: int
    fn: int
    tn: int
    n: int
    method: str = "confusion-matrix"
    references: tuple[str, ...] = ()

    @property
    def n_positive(self) -> int:
        return self.tp + self.fn

    @property
    def n_negative(self) -> int:
        return self.fp + self.tn


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagnosticAccuracy(Result):
    """Sensitivity, specificity, PPV, NPV and accuracy, each with its interval.

    ``ppv`` (``npv``) is ``None`` when no case was called positive (negative): the proportion
    has no denominator. ``method`` names the interval (with ``-clustered`` when a cluster
    adjustment was made).
    """

    sensitivity: ProportionResult
    specificity: ProportionResult
    ppv: ProportionResult | None
    npv: ProportionResult | None
    accuracy: ProportionResult
    confusion: ConfusionMatrix
    alpha: float
    method: str
    references: tuple[str, ...]
    n_clusters: int | None = None


def _interval(x: float, n: float, method: str, alpha: float) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(x, n, alpha=alpha, method=_STATSMODELS[method])
    lo = min(max(float(lo), 0.0), 1.0)
    hi = min(max(float(hi), 0.0), 1.0)
    # Exact boundary values: the Wilson and Clopper-Pearson bounds are 0 at x = 0 and 1 at
    # x = n (statsmodels can be 1e-16 off); for Jeffreys this is the Brown-Cai-DasGupta rule.
    if x <= 0:
        lo = 0.0
    if x >= n:
        hi = 1.0
    return lo, hi


def proportion_ci(
    successes: int, n: int, *, method: str = "wilson", alpha: float = 0.05
) -> ProportionResult:
    """Binomial proportion with a confidence interval.

    Parameters
    ----------
    successes : int, 0 <= successes <= n
    n : int, >= 1
    method : {"wilson", "exact", "jeffreys", "agresti-coull"}
        ``exact`` is Clopper-Pearson.
    alpha : float
        The interval has coverage ``1 - alpha`` (two-sided, equal tails).

    Returns
    -------
    ProportionResult

    Notes
    -----
    For 0/n the lower bound is exactly 0 and for n/n the upper bound exactly 1 under every
    method. Wilson and Jeffreys have close to nominal average coverage; Clopper-Pearson is
    conservative; Agresti-Coull is slightly conservative for small n (Brown et al. 2001).

    References
    ----------
    Wilson (1927) doi:10.1080/01621459.1927.10502953; Clopper and Pearson (1934)
    doi:10.1093/biomet/26.4.404; Brown et al. (2001) doi:10.1214/ss/1009213286; Agresti and
    Coull (1998) doi:10.1080/00031305.1998.10480550.

    Examples
    --------
    >>> r = proportion_ci(92, 100)
    >>> [round(v, 4) for v in r.ci]
    [0.85, 0.9589]
    """
    check_choice(method, "method", CI_METHODS)
    a = check_alpha(alpha)
    nn = check_count(n, "n", minimum=1)
    x = check_count(successes, "successes", minimum=0)
    if x > nn:
        raise InputError(f"'successes' must be at most n ({nn}); got {successes!r}.")
    return ProportionResult(
        estimate=x / nn,
        ci=_interval(x, nn, method, a),
        successes=x,
        n=nn,
        alpha=a,
        method=method,
        references=_REFERENCES[method],
    )


def clustered_proportion_ci(
    outcome: Any, cluster: Any, *, method: str = "wilson", alpha: float = 0.05
) -> ProportionResult:
    """Proportion over findings with an interval adjusted for clustering within patients.

    The proportion is the ratio estimator :math:`\\hat p = \\sum_c x_c / \\sum_c n_c` over
    clusters ``c`` (patients) with ``x_c`` successes among ``n_c`` findings. Its variance is the
    ratio-estimator variance of Rao and Scott (1992), used for clustered sensitivity and
    specificity by Obuchowski (1998):

    .. math:: \\widehat{\\operatorname{var}}(\\hat p) = \\frac{I}{I-1}
              \\sum_c (x_c - \\hat p\\, n_c)^2 / N^2 .

    The design effect :math:`d = \\widehat{\\operatorname{var}}(\\hat p) / (\\hat p(1-\\hat p)/N)`
    is truncated below at 1 (Korn and Graubard 1998) and the chosen binomial interval is
    computed with the effective sample size :math:`N/d` and :math:`\\hat p N/d` successes
    (the Rao-Scott effective-sample-size adjustment). When :math:`\\hat p` is 0 or 1 the
    variance carries no information on the correlation and ``d = 1``.

    Parameters
    ----------
    outcome : array of shape (n,), 0/1, one entry per finding in the denominator
    cluster : array of shape (n,), the patient (or site) of each finding
    method : {"wilson", "exact", "jeffreys", "agresti-coull"}
    alpha : float

    Returns
    -------
    ProportionResult
        ``method`` is ``"{method}-clustered"``; ``se``, ``design_effect``, ``effective_n`` and
        ``n_clusters`` are set.

    References
    ----------
    Rao and Scott (1992) doi:10.2307/2532311; Obuchowski (1998) Stat Med 17:1495-1507;
    Korn and Graubard (1998) Survey Methodology 24:193-201.
    """
    check_choice(method, "method", CI_METHODS)
    a = check_alpha(alpha)
    y = check_binary_truth(outcome, name="outcome").astype(np.float64)
    codes, k = cluster_codes(cluster, y.size)
    x_c = np.bincount(codes, weights=y, minlength=k).astype(np.float64)
    n_c = np.bincount(codes, minlength=k).astype(np.float64)
    var, deff = ratio_estimator_variance(x_c, n_c)
    big_n = int(y.size)
    x = int(round(float(y.sum())))
    p = x / big_n
    d = 1.0 if not np.isfinite(deff) else max(1.0, deff)
    n_eff = big_n / d
    return ProportionResult(
        estimate=p,
        ci=_interval(p * n_eff, n_eff, method, a),
        successes=x,
        n=big_n,
        alpha=a,
        method=f"{method}-clustered",
        references=(*_REFERENCES[method], RAO_SCOTT_1992, OBUCHOWSKI_1998, KORN_GRAUBARD_1998),
        se=float(np.sqrt(var)),
        design_effect=d,
        effective_n=n_eff,
        n_clusters=int(np.count_nonzero(n_c)),
    )


def confusion_matrix(truth: Any, called_positive: Any) -> ConfusionMatrix:
    """2x2 table of the reference standard against the binary call.

    Parameters
    ----------
    truth : array of shape (n,), 0/1 (1 = positive by the reference standard)
    called_positive : array of shape (n,), 0/1 or bool (1 = the device calls positive)

    Returns
    -------
    ConfusionMatrix
    """
    t, c = _truth_and_calls(truth, called_positive)
    tp = int(np.count_nonzero(t & c))
    fp = int(np.count_nonzero(~t & c))
    fn = int(np.count_nonzero(t & ~c))
    return ConfusionMatrix(tp=tp, fp=fp, fn=fn, tn=int(t.size) - tp - fp - fn, n=int(t.size))


def _truth_and_calls(truth: Any, called: Any) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    t = check_binary_truth(truth)
    c = check_binary_truth(called, name="called_positive")
    if c.size != t.size:
        raise InputError(
            f"'called_positive' must have the same length as truth ({t.size}); got {c.size}."
        )
    return t.astype(bool), c.astype(bool)


def diagnostic_accuracy(
    truth: Any,
    called_positive: Any,
    *,
    ci: str = "wilson",
    alpha: float = 0.05,
    cluster: Any = None,
) -> DiagnosticAccuracy:
    """Sensitivity, specificity, PPV, NPV and accuracy with confidence intervals.

    ``sensitivity = TP / (TP + FN)``, ``specificity = TN / (TN + FP)``,
    ``ppv = TP / (TP + FP)``, ``npv = TN / (TN + FN)``, ``accuracy = (TP + TN) / n``.

    Parameters
    ----------
    truth : array of shape (n,), 0/1, both classes present
    called_positive : array of shape (n,), 0/1 or bool
        The device's binary call (e.g. ``score >= threshold``).
    ci : {"wilson", "exact", "jeffreys", "agresti-coull"}
    alpha : float
    cluster : array of shape (n,), optional
        Patient id of each finding when a patient contributes several findings: every
        interval is then cluster-adjusted (:func:`clustered_proportion_ci`).

    Returns
    -------
    DiagnosticAccuracy

    Notes
    -----
    PPV and NPV depend on the prevalence of the test set; they are the study's values, not
    those of the intended-use population. With no positive (negative) calls PPV (NPV) is
    ``None``.

    Examples
    --------
    >>> r = diagnostic_accuracy([1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 1, 0])
    >>> r.sensitivity.successes, r.sensitivity.n
    (2, 3)
    """
    check_choice(ci, "ci", CI_METHODS)
    a = check_alpha(alpha)
    t, c = _truth_and_calls(truth, called_positive)
    check_two_classes(t.astype(np.int8))
    cm = confusion_matrix(t, c)
    codes = None
    n_clusters = None
    if cluster is not None:
        codes, n_clusters = cluster_codes(cluster, t.size)

    def required(mask: NDArray[np.bool_], success: NDArray[np.bool_]) -> ProportionResult:
        if codes is None:
            return proportion_ci(
                int(np.count_nonzero(success[mask])), int(np.count_nonzero(mask)),
                method=ci, alpha=a,
            )
        return clustered_proportion_ci(success[mask], codes[mask], method=ci, alpha=a)

    def one(mask: NDArray[np.bool_], success: NDArray[np.bool_]) -> ProportionResult | None:
        return required(mask, success) if mask.any() else None

    correct = t == c
    sens = required(t, c)
    spec = required(~t, ~c)
    acc = required(np.ones_like(t), correct)
    return DiagnosticAccuracy(
        sensitivity=sens,
        specificity=spec,
        ppv=one(c, t),
        npv=one(~c, ~t),
        accuracy=acc,
        confusion=cm,
        alpha=a,
        method=sens.method,
        references=sens.references,
        n_clusters=n_clusters,
    )
