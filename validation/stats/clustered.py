"""Methods for several findings per patient (clustered data).

Two variance estimators for statistics computed over findings that are grouped in clusters
(patients, or sites):

* :func:`obuchowski_auc_covariance` -- the nonparametric covariance matrix of one or several
  empirical AUCs with clustered findings (Obuchowski 1997). With one finding per cluster it
  reduces exactly to DeLong's variance and covariance.
* :func:`ratio_estimator_variance` -- the variance of a proportion ``sum(x_c) / sum(n_c)``
  computed over findings, by the ratio-estimator (linearisation) formula of Rao and Scott
  (1992), as used for clustered sensitivity and specificity by Obuchowski (1998).

References
----------
1. Obuchowski NA (1997). Nonparametric analysis of clustered ROC curve data. Biometrics
   53(2):567-578. doi:10.2307/2533958
2. Rao JNK, Scott AJ (1992). A simple method for the analysis of clustered binary data.
   Biometrics 48(2):577-585. doi:10.2307/2532311
3. Obuchowski NA (1998). On the comparison of correlated proportions for clustered data.
   Statistics in Medicine 17(13):1495-1507.
   doi:10.1002/(SICI)1097-0258(19980715)17:13<1495::AID-SIM863>3.0.CO;2-I
4. Korn EL, Graubard BI (1998). Confidence intervals for proportions with small expected number
   of positive counts estimated from survey data. Survey Methodology 24(2):193-201.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from validation.errors import InputError

OBUCHOWSKI_1997 = (
    "Obuchowski NA (1997). Nonparametric analysis of clustered ROC curve data. "
    "Biometrics 53(2):567-578. doi:10.2307/2533958"
)
RAO_SCOTT_1992 = (
    "Rao JNK, Scott AJ (1992). A simple method for the analysis of clustered binary data. "
    "Biometrics 48(2):577-585. doi:10.2307/2532311"
)
OBUCHOWSKI_1998 = (
    "Obuchowski NA (1998). On the comparison of correlated proportions for clustered data. "
    "Statistics in Medicine 17(13):1495-1507. "
    "doi:10.1002/(SICI)1097-0258(19980715)17:13<1495::AID-SIM863>3.0.CO;2-I"
)
KORN_GRAUBARD_1998 = (
    "Korn EL, Graubard BI (1998). Confidence intervals for proportions with small expected "
    "number of positive counts estimated from survey data. Survey Methodology 24(2):193-201."
)


def cluster_codes(cluster: Any, n: int, name: str = "cluster") -> tuple[NDArray[np.intp], int]:
    """Map cluster labels (any hashable values) to codes ``0..I-1``.

    Parameters
    ----------
    cluster : array-like of shape (n,)
        One label per finding (patient id, site); missing labels are refused.
    n : int
        The number of findings the labels must match.

    Returns
    -------
    (codes, n_clusters)
    """
    arr = np.asarray(cluster)
    if arr.ndim != 1:
        raise InputError(f"'{name}' must be one-dimensional; got shape {arr.shape}.")
    if arr.size != n:
        raise InputError(
            f"'{name}' must have one label per case ({n}); got {arr.size} labels."
        )
    missing = pd.isna(arr)
    if np.any(missing):
        i = int(np.flatnonzero(missing)[0])
        raise InputError(
            f"'{name}' must label every case; got {arr[i]!r} at position {i}. "
            "Give each finding its patient (or site) id."
        )
    if arr.dtype.kind in "iu" and arr.size and 0 <= int(arr.min()) and int(arr.max()) < 4 * arr.size + 1024:
        # small non-negative integer labels (e.g. patient ranks): rank them without sorting,
        # the same codes as the sorted factorisation below
        present = np.zeros(int(arr.max()) + 1, dtype=bool)
        present[arr] = True
        rank = np.cumsum(present, dtype=np.intp) - 1
        return rank[arr], int(rank[-1]) + 1
    codes, uniques = pd.factorize(arr, sort=True)
    return np.asarray(codes, dtype=np.intp), int(len(uniques))


def obuchowski_auc_covariance(
    placements: NDArray[np.float64],
    positive: NDArray[np.bool_],
    codes: NDArray[np.intp],
    n_clusters: int,
    aucs: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Covariance matrix of K empirical AUCs with clustered findings (Obuchowski 1997).

    For cluster ``i`` with ``m_i`` positive and ``n_i`` negative findings, let
    ``V10_i`` be the sum of the positive findings' placement values (fraction of all negatives
    scored below, ties one half) and ``V01_i`` the sum of the negative findings' placement
    values. With ``M``, ``N`` the totals of positive and negative findings, ``I10``, ``I01`` the
    numbers of clusters holding at least one positive (negative) finding and ``I`` all clusters:

    .. math::

        S_{10}^{ab} = \\frac{I_{10}}{(I_{10}-1) M} \\sum_i (V^a_{10,i} - m_i\\theta_a)
                      (V^b_{10,i} - m_i\\theta_b), \\quad
        S_{11}^{ab} = \\frac{I}{I-1} \\sum_i (V^a_{10,i} - m_i\\theta_a)(V^b_{01,i} - n_i\\theta_b)

        \\operatorname{cov}(\\hat\\theta_a, \\hat\\theta_b) = S_{10}^{ab}/M + S_{01}^{ab}/N
                      + (S_{11}^{ab} + S_{11}^{ba}) / (M N)

    Parameters
    ----------
    placements : array of shape (K, n)
        Per finding and score: the DeLong placement value (``v10`` for positives, ``v01``
        for negatives), in case order.
    positive : bool array of shape (n,)
    codes : int array of shape (n,), cluster codes ``0..n_clusters-1``
    n_clusters : int
    aucs : array of shape (K,), the empirical AUCs

    Returns
    -------
    array of shape (K, K)
    """
    pos = positive
    neg = ~positive
    m = np.bincount(codes[pos], minlength=n_clusters).astype(np.float64)
    nn = np.bincount(codes[neg], minlength=n_clusters).astype(np.float64)
    big_m = m.sum()
    big_n = nn.sum()
    i10 = int(np.count_nonzero(m))
    i01 = int(np.count_nonzero(nn))
    if i10 < 2 or i01 < 2:
        raise InputError(
            "'cluster' must contain at least two clusters with positive findings and two with "
            f"negative findings for the clustered AUC variance; got {i10} and {i01}."
        )
    k = placements.shape[0]
    d10 = np.empty((k, n_clusters))
    d01 = np.empty((k, n_clusters))
    for j in range(k):
        d10[j] = np.bincount(codes[pos], weights=placements[j, pos], minlength=n_clusters)
        d10[j] -= m * aucs[j]
        d01[j] = np.bincount(codes[neg], weights=placements[j, neg], minlength=n_clusters)
        d01[j] -= nn * aucs[j]
    s10 = i10 / ((i10 - 1) * big_m) * (d10 @ d10.T)
    s01 = i01 / ((i01 - 1) * big_n) * (d01 @ d01.T)
    s11 = n_clusters / (n_clusters - 1) * (d10 @ d01.T)
    out: NDArray[np.float64] = s10 / big_m + s01 / big_n + (s11 + s11.T) / (big_m * big_n)
    return out


def ratio_estimator_variance(
    successes: NDArray[np.float64], totals: NDArray[np.float64]
) -> tuple[float, float]:
    """Ratio-estimator variance of a clustered proportion (Rao and Scott 1992).

    With ``x_c`` successes among ``n_c`` findings of cluster ``c`` (clusters with ``n_c = 0``
    dropped), ``I`` clusters and ``N = sum(n_c)``, the proportion is ``p = sum(x_c) / N`` and

    .. math:: \\widehat{\\operatorname{var}}(p) = \\frac{I}{I-1}
              \\sum_c \\frac{(x_c - p\\, n_c)^2}{N^2}

    Parameters
    ----------
    successes, totals : arrays of shape (I,), per-cluster counts

    Returns
    -------
    (variance, design_effect) where ``design_effect = variance / (p (1 - p) / N)`` (NaN when
    ``p`` is 0 or 1).
    """
    keep = totals > 0
    x = successes[keep]
    t = totals[keep]
    n_cl = int(t.size)
    if n_cl < 2:
        raise InputError(
            "'cluster' must give at least two clusters that contribute to the proportion; "
            f"got {n_cl}."
        )
    big_n = float(t.sum())
    p = float(x.sum()) / big_n
    var = n_cl / (n_cl - 1) * float(np.sum((x - p * t) ** 2)) / big_n**2
    binom = p * (1.0 - p) / big_n
    deff = var / binom if binom > 0 else float("nan")
    return var, deff


def clustered_paired_difference(
    success_a: Any, success_b: Any, cluster: Any
) -> tuple[float, float, int, int]:
    """Difference of two correlated proportions over clustered findings (Obuchowski 1998).

    Both readings (``a`` and ``b``) are made on the same ``N`` findings, grouped in clusters.
    With ``d_c`` the cluster's successes by ``a`` minus successes by ``b`` and ``n_c`` its
    findings, the difference is ``Delta = sum(d_c) / N`` and its ratio-estimator variance

    .. math:: \\widehat{\\operatorname{var}}(\\hat\\Delta) = \\frac{I}{I-1}
              \\sum_c \\frac{(d_c - \\hat\\Delta\\, n_c)^2}{N^2}

    (the variance of :func:`ratio_estimator_variance` applied to the paired differences). With
    one finding per cluster it equals ``I/(I-1)`` times the unconditional McNemar-type
    variance ``[(b + c)/N - Delta^2] / N``.

    Parameters
    ----------
    success_a, success_b : bool arrays of shape (N,)
        Whether reading ``a`` (``b``) is correct on each finding (called positive for a
        sensitivity, called negative for a specificity).
    cluster : array of shape (N,)
        Cluster (patient) of each finding.

    Returns
    -------
    (difference, variance, n_clusters, n_findings)

    References
    ----------
    Obuchowski (1998) doi:10.1002/(SICI)1097-0258(19980715)17:13<1495::AID-SIM863>3.0.CO;2-I;
    Rao and Scott (1992) doi:10.2307/2532311.
    """
    a = np.asarray(success_a)
    b = np.asarray(success_b)
    if a.ndim != 1 or a.shape != b.shape:
        raise InputError(
            f"'success_a' and 'success_b' must be 1-D arrays of the same length (one reading per "
            f"finding of both); got shapes {a.shape} and {b.shape}."
        )
    if a.size == 0:
        raise InputError("'success_a' is empty; a paired difference needs at least one finding.")
    for name, x in (("success_a", a), ("success_b", b)):
        if x.dtype != np.bool_ and not np.isin(x, (0, 1)).all():
            raise InputError(f"'{name}' must hold booleans or 0/1; got other values.")
    codes, n_cl = cluster_codes(cluster, a.size)
    if n_cl < 2:
        raise InputError(
            f"'cluster' must give at least two clusters for the clustered variance; got {n_cl}."
        )
    d = a.astype(np.float64) - b.astype(np.float64)
    d_c = np.bincount(codes, weights=d, minlength=n_cl)
    n_c = np.bincount(codes, minlength=n_cl).astype(np.float64)
    big_n = float(n_c.sum())
    diff = float(d_c.sum()) / big_n
    var = n_cl / (n_cl - 1) * float(np.sum((d_c - diff * n_c) ** 2)) / big_n**2
    return diff, var, n_cl, int(big_n)
