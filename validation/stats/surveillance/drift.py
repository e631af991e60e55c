"""Input drift of one period against the baseline: PSI, two-sample KS, chi-square on the mix,
and the multiplicity of one period's family of drift tests.

* Population stability index (PSI): ``sum_b (c_b - r_b) ln(c_b / r_b)`` over bins, with
  ``r_b`` and ``c_b`` the baseline and current proportions (Yurdakul 2018). Interior edges
  ``e_1 < ... < e_k`` give the bins ``(-inf, e_1], (e_1, e_2], ..., (e_k, inf)``. Without
  edges, the interior edges are the baseline's quantiles at ``1/bins, ..., (bins-1)/bins``
  (type 7, numpy's default), duplicates removed. A proportion of zero is replaced by
  ``epsilon = 1e-4`` (not renormalised), so a bin empty on one side adds a finite amount. PSI
  is >= 0 and is 0 for identical binned proportions. It has no p-value; the plan's threshold
  (0.1 "some", 0.25 "major" shift by the usual convention) decides.
* Two-sample Kolmogorov-Smirnov on the scores (scipy ``ks_2samp``, ``method="auto"``: exact
  for small samples, asymptotic otherwise), two-sided.
* Chi-square test of homogeneity of the categorical mix (baseline counts against current
  counts, a 2 x K table, no continuity correction; scipy ``chi2_contingency``). Categories
  absent from both are dropped; a single category gives statistic 0, df 0, p = 1.
* :func:`adjust_drift_pvalues`: Holm (family-wise error, the default) or Benjamini-Hochberg
  (false-discovery rate) across one period's drift p-values; the method is in the result.

References
----------
1. Yurdakul B (2018). Statistical properties of population stability index. PhD thesis,
   Western Michigan University. https://scholarworks.wmich.edu/dissertations/3208
2. Massey FJ (1951). The Kolmogorov-Smirnov test for goodness of fit. J Am Stat Assoc
   46(253):68-78. doi:10.1080/01621459.1951.10500769
3. Pearson K (1900). On the criterion... Philos Mag 50(302):157-175.
   doi:10.1080/14786440009463897
4. Holm S (1979). Scand J Stat 6(2):65-70. https://www.jstor.org/stable/4615733
5. Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate. J R Stat Soc B
   57(1):289-300. doi:10.1111/j.2517-6161.1995.tb02031.x
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_choice
from validation.stats._result import Result
from validation.stats.multiplicity import REF_HOLM_1979, holm
from validation.stats.surveillance._common import check_finite

PSI_EPSILON = 1e-4
REF_YURDAKUL_2018 = (
    "Yurdakul B (2018). Statistical properties of population stability index. PhD thesis, "
    "Western Michigan University. https://scholarworks.wmich.edu/dissertations/3208"
)
REF_MASSEY_1951 = (
    "Massey FJ (1951). The Kolmogorov-Smirnov test for goodness of fit. J Am Stat Assoc "
    "46(253):68-78. doi:10.1080/01621459.1951.10500769"
)
REF_PEARSON_1900 = (
    "Pearson K (1900). On the criterion that a given system of deviations from the probable "
    "in the case of a correlated system of variables is such that it can be reasonably "
    "supposed to have arisen from random sampling. Philos Mag 50(302):157-175. "
    "doi:10.1080/14786440009463897"
)
REF_BH_1995 = (
    "Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical and "
    "powerful approach to multiple testing. J R Stat Soc B 57(1):289-300. "
    "doi:10.1111/j.2517-6161.1995.tb02031.x"
)
DRIFT_ADJUSTMENTS = ("holm", "bh")


@dataclass(frozen=True, slots=True, kw_only=True)
class PSIResult(Result):
    """Population stability index with its bins: ``edges`` (interior), the baseline and
    current proportions per bin (before the epsilon), and the ``epsilon`` used."""

    estimate: float
    edges: NDArray[np.float64]
    baseline_proportions: NDArray[np.float64]
    current_proportions: NDArray[np.float64]
    epsilon: float
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftTest(Result):
    """A two-sample drift test: ``statistic``, ``df`` (None for KS), ``p_value``."""

    statistic: float
    df: int | None
    p_value: float
    n_baseline: int
    n_current: int
    categories: tuple[str, ...] | None
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftAdjustment(Result):
    """Adjusted p-values of one period's drift family (same order as given)."""

    p_values: NDArray[np.float64]
    adjusted: NDArray[np.float64]
    method: str
    references: tuple[str, ...]


def _bin_index(x: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.intp]:
    # searchsorted 'left': i with edges[i-1] < x <= edges[i]  ->  (e_{i}, e_{i+1}] bins
    return np.searchsorted(edges, x, side="left")


def population_stability_index(baseline: object, current: object, *,
                               edges: Sequence[float] | NDArray[np.float64] | None = None,
                               bins: int = 10) -> PSIResult:
    """Population stability index of ``current`` against ``baseline``.

    Parameters
    ----------
    baseline, current : arrays of finite numbers
        The reference sample (e.g. the pivotal scores) and the period's sample.
    edges : sequence of float, optional
        Strictly increasing interior edges; the bins are ``(-inf, e1], (e1, e2], ...,
        (ek, inf)``.
    bins : int
        Number of baseline-quantile bins when ``edges`` is None (>= 2; tied quantiles merge
        bins).

    Returns
    -------
    PSIResult
        ``estimate`` >= 0.

    References
    ----------
    Yurdakul (2018), https://scholarworks.wmich.edu/dissertations/3208.

    Examples
    --------
    >>> round(population_stability_index([1, 2, 3, 4], [1, 2, 3, 4], bins=2).estimate, 12)
    0.0
    """
    b = check_finite(baseline, "baseline")
    c = check_finite(current, "current")
    if edges is None:
        if isinstance(bins, (bool, np.bool_)) or not isinstance(bins, (int, np.integer)) \
                or int(bins) < 2:
            raise InputError(f"'bins' must be a whole number >= 2; got {bins!r}.")
        q = np.quantile(b, np.arange(1, int(bins)) / int(bins))
        e = np.unique(q)
    else:
        e = check_finite(edges, "edges")
        if np.any(np.diff(e) <= 0):
            raise InputError(f"'edges' must be strictly increasing; got {list(map(float, e))!r}.")
    k = e.size + 1
    rb = np.bincount(_bin_index(b, e), minlength=k) / b.size
    rc = np.bincount(_bin_index(c, e), minlength=k) / c.size
    pb = np.where(rb > 0, rb, PSI_EPSILON)
    pc = np.where(rc > 0, rc, PSI_EPSILON)
    psi = float(np.sum((pc - pb) * np.log(pc / pb)))
    how = f"{k} bins from baseline quantiles" if edges is None else f"{k} bins from given edges"
    return PSIResult(estimate=psi, edges=e, baseline_proportions=rb, current_proportions=rc,
                     epsilon=PSI_EPSILON,
                     method=f"population stability index ({how}; empty bins at {PSI_EPSILON:g})",
                     references=(REF_YURDAKUL_2018,))


def ks_drift(baseline: object, current: object) -> DriftTest:
    """Two-sided two-sample Kolmogorov-Smirnov test of the score distribution.

    ``H0``: baseline and current scores come from the same continuous distribution. scipy
    ``ks_2samp``: the exact distribution for small samples without ties (``method="auto"``),
    the asymptotic one otherwise; with ties (discrete scores) the asymptotic p is used and the
    test is conservative. The result's ``method`` says which.

    References
    ----------
    Massey (1951), doi:10.1080/01621459.1951.10500769.
    """
    b = check_finite(baseline, "baseline")
    c = check_finite(current, "current")
    tied = np.unique(np.concatenate([b, c])).size < b.size + c.size
    # the exact null distribution assumes no ties: with ties the asymptotic p is used (and is
    # conservative), rather than an exact computation scipy may abandon with a warning
    how = "asymp" if tied else "auto"
    r = sps.ks_2samp(b, c, alternative="two-sided", method=how)
    label = "asymptotic p, tied values" if tied else "exact p for small samples"
    return DriftTest(statistic=float(r.statistic), df=None, p_value=float(r.pvalue),
                     n_baseline=int(b.size), n_current=int(c.size), categories=None,
                     method=f"two-sample Kolmogorov-Smirnov (two-sided; {label})",
                     references=(REF_MASSEY_1951,))


def _counts(mix: Mapping[str, object], name: str) -> dict[str, int]:
    if not isinstance(mix, Mapping) or not mix:
        raise InputError(f"'{name}' must be a non-empty mapping of category to count; got {mix!r}.")
    out: dict[str, int] = {}
    for key, v in mix.items():
        ok = isinstance(v, (int, np.integer, float, np.floating)) and not isinstance(v, bool)
        f = float(v) if ok else math.nan  # type: ignore[arg-type]
        if not math.isfinite(f) or f < 0 or f != round(f):
            raise InputError(f"'{name}[{key!r}]' must be a whole number >= 0; got {v!r}.")
        out[str(key)] = out.get(str(key), 0) + int(f)
    if sum(out.values()) == 0:
        raise InputError(f"'{name}' must hold at least one case; got all counts 0.")
    return out


def chi2_mix(baseline: Mapping[str, object], current: Mapping[str, object]) -> DriftTest:
    """Chi-square test of homogeneity of a categorical mix (baseline vs current counts).

    Parameters
    ----------
    baseline, current : mapping of category -> count
        Case counts per category (e.g. manufacturer) in the baseline and in the period.

    Returns
    -------
    DriftTest
        Pearson's statistic of the 2 x K table (no continuity correction), ``df = K - 1``.

    Notes
    -----
    Expected counts below 5 make the chi-square approximation unreliable; the plan's minimum
    cases per decision guards against small periods.

    References
    ----------
    Pearson (1900), doi:10.1080/14786440009463897.
    """
    rb = _counts(baseline, "baseline")
    rc = _counts(current, "current")
    cats = tuple(sorted(k for k in set(rb) | set(rc) if rb.get(k, 0) + rc.get(k, 0) > 0))
    nb, nc = sum(rb.values()), sum(rc.values())
    if len(cats) < 2:
        return DriftTest(statistic=0.0, df=0, p_value=1.0, n_baseline=nb, n_current=nc,
                         categories=cats, method="chi-square homogeneity (one category: no test)",
                         references=(REF_PEARSON_1900,))
    table = np.array([[rb.get(k, 0) for k in cats], [rc.get(k, 0) for k in cats]], dtype=float)
    stat, p, df, _ = sps.chi2_contingency(table, correction=False)
    return DriftTest(statistic=float(stat), df=int(df), p_value=float(p), n_baseline=nb,
                     n_current=nc, categories=cats,
                     method="Pearson chi-square test of homogeneity (2 x K, no correction)",
                     references=(REF_PEARSON_1900,))


def adjust_drift_pvalues(p_values: Sequence[float] | NDArray[np.float64], *,
                         method: str = "holm") -> DriftAdjustment:
    """Adjust the family of drift p-values of one period.

    Parameters
    ----------
    p_values : sequence of float in [0, 1]
    method : {"holm", "bh"}
        Holm's step-down (family-wise error rate; default) or Benjamini-Hochberg step-up
        (false-discovery rate).

    Returns
    -------
    DriftAdjustment
        ``adjusted`` in the given order; ``method`` names the procedure.

    References
    ----------
    Holm (1979); Benjamini and Hochberg (1995), doi:10.1111/j.2517-6161.1995.tb02031.x.
    """
    m = check_choice(method, "method", DRIFT_ADJUSTMENTS)
    try:
        p = np.asarray(p_values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("'p_values' must be numbers in [0, 1].") from None
    if p.ndim != 1 or p.size == 0:
        raise InputError(f"'p_values' must be a non-empty 1-D sequence; got shape {p.shape}.")
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"'p_values' must be in [0, 1]; got {p[i]!r} at position {i}.")
    if m == "holm":
        adj = np.asarray(holm(p.tolist(), alpha=0.05).p_adjusted, dtype=np.float64)
        return DriftAdjustment(p_values=p, adjusted=adj, method="Holm step-down (FWER)",
                               references=(REF_HOLM_1979,))
    n = p.size
    order = np.argsort(p, kind="stable")
    ranked = p[order] * n / np.arange(1, n + 1)
    stepped = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    adj = np.empty(n)
    adj[order] = stepped
    return DriftAdjustment(p_values=p, adjusted=adj, method="Benjamini-Hochberg step-up (FDR)",
                           references=(REF_BH_1995,))
