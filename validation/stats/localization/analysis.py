"""Localization figures of merit in a reader study (OR/DBM) and for a standalone algorithm.

* :func:`localization_mrmc` - the (w)AFROC figure of merit of every reader in every modality,
  its leave-one-case-out values (closed form from the kernel's row and column sums) and, from
  them, the Obuchowski-Rockette analysis (jackknife covariance) or the DBM analysis (jackknife
  pseudovalues) of the MRMC package: RRRC, FRRC and RRFC with Hillis df. This is the JAFROC
  analysis of Chakraborty and Berbaum (2004) with the wAFROC FOM.
* :func:`standalone_localization` - one algorithm's (w)AFROC FOM with a cluster bootstrap
  interval (patients as clusters: a patient's cases are resampled together), vectorised: each
  replicate is ``m_F' H m_D / (sum m_F * sum m_D w_D)`` with ``m`` the resampling counts.

References
----------
1. Chakraborty DP, Berbaum KS (2004). Observer studies involving detection and localization:
   modeling, analysis, and validation. Med Phys 31(8):2313-2330. doi:10.1118/1.1769352
2. Obuchowski NA, Rockette HE (1995). Commun Stat Simul Comput 24(2):285-308.
   doi:10.1080/03610919508813243
3. Hillis SL (2007). Stat Med 26(3):596-619. doi:10.1002/sim.2532
4. Field CA, Welsh AH (2007). Bootstrapping clustered data. J R Stat Soc B 69(3):369-390.
   doi:10.1111/j.1467-9868.2007.00593.x
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from validation.constants import DEFAULT_SEED
from validation.errors import DesignError, InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats.bootstrap import (
    INTERVALS,
    BootstrapResult,
    _clusters,
    _common,
    _counts,
    _draws,
    _finish,
)
from validation.stats.localization.fom import FOM_REFERENCES, FOMS, fom_kernel
from validation.stats.localization.marks import LocalizationData
from validation.stats.mrmc.analysis import Difference, MRMCResult
from validation.stats.mrmc.covariance import _jackknife_cov
from validation.stats.mrmc.dbm import DBM_REFERENCES, dbm_analysis, pseudovalues
from validation.stats.mrmc.or_analysis import OR_REFERENCES, or_analysis
from validation.stats.mrmc.or_split_plot import block_covariance, or_split_plot

METHODS = ("or", "dbm")


def localization_mrmc(marks: LocalizationData, *, fom: str = "wAFROC", method: str = "or",
                      alpha: float = 0.05, margin: float | None = None,
                      reader_groups: Sequence[Any] | None = None,
                      case_groups: Sequence[Any] | None = None) -> MRMCResult:
    """JAFROC-type MRMC comparison of two modalities on a localization figure of merit.

    H0: the two modalities have the same reader-averaged FOM; the difference is the second
    modality of ``marks.modalities`` minus the first.

    Parameters
    ----------
    marks : scored marks of a fully crossed study (every reader read every case in every
        modality; a reader who left a case unmarked has ``-inf`` there, which is a reading).
    fom : "wAFROC" (default), "AFROC", "wAFROC1" or "AFROC1".
    method : "or" (Obuchowski-Rockette, jackknife covariance over all cases) or "dbm".
    alpha, margin : as in :func:`~validation.stats.mrmc.mrmc_analysis`.
    reader_groups, case_groups : for a split-plot study, the group of each reader (in the
        order of ``marks.readers``) and of each case (``marks.cases``): each group read its
        own block of cases in every modality. The figures of merit and their jackknife
        covariance are then computed within each block and analysed by the
        Obuchowski-Rockette split-plot form (:func:`~validation.stats.mrmc.or_split_plot`;
        ``method="or"`` only).

    Returns
    -------
    MRMCResult
        ``endpoint`` is the FOM name; the reader maps hold each reader's FOM.
    """
    check_choice(fom, "fom", FOMS)
    check_choice(method, "method", METHODS)
    alpha = check_alpha(alpha)
    if not isinstance(marks, LocalizationData):
        raise InputError("'marks' must be LocalizationData (from localization_arrays); got "
                         f"{type(marks).__name__}.")
    data = marks
    t, r = data.fp.shape[:2]
    if t != 2:
        raise DesignError(f"a localization MRMC comparison needs exactly 2 modalities; the marks "
                          f"hold {t} ({', '.join(map(repr, data.modalities))}). Select two.")
    if r < 2:
        raise DesignError(f"an MRMC analysis needs at least 2 readers; the marks hold {r}.")
    if (reader_groups is None) != (case_groups is None):
        raise InputError("'reader_groups' and 'case_groups' must be given together (a split "
                         "plot) or not at all (fully crossed).")
    if reader_groups is not None and case_groups is not None:
        if method != "or":
            raise DesignError("a split-plot marks study is analysed by the Obuchowski-Rockette "
                              f"split-plot form; method must be 'or', got {method!r}.")
        return _split_plot(data, fom, alpha, margin, list(reader_groups), list(case_groups))
    kern = fom_kernel(data.fp, data.ll, data.weights, data.diseased, fom=fom)
    theta = kern.fom
    jk = kern.jackknife().reshape(t * r, -1)
    cov = _jackknife_cov(jk)
    ora = or_analysis(theta, cov, n_cases=jk.shape[1], reader_labels=data.readers, alpha=alpha,
                      margin=margin, clip_unit=True)
    single = {name: ora.single[i] for i, name in enumerate(data.modalities)}
    diff = Difference(estimate=float(ora.estimate or 0.0),
                      comparison=f"{data.modalities[1]} - {data.modalities[0]}")
    common: dict[str, Any] = dict(
        endpoint=fom, covariance="jackknife", alpha=alpha, n_readers=r,
        n_cases=len(data.cases), n_cases_used=jk.shape[1], modalities=single, difference=diff)
    if method == "or":
        return MRMCResult(analysis="or", rrrc=ora.rrrc, frrc=ora.frrc, rrfc=ora.rrfc,
                          variance_components=ora.variance_components,
                          noninferiority=ora.noninferiority, notes=ora.notes,
                          method=f"{ora.method}; {fom} figure of merit (JAFROC)",
                          references=(*FOM_REFERENCES, *OR_REFERENCES), **common)
    dbm = dbm_analysis(pseudovalues(theta, jk), alpha=alpha, margin=margin)
    return MRMCResult(analysis="dbm", rrrc=dbm.rrrc, frrc=dbm.frrc, rrfc=dbm.rrfc,
                      variance_components=dbm.variance_components,
                      noninferiority=dbm.noninferiority, notes=dbm.notes,
                      method=f"{dbm.method}; {fom} figure of merit (JAFROC)",
                      references=(*FOM_REFERENCES, *DBM_REFERENCES), **common)


def _split_plot(data: LocalizationData, fom: str, alpha: float, margin: float | None,
                rg: list[Any], cg: list[Any]) -> MRMCResult:
    """Each group's FOMs and jackknife covariance on its own block; OR split-plot form."""
    t, r = data.fp.shape[:2]
    if len(rg) != r or len(cg) != len(data.cases):
        raise InputError(f"'reader_groups' and 'case_groups' must have {r} and "
                         f"{len(data.cases)} labels; got {len(rg)} and {len(cg)}.")
    dpos = np.cumsum(data.diseased) - 1            # row of each diseased case in ll
    theta = np.empty((t, r))
    blocks = []
    used = []
    for g in dict.fromkeys(rg):
        rdrs = [j for j in range(r) if rg[j] == g]
        cs = np.array([k for k in range(len(cg)) if cg[k] == g], dtype=np.int64)
        if cs.size == 0:
            raise DesignError(f"reader group {g!r} has no cases.")
        dis = data.diseased[cs]
        try:
            kern = fom_kernel(data.fp[:, rdrs][:, :, cs], data.ll[:, rdrs][:, :, dpos[cs[dis]]],
                              data.weights[dpos[cs[dis]]], dis, fom=fom)
            jk = kern.jackknife().reshape(t * len(rdrs), -1)
        except InputError as exc:
            raise InputError(f"reader group {g!r} ({cs.size} cases): {exc}") from None
        theta[:, rdrs] = kern.fom
        blocks.append((rdrs, _jackknife_cov(jk)))
        used.append(int(jk.shape[1]))
    res = or_split_plot(theta, block_covariance(blocks, t=t, r=r), reader_groups=rg,
                        n_cases=used, reader_labels=data.readers, alpha=alpha, margin=margin)
    single = {name: res.single[i] for i, name in enumerate(data.modalities)}
    return MRMCResult(
        analysis="or_split_plot", endpoint=fom, covariance="jackknife", alpha=alpha,
        n_readers=r, n_cases=len(data.cases), n_cases_used=int(sum(used)), modalities=single,
        difference=Difference(estimate=float(res.estimate or 0.0),
                              comparison=f"{data.modalities[1]} - {data.modalities[0]}"),
        rrrc=res.rrrc, frrc=res.frrc, rrfc=res.rrfc,
        variance_components=res.variance_components, noninferiority=res.noninferiority,
        notes=res.notes, method=f"{res.method}; {fom} figure of merit (JAFROC)",
        references=(*FOM_REFERENCES, *res.references))


def standalone_localization(
    fp: NDArray[np.float64], ll: NDArray[np.float64], weights: NDArray[np.float64],
    diseased: NDArray[np.bool_], *, cluster: Any = None, fom: str = "wAFROC",
    n_boot: int = 2000, seed: int | None = DEFAULT_SEED, alpha: float = 0.05,
    interval: str = "percentile",
) -> BootstrapResult:
    """A standalone algorithm's (w)AFROC FOM with a (cluster) bootstrap interval.

    Parameters
    ----------
    fp : array (K,), highest NL rating per case; ll : array (K2, L); weights : (K2, L);
    diseased : bool (K,).
    cluster : array (K,) of patient identifiers; a patient's cases are drawn together.
        ``None`` resamples cases within truth class (stratified bootstrap).
    fom : "wAFROC", "AFROC", "wAFROC1" or "AFROC1".
    n_boot, seed, alpha : replicates, seed, two-sided level.
    interval : "percentile" or "bca" (acceleration from the leave-one-cluster-out values).

    Returns
    -------
    BootstrapResult
        Replicates whose resample holds no diseased (or no non-diseased) case are dropped and
        counted in ``n_dropped`` (with a SmallSampleWarning).
    """
    check_choice(interval, "interval", INTERVALS)
    nb, seed_, alpha = _common(n_boot, seed, alpha, interval)
    kern = fom_kernel(np.asarray(fp, dtype=np.float64)[None],
                      np.asarray(ll, dtype=np.float64)[None], weights, diseased, fom=fom)
    h = kern.h[0]
    k = kern.n_cases
    dis = np.asarray(diseased, dtype=bool)
    if cluster is None:
        # cases resampled within truth class (class sizes fixed, as a stratified bootstrap)
        codes, g = np.arange(k), k
        strata = [np.flatnonzero(~dis), np.flatnonzero(dis)]
        strata = [s for s in strata if s.size]
    else:
        codes, g = _clusters(cluster, k)
        strata = [np.arange(g)]
    # per unit (case or cluster): which rows (F) and columns (D) of the kernel it owns
    row_of = codes[kern.row_case]
    col_of = codes[kern.col_case]
    a_row = np.zeros((g, kern.row_case.size))
    a_row[row_of, np.arange(row_of.size)] = 1.0
    a_col = np.zeros((g, kern.col_case.size))
    a_col[col_of, np.arange(col_of.size)] = 1.0
    rng = np.random.default_rng(seed_)
    reps = np.empty(nb)
    done = 0
    for draws in _draws(rng, [s.size for s in strata], nb):
        m = np.zeros((draws[0].shape[0], g))
        for s, d in zip(strata, draws, strict=True):
            m[:, s] = _counts(d, s.size)            # (b, units) resampling counts
        mf = m @ a_row                              # (b, F) row multiplicities
        md = m @ a_col                              # (b, D)
        num = np.einsum("bf,fd,bd->b", mf, h, md)
        den = mf.sum(axis=1) * (md @ kern.col_weight)
        with np.errstate(invalid="ignore", divide="ignore"):
            reps[done:done + m.shape[0]] = np.where(den > 0, num / np.where(den > 0, den, 1.0),
                                                    np.nan)
        done += m.shape[0]

    def _jk() -> NDArray[np.float64]:
        out = np.empty(g)
        for c in range(g):
            keep_r = row_of != c
            keep_c = col_of != c
            den = keep_r.sum() * kern.col_weight[keep_c].sum()
            out[c] = h[np.ix_(keep_r, keep_c)].sum() / den if den > 0 else np.nan
        return out[np.isfinite(out)]

    return _finish(reps, float(kern.fom[0]), alpha=alpha, interval=interval,
                   resampling="cluster" if cluster is not None else "stratified", seed=seed_,
                   jackknife=_jk, references=FOM_REFERENCES,
                   n_clusters=int(g) if cluster is not None else None)
