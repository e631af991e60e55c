"""Obuchowski-Rockette analysis of a split-plot reader study (cases nested within reader groups).

Design: the readers fall into groups; each group reads its own block of cases, in every
modality, and the blocks are disjoint (a group may be a single reader: cases nested within
readers). Model: the OR model of a fully crossed study, ``theta_ij = mu + tau_i + R_j +
(tau R)_ij + e_ij``, with the case-sampling error covariance ``var`` (same reader and
modality) and ``cov1`` (same reader, other modality) as before, ``cov2``/``cov3`` (other
reader, same/other modality) for two readers of the same group, and **zero** for two readers
of different groups, who share no case (Hillis 2014, section on the split-plot design;
Obuchowski, Gallas and Hillis 2012).

Estimation. Each group's figures of merit and their covariance come from that group's block
alone: the jackknife over the block's cases (``(k_g - 1)/k_g`` times the sum of cross-products
of the leave-one-case-out values), DeLong's placement values within the block for the
empirical AUC, or a bootstrap of the block's cases. Blocks are independent, so the covariance
matrix of all ``t*r`` figures of merit is block diagonal in the groups.

Test. With the mean squares ``MS(T)``, ``MS(R)``, ``MS(TR)`` of the ``t x r`` table and
``cov2``, ``cov3`` averaged over **all** pairs of distinct readers (the pairs in different
groups counting zero), the expected mean squares are those of the fully crossed OR model:
``E[MS(T)] - E[MS(TR)] = r var_T + r (cov2 - cov3)``. So the RRRC statistic is
``F = MS(T) / [MS(TR) + r max(cov2 - cov3, 0)]`` on ``t - 1`` and Hillis's
``ddf_H = [MS(TR) + r max(cov2 - cov3, 0)]^2 / {MS(TR)^2 / [(t-1)(r-1)]}`` df; FRRC and RRFC
follow likewise. With groups of one reader ``cov2 = cov3 = 0`` and ``F = MS(T)/MS(TR)`` on
``(t-1)(r-1)`` df, as MRMCaov computes for cases nested within readers; with one group it is
the fully crossed analysis exactly. ``cov2_within`` and ``cov3_within`` (averages over the
pairs of readers who share a block) are reported beside the all-pairs averages.

References
----------
1. Hillis SL (2014). A marginal-mean ANOVA approach for analyzing multireader multicase
   radiological imaging data. Stat Med 33(2):330-360. doi:10.1002/sim.5926
2. Obuchowski NA, Gallas BD, Hillis SL (2012). Multi-reader ROC studies with split-plot
   designs: a comparison of statistical methods. Acad Radiol 19(12):1508-1517.
   doi:10.1016/j.acra.2012.09.012
3. Obuchowski NA, Rockette HE (1995). Commun Stat Simul Comput 24(2):285-308.
   doi:10.1080/03610919508813243
4. Hillis SL (2007). A comparison of denominator degrees of freedom methods for multiple
   observer ROC analysis. Stat Med 26(3):596-619. doi:10.1002/sim.2532
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._result import Result
from validation.stats.mrmc.covariance import _jackknife_cov
from validation.stats.mrmc.or_analysis import (
    OR_REFERENCES,
    MRMCTest,
    NonInferiority,
    SingleModality,
    VarianceComponents,
    or_analysis,
)

SPLIT_PLOT_REFERENCES = (
    "Hillis SL (2014). Stat Med 33(2):330-360. doi:10.1002/sim.5926",
    "Obuchowski NA, Gallas BD, Hillis SL (2012). Acad Radiol 19(12):1508-1517. "
    "doi:10.1016/j.acra.2012.09.012",
    *OR_REFERENCES,
)
SPLIT_PLOT_METHOD = ("Obuchowski-Rockette split-plot form (Hillis 2014): covariances within "
                     "each group's case block, zero across groups; Hillis ddf")


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitPlotOR(Result):
    """Obuchowski-Rockette analysis of a split-plot study (see the module docstring).

    ``estimate`` is the difference of modality means, second minus first (``None`` with more
    than two modalities). ``variance_components`` holds ``cov2``/``cov3`` averaged over all
    reader pairs (zero across groups), the values the tests use; ``cov2_within`` and
    ``cov3_within`` average only the pairs of readers who read the same block (``None`` when
    every group has one reader). ``groups``: each group's readers and number of cases.
    """

    fom: tuple[tuple[float, ...], ...]
    modality_means: tuple[float, ...]
    estimate: float | None
    rrrc: MRMCTest
    frrc: MRMCTest
    rrfc: MRMCTest
    variance_components: VarianceComponents
    single: tuple[SingleModality, ...]
    noninferiority: NonInferiority | None
    groups: tuple[dict[str, Any], ...]
    cov2_within: float | None
    cov3_within: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = SPLIT_PLOT_METHOD
    references: tuple[str, ...] = SPLIT_PLOT_REFERENCES


def _group_codes(reader_groups: Sequence[Any] | NDArray[Any], r: int) -> NDArray[np.int64]:
    groups = list(reader_groups)
    if len(groups) != r:
        raise InputError(f"'reader_groups' must give a group for each of the {r} readers; got "
                         f"{len(groups)}.")
    order: dict[Any, int] = {}
    return np.array([order.setdefault(g, len(order)) for g in groups], dtype=np.int64)


def block_covariance(blocks: Sequence[tuple[Sequence[int], NDArray[np.float64]]], *, t: int,
                     r: int) -> NDArray[np.float64]:
    """Assemble the ``(t*r, t*r)`` covariance of a split plot from its groups' covariances.

    ``blocks``: for each group, the indices of its readers (``r_g`` of them, in the order of
    its covariance) and its ``(t*r_g, t*r_g)`` covariance (row ``i*r_g + j``). Entries of two
    readers of different groups are zero (they share no case).
    """
    cov = np.zeros((t * r, t * r))
    seen: set[int] = set()
    for readers, cg in blocks:
        idx = [int(j) for j in readers]
        if seen & set(idx):
            raise InputError("'blocks' must put each reader in one group; reader "
                             f"#{sorted(seen & set(idx))[0]} appears twice.")
        seen |= set(idx)
        cg = np.asarray(cg, dtype=np.float64)
        rg = len(idx)
        if cg.shape != (t * rg, t * rg):
            raise InputError(f"a group of {rg} reader(s) needs a ({t * rg}, {t * rg}) "
                             f"covariance; got {cg.shape}.")
        rows = np.array([i * r + j for i in range(t) for j in idx])
        cov[np.ix_(rows, rows)] = cg
    if len(seen) != r:
        raise InputError(f"'blocks' must cover all {r} readers; got {len(seen)}.")
    return cov


def jackknife_block_covariance(jackknife: NDArray[np.float64], reader_groups: Sequence[Any],
                               case_groups: Sequence[Any]) -> NDArray[np.float64]:
    """Split-plot covariance from leave-one-case-out figures of merit.

    Parameters
    ----------
    jackknife : array (t, r, c): reader ``j``'s figure of merit in modality ``i`` with case
        ``k`` left out, over the ``c`` cases that define the figure of merit (values for cases
        outside the reader's block are ignored).
    reader_groups : (r,) group of each reader; case_groups : (c,) group (block) of each case,
        in the same labels.

    Returns
    -------
    array (t*r, t*r): within each group the jackknife covariance over that block's ``k_g``
    cases, ``(k_g - 1)/k_g * sum_k (J_k - mean)(J_k - mean)^T``; zero across groups.
    """
    jk = np.asarray(jackknife, dtype=np.float64)
    if jk.ndim != 3:
        raise InputError(f"'jackknife' must have shape (t, r, c); got {jk.shape}.")
    t, r, c = jk.shape
    rg = list(reader_groups)
    cg = list(case_groups)
    if len(rg) != r or len(cg) != c:
        raise InputError(f"'reader_groups' and 'case_groups' must have {r} and {c} labels; got "
                         f"{len(rg)} and {len(cg)}.")
    blocks = []
    for g in dict.fromkeys(rg):
        readers = [j for j in range(r) if rg[j] == g]
        cases = [k for k in range(c) if cg[k] == g]
        if len(cases) < 2:
            raise InputError(f"reader group {g!r} has {len(cases)} case(s) defining the figure "
                              "of merit; the jackknife within a block needs at least 2.")
        sub = jk[:, readers][:, :, cases].reshape(t * len(readers), len(cases))
        if not np.isfinite(sub).all():
            raise InputError(f"'jackknife' must be finite within the block of group {g!r}.")
        blocks.append((readers, _jackknife_cov(sub)))
    return block_covariance(blocks, t=t, r=r)


def or_split_plot(
    fom: NDArray[np.float64],
    cov: NDArray[np.float64],
    *,
    reader_groups: Sequence[Any] | NDArray[Any],
    n_cases: Sequence[int] | None = None,
    reader_labels: tuple[str, ...] | None = None,
    alpha: float = 0.05,
    margin: float | None = None,
    clip_unit: bool = True,
) -> SplitPlotOR:
    """Obuchowski-Rockette RRRC, FRRC and RRFC analyses of a split-plot study (Hillis df).

    H0: all modalities have the same reader-averaged figure of merit; for two modalities the
    difference is the second minus the first, with its CI under each generalisation.

    Parameters
    ----------
    fom : array (t, r), t >= 2 modalities, r >= 2 readers (over all groups).
    cov : array (t*r, t*r), the case-sampling covariance of ``fom.ravel()``, estimated within
        each group's block (:func:`jackknife_block_covariance`, :func:`block_covariance`).
        Entries of readers in different groups must be zero.
    reader_groups : (r,) the group of each reader (any labels; a group may be one reader).
    n_cases : number of cases of each group, in the order the groups first appear (reported).
    reader_labels, alpha, margin, clip_unit : as in
        :func:`~validation.stats.mrmc.or_analysis`.

    Returns
    -------
    SplitPlotOR

    Notes
    -----
    Valid for any figure of merit whose covariance is estimated within blocks: the empirical
    AUC (jackknife or DeLong), sensitivity and specificity (jackknife over the block's
    diseased or non-diseased cases), the (w)AFROC figures of merit (jackknife). With one group
    the result equals :func:`~validation.stats.mrmc.or_analysis` on the same inputs; with
    groups of single readers ``ddf_H = (t-1)(r-1)``. Small groups give few degrees of freedom
    for ``cov2_within``; its negative part is truncated at 0 as in the crossed analysis.

    Examples
    --------
    >>> import numpy as np
    >>> fom = np.array([[0.80, 0.85, 0.83, 0.81], [0.86, 0.90, 0.87, 0.84]])
    >>> res = or_split_plot(fom, np.eye(8) * 4e-4, reader_groups=["a", "a", "b", "b"])
    >>> round(res.estimate, 4)
    0.045
    """
    fom = np.asarray(fom, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    if fom.ndim != 2 or fom.shape[0] < 2 or fom.shape[1] < 2:
        raise InputError(f"'fom' must have shape (t, r) with t >= 2 and r >= 2; got {fom.shape}.")
    t, r = fom.shape
    codes = _group_codes(reader_groups, r)
    if cov.shape != (t * r, t * r):
        raise InputError(f"'cov' must have shape ({t * r}, {t * r}); got {cov.shape}.")
    rdr = np.tile(np.arange(r), t)
    same_g = codes[rdr][:, None] == codes[rdr][None, :]
    if np.isfinite(cov).all() and np.abs(cov[~same_g]).max(initial=0.0) > 0:
        raise InputError("'cov' must be zero between readers of different groups (they read "
                         "no case in common); estimate it within each block "
                         "(jackknife_block_covariance).")
    n_groups = int(codes.max()) + 1
    sizes = np.bincount(codes, minlength=n_groups)
    if n_cases is not None and len(n_cases) != n_groups:
        raise InputError(f"'n_cases' must give one count per group ({n_groups}); got "
                         f"{len(n_cases)}.")
    ora = or_analysis(fom, cov, n_cases=int(sum(n_cases)) if n_cases is not None else 0,
                      reader_labels=reader_labels, alpha=alpha, margin=margin,
                      clip_unit=clip_unit)
    mod = np.repeat(np.arange(t), r)
    same_m = mod[:, None] == mod[None, :]
    same_r = rdr[:, None] == rdr[None, :]
    pairs = same_g & ~same_r
    c2w = float(cov[pairs & same_m].mean()) if (pairs & same_m).any() else None
    c3w = float(cov[pairs & ~same_m].mean()) if (pairs & ~same_m).any() else None
    labels = reader_labels or tuple(str(j + 1) for j in range(r))
    groups = tuple(
        {"readers": [labels[j] for j in np.flatnonzero(codes == g)],
         "n_cases": None if n_cases is None else int(n_cases[g])}
        for g in range(n_groups))
    notes = list(ora.notes)
    if n_groups > 1:
        share = float((sizes * (sizes - 1)).sum()) / (r * (r - 1))
        notes.append(
            f"split plot: {n_groups} reader groups; cov2 and cov3 are averaged over all "
            f"{r * (r - 1) // 2} reader pairs, of which a fraction {share:.4g} share a case "
            "block (the other pairs have covariance 0).")
    return SplitPlotOR(
        fom=ora.fom, modality_means=ora.modality_means, estimate=ora.estimate,
        rrrc=_relabel(ora.rrrc, n_groups), frrc=_relabel(ora.frrc, n_groups),
        rrfc=_relabel(ora.rrfc, n_groups),
        variance_components=ora.variance_components, single=ora.single,
        noninferiority=ora.noninferiority, groups=groups, cov2_within=c2w, cov3_within=c3w,
        notes=tuple(notes),
        method=SPLIT_PLOT_METHOD if n_groups > 1 else ora.method,
        references=SPLIT_PLOT_REFERENCES if n_groups > 1 else OR_REFERENCES)


def _relabel(test: MRMCTest, n_groups: int) -> MRMCTest:
    """The same test, its method naming the split-plot covariance structure."""
    if n_groups == 1:
        return test
    return MRMCTest(statistic=test.statistic, df_num=test.df_num, df_den=test.df_den,
                    p_value=test.p_value, ci=test.ci, se=test.se, distribution=test.distribution,
                    method=f"{test.method}; split-plot covariances (zero across reader groups)",
                    references=SPLIT_PLOT_REFERENCES)


__all__ = ["SPLIT_PLOT_REFERENCES", "SplitPlotOR", "block_covariance",
           "jackknife_block_covariance", "or_split_plot"]
