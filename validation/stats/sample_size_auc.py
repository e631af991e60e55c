"""Sample size of an AUC against a fixed value, or of two AUCs on the same cases.

Binormal variance function of Obuchowski (1994; Obuchowski and McClish 1997) or the
exponential approximation of Hanley and McNeil (1982). Re-exported by
:mod:`validation.stats.sample_size`.
"""

from __future__ import annotations

import math
from typing import Any

from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats._sample_size_common import (
    _N_MAX,
    REF_HANLEY_MCNEIL_1982,
    REF_OBUCHOWSKI_1994,
    REF_OBUCHOWSKI_1998,
    REF_OBUCHOWSKI_MCCLISH_1997,
    SampleSizeResult,
    _ceil,
    _inflate,
    _power,
    _prob,
)
from validation.stats.differences import check_margin


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
