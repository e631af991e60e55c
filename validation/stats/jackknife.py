"""Closed-form leave-one-out AUCs (cases or whole clusters), the jackknife behind the BCa
acceleration of the AUC bootstrap (Efron 1987, doi:10.1080/01621459.1987.10478410)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def auc_jackknife_cases(pos: NDArray[np.bool_], pl: NDArray[np.float64], auc: float) -> NDArray[
    np.float64
]:
    """Leave-one-case-out AUCs in closed form from the placement values ``pl``."""
    n1 = int(pos.sum())
    n0 = pos.size - n1
    out = np.empty(pos.size)
    out[pos] = (n1 * auc - pl[pos]) / (n1 - 1) if n1 > 1 else np.nan
    out[~pos] = (n0 * auc - pl[~pos]) / (n0 - 1) if n0 > 1 else np.nan
    return out


def auc_jackknife_clusters(
    pos: NDArray[np.bool_], s: NDArray[np.float64], pl: NDArray[np.float64],
    codes: NDArray[np.intp], k: int, auc: float,
) -> NDArray[np.float64]:
    """Leave-one-cluster-out AUCs in closed form (pairs within the left-out cluster added back)."""
    n1 = int(pos.sum())
    n0 = pos.size - n1
    m = np.bincount(codes[pos], minlength=k)
    nn = np.bincount(codes[~pos], minlength=k)
    a = n0 * np.bincount(codes[pos], weights=pl[pos], minlength=k)
    b = n1 * np.bincount(codes[~pos], weights=pl[~pos], minlength=k)
    # within-cluster Mann-Whitney counts from one sort by (cluster, score)
    o = np.lexsort((s, codes))
    cs = codes[o]
    ss = s[o]
    ps = pos[o]
    n = s.size
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = (cs[1:] != cs[:-1]) | (ss[1:] != ss[:-1])
    gs = np.flatnonzero(new)
    ge = np.append(gs[1:], n)
    cneg0 = np.concatenate(([0], np.cumsum(~ps)))
    cluster_start = np.searchsorted(cs, np.arange(k))
    gcode = cs[gs]
    neg_below = cneg0[gs] - cneg0[cluster_start[gcode]]
    neg_in = cneg0[ge] - cneg0[gs]
    pos_in = (ge - gs) - neg_in
    w = np.bincount(gcode, weights=pos_in * (neg_below + 0.5 * neg_in), minlength=k)
    total = n1 * n0 * auc
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (total - a - b + w) / ((n1 - m) * (n0 - nn))
    return np.asarray(out, dtype=np.float64)
