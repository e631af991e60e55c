"""Cox proportional-hazards model of a risk score (or of risk groups) with the PH check.

The model ``h(t | x) = h0(t) exp(beta' x)`` is fitted by statsmodels ``PHReg`` with Efron's
handling of tied event times (R ``coxph``'s default) [1]_, [2]_. Hazard ratios are
``exp(beta)`` with Wald intervals ``exp(beta +/- z se)`` and Wald p-values.

The proportional-hazards check is the score test of R ``survival::cox.zph`` (version 3) [3]_,
[4]_: with ``beta`` held at its estimate, the model is extended by the time-varying terms
``gamma' x g(t)`` and the score test of ``gamma = 0`` is computed exactly. With
``U_t = sum_{deaths at t} x - sum_k xbar_k(t)`` and ``V_t = sum_k V_k(t)`` (Efron's ``k``
sub-steps of a tie), ``U_gamma = sum_t g(t) U_t`` and the information blocks are
``I_bb = sum V_t``, ``I_bg = sum g V_t``, ``I_gg = sum g^2 V_t``; the statistic of a term is
``U' (I_gg - I_gb I_bb^-1 I_bg)^-1 U`` over the term's columns (chi-square, df = columns), the
global test over all. ``transform="km"`` (default) takes ``g(t) = 1 - S(t-)``, one minus the
left-continuous Kaplan-Meier estimate of all subjects; ``"rank"`` the rank of the event time
among all follow-up times (ties averaged); ``"identity"`` the time itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice, check_scores
from validation.stats._result import Result
from validation.stats.concordance import check_survival
from validation.stats.survival import group_codes

COX_1972 = (
    "Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220. "
    "doi:10.1111/j.2517-6161.1972.tb00899.x"
)
EFRON_1977 = (
    "Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc "
    "1977;72:557-565. doi:10.1080/01621459.1977.10480613"
)
GRAMBSCH_1994 = (
    "Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on weighted "
    "residuals. Biometrika 1994;81:515-526. doi:10.1093/biomet/81.3.515"
)
TRANSFORMS = ("km", "rank", "identity")


@dataclass(frozen=True, slots=True, kw_only=True)
class HazardRatio(Result):
    """One term of a Cox model: hazard ratio ``estimate`` = exp(``log_hr``), Wald interval."""

    term: str
    estimate: float
    log_hr: float
    se: float
    ci: tuple[float, float]
    statistic: float
    p_value: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PHTest(Result):
    """Score test of proportional hazards for one term (or ``GLOBAL``)."""

    term: str
    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CoxResult(Result):
    """Cox model hazard ratios with the proportional-hazards check of each term."""

    hazard_ratios: tuple[HazardRatio, ...]
    ph_tests: tuple[PHTest, ...]
    transform: str
    loglik: float
    n: int
    n_events: int
    reference_group: str | None
    method: str
    references: tuple[str, ...]


def _efron_pieces(
    t: NDArray[np.float64], e: NDArray[np.bool_], x: NDArray[np.float64], beta: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Distinct event times, per-time score ``U_t`` (m, p) and information ``V_t`` (m, p, p)."""
    eta = x @ beta
    w = np.exp(eta - eta.max())
    order = np.argsort(-t, kind="stable")
    ts, ws, xs = t[order], w[order], x[order]
    # risk-set sums over time >= u: cumulative sums from the longest time down
    s0 = np.cumsum(ws)
    s1 = np.cumsum(ws[:, None] * xs, axis=0)
    s2 = np.cumsum(ws[:, None, None] * xs[:, :, None] * xs[:, None, :], axis=0)
    times = np.unique(t[e])
    m, p = times.size, x.shape[1]
    u_t = np.zeros((m, p))
    v_t = np.zeros((m, p, p))
    for j, u in enumerate(times):
        last = np.searchsorted(-ts, -u, side="right") - 1  # last index with time >= u
        dead = (t == u) & e
        d = int(dead.sum())
        wd, xd = w[dead], x[dead]
        d0, d1 = wd.sum(), wd @ xd
        d2 = np.einsum("i,ij,ik->jk", wd, xd, xd)
        u_t[j] = xd.sum(0)
        for k in range(d):
            f = k / d
            a0 = s0[last] - f * d0
            mean = (s1[last] - f * d1) / a0
            u_t[j] -= mean
            v_t[j] += (s2[last] - f * d2) / a0 - np.outer(mean, mean)
    return times, u_t, v_t


def _g(
    times: NDArray[np.float64], t: NDArray[np.float64], e: NDArray[np.bool_], transform: str
) -> NDArray[np.float64]:
    if transform == "identity":
        return times.astype(np.float64)
    if transform == "rank":  # rank of the time among all follow-up times, ties averaged (R rank())
        st = np.sort(t)
        lo, hi = np.searchsorted(st, times, side="left"), np.searchsorted(st, times, side="right")
        return (lo + 1 + hi) / 2.0
    u, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=e, minlength=u.size)
    n = t.size - np.concatenate(([0], np.cumsum(np.bincount(inv, minlength=u.size))[:-1]))
    surv = np.cumprod(1.0 - d / n)
    left = np.concatenate(([1.0], surv[:-1]))  # S(t-)
    return 1.0 - left[np.searchsorted(u, times)]


def ph_score_tests(
    t: NDArray[np.float64],
    e: NDArray[np.bool_],
    x: NDArray[np.float64],
    beta: NDArray[np.float64],
    terms: dict[str, list[int]],
    transform: str,
) -> tuple[PHTest, ...]:
    """R ``cox.zph`` score tests of each term and the global test (module docstring)."""
    times, u_t, v_t = _efron_pieces(t, e, x, beta)
    g = _g(times, t, e, transform)
    g = g - g.mean()  # centring changes nothing at the estimate, but steadies the arithmetic
    u = g @ u_t
    i_bb = v_t.sum(0)
    i_bg = np.einsum("t,tjk->jk", g, v_t)
    i_gg = np.einsum("t,tjk->jk", g * g, v_t)
    eff = i_gg - i_bg.T @ np.linalg.solve(i_bb, i_bg)
    out = []
    for name, cols in [*terms.items(), ("GLOBAL", list(range(x.shape[1])))]:
        sub = np.ix_(cols, cols)
        stat = float(u[cols] @ np.linalg.solve(eff[sub], u[cols]))
        out.append(PHTest(term=name, statistic=stat, df=len(cols), p_value=float(sps.chi2.sf(stat, len(cols)))))
    return tuple(out)


def _cox(t: NDArray[np.float64], e: NDArray[np.bool_], x: NDArray[np.float64], names: list[str],
         terms: dict[str, list[int]], ref: str | None, alpha: float, transform: str) -> CoxResult:
    import warnings

    import statsmodels.api as sm

    if np.any(x.std(axis=0) == 0.0):
        raise InputError("'score' must vary across subjects; a constant score has no hazard ratio.")
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            fit = sm.PHReg(t, x, status=e.astype(np.float64), ties="efron").fit()
            beta = np.asarray(fit.params, dtype=np.float64)
            se = np.asarray(fit.bse, dtype=np.float64)
        except np.linalg.LinAlgError:
            beta = se = np.full(x.shape[1], np.nan)
    if caught or not (np.all(np.isfinite(beta)) and np.all(np.isfinite(se)) and np.all(se > 0)):
        raise InputError(
            "The Cox model did not converge to a finite estimate (monotone likelihood: the score or "
            "the groups order the events perfectly, or a group has no events); merge sparse groups "
            "or report the Kaplan-Meier curves and the C-index."
        )
    z = float(sps.norm.ppf(1.0 - alpha / 2.0))
    hrs = tuple(
        HazardRatio(
            term=nm, estimate=float(np.exp(b)), log_hr=float(b), se=float(s),
            ci=(float(np.exp(b - z * s)), float(np.exp(b + z * s))), statistic=float(b / s),
            p_value=float(2.0 * sps.norm.sf(abs(b / s))),
        )
        for nm, b, s in zip(names, beta, se, strict=True)
    )
    try:
        ph = ph_score_tests(t, e, x, beta, terms, transform)
    except np.linalg.LinAlgError:
        raise InputError(
            "The proportional-hazards test has a singular information matrix (too few distinct "
            "event times); report the hazard ratio with the Kaplan-Meier curves."
        ) from None
    return CoxResult(
        hazard_ratios=hrs, ph_tests=ph, transform=transform,
        loglik=float(fit.llf), n=int(t.size), n_events=int(e.sum()), reference_group=ref,
        method=f"Cox model (statsmodels PHReg, Efron ties), Wald intervals; PH score test "
        f"(cox.zph, transform {transform})",
        references=(COX_1972, EFRON_1977, GRAMBSCH_1994),
    )


_COX_NOTES = """

    Notes
    -----
    Wald intervals need about ten events per coefficient. A small PH-test p-value means the
    hazard ratio changes over follow-up: report it with the Kaplan-Meier curves rather than as
    one number. The PH test is the score test of R survival 3.x, not the older approximation.
    A perfect ordering of the events by the covariate (monotone likelihood) is an InputError.

    References
    ----------
    .. [1] Cox DR. J R Stat Soc B 1972;34:187-220. doi:10.1111/j.2517-6161.1972.tb00899.x
    .. [2] Efron B. J Am Stat Assoc 1977;72:557-565. doi:10.1080/01621459.1977.10480613
    .. [3] Grambsch PM, Therneau TM. Biometrika 1994;81:515-526. doi:10.1093/biomet/81.3.515
    .. [4] Therneau TM, Grambsch PM. Modeling Survival Data. 2000. doi:10.1007/978-1-4757-3294-8
    """


def cox_hazard_ratio(
    time: Any, event: Any, score: Any, *, alpha: float = 0.05, transform: str = "km"
) -> CoxResult:
    """Cox model hazard ratio per unit of a risk score, with the proportional-hazards check.

    ``H0`` of the Wald test: ``HR = 1``; of the PH test: the hazard ratio is constant over
    time (module docstring).

    Parameters
    ----------
    time, event : array_like of shape (n,)
        Follow-up time (>= 0) and event indicator; at least one event.
    score : array_like of shape (n,)
        The risk score (one continuous term).
    alpha : float
        Two-sided level of the intervals.
    transform : {"km", "rank", "identity"}
        Time scale ``g(t)`` of the PH test (R ``cox.zph``'s ``transform``).

    Returns
    -------
    CoxResult
    """
    a = check_alpha(alpha)
    tr = check_choice(transform, "transform", TRANSFORMS)
    t, e = check_survival(time, event)
    x = check_scores(score, t.size)[:, None]
    return _cox(t, e, x, ["score"], {"score": [0]}, None, a, tr)


def cox_group_hazard_ratios(time: Any, event: Any, group: Any, *, order: Any = None, alpha: float = 0.05,
                            transform: str = "km") -> CoxResult:
    """Cox model hazard ratios of risk groups against the first group, with the PH check.

    One indicator per group but the reference (the first of ``order``); the PH test of the
    term ``group`` has ``groups - 1`` df.

    Parameters
    ----------
    time, event : array_like of shape (n,)
        Follow-up time (>= 0) and event indicator; at least one event.
    group : array_like of shape (n,)
        Risk group of each subject; at least two groups.
    order : sequence of str, optional
        Group order; the first is the reference (default: sorted labels).
    alpha : float
    transform : {"km", "rank", "identity"}

    Returns
    -------
    CoxResult
    """
    a = check_alpha(alpha)
    tr = check_choice(transform, "transform", TRANSFORMS)
    t, e = check_survival(time, event)
    codes, levels = group_codes(group, t.size, order)
    x = np.column_stack([(codes == k).astype(np.float64) for k in range(1, len(levels))])
    names = [f"{lv} vs {levels[0]}" for lv in levels[1:]]
    return _cox(t, e, x, names, {"group": list(range(len(names)))}, levels[0], a, tr)


cox_hazard_ratio.__doc__ = (cox_hazard_ratio.__doc__ or "").rstrip() + _COX_NOTES
cox_group_hazard_ratios.__doc__ = (cox_group_hazard_ratios.__doc__ or "").rstrip() + _COX_NOTES
