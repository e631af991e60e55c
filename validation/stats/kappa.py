"""Chance-corrected agreement of categorical reads: Cohen's (weighted) kappa for two raters and
Fleiss' kappa for several.

References
----------
1. Cohen J (1960). A coefficient of agreement for nominal scales. Educational and Psychological
   Measurement 20(1):37-46. doi:10.1177/001316446002000104
2. Cohen J (1968). Weighted kappa: nominal scale agreement provision for scaled disagreement or
   partial credit. Psychological Bulletin 70(4):213-220. doi:10.1037/h0026256
3. Fleiss JL, Cohen J, Everitt BS (1969). Large sample standard errors of kappa and weighted
   kappa. Psychological Bulletin 72(5):323-327. doi:10.1037/h0028106
4. Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychological
   Bulletin 76(5):378-382. doi:10.1037/h0031619
5. Gwet KL (2008). Computing inter-rater reliability and its variance in the presence of high
   agreement. British Journal of Mathematical and Statistical Psychology 61(1):29-48.
   doi:10.1348/000711006X126600
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
from validation.stats._checks import check_alpha
from validation.stats._result import Result

COHEN_1960 = "Cohen J (1960). Educ Psychol Meas 20(1):37-46. doi:10.1177/001316446002000104"
COHEN_1968 = "Cohen J (1968). Psychol Bull 70(4):213-220. doi:10.1037/h0026256"
FLEISS_COHEN_EVERITT_1969 = (
    "Fleiss JL, Cohen J, Everitt BS (1969). Psychol Bull 72(5):323-327. doi:10.1037/h0028106"
)
FLEISS_1971 = "Fleiss JL (1971). Psychol Bull 76(5):378-382. doi:10.1037/h0031619"
GWET_2008 = "Gwet KL (2008). Br J Math Stat Psychol 61(1):29-48. doi:10.1348/000711006X126600"

KAPPA_WEIGHTS = (None, "linear", "quadratic")


@dataclass(frozen=True, slots=True, kw_only=True)
class KappaResult(Result):
    """A kappa ``estimate`` with its large-sample ``se`` and Wald ``ci`` (normal quantile);
    ``observed`` and ``expected`` are the (weighted) observed and chance agreement,
    ``categories`` the category set the table was built on."""

    estimate: float
    se: float
    ci: tuple[float, float]
    observed: float
    expected: float
    n: int
    n_raters: int
    categories: tuple[Any, ...]
    weights: str | None
    alpha: float
    method: str
    references: tuple[str, ...]


def _labels(x: Any, name: str) -> NDArray[Any]:
    arr = np.asarray(x)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise InputError(f"'{name}' must hold a category for every case; got {arr.flat[i]!r} at {i}.")
    if arr.dtype.kind == "O" and pd.isna(pd.Series(arr.ravel())).any():
        i = int(np.flatnonzero(pd.isna(pd.Series(arr.ravel())))[0])
        raise InputError(f"'{name}' must hold a category for every case; got a missing value at {i}.")
    return arr


def _categories(values: NDArray[Any], categories: Any, name: str) -> tuple[Any, ...]:
    if categories is None:
        return tuple(v.item() if hasattr(v, "item") else v for v in np.unique(values))
    cats = tuple(categories)
    if len(set(cats)) != len(cats):
        raise InputError(f"'categories' must be unique; got {categories!r}.")
    unknown = sorted({str(v) for v in np.unique(values)} - {str(c) for c in cats})
    if unknown:
        raise InputError(f"'{name}' holds categories not in 'categories': {unknown}; add them.")
    return cats


def _agreement_weights(k: int, weights: str | None, ordered: bool) -> NDArray[np.float64]:
    if weights is None:
        return np.eye(k)
    if not ordered:
        raise InputError(
            "'weights' need ordered numeric categories (linear and quadratic weights use the "
            "distance between category ranks); use weights=None for nominal categories."
        )
    i = np.arange(k)
    dist = np.abs(i[:, None] - i[None, :]) / (k - 1)
    return 1.0 - dist if weights == "linear" else 1.0 - dist**2


def cohen_kappa(r1: Any, r2: Any, *, weights: str | None = None, categories: Any = None,
                alpha: float = 0.05) -> KappaResult:
    """Cohen's kappa of two raters, unweighted or with linear or quadratic weights.

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o = sum w_ij p_ij`` and
    ``p_e = sum w_ij p_i. p_.j`` over the K x K table of the two raters' categories, agreement
    weights ``w_ij = 1`` on the diagonal and 0 off it (unweighted),
    ``1 - |i - j| / (K - 1)`` (linear, Cicchetti-Allison) or ``1 - (i - j)^2 / (K - 1)^2``
    (quadratic, Fleiss-Cohen), ``i, j`` the ranks of the sorted categories.

    Parameters
    ----------
    r1, r2 : array of shape (n,)
        The two raters' categories for the same ``n`` cases (no missing reads).
    weights : {None, "linear", "quadratic"}
    categories : sequence, optional
        The full ordered category set (weighted kappa depends on it); default the sorted union
        of the categories observed.
    alpha : float
        Level of the Wald interval ``kappa -/+ z_{1-alpha/2} se``.

    Returns
    -------
    KappaResult
        ``se`` is the large-sample (non-null) standard error of Fleiss, Cohen and Everitt
        (1969): ``var = [sum p_ij (w_ij - (wbar_i. + wbar_.j)(1 - kappa))^2
        - (kappa - p_e (1 - kappa))^2] / (n (1 - p_e)^2)``, as ``vcd::Kappa`` gives it.

    Notes
    -----
    The Wald interval may leave [-1, 1] for small ``n`` and is not clipped (a regulator sees
    the raw bound). Cases where both raters use one category only give ``p_e = 1``: no kappa,
    an error.

    References
    ----------
    1. Cohen (1960) doi:10.1177/001316446002000104
    2. Cohen (1968) doi:10.1037/h0026256
    3. Fleiss, Cohen and Everitt (1969) doi:10.1037/h0028106
    """
    al = check_alpha(alpha)
    if weights not in KAPPA_WEIGHTS:
        raise InputError(f"'weights' must be None, 'linear' or 'quadratic'; got {weights!r}.")
    x, y = _labels(r1, "r1"), _labels(r2, "r2")
    if x.ndim != 1 or y.ndim != 1 or x.size != y.size:
        raise InputError(f"'r1' and 'r2' must be 1-D with the same length; got {x.shape} and {y.shape}.")
    if x.size < 2:
        raise InputError(f"'r1' and 'r2' must hold at least 2 cases; got {x.size}.")
    both = np.concatenate([x, y])
    cats = _categories(both, categories, "r1/r2")
    k = len(cats)
    if k < 2:
        raise InputError(f"'r1' and 'r2' must use at least 2 categories for a kappa; got {list(cats)}.")
    ordered = all(isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, bool)
                  for c in cats)
    w = _agreement_weights(k, weights, ordered)
    index = {str(c): i for i, c in enumerate(cats)}
    xi = np.array([index[str(v.item() if hasattr(v, "item") else v)] for v in x])
    yi = np.array([index[str(v.item() if hasattr(v, "item") else v)] for v in y])
    n = x.size
    p = np.zeros((k, k))
    np.add.at(p, (xi, yi), 1.0)
    p /= n
    pr, pc = p.sum(axis=1), p.sum(axis=0)
    po = float(np.sum(w * p))
    pe = float(np.sum(w * np.outer(pr, pc)))
    if not pe < 1.0:
        raise InputError("'r1' and 'r2' leave no room for chance-corrected agreement (expected agreement 1).")
    kap = (po - pe) / (1.0 - pe)
    wr = w @ pc  # wbar_i.
    wc = pr @ w  # wbar_.j
    term = np.sum(p * (w - (wr[:, None] + wc[None, :]) * (1.0 - kap)) ** 2)
    var = float((term - (kap - pe * (1.0 - kap)) ** 2) / (n * (1.0 - pe) ** 2))
    se = math.sqrt(max(var, 0.0))
    z = float(sps.norm.ppf(1.0 - al / 2.0))
    return KappaResult(
        estimate=kap, se=se, ci=(kap - z * se, kap + z * se), observed=po, expected=pe, n=n,
        n_raters=2, categories=cats, weights=weights, alpha=al,
        method=f"cohen-kappa-{weights or 'unweighted'}-fce1969-wald",
        references=(COHEN_1960, COHEN_1968, FLEISS_COHEN_EVERITT_1969),
    )


def fleiss_kappa(ratings: Any, *, alpha: float = 0.05) -> KappaResult:
    """Fleiss' kappa of several raters (each subject rated by the same number of raters).

    With ``r`` raters, ``r_ik`` of them placing subject ``i`` in category ``k``:
    ``p_a = mean_i sum_k r_ik (r_ik - 1) / (r (r - 1))``, ``pi_k = mean_i r_ik / r``,
    ``p_e = sum_k pi_k^2`` and ``kappa = (p_a - p_e) / (1 - p_e)`` (Fleiss 1971).

    Parameters
    ----------
    ratings : array of shape (n_subjects, n_raters)
        The category each rater gave each subject (no missing reads); ``n_subjects >= 2``,
        ``n_raters >= 2``. (A subjects x categories count table is not accepted: pass the raw
        categories.)
    alpha : float
        Level of the interval.

    Returns
    -------
    KappaResult
        ``se``: Gwet's (2008) linearised non-null standard error (as ``irrCAC::fleiss.kappa.raw``
        computes it, without finite-population correction): with ``pe_i = sum_k pi_k r_ik / r``
        and ``kappa_i = (pa_i - p_e) / (1 - p_e) - 2 (1 - kappa) (pe_i - p_e) / (1 - p_e)``,
        ``var = sum_i (kappa_i - kappa)^2 / (n (n - 1))``. ``ci`` is ``kappa -/+
        t_{n-1, 1-alpha/2} se`` (irrCAC's interval, t on ``n - 1`` df).

    Notes
    -----
    Fleiss, Nee and Landis' (1979) standard error holds under H0: kappa = 0 only and is not
    used for an interval. With two raters Fleiss' kappa is Scott's pi, not Cohen's kappa.

    References
    ----------
    1. Fleiss (1971) doi:10.1037/h0031619
    2. Gwet (2008) doi:10.1348/000711006X126600
    """
    al = check_alpha(alpha)
    arr = _labels(ratings, "ratings")
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise InputError(
            f"'ratings' must be a subjects x raters table with >= 2 subjects and >= 2 raters; got "
            f"shape {arr.shape}."
        )
    n, r = arr.shape
    cats = _categories(arr.ravel(), None, "ratings")
    if len(cats) < 2:
        raise InputError(f"'ratings' must use at least 2 categories for a kappa; got {list(cats)}.")
    index = {str(c): i for i, c in enumerate(cats)}
    codes = np.vectorize(lambda v: index[str(v)])(arr)
    counts = np.zeros((n, len(cats)))
    for j in range(r):
        counts[np.arange(n), codes[:, j]] += 1.0
    pa_i = np.sum(counts * (counts - 1.0), axis=1) / (r * (r - 1.0))
    pi = counts.mean(axis=0) / r
    pa = float(pa_i.mean())
    pe = float(np.sum(pi**2))
    if not pe < 1.0:
        raise InputError("'ratings' leave no room for chance-corrected agreement (expected agreement 1).")
    kap = (pa - pe) / (1.0 - pe)
    pe_i = counts @ pi / r
    k_i = (pa_i - pe) / (1.0 - pe) - 2.0 * (1.0 - kap) * (pe_i - pe) / (1.0 - pe)
    se = math.sqrt(float(np.sum((k_i - kap) ** 2)) / (n * (n - 1.0)))
    t = float(sps.t.ppf(1.0 - al / 2.0, n - 1))
    return KappaResult(
        estimate=kap, se=se, ci=(kap - t * se, kap + t * se), observed=pa, expected=pe, n=n,
        n_raters=r, categories=cats, weights=None, alpha=al,
        method="fleiss-kappa-gwet2008-wald", references=(FLEISS_1971, GWET_2008),
    )
