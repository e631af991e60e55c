"""Obuchowski-Rockette analysis of a fully crossed multi-reader multi-case study.

Model (Obuchowski and Rockette 1995): reader ``j``'s figure of merit in modality ``i`` is
``theta_ij = mu + tau_i + R_j + (tau R)_ij + e_ij``, with random readers ``R_j`` (variance
``var_r``), reader-by-modality effects (``var_tr``) and case-sampling errors ``e_ij`` whose
covariance has four distinct values: ``var`` (same reader, same modality), ``cov1`` (same
reader, different modality), ``cov2`` (different reader, same modality) and ``cov3``
(different reader, different modality). With mean squares ``MS(T)``, ``MS(R)`` and ``MS(TR)`` of
the ``t x r`` table of figures of merit:

* random readers and random cases (RRRC, Hillis 2007; Hillis, Berbaum and Metz 2008):
  ``F = MS(T) / [MS(TR) + r max(cov2 - cov3, 0)]`` on ``t - 1`` and
  ``ddf_H = [MS(TR) + r max(cov2 - cov3, 0)]^2 / {MS(TR)^2 / [(t-1)(r-1)]}`` df;
* fixed readers, random cases (FRRC): ``X2 = (t-1) MS(T) / [var - cov1 + (r-1) max(cov2 -
  cov3, 0)]`` on ``t - 1`` df (chi-square);
* random readers, fixed cases (RRFC): ``F = MS(T) / MS(TR)`` on ``t-1`` and ``(t-1)(r-1)`` df.

H0: all modalities have the same mean figure of merit. For two modalities each test has a
matching confidence interval for the difference (second minus first). A negative
``cov2 - cov3`` is replaced by 0, as Hillis prescribes, and noted in the result; the variance
components ``var_r`` and ``var_tr`` are ANOVA estimates and may be negative (reported as they
are, as OR-DBM MRMC does).

References
----------
1. Obuchowski NA, Rockette HE (1995). Hypothesis testing of diagnostic accuracy for multiple
   readers and multiple tests: an ANOVA approach with dependent observations. Commun Stat
   Simul Comput 24(2):285-308. doi:10.1080/03610919508813243
2. Hillis SL (2007). A comparison of denominator degrees of freedom methods for multiple
   observer ROC analysis. Stat Med 26(3):596-619. doi:10.1002/sim.2532
3. Hillis SL, Berbaum KS, Metz CE (2008). Recent developments in the Dorfman-Berbaum-Metz
   procedure for multireader ROC study analysis. Acad Radiol 15(5):647-661.
   doi:10.1016/j.acra.2007.12.015
4. Hillis SL, Obuchowski NA, Schartz KM, Berbaum KS (2005). A comparison of the
   Dorfman-Berbaum-Metz and Obuchowski-Rockette methods for receiver operating characteristic
   (ROC) data. Stat Med 24(10):1579-1607. doi:10.1002/sim.2024
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from validation.errors import InputError
from validation.stats._checks import check_alpha
from validation.stats._result import Result

OR_REFERENCES = (
    "Obuchowski NA, Rockette HE (1995). Commun Stat Simul Comput 24(2):285-308. "
    "doi:10.1080/03610919508813243",
    "Hillis SL (2007). Stat Med 26(3):596-619. doi:10.1002/sim.2532",
    "Hillis SL, Berbaum KS, Metz CE (2008). Acad Radiol 15(5):647-661. "
    "doi:10.1016/j.acra.2007.12.015",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class MRMCTest(Result):
    """One generalisation (RRRC, FRRC or RRFC): global test and CI of the difference.

    ``df_den`` is ``None`` for the chi-square test of FRRC; ``ci`` and ``se`` are for the
    difference (second minus first modality) and are ``None`` with more than two modalities.
    """

    statistic: float
    df_num: float
    df_den: float | None
    p_value: float
    ci: tuple[float, float] | None
    se: float | None
    distribution: str
    method: str
    references: tuple[str, ...] = OR_REFERENCES


@dataclass(frozen=True, slots=True, kw_only=True)
class VarianceComponents(Result):
    """Obuchowski-Rockette variance components and error covariances (ANOVA estimates)."""

    var: float
    cov1: float
    cov2: float
    cov3: float
    var_r: float
    var_tr: float
    ms_t: float
    ms_r: float
    ms_tr: float
    n_readers: int
    n_cases: int
    method: str = "Obuchowski-Rockette ANOVA estimates"
    references: tuple[str, ...] = OR_REFERENCES


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleModality(Result):
    """A modality's mean figure of merit over readers, with the RRRC single-treatment CI."""

    estimate: float
    readers: dict[str, float]
    se: float
    df: float
    ci: tuple[float, float]
    method: str = "OR single-treatment RRRC interval (Hillis 2007, ddf_H_single)"
    references: tuple[str, ...] = OR_REFERENCES


@dataclass(frozen=True, slots=True, kw_only=True)
class NonInferiority(Result):
    """One-sided tests of the difference (second minus first) under RRRC, with ddf_H.

    Non-inferiority: H0 ``difference <= -margin`` vs H1 ``difference > -margin``,
    ``statistic = (difference + margin) / se``. Superiority: H0 ``difference <= 0``.
    ``lower_bound`` is the one-sided ``1 - alpha`` lower confidence bound of the difference.
    """

    margin: float
    estimate: float
    se: float
    df: float
    statistic: float
    p_value: float
    lower_bound: float
    alpha: float
    noninferior: bool
    superiority_statistic: float
    superiority_p_value: float
    superior: bool
    method: str = "one-sided t test, OR RRRC standard error, Hillis ddf"
    references: tuple[str, ...] = OR_REFERENCES


@dataclass(frozen=True, slots=True, kw_only=True)
class ORAnalysis(Result):
    """Obuchowski-Rockette analysis of a ``t x r`` table of figures of merit.

    ``estimate`` is the difference of the modality means, second minus first (``None`` with
    more than two modalities); the test statistics are ``rrrc.statistic`` and so on.
    """

    fom: tuple[tuple[float, ...], ...]
    modality_means: tuple[float, ...]
    estimate: float | None
    rrrc: MRMCTest
    frrc: MRMCTest
    rrfc: MRMCTest
    variance_components: VarianceComponents
    single: tuple[SingleModality, ...]
    noninferiority: NonInferiority | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = "Obuchowski-Rockette with Hillis (2007) denominator degrees of freedom"
    references: tuple[str, ...] = OR_REFERENCES


def f_sf(f: float, df1: float, df2: float) -> float:
    """Upper tail of F(df1, df2); ``df2 = inf`` is the chi-square limit, ``f = inf`` gives 0."""
    if not np.isfinite(f):
        return 0.0
    if not np.isfinite(df2):
        return float(stats.chi2.sf(f * df1, df1))
    return float(stats.f.sf(f, df1, df2))


def or_components(fom: NDArray[np.float64], cov: NDArray[np.float64]) -> dict[str, float]:
    """Mean squares and averaged covariances of a ``(t, r)`` table and its covariance.

    ``cov`` is indexed ``i*r + j`` (modality ``i``, reader ``j``).
    """
    t, r = fom.shape
    mod = np.repeat(np.arange(t), r)
    rdr = np.tile(np.arange(r), t)
    same_m = mod[:, None] == mod[None, :]
    same_r = rdr[:, None] == rdr[None, :]
    var = float(np.mean(np.diag(cov)))
    cov1 = float(cov[~same_m & same_r].mean()) if t > 1 else 0.0
    cov2 = float(cov[same_m & ~same_r].mean()) if r > 1 else 0.0
    cov3 = float(cov[~same_m & ~same_r].mean()) if t > 1 and r > 1 else 0.0
    grand = fom.mean()
    mi = fom.mean(axis=1)
    mj = fom.mean(axis=0)
    ms_t = r * float(((mi - grand) ** 2).sum()) / (t - 1) if t > 1 else 0.0
    ms_r = t * float(((mj - grand) ** 2).sum()) / (r - 1) if r > 1 else 0.0
    resid = fom - mi[:, None] - mj[None, :] + grand
    ms_tr = float((resid**2).sum()) / ((t - 1) * (r - 1)) if t > 1 and r > 1 else 0.0
    return {"var": var, "cov1": cov1, "cov2": cov2, "cov3": cov3,
            "ms_t": ms_t, "ms_r": ms_r, "ms_tr": ms_tr}


def or_analysis(
    fom: NDArray[np.float64],
    cov: NDArray[np.float64],
    *,
    n_cases: int,
    reader_labels: tuple[str, ...] | None = None,
    alpha: float = 0.05,
    margin: float | None = None,
    clip_unit: bool = True,
) -> ORAnalysis:
    """Obuchowski-Rockette RRRC, FRRC and RRFC analyses (Hillis df) from figures of merit.

    Parameters
    ----------
    fom : array of shape (t, r), t >= 2 modalities, r >= 2 readers.
    cov : array of shape (t*r, t*r), the case-sampling covariance of ``fom.ravel()``
        (see :func:`~validation.stats.mrmc.covariance.fom_covariance`).
    n_cases : number of cases behind the covariance (reported only).
    reader_labels : names of the readers, for the per-modality reader maps.
    alpha : two-sided level of the confidence intervals (and one-sided level of the
        non-inferiority test).
    margin : non-inferiority margin (positive) for the difference second minus first;
        only with two modalities.
    clip_unit : truncate the single-modality intervals to [0, 1] (figures of merit that are
        probabilities: AUC, sensitivity, specificity), as MRMCaov does. Intervals for the
        difference are never truncated.

    Returns
    -------
    ORAnalysis

    Notes
    -----
    ``ddf_H`` is at least ``(t-1)(r-1)``; with ``MS(TR) = 0`` (identical reader differences)
    the RRRC and RRFC statistics are infinite and the p-values 0. A negative ``cov2 - cov3``
    is truncated at 0 in the RRRC and FRRC denominators (Hillis 2007).

    Examples
    --------
    >>> import numpy as np
    >>> fom = np.array([[0.80, 0.85, 0.83], [0.86, 0.90, 0.87]])
    >>> res = or_analysis(fom, np.eye(6) * 4e-4, n_cases=100)
    >>> round(res.estimate, 4)
    0.05
    """
    fom = np.asarray(fom, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    alpha = check_alpha(alpha)
    if fom.ndim != 2 or fom.shape[0] < 2 or fom.shape[1] < 2:
        raise InputError(f"'fom' must have shape (t, r) with t >= 2 and r >= 2; got {fom.shape}.")
    t, r = fom.shape
    if cov.shape != (t * r, t * r):
        raise InputError(f"'cov' must have shape ({t * r}, {t * r}); got {cov.shape}.")
    if not (np.isfinite(fom).all() and np.isfinite(cov).all()):
        raise InputError("'fom' and 'cov' must be finite.")
    if margin is not None:
        if t != 2:
            raise InputError("'margin' needs exactly two modalities; got "
                             f"{t}. Select two with 'modalities'.")
        if not (np.isfinite(margin) and margin > 0):
            raise InputError(f"'margin' must be a positive number; got {margin!r}.")
    labels = reader_labels or tuple(str(j + 1) for j in range(r))
    if len(labels) != r:
        raise InputError(f"'reader_labels' must have {r} names; got {len(labels)}.")

    comp = or_components(fom, cov)
    var, cov1, cov2, cov3 = comp["var"], comp["cov1"], comp["cov2"], comp["cov3"]
    ms_t, ms_r, ms_tr = comp["ms_t"], comp["ms_r"], comp["ms_tr"]
    notes: list[str] = []
    c23 = cov2 - cov3
    c23p = max(c23, 0.0)
    if c23 < 0:
        notes.append(
            f"cov2 - cov3 = {c23:.6g} < 0: replaced by 0 in the RRRC and FRRC error terms "
            "(Hillis 2007); ddf_H then equals (t-1)(r-1)."
        )
    var_tr = ms_tr - var + cov1 + cov2 - cov3
    var_r = (ms_r - var_tr - var - (t - 1) * cov1 + cov2 + (t - 1) * cov3) / t
    for name, value in (("var_r", var_r), ("var_tr", var_tr)):
        if value < 0:
            notes.append(f"{name} = {value:.6g} < 0: an ANOVA estimate, reported as is; "
                         "use max(0, .) when planning a study.")

    if ms_tr + r * c23p <= 0:
        notes.append(
            "the RRRC error term MS(TR) + r max(cov2 - cov3, 0) is 0 (every reader shows the "
            "same difference and cov2 <= cov3): the RRRC test is degenerate (statistic "
            "infinite, zero-width interval); do not use it for inference."
        )
    if ms_tr <= 0:
        notes.append("MS(TR) = 0: the RRFC test is degenerate (statistic infinite).")
    means = fom.mean(axis=1)
    diff = float(means[1] - means[0]) if t == 2 else None
    df1 = float(t - 1)
    dfe = float((t - 1) * (r - 1))

    # RRRC
    den = ms_tr + r * c23p
    ddf = den**2 / (ms_tr**2 / dfe) if ms_tr > 0 else np.inf
    f = ms_t / den if den > 0 else (np.inf if ms_t > 0 else 0.0)
    p = f_sf(f, df1, ddf)
    rrrc_ci, rrrc_se = None, None
    if diff is not None:
        rrrc_se = float(np.sqrt(2.0 / r * den))
        q = stats.t.ppf(1 - alpha / 2, ddf) if np.isfinite(ddf) else stats.norm.ppf(1 - alpha / 2)
        rrrc_ci = (diff - q * rrrc_se, diff + q * rrrc_se)
    rrrc = MRMCTest(statistic=f, df_num=df1, df_den=ddf, p_value=p, ci=rrrc_ci, se=rrrc_se,
                    distribution="F",
                    method="OR random readers, random cases; F test with Hillis ddf_H")

    # FRRC
    den_f = var - cov1 + (r - 1) * c23p
    x2 = df1 * ms_t / den_f if den_f > 0 else (np.inf if ms_t > 0 else 0.0)
    p_f = float(stats.chi2.sf(x2, df1)) if np.isfinite(x2) else 0.0
    frrc_ci, frrc_se = None, None
    if diff is not None:
        frrc_se = float(np.sqrt(2.0 / r * den_f))
        z = stats.norm.ppf(1 - alpha / 2)
        frrc_ci = (diff - z * frrc_se, diff + z * frrc_se)
    frrc = MRMCTest(statistic=x2, df_num=df1, df_den=None, p_value=p_f, ci=frrc_ci,
                    se=frrc_se, distribution="chi2",
                    method="OR fixed readers, random cases; chi-square test")

    # RRFC
    f_c = ms_t / ms_tr if ms_tr > 0 else (np.inf if ms_t > 0 else 0.0)
    p_c = f_sf(f_c, df1, dfe)
    rrfc_ci, rrfc_se = None, None
    if diff is not None:
        rrfc_se = float(np.sqrt(2.0 / r * ms_tr))
        q = stats.t.ppf(1 - alpha / 2, dfe)
        rrfc_ci = (diff - q * rrfc_se, diff + q * rrfc_se)
    rrfc = MRMCTest(statistic=f_c, df_num=df1, df_den=dfe, p_value=p_c, ci=rrfc_ci,
                    se=rrfc_se, distribution="F",
                    method="OR random readers, fixed cases; F test on (t-1)(r-1) df")

    # single-modality RRRC intervals (OR-DBM MRMC part c, Hillis 2007 ddf_H_single)
    single = []
    for i in range(t):
        sub = cov[i * r:(i + 1) * r, i * r:(i + 1) * r]
        c2 = float(sub[~np.eye(r, dtype=bool)].mean())
        msr_i = float(np.var(fom[i], ddof=1))
        den_i = msr_i + r * max(c2, 0.0)
        se_i = float(np.sqrt(den_i / r))
        df_i = den_i**2 / (msr_i**2 / (r - 1)) if msr_i > 0 else np.inf
        q = stats.t.ppf(1 - alpha / 2, df_i) if np.isfinite(df_i) else stats.norm.ppf(1 - alpha / 2)
        est = float(means[i])
        lo, hi = est - q * se_i, est + q * se_i
        if clip_unit:
            lo, hi = max(lo, 0.0), min(hi, 1.0)
        single.append(SingleModality(
            estimate=est, readers={labels[j]: float(fom[i, j]) for j in range(r)},
            se=se_i, df=float(df_i), ci=(float(lo), float(hi))))

    ni = None
    if margin is not None and diff is not None and rrrc_se is not None:
        ni = noninferiority_test(diff, rrrc_se, float(ddf), margin=float(margin), alpha=alpha)

    vc = VarianceComponents(var=var, cov1=cov1, cov2=cov2, cov3=cov3, var_r=float(var_r),
                            var_tr=float(var_tr), ms_t=ms_t, ms_r=ms_r, ms_tr=ms_tr,
                            n_readers=r, n_cases=int(n_cases))
    return ORAnalysis(
        fom=tuple(tuple(float(x) for x in row) for row in fom),
        modality_means=tuple(float(x) for x in means), estimate=diff,
        rrrc=rrrc, frrc=frrc, rrfc=rrfc, variance_components=vc, single=tuple(single),
        noninferiority=ni, notes=tuple(notes),
    )


def noninferiority_test(
    difference: float, se: float, df: float, *, margin: float, alpha: float = 0.05
) -> NonInferiority:
    """One-sided non-inferiority (``difference > -margin``) and superiority tests.

    Parameters
    ----------
    difference : estimate of new minus reference.
    se : its standard error; df : its degrees of freedom (``inf`` for a normal reference).
    margin : positive non-inferiority margin; alpha : one-sided level.
    """
    alpha = check_alpha(alpha)
    if not (np.isfinite(margin) and margin > 0):
        raise InputError(f"'margin' must be a positive number; got {margin!r}.")
    if not (np.isfinite(se) and se > 0):
        raise InputError(f"'se' must be a positive number; got {se!r}.")
    dist = stats.t(df) if np.isfinite(df) else stats.norm()
    stat = (difference + margin) / se
    p = float(dist.sf(stat))
    sup = difference / se
    p_sup = float(dist.sf(sup))
    lower = difference - float(dist.ppf(1 - alpha)) * se
    return NonInferiority(
        margin=float(margin), estimate=float(difference), se=float(se), df=float(df),
        statistic=float(stat), p_value=p, lower_bound=float(lower), alpha=alpha,
        noninferior=bool(p < alpha), superiority_statistic=float(sup),
        superiority_p_value=p_sup, superior=bool(p_sup < alpha),
    )
