"""Agreement of two quantitative measurements: Bland-Altman limits, proportional bias, Lin's
concordance correlation coefficient and intraclass correlations.

* :func:`bland_altman` -- bias and ``1 - alpha`` limits of agreement of ``a - b`` with the
  Bland and Altman (1999) approximate intervals and, beside them, Carkeet's (2015) exact
  intervals of the limits (non-central t);
* :func:`bland_altman_repeated` -- several measurement pairs per subject (Bland and Altman
  2007, true value varying within subject): one-way ANOVA of the differences by subject;
* :func:`proportional_bias` -- least-squares regression of ``a - b`` on ``(a + b) / 2``;
* :func:`lin_ccc` -- Lin's (1989) concordance correlation with the Fisher z interval, as
  ``epiR::epi.ccc`` computes it;
* :func:`icc` -- the six Shrout and Fleiss (1979) forms through ``pingouin.intraclass_corr``.

References
----------
1. Bland JM, Altman DG (1986). Statistical methods for assessing agreement between two methods
   of clinical measurement. Lancet 327(8476):307-310. doi:10.1016/S0140-6736(86)90837-8
2. Bland JM, Altman DG (1999). Measuring agreement in method comparison studies. Statistical
   Methods in Medical Research 8(2):135-160. doi:10.1177/096228029900800204
3. Carkeet A (2015). Exact parametric confidence intervals for Bland-Altman limits of
   agreement. Optometry and Vision Science 92(3):e71-e80. doi:10.1097/OPX.0000000000000513
4. Bland JM, Altman DG (2007). Agreement between methods of measurement with multiple
   observations per individual. Journal of Biopharmaceutical Statistics 17(4):571-582.
   doi:10.1080/10543400701329422
5. Lin LI (1989). A concordance correlation coefficient to evaluate reproducibility.
   Biometrics 45(1):255-268. doi:10.2307/2532051
6. Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater reliability.
   Psychological Bulletin 86(2):420-428. doi:10.1037/0033-2909.86.2.420
7. McGraw KO, Wong SP (1996). Forming inferences about some intraclass correlation
   coefficients. Psychological Methods 1(1):30-46. doi:10.1037/1082-989X.1.1.30
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats._result import Result

BLAND_ALTMAN_1986 = "Bland JM, Altman DG (1986). Lancet 327(8476):307-310. doi:10.1016/S0140-6736(86)90837-8"
BLAND_ALTMAN_1999 = "Bland JM, Altman DG (1999). Stat Methods Med Res 8(2):135-160. doi:10.1177/096228029900800204"
CARKEET_2015 = "Carkeet A (2015). Optom Vis Sci 92(3):e71-e80. doi:10.1097/OPX.0000000000000513"
BLAND_ALTMAN_2007 = "Bland JM, Altman DG (2007). J Biopharm Stat 17(4):571-582. doi:10.1080/10543400701329422"
LIN_1989 = "Lin LI (1989). Biometrics 45(1):255-268. doi:10.2307/2532051"
SHROUT_FLEISS_1979 = "Shrout PE, Fleiss JL (1979). Psychol Bull 86(2):420-428. doi:10.1037/0033-2909.86.2.420"
MCGRAW_WONG_1996 = "McGraw KO, Wong SP (1996). Psychol Methods 1(1):30-46. doi:10.1037/1082-989X.1.1.30"

ICC_FORMS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
_PINGOUIN_TYPES = dict(zip(ICC_FORMS, ("ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)"),
                           strict=True))


def _pair(a: Any, b: Any, *, minimum: int = 3) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two finite, aligned 1-D measurement arrays with at least ``minimum`` pairs."""
    out = []
    for name, x in (("a", a), ("b", b)):
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"'{name}' must be numeric measurements; got {x!r}.") from None
        if arr.ndim != 1:
            raise InputError(f"'{name}' must be one-dimensional; got shape {arr.shape}.")
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"'{name}' must hold finite measurements; got {arr[i].item()!r} at position {i}. "
                "Resolve missing measurements before the analysis (they are never dropped)."
            )
        out.append(arr)
    if out[0].size != out[1].size:
        raise InputError(f"'b' must have the same length as 'a' ({out[0].size}); got {out[1].size}.")
    if out[0].size < minimum:
        raise InputError(f"'a' and 'b' must hold at least {minimum} pairs; got {out[0].size}.")
    return out[0], out[1]


# ---------------------------------------------------------------------------------------------
# Bland-Altman
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BlandAltmanResult(Result):
    """Bias and limits of agreement of ``a - b``.

    ``lower``/``upper`` are ``bias -/+ z sd``; ``bias_ci``, ``lower_ci`` and ``upper_ci`` the
    Bland-Altman (1999) ``1 - alpha`` intervals (t quantiles; SE ``sd / sqrt(n)`` for the bias,
    ``sd sqrt(3 / n)`` for a limit); ``lower_ci_exact``/``upper_ci_exact`` Carkeet's (2015)
    exact intervals (non-central t). ``sd`` is the sample standard deviation (ddof 1) of the
    differences, ``z`` the normal quantile the limits use.
    """

    bias: float
    sd: float
    lower: float
    upper: float
    bias_ci: tuple[float, float]
    lower_ci: tuple[float, float]
    upper_ci: tuple[float, float]
    lower_ci_exact: tuple[float, float]
    upper_ci_exact: tuple[float, float]
    z: float
    n: int
    df: int
    alpha: float
    method: str
    references: tuple[str, ...]


def bland_altman(a: Any, b: Any, *, alpha: float = 0.05) -> BlandAltmanResult:
    """Bland-Altman bias and limits of agreement of two paired measurements.

    With ``d = a - b`` (one pair per subject), the bias is ``mean(d)`` and the limits of
    agreement ``bias -/+ z_{1 - alpha/2} sd(d)``: the interval expected to hold ``1 - alpha`` of
    the differences if ``d`` is normal.

    Parameters
    ----------
    a, b : array of shape (n,)
        Paired measurements (e.g. the device and the reference), finite, ``n >= 3``.
    alpha : float
        ``1 - alpha`` is both the coverage of the limits (``z_{1-alpha/2}``, 1.96 for 0.05) and
        the level of their confidence intervals.

    Returns
    -------
    BlandAltmanResult
        ``bias``, ``lower``, ``upper``; ``bias_ci`` = ``bias -/+ t_{n-1} sd / sqrt(n)``;
        ``lower_ci``/``upper_ci`` = ``limit -/+ t_{n-1} sd sqrt(3 / n)`` (Bland and Altman
        1999, section 4.2, whose variance of a limit ``(1/n + z^2 / (2 (n - 1))) sd^2`` is
        approximated by ``3 sd^2 / n``); ``lower_ci_exact``/``upper_ci_exact`` the exact
        intervals of Carkeet (2015): with ``delta = z sqrt(n)``, the upper limit's interval is
        ``mean(d) + sd / sqrt(n) * [t'_{alpha/2}, t'_{1-alpha/2}]`` with ``t'`` the quantiles
        of the non-central t on ``n - 1`` df and non-centrality ``delta`` (mirror image for the
        lower limit).

    Notes
    -----
    The approximate interval is symmetric and too narrow for small ``n`` (it ignores the
    ``z^2 / (2 (n - 1))`` term's exact value and the skewness of ``sd``); Carkeet's intervals
    are exact under normality and asymmetric. Both assume independent pairs with normal
    differences whose mean and spread do not depend on the magnitude (see
    :func:`proportional_bias`); several pairs per subject need
    :func:`bland_altman_repeated`.

    References
    ----------
    1. Bland and Altman (1986) doi:10.1016/S0140-6736(86)90837-8
    2. Bland and Altman (1999) doi:10.1177/096228029900800204
    3. Carkeet (2015) doi:10.1097/OPX.0000000000000513

    Examples
    --------
    >>> r = bland_altman([10.0, 12.0, 9.5, 11.0], [9.0, 12.5, 9.0, 10.0])
    >>> round(r.bias, 3)
    0.5
    """
    al = check_alpha(alpha)
    x, y = _pair(a, b)
    d = x - y
    n = d.size
    bias = float(d.mean())
    sd = float(d.std(ddof=1))
    z = float(sps.norm.ppf(1.0 - al / 2.0))
    t = float(sps.t.ppf(1.0 - al / 2.0, n - 1))
    lower, upper = bias - z * sd, bias + z * sd
    se_bias = sd / math.sqrt(n)
    se_limit = sd * math.sqrt(3.0 / n)
    if sd > 0.0:
        q_lo, q_hi = sps.nct.ppf([al / 2.0, 1.0 - al / 2.0], n - 1, z * math.sqrt(n))
        upper_exact = (bias + se_bias * float(q_lo), bias + se_bias * float(q_hi))
        lower_exact = (bias - se_bias * float(q_hi), bias - se_bias * float(q_lo))
    else:  # identical differences: every interval collapses onto the bias
        upper_exact = lower_exact = (bias, bias)
    return BlandAltmanResult(
        bias=bias, sd=sd, lower=lower, upper=upper,
        bias_ci=(bias - t * se_bias, bias + t * se_bias),
        lower_ci=(lower - t * se_limit, lower + t * se_limit),
        upper_ci=(upper - t * se_limit, upper + t * se_limit),
        lower_ci_exact=lower_exact, upper_ci_exact=upper_exact,
        z=z, n=n, df=n - 1, alpha=al,
        method="bland-altman-1999 (exact: carkeet-2015)",
        references=(BLAND_ALTMAN_1986, BLAND_ALTMAN_1999, CARKEET_2015),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RepeatedBlandAltmanResult(Result):
    """Bias and limits of agreement with several pairs per subject (Bland and Altman 2007).

    ``sd`` is the standard deviation of a single difference, ``sqrt(var_between + var_within)``
    from the one-way ANOVA of the differences by subject; ``bias_ci`` uses the variance of the
    mean of the subject means (t on ``n_subjects - 1`` df), so subjects, not pairs, count.
    """

    bias: float
    sd: float
    lower: float
    upper: float
    bias_ci: tuple[float, float]
    var_between: float
    var_within: float
    n_pairs: int
    n_subjects: int
    z: float
    alpha: float
    method: str
    references: tuple[str, ...]


def bland_altman_repeated(a: Any, b: Any, subject: Any, *, alpha: float = 0.05) -> RepeatedBlandAltmanResult:
    """Limits of agreement when a subject contributes several measurement pairs.

    Bland and Altman (2007, section 5, true value varying): with ``d_ij = a_ij - b_ij`` for
    pair ``j`` of subject ``i`` (``m_i`` pairs, ``N`` in all, ``n`` subjects), the one-way ANOVA
    gives ``MSB`` and ``MSW``; the between-subject variance component is
    ``(MSB - MSW) / ((N^2 - sum m_i^2) / ((n - 1) N))`` (truncated at 0) and the variance of a
    single difference ``sigma^2 = var_between + MSW``. The bias is the mean of all differences
    and the limits ``bias -/+ z_{1-alpha/2} sigma``.

    Parameters
    ----------
    a, b : array of shape (N,)
        Paired measurements.
    subject : array of shape (N,)
        Subject (patient) of each pair; at least 2 subjects and ``N > n``.
    alpha : float

    Returns
    -------
    RepeatedBlandAltmanResult

    Notes
    -----
    With one pair per subject this is :func:`bland_altman`'s ``sd``. The bias interval uses
    the subject means (each subject one unit; ``t_{n-1}`` quantile); no interval for the
    limits is given in the paper and none is reported here.

    References
    ----------
    1. Bland and Altman (2007) doi:10.1080/10543400701329422
    """
    al = check_alpha(alpha)
    x, y = _pair(a, b)
    s = np.asarray(subject)
    if s.ndim != 1 or s.size != x.size:
        raise InputError(f"'subject' must be one label per pair ({x.size}); got shape {s.shape}.")
    if pd.isna(pd.Series(s)).any():
        raise InputError("'subject' must not be missing for any pair; fill in every subject.")
    d = x - y
    codes, uniq = pd.factorize(pd.Series(s), sort=True)
    n = len(uniq)
    total = d.size
    if n < 2 or total <= n:
        raise InputError(
            f"'subject' must give at least 2 subjects and more pairs than subjects; got {n} "
            f"subjects for {total} pairs (use bland_altman for one pair per subject)."
        )
    m = np.bincount(codes).astype(np.float64)
    sums = np.bincount(codes, weights=d)
    means = sums / m
    grand = float(d.mean())
    ssb = float(np.sum(m * (means - grand) ** 2))
    ssw = float(np.sum((d - means[codes]) ** 2))
    msb = ssb / (n - 1)
    msw = ssw / (total - n)
    divisor = (total**2 - float(np.sum(m**2))) / ((n - 1) * total)
    var_b = max((msb - msw) / divisor, 0.0)
    sd = math.sqrt(var_b + msw)
    z = float(sps.norm.ppf(1.0 - al / 2.0))
    t = float(sps.t.ppf(1.0 - al / 2.0, n - 1))
    se_bias = float(np.std(means, ddof=1)) / math.sqrt(n)
    return RepeatedBlandAltmanResult(
        bias=grand, sd=sd, lower=grand - z * sd, upper=grand + z * sd,
        bias_ci=(grand - t * se_bias, grand + t * se_bias),
        var_between=var_b, var_within=msw, n_pairs=total, n_subjects=n, z=z, alpha=al,
        method="bland-altman-2007-repeated", references=(BLAND_ALTMAN_2007,),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProportionalBiasResult(Result):
    """Slope of ``a - b`` on ``(a + b) / 2``: ``estimate`` (slope), its ``se``, ``ci`` and the
    t test of slope 0 (``statistic``, ``df``, ``p_value``, two-sided); ``intercept``."""

    estimate: float
    se: float
    ci: tuple[float, float]
    intercept: float
    statistic: float
    df: int
    p_value: float
    alpha: float
    method: str
    references: tuple[str, ...]


def proportional_bias(a: Any, b: Any, *, alpha: float = 0.05) -> ProportionalBiasResult:
    """Test of proportional bias: ordinary least squares of ``a - b`` on ``(a + b) / 2``.

    H0: slope = 0 (the bias does not change with the magnitude) against slope != 0, t test on
    ``n - 2`` df; ``ci`` is the ``1 - alpha`` t interval of the slope.

    Parameters
    ----------
    a, b : array of shape (n,), n >= 3, the means not all equal
    alpha : float

    Returns
    -------
    ProportionalBiasResult

    Notes
    -----
    Bland and Altman (1999, section 3.2) regress the difference on the mean; the slope's
    ordinary least-squares standard error ignores the error in the mean, which is small when
    the range of the measurements is wide compared with their error.

    References
    ----------
    1. Bland and Altman (1999) doi:10.1177/096228029900800204
    """
    al = check_alpha(alpha)
    x, y = _pair(a, b)
    d = x - y
    mean = (x + y) / 2.0
    n = d.size
    sxx = float(np.sum((mean - mean.mean()) ** 2))
    if not sxx > 0.0:
        raise InputError(
            "'a' and 'b' must span a range of magnitudes for a slope; every pair has the same "
            "mean. Report the bias only."
        )
    slope = float(np.sum((mean - mean.mean()) * (d - d.mean())) / sxx)
    intercept = float(d.mean() - slope * mean.mean())
    resid = d - intercept - slope * mean
    s2 = float(np.sum(resid**2)) / (n - 2)
    se = math.sqrt(s2 / sxx)
    t = float(sps.t.ppf(1.0 - al / 2.0, n - 2))
    if se > 0.0:
        stat = slope / se
        p = float(2.0 * sps.t.sf(abs(stat), n - 2))
    else:  # a perfect line: the slope is known exactly
        stat = 0.0 if slope == 0.0 else math.copysign(math.inf, slope)
        p = 1.0 if slope == 0.0 else 0.0
    return ProportionalBiasResult(
        estimate=slope, se=se, ci=(slope - t * se, slope + t * se), intercept=intercept,
        statistic=stat, df=n - 2, p_value=p, alpha=al,
        method="ols-difference-on-mean", references=(BLAND_ALTMAN_1999,),
    )


# ---------------------------------------------------------------------------------------------
# Lin's concordance correlation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CCCResult(Result):
    """Lin's concordance correlation ``estimate`` with its Fisher z ``ci``; ``se_z`` is the
    standard error on the z scale, ``pearson`` the Pearson correlation and ``bias_correction``
    ``C_b = estimate / pearson`` (the accuracy factor)."""

    estimate: float
    ci: tuple[float, float]
    se_z: float
    pearson: float
    bias_correction: float
    n: int
    alpha: float
    method: str
    references: tuple[str, ...]


def lin_ccc(a: Any, b: Any, *, alpha: float = 0.05) -> CCCResult:
    """Lin's concordance correlation coefficient with its Fisher z-transform interval.

    ``rho_c = 2 s_ab / (s_a^2 + s_b^2 + (mean(a) - mean(b))^2)`` with variances and covariance
    divided by ``n`` (Lin 1989). The interval is ``tanh(atanh(rho_c) -/+ z_{1-alpha/2} se_z)``
    with Lin's asymptotic variance of ``atanh(rho_c)`` on ``n - 2``:
    ``[(1 - r^2) rho_c^2 / ((1 - rho_c^2) r^2) + 2 rho_c^3 (1 - rho_c) u^2 / (r (1 - rho_c^2)^2)
    - rho_c^4 u^4 / (2 r^2 (1 - rho_c^2)^2)] / (n - 2)``, ``u = (mean(a) - mean(b)) /
    (s_a s_b)^{1/2}``, as ``epiR::epi.ccc(ci = "z-transform")`` computes it.

    Parameters
    ----------
    a, b : array of shape (n,), n >= 3, neither constant
    alpha : float

    Returns
    -------
    CCCResult

    Notes
    -----
    Lin's delta-method variance needs ``n - 2 > 0`` and is poor for ``|rho_c|`` near 1 with
    small ``n`` (the z transform helps); perfect concordance (``rho_c = 1``) has no interval
    and is refused.

    References
    ----------
    1. Lin (1989) doi:10.2307/2532051
    """
    al = check_alpha(alpha)
    x, y = _pair(a, b)
    n = x.size
    mx, my = float(x.mean()), float(y.mean())
    sx2 = float(np.mean((x - mx) ** 2))
    sy2 = float(np.mean((y - my) ** 2))
    if not (sx2 > 0.0 and sy2 > 0.0):
        raise InputError(
            "'a' and 'b' must both vary; a constant measurement has no concordance correlation."
        )
    sxy = float(np.mean((x - mx) * (y - my)))
    r = sxy / math.sqrt(sx2 * sy2)
    p = 2.0 * sxy / (sx2 + sy2 + (mx - my) ** 2)
    if not (abs(p) < 1.0 and r != 0.0):
        raise InputError(
            "'a' and 'b' must not agree perfectly (or be uncorrelated) for Lin's interval; got "
            f"concordance {p!r} and Pearson correlation {r!r}."
        )
    u = (my - mx) / (sx2 * sy2) ** 0.25
    var_z = ((1 - r**2) * p**2 / ((1 - p**2) * r**2)
             + 2 * p**3 * (1 - p) * u**2 / (r * (1 - p**2) ** 2)
             - p**4 * u**4 / (2 * r**2 * (1 - p**2) ** 2)) / (n - 2)
    if not var_z > 0.0:
        raise InputError(
            "'a' and 'b' give a non-positive variance of Lin's z statistic (too few or degenerate "
            "pairs); collect more pairs."
        )
    se_z = math.sqrt(var_z)
    zq = float(sps.norm.ppf(1.0 - al / 2.0))
    zt = math.atanh(p)
    return CCCResult(
        estimate=p, ci=(math.tanh(zt - zq * se_z), math.tanh(zt + zq * se_z)), se_z=se_z,
        pearson=r, bias_correction=p / r, n=n, alpha=al,
        method="lin-ccc-fisher-z", references=(LIN_1989,),
    )


# ---------------------------------------------------------------------------------------------
# Intraclass correlation (pingouin)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ICCResult(Result):
    """One intraclass correlation form: ``estimate``, its F test (``statistic``, ``df`` as
    ``(df1, df2)``, ``p_value`` for H0: ICC = 0) and ``ci`` (McGraw and Wong 1996)."""

    estimate: float
    ci: tuple[float, float]
    form: str
    statistic: float
    df: tuple[float, float]
    p_value: float
    n_subjects: int
    n_raters: int
    alpha: float
    method: str
    references: tuple[str, ...]


def icc(ratings: Any, *, form: str = "ICC2", alpha: float = 0.05) -> ICCResult:
    """Intraclass correlation of a subjects x raters table (pingouin ``intraclass_corr``).

    Parameters
    ----------
    ratings : array of shape (n_subjects, n_raters)
        Complete table (no missing ratings), ``n_subjects >= 3``, ``n_raters >= 2``.
    form : {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}
        Shrout and Fleiss (1979) forms: one-way random (1), two-way random absolute agreement
        (2), two-way mixed consistency (3); ``k``: of the mean of the raters.
    alpha : float
        The interval has level ``1 - alpha``.

    Returns
    -------
    ICCResult

    Notes
    -----
    pingouin computes the F-based intervals of McGraw and Wong (1996) at 95% only, so only
    ``alpha = 0.05`` is accepted. pingouin rounds its interval column to 2 decimals by default;
    the rounding is switched off for the call (full precision; the tests compare with
    ``psych::ICC``). ``ICC2`` is pingouin's ``ICC(A,1)``, ``ICC3`` its ``ICC(C,1)``.

    References
    ----------
    1. Shrout and Fleiss (1979) doi:10.1037/0033-2909.86.2.420
    2. McGraw and Wong (1996) doi:10.1037/1082-989X.1.1.30
    """
    import pingouin as pg

    check_choice(form, "form", ICC_FORMS)
    al = check_alpha(alpha)
    if not math.isclose(al, 0.05):
        raise InputError(
            f"'alpha' must be 0.05 for the ICC (pingouin gives 95% intervals only); got {alpha!r}."
        )
    try:
        table = np.asarray(ratings, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"'ratings' must be a numeric subjects x raters table; got {ratings!r}.") from None
    if table.ndim != 2 or table.shape[0] < 3 or table.shape[1] < 2:
        raise InputError(
            f"'ratings' must be a subjects x raters table with >= 3 subjects and >= 2 raters; got "
            f"shape {table.shape}."
        )
    if not np.isfinite(table).all():
        i, j = np.argwhere(~np.isfinite(table))[0]
        raise InputError(f"'ratings' must be complete and finite; got {table[i, j]!r} at row {i}, rater {j}.")
    if np.ptp(table) == 0.0:
        raise InputError("'ratings' must vary; every rating is the same, so no ICC exists.")
    resid = table - table.mean(axis=1, keepdims=True) - table.mean(axis=0, keepdims=True) + table.mean()
    scale = max(float(np.abs(table).max()), 1.0)
    if float(np.abs(resid).max()) <= 1e-12 * scale or float(np.ptp(table.mean(axis=1))) <= 1e-12 * scale:
        raise InputError(
            "'ratings' must have both subject-to-subject variation and residual (rater x subject) "
            "variation; the F statistics of the ICC are 0/0 or infinite for this table. Report the "
            "raw agreement instead."
        )
    ns, nr = table.shape
    long = pd.DataFrame({
        "subject": np.repeat(np.arange(ns), nr), "rater": np.tile(np.arange(nr), ns),
        "rating": table.ravel(),
    })
    saved = pg.options.get("round.column.CI95")
    pg.options["round.column.CI95"] = None
    try:
        out = pg.intraclass_corr(long, targets="subject", raters="rater", ratings="rating")
    finally:
        pg.options["round.column.CI95"] = saved
    row = out.set_index("Type").loc[_PINGOUIN_TYPES[form]]
    lo, hi = (float(v) for v in row["CI95"])
    return ICCResult(
        estimate=float(row["ICC"]), ci=(lo, hi), form=form, statistic=float(row["F"]),
        df=(float(row["df1"]), float(row["df2"])), p_value=float(row["pval"]),
        n_subjects=ns, n_raters=nr, alpha=al, method=f"icc-{form}-pingouin",
        references=(SHROUT_FLEISS_1979, MCGRAW_WONG_1996),
    )
