"""Localization figures of merit: FROC and AFROC curves, (w)AFROC, LLF/NLF, LROC.

Notation (Chakraborty 2017): ``K1`` non-diseased and ``K2`` diseased cases, ``L_d`` lesions on
diseased case ``d`` (``N_L`` in all), lesion weights ``W_dl`` summing to 1 on each case,
``FP_k`` the highest non-lesion-localization (NL) rating on case ``k`` (``-inf`` if the case
has no NL mark), ``LL_dl`` the rating of lesion ``l`` (``-inf`` if not localized) and the
comparison kernel ``psi(x, y) = 1 if y > x, 1/2 if y = x, 0 otherwise``.

* AFROC FOM: ``(1 / (K1 N_L)) sum_{k in ND} sum_d sum_l psi(FP_k, LL_dl)``, the probability
  that a lesion is rated above the highest NL rating of a non-diseased case (Chakraborty and
  Berbaum 2004).
* wAFROC FOM: ``(1 / (K1 K2)) sum_{k in ND} sum_d sum_l W_dl psi(FP_k, LL_dl)``; each diseased
  case counts once whatever its number of lesions (Chakraborty and Zhai 2016).
* AFROC1 and wAFROC1: the same with ``FP_k`` taken over all ``K1 + K2`` cases (for studies
  without non-diseased cases).
* FROC curve: ``NLF(z) = #{NL >= z} / K`` against ``LLF(z) = #{LL >= z} / N_L`` (Bunch et al.
  1978); the lesion-localization fraction at a threshold is one point of it.
* LROC (one lesion per diseased case, Swensson 1996): a case's rating is its highest mark;
  the localization is correct when the highest mark is on the lesion. The area under the
  empirical LROC is ``(1 / (K1 K2)) sum_{k in ND} sum_d 1[correct_d] psi(z_k, z_d)`` and
  ``PCL(z)`` the fraction of diseased cases correctly localized with rating ``>= z``.

Each (w)AFROC FOM is a two-sample U-statistic over (non-diseased, diseased) case pairs, so its
leave-one-case-out values follow from row and column sums of the kernel matrix; those
jackknife values feed the Obuchowski-Rockette covariance and the DBM pseudovalues.

References
----------
1. Chakraborty DP, Berbaum KS (2004). Observer studies involving detection and localization:
   modeling, analysis, and validation. Med Phys 31(8):2313-2330. doi:10.1118/1.1769352
2. Chakraborty DP, Zhai X (2016). On the meaning of the weighted alternative free-response
   operating characteristic figure of merit. Med Phys 43(5):2548-2557. doi:10.1118/1.4947125
3. Chakraborty DP (2017). Observer Performance Methods for Diagnostic Imaging. CRC Press.
   doi:10.1201/9781351228190
4. Bunch PC, Hamilton JF, Sanderson GK, Simmons AH (1978). A free-response approach to the
   measurement and characterization of radiographic-observer performance. J Appl Photogr Eng
   4(4):166-171.
5. Swensson RG (1996). Unified measurement of observer performance in detecting and
   localizing target objects on images. Med Phys 23(10):1709-1725. doi:10.1118/1.597758
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._checks import check_choice
from validation.stats._result import Result

FOMS = ("wAFROC", "AFROC", "wAFROC1", "AFROC1")
FOM_REFERENCES = (
    "Chakraborty DP, Berbaum KS (2004). Med Phys 31(8):2313-2330. doi:10.1118/1.1769352",
    "Chakraborty DP, Zhai X (2016). Med Phys 43(5):2548-2557. doi:10.1118/1.4947125",
    "Chakraborty DP (2017). Observer Performance Methods for Diagnostic Imaging. CRC Press. "
    "doi:10.1201/9781351228190",
)
LROC_REFERENCES = (
    "Swensson RG (1996). Med Phys 23(10):1709-1725. doi:10.1118/1.597758",
)


def psi(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Kernel ``1 if y > x, 1/2 if y == x (including both -inf), 0 otherwise``."""
    return (y > x).astype(np.float64) + 0.5 * (y == x)


def _check_arrays(fp: NDArray[np.float64], ll: NDArray[np.float64], weights: NDArray[np.float64],
                  diseased: NDArray[np.bool_]) -> tuple[NDArray[np.float64], ...]:
    fp = np.asarray(fp, dtype=np.float64)
    ll = np.asarray(ll, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    dis = np.asarray(diseased, dtype=bool)
    if fp.shape[-1] != dis.size:
        raise InputError(f"'fp' must have {dis.size} cases on its last axis; got {fp.shape}.")
    kd = int(dis.sum())
    if ll.shape[-2:] != w.shape or w.shape[0] != kd:
        raise InputError(f"'ll' must end in (K2, L) = {w.shape} with K2 = {kd} diseased cases; "
                         f"got {ll.shape}.")
    if kd == 0:
        raise InputError("the figure of merit needs at least one diseased case; got none.")
    if np.isnan(fp).any() or np.isnan(ll).any():
        raise InputError("ratings must not be NaN; an absent mark is -inf.")
    return fp, ll, w, dis.astype(np.float64)


@dataclass(frozen=True, slots=True)
class FomKernel:
    """Kernel matrix of a (w)AFROC-type FOM and its leave-one-case-out values.

    ``h`` has shape (..., F, K2): rows are the cases whose highest NL rating competes
    (non-diseased cases, or all cases for the "1" variants), columns the diseased cases;
    ``row_case`` and ``col_case`` map them to case indices; ``col_weight`` is the denominator
    weight of each diseased case (1 for weighted FOMs, ``L_d`` otherwise).
    """

    h: NDArray[np.float64]
    row_case: NDArray[np.int64]
    col_case: NDArray[np.int64]
    col_weight: NDArray[np.float64]
    n_cases: int

    @property
    def fom(self) -> NDArray[np.float64]:
        return self.h.sum(axis=(-2, -1)) / (self.h.shape[-2] * self.col_weight.sum())

    def jackknife(self) -> NDArray[np.float64]:
        """Leave-one-case-out FOMs, shape (..., K) over all cases in their order."""
        h = self.h
        total = h.sum(axis=(-2, -1))
        rows = h.sum(axis=-1)
        cols = h.sum(axis=-2)
        k = self.n_cases
        lead = h.shape[:-2]
        num = np.broadcast_to(total[..., None], (*lead, k)).copy()
        n_rows = np.full(k, float(h.shape[-2]))
        den_cols = np.full(k, self.col_weight.sum())
        num[..., self.row_case] -= rows
        n_rows[self.row_case] -= 1.0
        num[..., self.col_case] -= cols
        den_cols[self.col_case] -= self.col_weight
        pos = {int(c): f for f, c in enumerate(self.row_case)}
        both = [(pos[int(c)], d, int(c)) for d, c in enumerate(self.col_case) if int(c) in pos]
        if both:
            f_i, d_i, c_i = (np.array(x) for x in zip(*both, strict=True))
            num[..., c_i] += h[..., f_i, d_i]
        den = n_rows * den_cols
        if (den <= 0).any():
            raise InputError("leaving one case out leaves no case pair to compare; the "
                             "jackknife needs at least 2 non-diseased and 2 diseased cases.")
        return num / den


def fom_kernel(fp: NDArray[np.float64], ll: NDArray[np.float64], weights: NDArray[np.float64],
               diseased: NDArray[np.bool_], *, fom: str = "wAFROC") -> FomKernel:
    """Kernel matrix of the (w)AFROC-type figure of merit ``fom``.

    Parameters
    ----------
    fp : array (..., K), highest NL rating per case (``-inf`` if none).
    ll : array (..., K2, L), lesion ratings (``-inf`` if not localized); padding lesions must
        have weight 0.
    weights : array (K2, L), lesion weights (rows sum to 1; 0 for padding).
    diseased : bool array (K,), True for the K2 diseased cases (in the order of ``ll``).
    fom : one of "wAFROC", "AFROC", "wAFROC1", "AFROC1".
    """
    check_choice(fom, "fom", FOMS)
    fp, ll, w, dis = _check_arrays(fp, ll, weights, diseased)
    disb = dis.astype(bool)
    if fom.endswith("1"):
        rows = np.arange(disb.size)
    else:
        rows = np.flatnonzero(~disb)
        if rows.size == 0:
            raise InputError(f"'{fom}' needs non-diseased cases; got none. Use {fom}1, which "
                             "takes the highest NL rating over all cases.")
    cols = np.flatnonzero(disb)
    weighted = fom.startswith("w")
    lw = w if weighted else (w > 0).astype(np.float64)
    col_weight = np.ones(cols.size) if weighted else lw.sum(axis=1)
    f = fp[..., rows]
    h = np.einsum("...fdl,dl->...fd", psi(f[..., :, None, None], ll[..., None, :, :]), lw)
    return FomKernel(h=h, row_case=rows.astype(np.int64), col_case=cols.astype(np.int64),
                     col_weight=col_weight, n_cases=disb.size)


def localization_fom(fp: NDArray[np.float64], ll: NDArray[np.float64],
                     weights: NDArray[np.float64], diseased: NDArray[np.bool_], *,
                     fom: str = "wAFROC") -> NDArray[np.float64]:
    """Empirical AFROC-type figure of merit (array over the leading axes of ``fp``).

    See :func:`fom_kernel` for the arguments and the module docstring for the definitions
    (Chakraborty and Berbaum 2004, doi:10.1118/1.1769352; Chakraborty and Zhai 2016,
    doi:10.1118/1.4947125).
    """
    return fom_kernel(fp, ll, weights, diseased, fom=fom).fom


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatingCurve(Result):
    """Empirical operating points, from the strictest threshold to the laxest.

    FROC: ``x`` = NLF (NL marks per case), ``y`` = LLF. AFROC / wAFROC: ``x`` = FPF of
    non-diseased cases, ``y`` = (weighted) LLF, ending at (1, 1). ``thresholds[i]`` is the
    rating at or above which point ``i`` counts a mark (``None`` for the origin and the
    (1, 1) end point of the AFROC).
    """

    kind: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    thresholds: tuple[float | None, ...]
    method: str
    references: tuple[str, ...] = FOM_REFERENCES


def _levels(*arrays: NDArray[np.float64]) -> NDArray[np.float64]:
    vals = np.concatenate([a[np.isfinite(a)] for a in arrays])
    return np.unique(vals)[::-1]


def froc_curve(nl: NDArray[np.float64], ll: NDArray[np.float64], weights: NDArray[np.float64],
               *, n_cases: int) -> OperatingCurve:
    """Empirical FROC points of one reader in one modality.

    Parameters
    ----------
    nl : 1-D array of all NL ratings (any case).
    ll : array (K2, L) of lesion ratings (``-inf`` if not localized).
    weights : array (K2, L) (only its support, ``> 0``, is used: it marks the real lesions).
    n_cases : K, all cases read (the NLF denominator).
    """
    nl = np.asarray(nl, dtype=np.float64).ravel()
    ll = np.asarray(ll, dtype=np.float64)
    real = np.asarray(weights) > 0
    if n_cases < 1 or real.sum() == 0:
        raise InputError(f"'n_cases' must be >= 1 and there must be lesions; got {n_cases} cases "
                         f"and {int(real.sum())} lesions.")
    lls = ll[real]
    z = _levels(nl, lls)
    x = [0.0] + [float((nl >= t).sum()) / n_cases for t in z]
    y = [0.0] + [float((lls >= t).sum()) / lls.size for t in z]
    return OperatingCurve(kind="FROC", x=tuple(x), y=tuple(y),
                          thresholds=(None, *(float(t) for t in z)),
                          method="empirical FROC (Bunch et al. 1978)")


def afroc_curve(fp: NDArray[np.float64], ll: NDArray[np.float64], weights: NDArray[np.float64],
                diseased: NDArray[np.bool_], *, weighted: bool = True) -> OperatingCurve:
    """Empirical (w)AFROC points of one reader in one modality; trapezoidal area = the FOM.

    ``fp`` (K,), ``ll`` (K2, L), ``weights`` (K2, L), ``diseased`` (K,).
    """
    fp, ll, w, dis = _check_arrays(fp, ll, weights, diseased)
    nd = fp[~dis.astype(bool)]
    if nd.size == 0:
        raise InputError("the AFROC curve needs non-diseased cases; got none.")
    lw = w if weighted else (w > 0).astype(np.float64)
    denom = ll.shape[0] if weighted else lw.sum()
    real = lw > 0
    z = _levels(nd, ll[real])
    x = [0.0] + [float((nd >= t).mean()) for t in z] + [1.0]
    y = [0.0] + [float((lw * (ll >= t)).sum() / denom) for t in z] + [1.0]
    return OperatingCurve(kind="wAFROC" if weighted else "AFROC", x=tuple(x), y=tuple(y),
                          thresholds=(None, *(float(t) for t in z), None),
                          method="empirical AFROC (Chakraborty and Berbaum 2004)")


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatingPoint(Result):
    """Lesion-localization fraction and NL marks per case at one rating threshold."""

    threshold: float
    llf: float
    nlf: float
    n_lesions_localized: int
    n_lesions: int
    n_nl_marks: int
    n_cases: int
    method: str = "FROC operating point: LLF = LL >= threshold / lesions; NLF = NL / cases"
    references: tuple[str, ...] = FOM_REFERENCES


def lesion_localization_fraction(nl: NDArray[np.float64], ll: NDArray[np.float64],
                                 weights: NDArray[np.float64], *, n_cases: int,
                                 threshold: float) -> OperatingPoint:
    """LLF and NLF counting the marks rated at or above ``threshold``.

    ``nl``: all NL ratings; ``ll`` (K2, L) lesion ratings; ``weights`` (K2, L) mark the real
    lesions (``> 0``); ``n_cases``: all cases read.
    """
    if not np.isfinite(threshold):
        raise InputError(f"'threshold' must be a finite rating; got {threshold!r}.")
    nl = np.asarray(nl, dtype=np.float64).ravel()
    lls = np.asarray(ll, dtype=np.float64)[np.asarray(weights) > 0]
    if n_cases < 1 or lls.size == 0:
        raise InputError(f"'n_cases' must be >= 1 and there must be lesions; got {n_cases} and "
                         f"{lls.size}.")
    n_ll = int((lls >= threshold).sum())
    n_nl = int((nl >= threshold).sum())
    return OperatingPoint(threshold=float(threshold), llf=n_ll / lls.size, nlf=n_nl / n_cases,
                          n_lesions_localized=n_ll, n_lesions=int(lls.size), n_nl_marks=n_nl,
                          n_cases=int(n_cases))


@dataclass(frozen=True, slots=True, kw_only=True)
class LROCResult(Result):
    """Empirical LROC of one reader: area, ROC AUC of the case ratings, the PCL curve."""

    estimate: float
    roc_auc: float
    pcl_max: float
    fpf: tuple[float, ...]
    pcl: tuple[float, ...]
    n_nondiseased: int
    n_diseased: int
    method: str = "empirical LROC area (Swensson 1996)"
    references: tuple[str, ...] = LROC_REFERENCES


def lroc(fp: NDArray[np.float64], ll: NDArray[np.float64], diseased: NDArray[np.bool_]
         ) -> LROCResult:
    """Empirical LROC for a one-lesion-per-case task.

    Parameters
    ----------
    fp : array (K,), highest NL rating per case (``-inf`` if none).
    ll : array (K2,) or (K2, 1), rating of the single lesion of each diseased case.
    diseased : bool array (K,).

    Notes
    -----
    A diseased case's rating is its highest mark; it is correctly localized when the lesion
    mark is rated strictly above every NL mark on the case (a tie is not a localization).
    The area is ``(1/(K1 K2)) sum_k sum_d 1[correct_d] psi(z_k, z_d)``; ``pcl_max`` is the
    fraction of diseased cases correctly localized (the LROC's end point).
    """
    fp = np.asarray(fp, dtype=np.float64)
    ll = np.asarray(ll, dtype=np.float64)
    if ll.ndim == 2:
        if ll.shape[1] != 1:
            raise InputError(f"LROC needs one lesion per diseased case; 'll' has shape {ll.shape}.")
        ll = ll[:, 0]
    dis = np.asarray(diseased, dtype=bool)
    if ll.size != int(dis.sum()) or fp.size != dis.size:
        raise InputError("'ll' must have one rating per diseased case and 'fp' one per case.")
    if dis.all() or not dis.any():
        raise InputError("LROC needs diseased and non-diseased cases.")
    zn = fp[~dis]
    fpd = fp[dis]
    zd = np.maximum(ll, fpd)
    correct = ll > fpd
    area = float((psi(zn[:, None], zd[None, :]) * correct[None, :]).mean())
    auc = float(psi(zn[:, None], zd[None, :]).mean())
    z = _levels(zn, zd)
    fpf = [0.0] + [float((zn >= t).mean()) for t in z]
    pcl = [0.0] + [float((correct & (zd >= t)).mean()) for t in z]
    return LROCResult(estimate=area, roc_auc=auc, pcl_max=float(correct.mean()), fpf=tuple(fpf),
                      pcl=tuple(pcl), n_nondiseased=int(zn.size), n_diseased=int(zd.size))
