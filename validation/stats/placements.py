"""DeLong placement values from one sort of the pooled scores.

The one place that computes placement values (``v10`` of each positive, ``v01`` of each
negative) and the empirical AUC from them; :mod:`validation.stats.roc` (DeLong variances and
tests) and :mod:`validation.stats.bootstrap` (the AUC bootstrap) both build on it, so neither
imports the other for them.

References
----------
1. DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
   correlated receiver operating characteristic curves: a nonparametric approach. Biometrics
   44:837-845. doi:10.2307/2531595
2. Sun X, Xu W (2014). Fast implementation of DeLong's algorithm for comparing the areas under
   correlated receiver operating characteristic curves. IEEE Signal Processing Letters
   21:1389-1393. doi:10.1109/LSP.2014.2337313
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from validation.stats._checks import check_binary_truth, check_scores, check_two_classes


def sorted_placements(
    pos: NDArray[np.bool_], s: NDArray[np.float64], n_pos: int, n_neg: int
) -> tuple[NDArray[np.intp], NDArray[np.bool_], NDArray[np.float64], float]:
    """One argsort of the pooled scores; placement value of every case in sorted order.

    Returns ``(order, pos_sorted, placement_sorted, auc)``: ``placement_sorted[k]`` is ``v10``
    of the case ``order[k]`` if it is positive, else its ``v01``. The AUC is computed from
    integer pair counts (twice the Mann-Whitney count, exact) and rounded once, so it does not
    depend on the order of the cases.
    """
    n = s.size
    order = np.argsort(s)
    ss = s[order]
    ps = pos[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ss[1:], ss[:-1], out=new[1:])
    negs = np.logical_not(ps)
    cneg = np.cumsum(negs, dtype=np.int64)  # negatives at or before k
    if new.all():
        # No ties: a positive at k has cneg[k] negatives below; a negative at k has
        # n_pos - (k + 1 - cneg[k]) positives above.
        pos_above = n_pos - (np.arange(1, n + 1, dtype=np.int64) - cneg)
        vals = np.where(ps, cneg * (1.0 / n_neg), pos_above * (1.0 / n_pos))
        twice = 2 * int(cneg[ps].sum())
        return order, ps, vals, twice / (2.0 * n_pos * n_neg)
    starts = np.flatnonzero(new)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1] = n
    sizes = ends - starts
    cneg0 = np.concatenate(([0], cneg))
    neg_before = cneg0[starts]
    neg_in = cneg0[ends] - neg_before
    pos_before = starts - neg_before
    pos_in = sizes - neg_in
    h_pos = (neg_before + 0.5 * neg_in) / n_neg
    h_neg = (n_pos - pos_before - 0.5 * pos_in) / n_pos
    vals = np.where(ps, np.repeat(h_pos, sizes), np.repeat(h_neg, sizes))
    twice = int(np.dot(pos_in, 2 * neg_before + neg_in))
    return order, ps, vals, twice / (2.0 * n_pos * n_neg)


def case_placements(
    pos: NDArray[np.bool_], s: NDArray[np.float64], n_pos: int, n_neg: int
) -> tuple[NDArray[np.float64], float]:
    """Placement value of every case in case order (v10 for positives, v01 for negatives),
    and the AUC."""
    order, _, vals, auc = sorted_placements(pos, s, n_pos, n_neg)
    out = np.empty_like(vals)
    out[order] = vals
    return out, auc


def placement_values(
    truth: NDArray[np.integer] | list[int], score: NDArray[np.floating] | list[float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """DeLong placement values of each positive and each negative case.

    ``v10[i]`` is the fraction of negatives scored below positive ``i`` (ties count one half);
    ``v01[j]`` is the fraction of positives scored above negative ``j`` (ties one half). The
    empirical AUC equals ``v10.mean()`` and ``v01.mean()``. Computed from one sort of the
    pooled scores as in Sun and Xu (2014) (equivalently ``v10 = (R_all - R_pos) / n_neg`` and
    ``v01 = 1 - (R_all - R_neg) / n_pos`` with midranks ``R``).

    Parameters
    ----------
    truth : array of shape (n,), 0/1 (1 = positive)
    score : array of shape (n,), finite; higher means more likely positive

    Returns
    -------
    (v10, v01) : arrays of shape (n_pos,) and (n_neg,), in the order the cases appear.
    """
    t = check_binary_truth(truth)
    s = check_scores(score, t.size)
    n_pos, n_neg = check_two_classes(t)
    pos = t.astype(bool)
    pl, _ = case_placements(pos, s, n_pos, n_neg)
    return pl[pos], pl[~pos]
