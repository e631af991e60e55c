"""Dorfman-Berbaum-Metz analysis of jackknife pseudovalues (with Hillis ddf).

Pseudovalues ``Y_ijk = c theta_ij - (c - 1) theta_ij(k)`` (``theta_ij(k)``: figure of merit
with case ``k`` left out) are analysed as a modality x reader x case ANOVA, modality fixed,
readers and cases random (Dorfman, Berbaum and Metz 1992). Tests:

* RRRC: ``F = MS(T) / [MS(TR) + max(MS(TC) - MS(TRC), 0)]`` on ``t-1`` and
  ``ddf_H = [MS(TR) + max(MS(TC) - MS(TRC), 0)]^2 / {MS(TR)^2 / [(t-1)(r-1)]}`` df
  (Hillis 2007; Hillis, Berbaum and Metz 2008);
* FRRC: ``F = MS(T) / MS(TC)`` on ``t-1`` and ``(t-1)(c-1)`` df;
* RRFC: ``F = MS(T) / MS(TR)`` on ``t-1`` and ``(t-1)(r-1)`` df.

With jackknife covariances, the RRRC result equals the Obuchowski-Rockette one exactly
(Hillis et al. 2005), and the DBM variance components map onto the OR ones:
``var = (s2_c + s2_tc + s2_rc + s2_err)/c``, ``cov1 = (s2_c + s2_rc)/c``,
``cov2 = (s2_c + s2_tc)/c``, ``cov3 = s2_c/c``.

References
----------
1. Dorfman DD, Berbaum KS, Metz CE (1992). Receiver operating characteristic rating analysis:
   generalization to the population of readers and patients with the jackknife method.
   Invest Radiol 27(9):723-731. doi:10.1097/00004424-199209000-00015
2. Hillis SL (2007). A comparison of denominator degrees of freedom methods for multiple
   observer ROC analysis. Stat Med 26(3):596-619. doi:10.1002/sim.2532
3. Hillis SL, Berbaum KS, Metz CE (2008). Recent developments in the Dorfman-Berbaum-Metz
   procedure for multireader ROC study analysis. Acad Radiol 15(5):647-661.
   doi:10.1016/j.acra.2007.12.015
4. Hillis SL, Obuchowski NA, Schartz KM, Berbaum KS (2005). Stat Med 24(10):1579-1607.
   doi:10.1002/sim.2024
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from validation.errors import InputError
from validation.stats._checks import check_alpha
from validation.stats._result import Result
from validation.stats.mrmc.or_analysis import (
    MRMCTest,
    NonInferiority,
    VarianceComponents,
    f_sf,
    noninferiority_test,
)

DBM_REFERENCES = (
    "Dorfman DD, Berbaum KS, Metz CE (1992). Invest Radiol 27(9):723-731. "
    "doi:10.1097/00004424-199209000-00015",
    "Hillis SL (2007). Stat Med 26(3):596-619. doi:10.1002/sim.2532",
    "Hillis SL, Berbaum KS, Metz CE (2008). Acad Radiol 15(5):647-661. "
    "doi:10.1016/j.acra.2007.12.015",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DBMComponents(Result):
    """DBM pseudovalue ANOVA: mean squares and variance components (may be negative)."""

    ms_t: float
    ms_r: float
    ms_c: float
    ms_tr: float
    ms_tc: float
    ms_rc: float
    ms_trc: float
    var_r: float
    var_c: float
    var_tr: float
    var_tc: float
    var_rc: float
    var_trc_error: float
    method: str = "DBM pseudovalue ANOVA estimates"
    references: tuple[str, ...] = DBM_REFERENCES


@dataclass(frozen=True, slots=True, kw_only=True)
class DBMAnalysis(Result):
    """DBM analysis: the three generalisations and the OR-equivalent variance components.

    ``estimate`` is the difference of the modality means, second minus first (``None`` with
    more than two modalities); the test statistics are ``rrrc.statistic`` and so on.
    """

    modality_means: tuple[float, ...]
    estimate: float | None
    rrrc: MRMCTest
    frrc: MRMCTest
    rrfc: MRMCTest
    dbm_components: DBMComponents
    variance_components: VarianceComponents
    noninferiority: NonInferiority | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = "Dorfman-Berbaum-Metz jackknife pseudovalues with Hillis (2007) ddf"
    references: tuple[str, ...] = DBM_REFERENCES


def pseudovalues(fom: NDArray[np.float64], jackknife: NDArray[np.float64]) -> NDArray[np.float64]:
    """Jackknife pseudovalues ``c*fom - (c-1)*jackknife`` of shape (t, r, c).

    ``fom`` has shape (t, r); ``jackknife`` (t*r, c) or (t, r, c).
    """
    fom = np.asarray(fom, dtype=np.float64)
    t, r = fom.shape
    jk = np.asarray(jackknife, dtype=np.float64).reshape(t, r, -1)
    c = jk.shape[2]
    return c * fom[:, :, None] - (c - 1) * jk


def dbm_analysis(
    pseudo: NDArray[np.float64], *, alpha: float = 0.05, margin: float | None = None
) -> DBMAnalysis:
    """Dorfman-Berbaum-Metz analysis of pseudovalues of shape (t, r, c).

    Parameters
    ----------
    pseudo : array (t, r, c) of jackknife pseudovalues, t >= 2, r >= 2, c >= 2.
    alpha : two-sided level of the intervals (one-sided level of the non-inferiority test).
    margin : positive non-inferiority margin for the difference second minus first.

    Returns
    -------
    DBMAnalysis
    """
    y = np.asarray(pseudo, dtype=np.float64)
    alpha = check_alpha(alpha)
    if y.ndim != 3 or min(y.shape) < 2:
        raise InputError(f"'pseudo' must have shape (t, r, c), each >= 2; got {y.shape}.")
    if not np.isfinite(y).all():
        raise InputError("'pseudo' must be finite.")
    t, r, c = y.shape
    g = y.mean()
    m_i = y.mean(axis=(1, 2))
    m_j = y.mean(axis=(0, 2))
    m_k = y.mean(axis=(0, 1))
    m_ij = y.mean(axis=2)
    m_ik = y.mean(axis=1)
    m_jk = y.mean(axis=0)
    ms_t = r * c * float(((m_i - g) ** 2).sum()) / (t - 1)
    ms_r = t * c * float(((m_j - g) ** 2).sum()) / (r - 1)
    ms_c = t * r * float(((m_k - g) ** 2).sum()) / (c - 1)
    ms_tr = c * float(((m_ij - m_i[:, None] - m_j[None, :] + g) ** 2).sum()) / ((t - 1) * (r - 1))
    ms_tc = r * float(((m_ik - m_i[:, None] - m_k[None, :] + g) ** 2).sum()) / ((t - 1) * (c - 1))
    ms_rc = t * float(((m_jk - m_j[:, None] - m_k[None, :] + g) ** 2).sum()) / ((r - 1) * (c - 1))
    resid = (y - m_ij[:, :, None] - m_ik[:, None, :] - m_jk[None, :, :]
             + m_i[:, None, None] + m_j[None, :, None] + m_k[None, None, :] - g)
    ms_trc = float((resid**2).sum()) / ((t - 1) * (r - 1) * (c - 1))

    s_trc = ms_trc
    s_tc = (ms_tc - ms_trc) / r
    s_rc = (ms_rc - ms_trc) / t
    s_c = (ms_c - ms_tc - ms_rc + ms_trc) / (t * r)
    s_tr = (ms_tr - ms_trc) / c
    s_r = (ms_r - ms_tr - ms_rc + ms_trc) / (t * c)
    comps = DBMComponents(ms_t=ms_t, ms_r=ms_r, ms_c=ms_c, ms_tr=ms_tr, ms_tc=ms_tc,
                          ms_rc=ms_rc, ms_trc=ms_trc, var_r=s_r, var_c=s_c, var_tr=s_tr,
                          var_tc=s_tc, var_rc=s_rc, var_trc_error=s_trc)
    vc = VarianceComponents(
        var=(s_c + s_tc + s_rc + s_trc) / c, cov1=(s_c + s_rc) / c, cov2=(s_c + s_tc) / c,
        cov3=s_c / c, var_r=s_r, var_tr=s_tr, ms_t=ms_t / c, ms_r=ms_r / c, ms_tr=ms_tr / c,
        n_readers=r, n_cases=c, method="OR components from the DBM ANOVA (Hillis et al. 2005)",
    )

    notes: list[str] = []
    extra = ms_tc - ms_trc
    if extra < 0:
        notes.append(f"MS(TC) - MS(TRC) = {extra:.6g} < 0: replaced by 0 in the RRRC error "
                     "term (Hillis 2007); ddf_H then equals (t-1)(r-1).")
    means = m_ij.mean(axis=1)
    diff = float(means[1] - means[0]) if t == 2 else None
    df1 = float(t - 1)
    dfe = float((t - 1) * (r - 1))

    def _test(ms_den: float, ddf: float, name: str) -> MRMCTest:
        f = ms_t / ms_den if ms_den > 0 else (np.inf if ms_t > 0 else 0.0)
        p = f_sf(f, df1, ddf)
        ci = se = None
        if diff is not None:
            se = float(np.sqrt(2.0 * ms_den / (r * c)))
            q = stats.t.ppf(1 - alpha / 2, ddf) if np.isfinite(ddf) else stats.norm.ppf(
                1 - alpha / 2)
            ci = (diff - q * se, diff + q * se)
        return MRMCTest(statistic=float(f), df_num=df1, df_den=float(ddf), p_value=p, ci=ci,
                        se=se, distribution="F", method=name, references=DBM_REFERENCES)

    den = ms_tr + max(extra, 0.0)
    if den <= 0:
        notes.append("the RRRC error term MS(TR) + max(MS(TC) - MS(TRC), 0) is 0: the RRRC "
                     "test is degenerate (statistic infinite); do not use it for inference.")
    ddf_h = den**2 / (ms_tr**2 / dfe) if ms_tr > 0 else np.inf
    rrrc = _test(den, ddf_h, "DBM random readers, random cases; F test with Hillis ddf_H")
    frrc = _test(ms_tc, float((t - 1) * (c - 1)),
                 "DBM fixed readers, random cases; F = MS(T)/MS(TC)")
    rrfc = _test(ms_tr, dfe, "DBM random readers, fixed cases; F = MS(T)/MS(TR)")
    ni = None
    if margin is not None:
        if diff is None:
            raise InputError(f"'margin' needs exactly two modalities; got {t}.")
        if not (np.isfinite(margin) and margin > 0):
            raise InputError(f"'margin' must be a positive number; got {margin!r}.")
        se_rrrc = float(np.sqrt(2.0 * den / (r * c)))
        ni = noninferiority_test(diff, se_rrrc, ddf_h, margin=float(margin), alpha=alpha)
    return DBMAnalysis(modality_means=tuple(float(x) for x in means), estimate=diff,
                       rrrc=rrrc, frrc=frrc, rrfc=rrfc, dbm_components=comps,
                       variance_components=vc, noninferiority=ni, notes=tuple(notes))
