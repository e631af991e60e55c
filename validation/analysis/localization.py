"""Reader studies with marks (JAFROC) and reader studies of any design: the analysis chosen.

* :func:`localization_study` - marks and lesion truth in; the matching counts, each reader's
  FROC and (w)AFROC curves, and the OR (or DBM) analysis of the figure of merit out.
* :func:`choose_analysis` - the analysis a ratings table's design admits: Obuchowski-Rockette
  / DBM when fully crossed, the U-statistic analysis (Gallas) for split-plot or partially
  missing designs; refuses a design no analysis supports, saying why.
* :func:`standalone_localization_result` - one algorithm's FOM, FROC points and LLF/NLF at the
  operating threshold with patient-cluster bootstrap intervals.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from validation.data.marks import MarkTables
from validation.errors import DesignError, InputError
from validation.stats._result import to_plain
from validation.stats.localization import (
    afroc_curve,
    froc_curve,
    lesion_localization_fraction,
    localization_arrays,
    localization_mrmc,
    match_marks,
    standalone_localization,
)
from validation.stats.mrmc import mrmc_analysis, reading_design, ustat_analysis

ANALYSES = ("auto", "or", "dbm", "ustat")


def _curves(data: Any) -> dict[str, dict[str, Any]]:
    """FROC and wAFROC points per modality and reader (plain data for results and figures)."""
    out: dict[str, dict[str, Any]] = {}
    for i, mod in enumerate(data.modalities):
        out[mod] = {}
        for j, rdr in enumerate(data.readers):
            fr = froc_curve(data.nl[i][j], data.ll[i, j], data.weights, n_cases=len(data.cases))
            wa = afroc_curve(data.fp[i, j], data.ll[i, j], data.weights, data.diseased,
                             weighted=True)
            out[mod][rdr] = {"froc": {"nlf": list(fr.x), "llf": list(fr.y)},
                             "wafroc": {"fpf": list(wa.x), "wllf": list(wa.y)}}
    return out


def localization_study(tables: MarkTables, *, fom: str = "wAFROC", method: str = "or",
                       modalities: tuple[str, str] | None = None, alpha: float = 0.05,
                       margin: float | None = None) -> dict[str, Any]:
    """JAFROC analysis of a marks study: matching, curves, OR/DBM on the figure of merit.

    The marks are assumed fully crossed (each reader read every case in every modality; an
    unmarked case is a reading without marks). Returns plain data: ``match`` (flow counts
    and the matching rule), ``design``, ``curves`` and ``analysis`` (the MRMC result).
    """
    if method not in ("or", "dbm"):
        raise InputError(f"'method' must be or or dbm for marks (JAFROC); got {method!r}.")
    match = match_marks(tables.marks, tables.truth)
    present = tuple(sorted(set(tables.marks["modality"])))
    mods = modalities or present
    if len(mods) != 2 or any(m not in present for m in mods):
        raise DesignError(f"choose two modalities among {', '.join(map(repr, present))} (e.g. "
                          f"--modalities {','.join(present[:2])}); got {mods!r}.")
    data = localization_arrays(match, tables.truth, modalities=tuple(mods))
    res = localization_mrmc(data, fom=fom, method=method, alpha=alpha, margin=margin)
    design = {
        "kind": "fully crossed",
        "modalities": list(data.modalities), "readers": list(data.readers),
        "n_cases": len(data.cases), "n_diseased": int(data.diseased.sum()),
        "n_lesions": int(data.n_lesions.sum()),
        "marks": {m: {r: int(((tables.marks["modality"] == m) & (tables.marks["reader"] == r)).sum())
                      for r in data.readers} for m in data.modalities},
    }
    return {"match": match.to_dict(), "design": design, "curves": _curves(data),
            "analysis": res.to_dict(), "summary": res.summary()}


def choose_analysis(data: pd.DataFrame, *, method: str = "auto", endpoint: str = "auc",
                    modalities: tuple[str, ...] | None = None, alpha: float = 0.05,
                    margin: float | None = None, reader: str = "reader",
                    modality: str = "modality", case: str = "case", truth: str = "truth",
                    rating: str = "rating", **mrmc_options: Any) -> tuple[dict[str, Any], Any]:
    """Run the analysis the design admits; return ``(design, result)``.

    ``method="auto"``: a fully crossed design gets ``mrmc_analysis`` (Obuchowski-Rockette),
    any other the U-statistic analysis (AUC only). ``"or"``/``"dbm"`` insist on OR/DBM (a
    design that is not fully crossed is then refused); ``"ustat"`` forces the U-statistics.
    ``design`` is the :class:`~validation.stats.mrmc.ReadingDesign` as a dict plus
    ``analysis`` (what ran) and ``reason``.
    """
    if method not in ANALYSES:
        raise InputError(f"'method' must be one of {', '.join(ANALYSES)}; got {method!r}.")
    rd = reading_design(data, reader=reader, modality=modality, case=case)
    crossed = rd.kind == "fully crossed"
    chosen = ("or" if crossed else "ustat") if method == "auto" else method
    res: Any
    if chosen == "ustat":
        if not isinstance(endpoint, str) or endpoint != "auc":
            raise DesignError(
                f"the design is {rd.kind}; the analysis for it (U-statistics) supports the AUC "
                f"endpoint, not {endpoint!r}. No analysis supports this design and endpoint: "
                "make the design fully crossed or analyse the AUC.")
        if margin is not None:
            raise DesignError("a non-inferiority margin needs the OR analysis of a fully crossed "
                              f"design; the design is {rd.kind}.")
        res = ustat_analysis(data, modalities=modalities, alpha=alpha, reader=reader,
                             modality=modality, case=case, truth=truth, rating=rating)
        reason = (f"the design is {rd.kind}: Obuchowski-Rockette/DBM need every reader to read "
                  "every case, so the U-statistic variance (Gallas 2006, 2009), valid for any "
                  "design, is used" if not crossed else "U-statistic analysis requested")
    else:
        res = mrmc_analysis(data, endpoint=endpoint, method=chosen, modalities=modalities,
                            margin=margin, alpha=alpha, reader=reader, modality=modality,
                            case=case, truth=truth, rating=rating, **mrmc_options)
        reason = ("the design is fully crossed: Obuchowski-Rockette with Hillis df" if crossed
                  else f"{chosen.upper()} requested")
    design = {**rd.to_dict(), "analysis": chosen, "reason": reason}
    return design, res


def standalone_localization_result(tables: MarkTables, *, fom: str = "wAFROC",
                                   threshold: float | None = None, n_boot: int = 2000,
                                   seed: int | None = None, alpha: float = 0.05
                                   ) -> dict[str, Any]:
    """One algorithm's marks: FOM with a patient-cluster bootstrap CI, FROC points, LLF/NLF."""
    match = match_marks(tables.marks, tables.truth)
    data = localization_arrays(match, tables.truth)
    if data.fp.shape[:2] != (1, 1):
        raise DesignError("a standalone analysis takes the marks of one algorithm in one "
                          f"modality; got {data.fp.shape[1]} reader(s) x {data.fp.shape[0]} "
                          "modality(ies).")
    cluster = None
    if "patient" in tables.truth and tables.truth["patient"].notna().all():
        per_case = tables.truth.groupby("case", sort=False)["patient"].first()
        cluster = per_case.reindex(list(data.cases)).to_numpy()
    kwargs: dict[str, Any] = {"seed": seed} if seed is not None else {}
    boot = standalone_localization(data.fp[0, 0], data.ll[0, 0], data.weights, data.diseased,
                                   cluster=cluster, fom=fom, n_boot=n_boot, alpha=alpha, **kwargs)
    out: dict[str, Any] = {"match": match.to_dict(), "fom": fom, "estimate": boot.to_dict(),
                           "curves": _curves(data)}
    if threshold is not None:
        pt = lesion_localization_fraction(data.nl[0][0], data.ll[0, 0], data.weights,
                                          n_cases=len(data.cases), threshold=threshold)
        out["operating_point"] = pt.to_dict()
    return to_plain(out)  # type: ignore[no-any-return]


__all__ = ["ANALYSES", "choose_analysis", "localization_study", "standalone_localization_result"]
