"""Power and sample size of a future MRMC study from pilot OR variance components.

Hillis, Obuchowski and Berbaum (2011): take the pilot's Obuchowski-Rockette components
(``var_tr``, ``var``, ``cov1``, ``cov2``, ``cov3`` from ``K*`` pilot cases), scale the
case-sampling terms to ``K`` cases by ``K*/K``, and use the non-central F distribution of the
RRRC statistic for ``J`` readers and two modalities:

* ``D = max(var_tr, 0) + (K*/K) [var - cov1 + (J-1) max(cov2 - cov3, 0)]``,
* non-centrality ``lambda = J d^2 / (2 D)`` for an effect size ``d`` (difference of mean AUCs),
* ``ddf_H = D^2 / {[max(var_tr, 0) + (K*/K)(var - cov1 - max(cov2 - cov3, 0))]^2 / (J-1)}``,
* power ``= P(F(1, ddf_H; lambda) > F_{1-alpha}(1, ddf_H))``.

FRRC uses ``D = (K*/K)[var - cov1 + (J-1) max(cov2 - cov3, 0)]`` with a chi-square test;
RRFC uses ``D = max(var_tr, 0) + (K*/K)(var - cov1 - max(cov2 - cov3, 0))`` on ``J-1`` df.

References
----------
1. Hillis SL, Obuchowski NA, Berbaum KS (2011). Power estimation for multireader ROC methods:
   an updated and unified approach. Acad Radiol 18(2):129-142.
   doi:10.1016/j.acra.2010.09.007
2. Hillis SL, Berbaum KS (2004). Power estimation for the Dorfman-Berbaum-Metz method.
   Acad Radiol 11(11):1260-1273. doi:10.1016/j.acra.2004.08.009
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice, check_count
from validation.stats._result import Result

SS_REFERENCES = (
    "Hillis SL, Obuchowski NA, Berbaum KS (2011). Acad Radiol 18(2):129-142. "
    "doi:10.1016/j.acra.2010.09.007",
)
ANALYSES = ("rrrc", "frrc", "rrfc")


@dataclass(frozen=True, slots=True, kw_only=True)
class MRMCPower(Result):
    """Power of a two-modality MRMC study with ``n_readers`` readers and ``n_cases`` cases."""

    power: float
    n_readers: int
    n_cases: int
    effect: float
    alpha: float
    analysis: str
    noncentrality: float
    df_num: float
    df_den: float | None
    critical_value: float
    method: str = "Hillis, Obuchowski and Berbaum (2011) OR power"
    references: tuple[str, ...] = SS_REFERENCES


@dataclass(frozen=True, slots=True, kw_only=True)
class MRMCSampleSize(Result):
    """Smallest number of cases reaching the target power for a given number of readers."""

    n_cases: int
    n_readers: int
    power: float
    target_power: float
    achieved: MRMCPower
    method: str = "Hillis, Obuchowski and Berbaum (2011) OR sample size"
    references: tuple[str, ...] = SS_REFERENCES


def _num(x: float, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be a number; got {x!r}.") from None
    if not np.isfinite(v):
        raise InputError(f"'{name}' must be finite; got {x!r}.")
    return v


def mrmc_power(
    *,
    effect: float,
    n_readers: int,
    n_cases: int,
    var_tr: float,
    var: float,
    cov1: float,
    cov2: float,
    cov3: float,
    pilot_cases: int,
    alpha: float = 0.05,
    analysis: str = "rrrc",
) -> MRMCPower:
    """Power of the two-sided OR test of equal AUCs (two modalities) for a future study.

    Parameters
    ----------
    effect : anticipated difference of mean figures of merit (sign irrelevant), non-zero.
    n_readers, n_cases : the planned study (``J >= 2``, ``K >= 2``).
    var_tr, var, cov1, cov2, cov3 : pilot OR components (e.g. ``MRMCResult.variance_components``).
    pilot_cases : number of cases ``K*`` behind the pilot covariances.
    alpha : two-sided level; analysis : "rrrc", "frrc" or "rrfc".

    Returns
    -------
    MRMCPower

    Examples
    --------
    >>> p = mrmc_power(effect=0.05, n_readers=6, n_cases=200, var_tr=2e-4, var=8e-4,
    ...                cov1=3.5e-4, cov2=3.4e-4, cov3=2.4e-4, pilot_cases=114)
    >>> 0 < p.power < 1
    True
    """
    alpha = check_alpha(alpha)
    check_choice(analysis, "analysis", ANALYSES)
    d = _num(effect, "effect")
    if d == 0:
        raise InputError("'effect' must be non-zero; got 0.")
    j = check_count(n_readers, "n_readers", minimum=2)
    k = check_count(n_cases, "n_cases", minimum=2)
    ks = check_count(pilot_cases, "pilot_cases", minimum=2)
    vtr = max(_num(var_tr, "var_tr"), 0.0)
    v, c1 = _num(var, "var"), _num(cov1, "cov1")
    c23 = max(_num(cov2, "cov2") - _num(cov3, "cov3"), 0.0)
    scale = ks / k
    if analysis == "rrrc":
        den = vtr + scale * (v - c1 + (j - 1) * c23)
        tr_part = vtr + scale * (v - c1 - c23)
        ddf = den**2 / (tr_part**2 / (j - 1)) if tr_part > 0 else np.inf
    elif analysis == "frrc":
        den = scale * (v - c1 + (j - 1) * c23)
        ddf = np.inf
    else:
        den = vtr + scale * (v - c1 - c23)
        ddf = float(j - 1)
    if den <= 0:
        raise InputError("the pilot components give a non-positive error term "
                         f"({den!r}); check var, cov1, cov2, cov3 and var_tr.")
    ncp = j * d * d / (2.0 * den)
    if np.isfinite(ddf):
        crit = float(stats.f.ppf(1 - alpha, 1, ddf))
        power = float(stats.ncf.sf(crit, 1, ddf, ncp))
    else:
        crit = float(stats.chi2.ppf(1 - alpha, 1))
        power = float(stats.ncx2.sf(crit, 1, ncp))
    return MRMCPower(power=power, n_readers=j, n_cases=k, effect=abs(d), alpha=alpha,
                     analysis=analysis, noncentrality=float(ncp), df_num=1.0,
                     df_den=float(ddf) if np.isfinite(ddf) else None, critical_value=crit)


def mrmc_sample_size(
    *,
    effect: float,
    n_readers: int,
    var_tr: float,
    var: float,
    cov1: float,
    cov2: float,
    cov3: float,
    pilot_cases: int,
    power: float = 0.8,
    alpha: float = 0.05,
    analysis: str = "rrrc",
    max_cases: int = 5_000,
) -> MRMCSampleSize:
    """Smallest number of cases giving at least ``power`` with ``n_readers`` readers.

    The search runs upward from 2 cases and stops at the first that reaches the target.
    (With random readers power is not monotone in the number of cases for very few readers:
    ``ddf_H`` falls towards ``J - 1`` as cases are added, so a scan, not a bisection.) Raises
    :class:`InputError` when no number of cases up to ``max_cases`` suffices: add readers.

    Returns
    -------
    MRMCSampleSize
    """
    target = check_alpha(power, "power")
    common = dict(effect=effect, n_readers=n_readers, var_tr=var_tr, var=var, cov1=cov1,
                  cov2=cov2, cov3=cov3, pilot_cases=pilot_cases, alpha=alpha,
                  analysis=analysis)
    hi = check_count(max_cases, "max_cases", minimum=2)
    mrmc_power(n_cases=hi, **common)  # type: ignore[arg-type]  # validates every input
    ks = np.arange(2, hi + 1)
    powers = mrmc_power_curve(ks, **common)  # type: ignore[arg-type]
    reached = np.flatnonzero(powers >= target)
    if reached.size:
        got = mrmc_power(n_cases=int(ks[reached[0]]), **common)  # type: ignore[arg-type]
        return MRMCSampleSize(n_cases=got.n_cases, n_readers=int(n_readers), power=got.power,
                              target_power=target, achieved=got)
    raise InputError(
        f"'n_readers' = {n_readers} cannot reach power {target} with up to {hi} cases; "
        "add readers or revisit the effect size."
    )


def mrmc_power_curve(
    ks: np.ndarray, *, effect: float, n_readers: int, var_tr: float, var: float, cov1: float,
    cov2: float, cov3: float, pilot_cases: int, alpha: float, analysis: str,
) -> np.ndarray:
    """Vectorised power over numbers of cases ``ks`` (inputs already validated by
    :func:`mrmc_power`; sample-size planning evaluates it at many study sizes)."""
    j = int(n_readers)
    vtr = max(float(var_tr), 0.0)
    c23 = max(float(cov2) - float(cov3), 0.0)
    scale = float(pilot_cases) / ks
    d2 = float(effect) ** 2
    if analysis == "frrc":
        den = scale * (var - cov1 + (j - 1) * c23)
        return stats.ncx2.sf(stats.chi2.ppf(1 - alpha, 1), 1, j * d2 / (2 * den))
    if analysis == "rrfc":
        den = vtr + scale * (var - cov1 - c23)
        ddf = np.full(ks.shape, float(j - 1))
    else:
        den = vtr + scale * (var - cov1 + (j - 1) * c23)
        tr_part = vtr + scale * (var - cov1 - c23)
        ddf = den**2 / (tr_part**2 / (j - 1))
    crit = stats.f.ppf(1 - alpha, 1, ddf)
    return stats.ncf.sf(crit, 1, ddf, j * d2 / (2 * den))
