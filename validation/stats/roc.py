"""ROC analysis: empirical AUC, DeLong placement values (more to come in this module).

References
----------
1. DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
   correlated receiver operating characteristic curves: a nonparametric approach.
   Biometrics 44(3):837-845. doi:10.2307/2531595
2. Sun X, Xu W (2014). Fast implementation of DeLong's algorithm for comparing the areas under
   correlated receiver operating characteristic curves. IEEE Signal Processing Letters
   21(11):1389-1393. doi:10.1109/LSP.2014.2337313
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from validation.stats._checks import check_binary_truth, check_scores, check_two_classes


def placement_values(
    truth: NDArray[np.integer] | list[int], score: NDArray[np.floating] | list[float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """DeLong placement values of each positive and each negative case.

    ``v10[i]`` is the fraction of negatives scored below positive ``i`` (ties count one half);
    ``v01[j]`` is the fraction of positives scored above negative ``j`` (ties one half). The
    empirical AUC equals ``v10.mean()`` and ``v01.mean()``. Computed from midranks as in Sun and
    Xu (2014): ``v10 = (R_all - R_pos) / n_neg`` and ``v01 = 1 - (R_all - R_neg) / n_pos``.

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
    pos = t == 1
    ranks_all = rankdata(s, method="average")
    x = s[pos]
    y = s[~pos]
    v10 = (ranks_all[pos] - rankdata(x, method="average")) / n_neg
    v01 = 1.0 - (ranks_all[~pos] - rankdata(y, method="average")) / n_pos
    return v10, v01
