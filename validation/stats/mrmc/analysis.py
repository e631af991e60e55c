"""Entry point of the MRMC analysis: a long-format reader study in, one result out.

:func:`mrmc_analysis` checks the design, computes each reader's figure of merit and its
case-sampling covariance, runs the Obuchowski-Rockette (or DBM) analysis and returns an
:class:`MRMCResult` whose ``to_dict()`` is the ``validation mrmc --json`` object and the
``reader_study`` block of ``results.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from validation.constants import DEFAULT_SEED
from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats._result import Result, to_plain
from validation.stats.mrmc._design import crossed_design
from validation.stats.mrmc.binormal import BinormalROC, binormal_auc
from validation.stats.mrmc.covariance import (
    COVARIANCES,
    ENDPOINTS,
    FigureOfMerit,
    fom_covariance,
)
from validation.stats.mrmc.dbm import DBM_REFERENCES, dbm_analysis, pseudovalues
from validation.stats.mrmc.or_analysis import (
    OR_REFERENCES,
    MRMCTest,
    NonInferiority,
    SingleModality,
    VarianceComponents,
    or_analysis,
)

METHODS = ("or", "dbm")


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference(Result):
    """Difference of mean figures of merit, ``comparison`` = second minus first.

    The comparison's number is ``estimate``, as in every comparison result; this object is
    ``MRMCResult.difference`` (and the ``difference`` block of an MRMC result in results.json).
    """

    estimate: float
    comparison: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MRMCResult(Result):
    """Result of :func:`mrmc_analysis`.

    ``modalities`` maps each modality (as written) to its mean figure of merit (``estimate``),
    the per-reader ``readers`` map and an RRRC single-modality interval; ``difference`` is
    second minus first; ``rrrc``, ``frrc``, ``rrfc`` hold ``statistic``, ``df_num``,
    ``df_den`` (``None`` for the FRRC chi-square), ``p_value`` and ``ci``.
    """

    endpoint: str
    analysis: str
    covariance: str
    alpha: float
    n_readers: int
    n_cases: int
    n_cases_used: int
    modalities: dict[str, SingleModality]
    difference: Difference
    rrrc: MRMCTest
    frrc: MRMCTest
    rrfc: MRMCTest
    variance_components: VarianceComponents
    noninferiority: NonInferiority | None
    binormal: dict[str, dict[str, BinormalROC]] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = ""
    references: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = Result.to_dict(self)
        for key in ("noninferiority", "binormal"):
            if out[key] is None:
                out.pop(key)
        return out

    def summary(self) -> str:
        a, b = list(self.modalities)
        d = self.difference
        lines = [f"MRMC {self.endpoint} ({self.method}; {self.covariance} covariance), "
                 f"{self.n_readers} readers x {self.n_cases} cases"]
        for name, m in self.modalities.items():
            lines.append(f"  {name}: {m.estimate:.4f}  [{m.ci[0]:.4f}, {m.ci[1]:.4f}]")
        lines.append(f"  difference {d.comparison}: {d.estimate:.4f}")
        for key in ("rrrc", "frrc", "rrfc"):
            tst: MRMCTest = getattr(self, key)
            df = f"{tst.df_num:g}" + (f", {tst.df_den:.2f}" if tst.df_den is not None else "")
            ci = f"[{tst.ci[0]:.4f}, {tst.ci[1]:.4f}]" if tst.ci else ""
            lines.append(f"  {key.upper()}: {tst.distribution}({df}) = {tst.statistic:.4f}, "
                         f"p = {tst.p_value:.4f}, CI {ci}")
        if self.noninferiority is not None:
            ni = self.noninferiority
            lines.append(f"  non-inferiority ({b} vs {a}, margin {ni.margin:g}, one-sided "
                         f"alpha {ni.alpha:g}): {100 * (1 - ni.alpha):.4g}% lower bound "
                         f"{ni.lower_bound:.4f}, p = {ni.p_value:.4g}: "
                         f"{'non-inferior' if ni.noninferior else 'not shown non-inferior'}; "
                         f"superiority p = {ni.superiority_p_value:.4g}: "
                         f"{'superior' if ni.superior else 'not shown superior'}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def mrmc_analysis(
    data: pd.DataFrame,
    *,
    endpoint: str | FigureOfMerit = "auc",
    covariance: str = "jackknife",
    method: str = "or",
    modalities: tuple[Any, ...] | list[Any] | None = None,
    margin: float | None = None,
    alpha: float = 0.05,
    reader: str = "reader",
    modality: str = "modality",
    case: str = "case",
    truth: str = "truth",
    rating: str = "rating",
    n_bootstrap: int = 2000,
    seed: int | None = DEFAULT_SEED,
    binormal: bool = False,
) -> MRMCResult:
    """Multi-reader multi-case comparison of two modalities (OR or DBM).

    H0: the two modalities have the same mean figure of merit over readers; the difference is
    the second modality minus the first (``modalities=(A, B)`` gives B minus A; by default the
    modalities in sorted order). With ``margin``, also the one-sided non-inferiority test of
    H0: difference <= -margin under RRRC with the same df, and the superiority test.

    Parameters
    ----------
    data : long-format DataFrame, one row per reader x modality x case, fully crossed.
    endpoint : "auc" (empirical), "sensitivity" or "specificity" (``rating`` is then the
        reader's binary decision, 1 = positive), or any per-reader figure of merit
        ``fom(truth, rating) -> float`` (its jackknife recomputes it with each case left out,
        O(c) evaluations per reader and modality; single-modality CIs are then not truncated).
    covariance : "jackknife" (default), "delong" (AUC only) or "bootstrap" (seeded).
    method : "or" (Obuchowski-Rockette, Hillis df) or "dbm" (jackknife pseudovalues; needs
        ``covariance="jackknife"``).
    modalities : the two modalities to compare, in order; needed when the data hold more.
    margin : positive non-inferiority margin, or ``None``.
    alpha : two-sided level of the intervals; one-sided level of the non-inferiority test.
    reader, modality, case, truth, rating : column names.
    n_bootstrap, seed : for ``covariance="bootstrap"``.
    binormal : also fit each reader's binormal ROC by maximum likelihood (AUC endpoint with
        ordinal ratings) and report it beside the empirical AUC under ``binormal``
        (modality -> reader -> fit); the MRMC test itself stays on the empirical AUC.

    Returns
    -------
    MRMCResult

    Raises
    ------
    DesignError
        Incomplete design, fewer than 2 readers or modalities, a case without truth.

    References
    ----------
    1. Obuchowski NA, Rockette HE (1995). doi:10.1080/03610919508813243
    2. Hillis SL (2007). doi:10.1002/sim.2532
    3. Hillis SL, Berbaum KS, Metz CE (2008). doi:10.1016/j.acra.2007.12.015
    4. Dorfman DD, Berbaum KS, Metz CE (1992). doi:10.1097/00004424-199209000-00015

    Examples
    --------
    >>> res = mrmc_analysis(df, modalities=("unaided", "aided"), margin=0.05)  # doctest: +SKIP
    >>> res.rrrc.p_value, res.difference.estimate                               # doctest: +SKIP
    """
    if callable(endpoint):
        endpoint_name = str(getattr(endpoint, "__name__", "custom"))
    else:
        endpoint_name = check_choice(endpoint, "endpoint", ENDPOINTS)
    check_choice(covariance, "covariance", COVARIANCES)
    check_choice(method, "method", METHODS)
    alpha = check_alpha(alpha)
    if method == "dbm" and covariance != "jackknife":
        raise InputError(f"'covariance' must be 'jackknife' with method='dbm' (DBM uses "
                         f"jackknife pseudovalues); got {covariance!r}.")
    if margin is not None:
        try:
            margin = float(margin)
        except (TypeError, ValueError):
            raise InputError(f"'margin' must be a positive number; got {margin!r}.") from None
        if not (np.isfinite(margin) and 0 < margin < 1):
            raise InputError(f"'margin' must be a positive number below 1 (a difference of "
                             f"AUCs or proportions), e.g. 0.05; got {margin!r}.")
    design = crossed_design(data, reader=reader, modality=modality, case=case, truth=truth,
                            rating=rating, modalities=modalities)
    if len(design.modalities) != 2:
        from validation.errors import DesignError

        raise DesignError(
            f"the data hold {len(design.modalities)} modalities "
            f"({', '.join(map(repr, design.modalities))}); choose the two to compare with "
            "'modalities' (e.g. --modalities A,B for B minus A)."
        )
    fc = fom_covariance(design.ratings, design.truth, endpoint=endpoint, covariance=covariance,
                        n_bootstrap=n_bootstrap, seed=seed)
    ora = or_analysis(fc.fom, fc.cov, n_cases=fc.n_cases_used, reader_labels=design.readers,
                      alpha=alpha, margin=margin, clip_unit=not callable(endpoint))
    single = {name: ora.single[i] for i, name in enumerate(design.modalities)}
    comparison = f"{design.modalities[1]} - {design.modalities[0]}"
    diff = Difference(estimate=float(ora.estimate or 0.0), comparison=comparison)
    fits = None
    if binormal:
        if endpoint != "auc":
            raise InputError("'binormal' applies to the AUC endpoint; got "
                             f"endpoint={endpoint!r}.")
        fits = {
            mod: {rdr: binormal_auc(design.truth, design.ratings[i, j], alpha=alpha)
                  for j, rdr in enumerate(design.readers)}
            for i, mod in enumerate(design.modalities)
        }
    common: dict[str, Any] = dict(
        binormal=fits, endpoint=endpoint_name, covariance=covariance, alpha=alpha,
        n_readers=len(design.readers), n_cases=len(design.cases),
        n_cases_used=fc.n_cases_used, modalities=single, difference=diff)
    if method == "or":
        return MRMCResult(
            analysis="or", rrrc=ora.rrrc, frrc=ora.frrc, rrfc=ora.rrfc,
            variance_components=ora.variance_components, noninferiority=ora.noninferiority,
            notes=ora.notes, method=ora.method, references=OR_REFERENCES, **common,
        )
    if fc.jackknife is None:  # pragma: no cover - guarded above
        raise InputError("DBM needs jackknife figures of merit.")
    dbm = dbm_analysis(pseudovalues(fc.fom, fc.jackknife), alpha=alpha, margin=margin)
    return MRMCResult(
        analysis="dbm", rrrc=dbm.rrrc, frrc=dbm.frrc, rrfc=dbm.rrfc,
        variance_components=dbm.variance_components, noninferiority=dbm.noninferiority,
        notes=dbm.notes, method=dbm.method, references=DBM_REFERENCES, **common,
    )


__all__ = ["Difference", "MRMCResult", "mrmc_analysis", "to_plain"]
