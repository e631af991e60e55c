"""Pointwise bootstrap confidence band of sensitivity at fixed false-positive rates.

For every false-positive rate ``f`` of a grid (specificity ``1 - f``) the band is the stratified
(cases resampled within each truth class) bootstrap percentile interval of the sensitivity,
as pROC's ``ci.se`` does (Robin et al. 2011). Sensitivity at a false-positive rate ``f`` is read
from the empirical ROC curve (Fawcett 2006) joined by straight segments: where the curve has a
vertical segment at ``f`` the highest sensitivity there is taken; between two curve points the
value is interpolated linearly. The band is pointwise, not simultaneous (Macskassy & Provost 2005).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_binary_truth, check_count, check_scores, check_two_classes
from validation.stats._result import Result

ROBIN_2011 = "Robin X et al. pROC. BMC Bioinformatics 2011;12:77. doi:10.1186/1471-2105-12-77"
FAWCETT_2006 = (
    "Fawcett T. An introduction to ROC analysis. Pattern Recognit Lett 2006;27:861-874. "
    "doi:10.1016/j.patrec.2005.10.010"
)
MACSKASSY_2005 = (
    "Macskassy SA, Provost F, Rosset S. ROC confidence bands: an empirical evaluation. ICML 2005. "
    "doi:10.1145/1102351.1102419"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ROCBand(Result):
    """Pointwise bootstrap band of sensitivity (``tpr``) over a false-positive-rate grid."""

    fpr: NDArray[np.float64]
    tpr: NDArray[np.float64]
    tpr_low: NDArray[np.float64]
    tpr_high: NDArray[np.float64]
    level: float
    n_boot: int
    seed: int
    method: str
    references: tuple[str, ...]


def _tpr_at(fp: NDArray[np.float64], tp: NDArray[np.float64], n_neg: int, n_pos: int,
            grid: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sensitivity at ``grid`` for curves given as cumulative counts (rows: curves, 0 first)."""
    rows, k = fp.shape
    x = grid * n_neg
    xr = np.round(x)
    x = np.where(np.abs(x - xr) < 1e-9, xr, x)  # exact count matches despite float grid
    off = (np.arange(rows, dtype=np.float64) * (n_neg + 1.0))[:, None]
    j = np.searchsorted((fp + off).ravel(), (x[None, :] + off).ravel(), side="right") - 1
    j = j.reshape(rows, grid.size) - (np.arange(rows) * k)[:, None]  # last point with FP <= x
    r = np.arange(rows)[:, None]
    j1 = np.minimum(j + 1, k - 1)
    f0, f1, t0, t1 = fp[r, j], fp[r, j1], tp[r, j], tp[r, j1]
    w = np.where(f1 > f0, (x[None, :] - f0) / np.where(f1 > f0, f1 - f0, 1.0), 0.0)
    return (t0 + w * (t1 - t0)) / n_pos


def roc_sensitivity_band(truth: Any, score: Any, *, fpr_grid: Any = None, alpha: float = 0.05,
                         n_boot: int = 2000, seed: int = 0) -> ROCBand:
    """Stratified bootstrap percentile band of sensitivity at fixed specificities.

    Parameters
    ----------
    truth : array of shape (n,), 0/1, both classes present
    score : array of shape (n,), finite; higher means more likely positive
    fpr_grid : array of false-positive rates in [0, 1]; default 0, 0.02, ..., 1
    alpha : float; the band has level ``1 - alpha``
    n_boot : int >= 1, bootstrap replicates
    seed : int, seed of ``numpy.random.default_rng``

    Returns
    -------
    ROCBand

    References
    ----------
    Robin X et al. (2011) doi:10.1186/1471-2105-12-77 (``ci.se``); Fawcett T (2006)
    doi:10.1016/j.patrec.2005.10.010; Macskassy SA, Provost F (2005) doi:10.1145/1102351.1102419.
    """
    t = check_binary_truth(truth)
    s = check_scores(score, t.size)
    n_pos, n_neg = check_two_classes(t)
    a = check_alpha(alpha)
    b = check_count(n_boot, "n_boot", minimum=1)
    sd = check_count(seed, "seed")
    if fpr_grid is None:
        grid = np.linspace(0.0, 1.0, 51)
    else:
        try:
            grid = np.asarray(fpr_grid, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise InputError(f"'fpr_grid' must be numbers in [0, 1]; got {fpr_grid!r}.") from None
        if grid.size == 0 or not np.all(np.isfinite(grid)) or grid.min() < 0 or grid.max() > 1:
            raise InputError(f"'fpr_grid' must be numbers in [0, 1]; got {fpr_grid!r}.")
    levels, inv = np.unique(-s, return_inverse=True)  # level 0 = highest score
    nl = levels.size
    pos = t == 1
    lp, ln = np.sort(inv[pos]), np.sort(inv[~pos])  # canonical order: result ignores case order
    rng = np.random.default_rng(sd)
    cp = rng.multinomial(n_pos, np.full(n_pos, 1.0 / n_pos), size=b)
    cn = rng.multinomial(n_neg, np.full(n_neg, 1.0 / n_neg), size=b)

    def cum(counts: NDArray[np.int64], lv: NDArray[np.intp]) -> NDArray[np.float64]:
        agg = np.zeros((counts.shape[0], nl + 1))
        np.add.at(agg.T, lv + 1, counts.T)
        return np.cumsum(agg, axis=1)

    tp_b, fp_b = cum(cp, lp), cum(cn, ln)
    tp0, fp0 = cum(np.ones((1, n_pos), np.int64), lp), cum(np.ones((1, n_neg), np.int64), ln)
    tpr = _tpr_at(fp0, tp0, n_neg, n_pos, grid)[0]
    boot = _tpr_at(fp_b, tp_b, n_neg, n_pos, grid)
    low, high = np.quantile(boot, [a / 2, 1 - a / 2], axis=0)
    return ROCBand(fpr=grid, tpr=tpr, tpr_low=low, tpr_high=high, level=1 - a, n_boot=b, seed=sd,
                   method="stratified-bootstrap-percentile-se-at-sp",
                   references=(ROBIN_2011, FAWCETT_2006, MACSKASSY_2005))
