"""U-statistic MRMC variance for arbitrary designs (Gallas 2006, 2009), as iMRMC computes it.

The reader-averaged AUC of a modality is ``sum_r sum_ij D_r(i,j) s_r(i,j) / sum_r sum_ij D_r(i,j)``
where ``s_r(i,j) = psi(x_ri, y_rj)`` is reader ``r``'s success on non-diseased case ``i`` and
diseased case ``j`` (1, 1/2 on a tie, 0) and ``D_r(i,j) = 1`` when reader ``r`` read both
cases. In a fully crossed study it is the mean of the reader AUCs; in a split-plot or partly
missing design each reader counts in proportion to the case pairs read.

Its variance is ``sum_k c_k M_k - M_8``: ``M_1..M_8`` are the expected products of two success
values that share (or not) the reader, the non-diseased case and the diseased case, estimated
without bias by U-statistics over the pairs the design holds (Gallas 2006), and ``c_k`` are
the fractions of all pairs of summands of each kind - computed from the design itself, so the
same formula serves fully crossed, split-plot and missing-data designs (Gallas et al. 2009).
The covariance of two modalities' AUCs uses the same sums over reader pairs across the
modalities; ``var(A - B) = var(A) + var(B) - 2 cov(A, B)``. Degrees of freedom follow the
BDG method (Satterthwaite with the biased BCK components and Gaylor's floor), as iMRMC's
``dfBDG``. A binary endpoint (sensitivity or specificity from 0/1 decisions) is the
one-sample analogue with four moments (Gallas, Pennello and Myers 2007).

Moment order (iMRMC's): 1 same reader, same non-diseased and diseased case; 2 same reader,
same diseased case; 3 same reader, same non-diseased case; 4 same reader; 5-8 the same with
two different readers. Reader identity is matched across modalities by name.

References
----------
1. Gallas BD (2006). One-shot estimate of MRMC variance: AUC. Acad Radiol 13(3):353-362.
   doi:10.1016/j.acra.2005.11.030
2. Gallas BD, Bandos A, Samuelson FW, Wagner RF (2009). A framework for random-effects ROC
   analysis: biases with the bootstrap and other variance estimators. Commun Stat Theory
   Methods 38(15):2586-2603. doi:10.1080/03610920802610084
3. Gallas BD, Brown DG (2008). Reader studies for validation of CAD systems. Neural Netw
   21(2-3):387-397. doi:10.1016/j.neunet.2007.12.013
4. Gallas BD, Pennello GA, Myers KJ (2007). Multireader multicase variance analysis for
   binary data. J Opt Soc Am A 24(12):B70-B80. doi:10.1364/JOSAA.24.000B70
5. Gaylor DW, Hopper FN (1969). Estimating the degrees of freedom for linear combinations of
   mean squares by Satterthwaite's formula. Technometrics 11(4):691-706.
   doi:10.1080/00401706.1969.10490732
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from validation.errors import DesignError, InputError
from validation.stats._checks import check_alpha
from validation.stats._result import Result

USTAT_REFERENCES = (
    "Gallas BD (2006). Acad Radiol 13(3):353-362. doi:10.1016/j.acra.2005.11.030",
    "Gallas BD, Bandos A, Samuelson FW, Wagner RF (2009). Commun Stat Theory Methods "
    "38(15):2586-2603. doi:10.1080/03610920802610084",
    "Gallas BD, Brown DG (2008). Neural Netw 21(2-3):387-397. doi:10.1016/j.neunet.2007.12.013",
)
BINARY_REFERENCES = (
    "Gallas BD, Pennello GA, Myers KJ (2007). J Opt Soc Am A 24(12):B70-B80. "
    "doi:10.1364/JOSAA.24.000B70",
)

# biased sums -> unbiased sums (inclusion-exclusion over shared indices)
_B8 = np.array([
    [1, 0, 0, 0, 0, 0, 0, 0],
    [-1, 1, 0, 0, 0, 0, 0, 0],
    [-1, 0, 1, 0, 0, 0, 0, 0],
    [1, -1, -1, 1, 0, 0, 0, 0],
    [-1, 0, 0, 0, 1, 0, 0, 0],
    [1, -1, 0, 0, -1, 1, 0, 0],
    [1, 0, -1, 0, -1, 0, 1, 0],
    [-1, 1, 1, -1, 1, -1, -1, 1],
], dtype=np.float64)
# moments -> BCK components (Gallas et al. 2009, eq. 19) and coefficients -> BCK coefficients
_B_ALPHA = np.array([
    [0, 0, 0, 0, 0, 0, 1, -1],
    [0, 0, 0, 0, 0, 1, 0, -1],
    [0, 0, 0, 0, 1, -1, -1, 1],
    [0, 0, 0, 1, 0, 0, 0, -1],
    [0, 0, 1, -1, 0, 0, -1, 1],
    [0, 1, 0, -1, 0, -1, 0, 1],
    [1, -1, -1, 1, -1, 1, 1, -1],
], dtype=np.float64)
_B_COEF = np.array([
    [1, 0, 1, 0, 1, 0, 1, 0],
    [1, 1, 0, 0, 1, 1, 0, 0],
    [1, 0, 0, 0, 1, 0, 0, 0],
    [1, 1, 1, 1, 0, 0, 0, 0],
    [1, 0, 1, 0, 0, 0, 0, 0],
    [1, 1, 0, 0, 0, 0, 0, 0],
    [1, 0, 0, 0, 0, 0, 0, 0],
], dtype=np.float64)


def _div(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.zeros_like(a)
    ok = b != 0
    out[ok] = a[ok] / b[ok]
    return out


@dataclass(frozen=True, slots=True)
class _Pair:
    """U-statistic (co)variance of two reader-averaged AUCs and its BDG ingredients."""

    auc_a: float
    auc_b: float
    cov: float
    coeff: NDArray[np.float64]
    moments: NDArray[np.float64]
    bck_biased: NDArray[np.float64]
    df_nd_r: tuple[float, float, float]


def success_matrices(score: NDArray[np.float64], read: NDArray[np.bool_], truth: NDArray[np.int8]
                     ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Success values ``s_r(i, j)`` and design ``D_r(i, j)``, both (R, K0, K1).

    ``score`` and ``read`` are (R, K): a reader's rating of each case and whether it was read.
    """
    neg = truth == 0
    x = np.where(read, score, 0.0)
    xn, xp = x[:, neg], x[:, ~neg]
    s = (xp[:, None, :] > xn[:, :, None]).astype(np.float64) + 0.5 * (xp[:, None, :] == xn[:, :, None])
    d = (read[:, neg][:, :, None] & read[:, ~neg][:, None, :]).astype(np.float64)
    return s * d, d


def _sums(xa: NDArray[np.float64], xb: NDArray[np.float64]) -> NDArray[np.float64]:
    """The eight biased sums: same reader (diagonal of the reader-pair matrices), all pairs."""
    n1 = np.einsum("rij,sij->rs", xa, xb)
    n2 = np.einsum("rj,sj->rs", xa.sum(axis=1), xb.sum(axis=1))
    n3 = np.einsum("ri,si->rs", xa.sum(axis=2), xb.sum(axis=2))
    n4 = np.outer(xa.sum(axis=(1, 2)), xb.sum(axis=(1, 2)))
    mats = (n1, n2, n3, n4)
    return np.array([np.trace(m) for m in mats] + [m.sum() for m in mats])


def _pair(sa: NDArray[np.float64], da: NDArray[np.float64], sb: NDArray[np.float64],
          db: NDArray[np.float64]) -> _Pair:
    numer = _sums(sa, sb)
    denom = _sums(da, db)
    m_biased = _div(numer, denom)
    nu = _B8 @ numer
    de = _B8 @ denom
    m = _div(nu, de)
    coeff = de / denom[7]
    coeff[7] -= 1.0
    bck_coeff = _B_COEF @ coeff
    bck_b = _B_ALPHA @ m_biased
    bck_b[bck_coeff == 0] = 0.0
    with np.errstate(divide="ignore"):
        dfs = tuple(float(np.round(1.0 / bck_coeff[k] - 1.0)) if bck_coeff[k] != 0 else np.inf
                    for k in (0, 1, 3))
    return _Pair(auc_a=float(sa.sum() / da.sum()), auc_b=float(sb.sum() / db.sum()),
                 cov=float(coeff @ m), coeff=coeff, moments=m, bck_biased=bck_b,
                 df_nd_r=(dfs[0], dfs[1], dfs[2]))


def _df_bdg(var: float, bck: NDArray[np.float64], dfs: tuple[float, float, float]) -> float:
    """BDG df (Satterthwaite on the BCK components, floored at the smallest component df).

    ``nan`` when the variance is negative or a component has no degree of freedom (fewer than
    two readers, or cases, behind it): no t reference distribution exists then.
    """
    if var < 0 or min(dfs) < 1:
        return float("nan")
    sb = sum(bck[k] ** 2 / d**3 for k, d in zip((0, 1, 3), dfs, strict=True) if np.isfinite(d))
    df = var**2 / sb if sb > 0 else np.inf
    return float(max(df, min(dfs)))


@dataclass(frozen=True, slots=True, kw_only=True)
class UStatEstimate(Result):
    """Reader-averaged FOM (or a difference) with its U-statistic variance and BDG df.

    ``p_value`` tests ``estimate = null`` (0.5 for one AUC, 0 for a difference) two-sided
    with a t distribution on ``floor(df)`` (the normal distribution when ``df > 50``), as
    iMRMC does; ``ci`` is the matching interval. ``variance`` may be
    negative in small studies (an unbiased estimate); ``se``, ``ci``, ``p_value`` are then
    ``None``.
    """

    estimate: float
    variance: float
    se: float | None
    readers: dict[str, float] = field(default_factory=dict)
    df: float | None
    ci: tuple[float, float] | None
    statistic: float | None
    p_value: float | None
    null: float
    moments: tuple[float, ...]
    coefficients: tuple[float, ...]
    method: str
    references: tuple[str, ...] = USTAT_REFERENCES


def _estimate(est: float, var: float, df: float, null: float, alpha: float,
              p: _Pair | None, method: str) -> UStatEstimate:
    if var > 0 and not np.isnan(df) and df >= 1:
        se = float(np.sqrt(var))
        # iMRMC's convention: t on floor(df), the normal distribution when df > 50
        dist = stats.t(np.floor(df)) if df <= 50 else stats.norm()
        q = float(dist.ppf(1 - alpha / 2))
        stat = (est - null) / se
        pv = float(2 * dist.sf(abs(stat)))
        ci: tuple[float, float] | None = (est - q * se, est + q * se)
        se_o: float | None = se
        st_o: float | None = float(stat)
        p_o: float | None = pv
    else:
        se_o = st_o = p_o = None
        ci = None
    return UStatEstimate(
        estimate=float(est), variance=float(var), se=se_o,
        df=float(df) if np.isfinite(df) else None,
        ci=ci, statistic=st_o, p_value=p_o, null=null,
        moments=tuple(float(x) for x in (p.moments if p else ())),
        coefficients=tuple(float(x) for x in (p.coeff if p else ())), method=method)


@dataclass(frozen=True, slots=True, kw_only=True)
class UStatMRMC(Result):
    """U-statistic MRMC analysis of two modalities: each one, and the difference (B - A)."""

    modalities: dict[str, UStatEstimate]
    difference: UStatEstimate
    comparison: str
    alpha: float
    n_readers: int
    n_nondiseased: int
    n_diseased: int
    n_readings: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = "U-statistic MRMC variance (Gallas 2006, 2009), BDG df, as iMRMC"
    references: tuple[str, ...] = USTAT_REFERENCES


def ustat_mrmc(
    score: NDArray[np.float64], read: NDArray[np.bool_], truth: NDArray[np.int8], *,
    modalities: tuple[str, str] = ("A", "B"), alpha: float = 0.05,
    reader_labels: tuple[str, ...] | None = None,
) -> UStatMRMC:
    """U-statistic MRMC analysis of the reader-averaged AUC for any reading design.

    Parameters
    ----------
    score : array (2, R, K), rating of reader ``r`` for case ``k`` in each modality (any
        value where not read).
    read : bool array (2, R, K), True where the reading exists.
    truth : array (K,), 1 = diseased.
    modalities : names of the two modalities; the difference is the second minus the first.
    alpha : two-sided level.
    reader_labels : names of the R readers (for the per-reader AUCs; default "1", "2", ...).

    Returns
    -------
    UStatMRMC

    Notes
    -----
    Fully crossed data (``read`` all True) give Gallas's (2006) one-shot estimate; the design
    enters only through ``read``. Every modality needs at least two readers and every reader
    at least one non-diseased and one diseased case (else :class:`DesignError`).
    """
    alpha = check_alpha(alpha)
    score = np.asarray(score, dtype=np.float64)
    read = np.asarray(read, dtype=bool)
    truth = np.asarray(truth, dtype=np.int8)
    if score.ndim != 3 or score.shape[0] != 2 or read.shape != score.shape:
        raise InputError(f"'score' and 'read' must have shape (2, R, K); got {score.shape} and "
                         f"{read.shape}.")
    if score.shape[2] != truth.size or not np.isin(truth, (0, 1)).all():
        raise InputError(f"'truth' must hold 0/1 for each of the {score.shape[2]} cases.")
    if np.isnan(score[read]).any():
        raise InputError("'score' must not be NaN where a reading exists.")
    mats = []
    for i, name in enumerate(modalities):
        active = read[i].any(axis=1)
        if active.sum() < 2:
            raise DesignError(f"modality {name!r} has {int(active.sum())} reader(s) with readings; "
                              "the U-statistic variance needs at least 2.")
        s, d = success_matrices(score[i], read[i], truth)
        idle = active & (d.sum(axis=(1, 2)) == 0)
        if idle.any():
            raise DesignError(f"in modality {name!r}, reader #{int(np.flatnonzero(idle)[0])} read "
                              "no pair of a non-diseased and a diseased case.")
        mats.append((s, d))
    (sa, da), (sb, db) = mats
    pa = _pair(sa, da, sa, da)
    pb = _pair(sb, db, sb, db)
    pab = _pair(sa, da, sb, db)
    method = "U-statistic MRMC variance (Gallas 2006, 2009), BDG df"
    labels = reader_labels or tuple(str(j + 1) for j in range(score.shape[1]))
    if len(labels) != score.shape[1]:
        raise InputError(f"'reader_labels' must name {score.shape[1]} readers; got {len(labels)}.")
    one = {}
    for name, p, (s_, d_) in zip(modalities, (pa, pb), mats, strict=True):
        est = _estimate(p.auc_a, p.cov, _df_bdg(p.cov, p.bck_biased, p.df_nd_r), 0.5, alpha, p,
                        method)
        per = {labels[j]: float(s_[j].sum() / d_[j].sum()) for j in range(s_.shape[0])
               if d_[j].sum() > 0}
        one[name] = UStatEstimate(**{**{f: getattr(est, f) for f in est.__dataclass_fields__},  # type: ignore[attr-defined]
                                     "readers": per})
    var_d = pa.cov + pb.cov - 2.0 * pab.cov
    dfs = tuple(min(x, y) for x, y in zip(pa.df_nd_r, pb.df_nd_r, strict=True))
    bck_d = pa.bck_biased + pb.bck_biased - 2.0 * pab.bck_biased
    df_d = _df_bdg(var_d, bck_d, (dfs[0], dfs[1], dfs[2]))
    diff = _estimate(pb.auc_a - pa.auc_a, var_d, df_d, 0.0, alpha, None, method)
    notes = []
    for name, est in (*one.items(), ("difference", diff)):
        if est.variance <= 0:
            notes.append(f"the U-statistic variance of {name} is {est.variance:.4g} <= 0 (an "
                         "unbiased estimate in a small study): no interval is reported.")
        elif est.ci is None:
            notes.append(f"{name}: too few readers or cases for a BDG degree of freedom; no "
                         "interval is reported.")
    any_read: NDArray[np.bool_] = np.asarray(read.any(axis=0))
    return UStatMRMC(
        modalities=one, difference=diff, comparison=f"{modalities[1]} - {modalities[0]}",
        alpha=alpha, n_readers=int(np.count_nonzero(any_read.any(axis=1))),
        n_nondiseased=int((truth == 0).sum()), n_diseased=int((truth == 1).sum()),
        n_readings=int(read.sum()), notes=tuple(notes),
    )


def _binary_pair(xa: NDArray[np.float64], da: NDArray[np.float64], xb: NDArray[np.float64],
                 db: NDArray[np.float64]) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """U-statistic covariance of two reader-averaged proportions, its moments and coefficients.

    ``xa``, ``xb`` (R, K) hold the values where read (0 elsewhere), ``da``, ``db`` the
    reading indicators; readers and cases are matched by position across the two.
    """
    def sums(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.array([(a * b).sum(), (a.sum(axis=1) * b.sum(axis=1)).sum(),
                         (a.sum(axis=0) * b.sum(axis=0)).sum(), a.sum() * b.sum()])

    b4 = np.array([[1, 0, 0, 0], [-1, 1, 0, 0], [-1, 0, 1, 0], [1, -1, -1, 1]], dtype=np.float64)
    numer, denom = sums(xa, xb), sums(da, db)
    nu, de = b4 @ numer, b4 @ denom
    coeff = de / denom[3]
    coeff[3] -= 1.0
    m = _div(nu, de)
    return float(coeff @ m), m, coeff


def ustat_binary_variance(decision: NDArray[np.float64], read: NDArray[np.bool_]
                          ) -> tuple[float, float]:
    """Reader-averaged proportion and its U-statistic variance (Gallas et al. 2007).

    ``decision`` (R, K) holds 0/1 decisions on the cases that define the proportion (the
    diseased cases for sensitivity, the non-diseased with ``1 - decision`` for specificity);
    ``read`` (R, K) marks the readings. Moments: same reader and case; same reader; same case;
    and their ``B`` transform to distinct indices; ``var = sum c_k M_k - M_4``.
    """
    x = np.where(read, np.asarray(decision, dtype=np.float64), 0.0)
    d = np.asarray(read, dtype=np.float64)
    if (d.sum(axis=1) > 0).sum() < 2:
        raise DesignError("the U-statistic variance needs at least 2 readers with readings.")
    var, _, _ = _binary_pair(x, d, x, d)
    return float(x.sum() / d.sum()), var


def ustat_binary_mrmc(
    decision: NDArray[np.float64], read: NDArray[np.bool_], truth: NDArray[np.int8], *,
    endpoint: str = "sensitivity", modalities: tuple[str, str] = ("A", "B"),
    alpha: float = 0.05, reader_labels: tuple[str, ...] | None = None,
) -> UStatMRMC:
    """U-statistic MRMC analysis of reader-averaged sensitivity or specificity, any design.

    Parameters
    ----------
    decision : array (2, R, K), reader ``r``'s 0/1 decision on case ``k`` in each modality
        (any value where not read).
    read : bool array (2, R, K); truth : (K,), 1 = diseased.
    endpoint : "sensitivity" (the diseased cases, decision 1 correct) or "specificity" (the
        non-diseased cases, decision 0 correct).
    modalities, alpha, reader_labels : as in :func:`ustat_mrmc`.

    Returns
    -------
    UStatMRMC
        ``df`` is ``None``: Gallas, Pennello and Myers (2007) give no degrees of freedom for
        the binary variance, so tests and intervals use the normal distribution (readers and
        cases random; with few readers this is anti-conservative, said in ``notes``).

    Notes
    -----
    The estimate is ``sum D x / sum D`` over the readings; the variance of each modality and
    the covariance of the two (readers matched by position, cases by position) are unbiased
    U-statistic estimates from the design itself (Gallas et al. 2007, 2009).
    """
    alpha = check_alpha(alpha)
    if endpoint not in ("sensitivity", "specificity"):
        raise InputError(f"'endpoint' must be sensitivity or specificity; got {endpoint!r}.")
    dec = np.asarray(decision, dtype=np.float64)
    read = np.asarray(read, dtype=bool)
    truth = np.asarray(truth, dtype=np.int8)
    if dec.ndim != 3 or dec.shape[0] != 2 or read.shape != dec.shape:
        raise InputError(f"'decision' and 'read' must have shape (2, R, K); got {dec.shape} and "
                         f"{read.shape}.")
    if dec.shape[2] != truth.size or not np.isin(truth, (0, 1)).all():
        raise InputError(f"'truth' must hold 0/1 for each of the {dec.shape[2]} cases.")
    if not np.isin(dec[read], (0.0, 1.0)).all():
        raise InputError("'decision' must be 0 or 1 where a reading exists; pass the readers' "
                         "binary decisions, not confidence ratings.")
    keep = truth == (1 if endpoint == "sensitivity" else 0)
    x = dec[:, :, keep] if endpoint == "sensitivity" else 1.0 - dec[:, :, keep]
    d = read[:, :, keep].astype(np.float64)
    x = np.where(d > 0, x, 0.0)
    labels = reader_labels or tuple(str(j + 1) for j in range(dec.shape[1]))
    if len(labels) != dec.shape[1]:
        raise InputError(f"'reader_labels' must name {dec.shape[1]} readers; got {len(labels)}.")
    for i, name in enumerate(modalities):
        if (d[i].sum(axis=1) > 0).sum() < 2:
            raise DesignError(f"modality {name!r} has fewer than 2 readers with readings of "
                              f"the cases that define the {endpoint}; the U-statistic variance "
                              "needs at least 2.")
    method = "U-statistic MRMC variance for binary data (Gallas, Pennello and Myers 2007)"
    one = {}
    variances = []
    for i, name in enumerate(modalities):
        var, mom, coef = _binary_pair(x[i], d[i], x[i], d[i])
        variances.append(var)
        est = float(x[i].sum() / d[i].sum())
        base = _estimate(est, var, np.inf, 0.5, alpha, None, method)
        per = {labels[j]: float(x[i, j].sum() / d[i, j].sum()) for j in range(x.shape[1])
               if d[i, j].sum() > 0}
        one[name] = UStatEstimate(
            estimate=base.estimate, variance=base.variance, se=base.se, readers=per, df=None,
            ci=base.ci, statistic=base.statistic, p_value=base.p_value, null=0.5,
            moments=tuple(float(v) for v in mom), coefficients=tuple(float(v) for v in coef),
            method=method, references=BINARY_REFERENCES)
    cov, _, _ = _binary_pair(x[0], d[0], x[1], d[1])
    var_d = variances[0] + variances[1] - 2.0 * cov
    diff_est = one[modalities[1]].estimate - one[modalities[0]].estimate
    base = _estimate(diff_est, var_d, np.inf, 0.0, alpha, None, method)
    diff = UStatEstimate(estimate=base.estimate, variance=base.variance, se=base.se, df=None,
                         ci=base.ci, statistic=base.statistic, p_value=base.p_value, null=0.0,
                         moments=(), coefficients=(), method=method,
                         references=BINARY_REFERENCES)
    notes = ["normal reference distribution (no degrees of freedom are defined for the binary "
             "U-statistic variance); with few readers the interval may be too narrow."]
    for name, e in (*one.items(), ("difference", diff)):
        if e.variance <= 0:
            notes.append(f"the U-statistic variance of {name} is {e.variance:.4g} <= 0 (an "
                         "unbiased estimate in a small study): no interval is reported.")
    any_read: NDArray[np.bool_] = np.asarray(read.any(axis=0))
    return UStatMRMC(
        modalities=one, difference=diff, comparison=f"{modalities[1]} - {modalities[0]}",
        alpha=alpha, n_readers=int(np.count_nonzero(any_read.any(axis=1))),
        n_nondiseased=int((truth == 0).sum()), n_diseased=int((truth == 1).sum()),
        n_readings=int(read.sum()), notes=tuple(notes), method=method,
        references=(*BINARY_REFERENCES, *USTAT_REFERENCES[1:]))
