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

import numpy as np
import pandas as pd

from validation.data.marks import MarkTables
from validation.errors import DataError, DesignError, InputError
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
from validation.stats.mrmc import (
    mrmc_analysis,
    reading_design,
    split_plot_design,
    split_plot_mrmc,
    ustat_analysis,
)

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


def _mark_groups(tables: MarkTables, data: Any) -> tuple[list[str], list[str]] | None:
    """(reader groups, case groups) of a split-plot marks study, or None when crossed.

    The truth's ``reader_group`` gives each case's block; a reader's group is the block of the
    cases it marked (the data layer has checked that they lie in one group).
    """
    truth = tables.truth
    if "reader_group" not in truth or truth["reader_group"].isna().all():
        return None
    per_case = truth.groupby("case", sort=False)["reader_group"].first()
    case_groups = [str(per_case[c]) for c in data.cases]
    marks = tables.marks
    of_reader = marks.assign(g=marks["case"].map(per_case)).groupby("reader")["g"].first()
    reader_groups = [str(of_reader[r]) for r in data.readers]
    empty = sorted(set(case_groups) - set(reader_groups))
    if empty:
        raise DataError(f"{tables.truth_file}: reader group(s) {', '.join(map(repr, empty))} "
                        f"have cases but no reader with marks in {tables.marks_file}; a "
                        "split-plot group needs its readers.")
    return reader_groups, case_groups


def localization_study(tables: MarkTables, *, fom: str = "wAFROC", method: str = "or",
                       modalities: tuple[str, str] | None = None, alpha: float = 0.05,
                       margin: float | None = None) -> dict[str, Any]:
    """JAFROC analysis of a marks study: matching, curves, OR/DBM on the figure of merit.

    Fully crossed (each reader read every case in every modality; an unmarked case is a
    reading without marks) unless the lesion truth has a ``reader_group`` column: then a
    split plot, each group reading its own block of cases, analysed by the
    Obuchowski-Rockette split-plot form (Hillis 2014; DBM is refused). Returns plain data:
    ``match`` (flow counts and the matching rule), ``design`` (with ``analysis`` and
    ``reason``), ``curves`` and ``analysis`` (the MRMC result).
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
    groups = _mark_groups(tables, data)
    split = groups is not None and len(set(groups[0])) > 1
    if groups is not None:
        if method == "dbm" and split:
            raise DesignError(f"{tables.truth_file}: the marks form a split plot (reader_group); "
                              "DBM needs a fully crossed design. Use the Obuchowski-Rockette "
                              "analysis (--method or, ci: obuchowski_rockette).")
        res = localization_mrmc(data, fom=fom, method=method, alpha=alpha, margin=margin,
                                reader_groups=groups[0], case_groups=groups[1])
    else:
        res = localization_mrmc(data, fom=fom, method=method, alpha=alpha, margin=margin)
    design: dict[str, Any] = {
        "kind": "split-plot" if split else "fully crossed",
        "modalities": list(data.modalities), "readers": list(data.readers),
        "n_cases": len(data.cases), "n_diseased": int(data.diseased.sum()),
        "n_lesions": int(data.n_lesions.sum()),
        "marks": {m: {r: int(((tables.marks["modality"] == m) & (tables.marks["reader"] == r)).sum())
                      for r in data.readers} for m in data.modalities},
    }
    if groups is not None:
        design["groups"] = [
            {"group": g, "readers": [r for r, x in zip(data.readers, groups[0], strict=True)
                                     if x == g],
             "n_cases": sum(1 for x in groups[1] if x == g)}
            for g in dict.fromkeys(groups[0])]
        design["analysis"] = "or_split_plot" if split else method
        design["reason"] = (
            f"the lesion truth assigns the cases to {len(design['groups'])} reader groups, "
            "each reading its own block in every modality: the Obuchowski-Rockette split-plot "
            f"form (Hillis 2014) on the {fom} jackknife within each block" if split else
            "one reader group: the fully crossed analysis")
    return {"match": match.to_dict(), "design": design, "curves": _curves(data),
            "analysis": res.to_dict(), "summary": res.summary()}


SPLIT_PLOT_AUC_DEFAULT = "ustat"
"""The analysis a split-plot AUC gets by default (``method="auto"``, or a protocol whose
endpoint keeps ``ci: obuchowski_rockette``): the U-statistic analysis, as before the OR
split-plot form existed, so results of existing split-plot protocols do not change. Both are
valid for a split plot; ``method="or"`` (``ci: or_split_plot``) asks for the OR form."""


def _decide(kind: str, method: str, endpoint: str) -> tuple[str, str]:
    """(analysis, reason) for a design ``kind`` and a requested ``method``."""
    auc = endpoint == "auc"
    if kind == "fully crossed":
        if method == "ustat":
            return "ustat", "U-statistic analysis requested"
        if method == "dbm":
            return "dbm", "the design is fully crossed: DBM requested"
        return "or", "the design is fully crossed: Obuchowski-Rockette with Hillis df"
    if kind == "split-plot":
        if method == "dbm":
            raise DesignError("DBM needs a fully crossed design; the design is a split plot "
                              "(reader groups with their own cases). Use --method or (the "
                              "Obuchowski-Rockette split-plot form) or ustat.")
        if method == "ustat" or (method == "auto" and auc and SPLIT_PLOT_AUC_DEFAULT == "ustat"):
            return "ustat", ("the design is split-plot: the U-statistic variance (Gallas 2006, "
                             "2009), valid for any design, is used" + (
                                 " (the default for the AUC; the Obuchowski-Rockette split-plot"
                                 " form is available with method or)" if method == "auto"
                                 else ""))
        return "or_split_plot", (
            "the design is split-plot (reader groups, each reading its own block of cases in "
            "every modality): the Obuchowski-Rockette split-plot form (Hillis 2014), "
            "covariances within each block and zero across groups")
    # partially missing
    if method in ("or", "dbm"):
        return method, ""                      # refused below with the reason
    return "ustat", (f"the design is {kind}: Obuchowski-Rockette/DBM need a fully crossed or "
                     "split-plot design, so the U-statistic variance (Gallas 2006, 2009; Gallas, "
                     "Pennello and Myers 2007 for binary endpoints), valid for any design, is used")


def choose_analysis(data: pd.DataFrame, *, method: str = "auto", endpoint: str = "auc",
                    modalities: tuple[str, ...] | None = None, alpha: float = 0.05,
                    margin: float | None = None, reader: str = "reader",
                    modality: str = "modality", case: str = "case", truth: str = "truth",
                    rating: str = "rating", **mrmc_options: Any) -> tuple[dict[str, Any], Any]:
    """Run the analysis the design admits; return ``(design, result)``.

    ``method="auto"``: a fully crossed design gets Obuchowski-Rockette (``mrmc_analysis``); a
    split plot gets the OR split-plot form (``split_plot_mrmc``) for sensitivity and
    specificity and the U-statistic analysis for the AUC (``SPLIT_PLOT_AUC_DEFAULT``); any
    other design the U-statistic analysis (AUC, or binary endpoints by Gallas, Pennello and
    Myers 2007). ``"or"`` insists on Obuchowski-Rockette (the split-plot form on a split plot;
    a partially missing design is refused, naming the reader, case and row that break the
    design); ``"dbm"`` needs a fully crossed design; ``"ustat"`` forces the U-statistics.
    ``design`` is the :class:`~validation.stats.mrmc.ReadingDesign` as a dict plus
    ``analysis`` (what ran) and ``reason``.
    """
    if method not in ANALYSES:
        raise InputError(f"'method' must be one of {', '.join(ANALYSES)}; got {method!r}.")
    if not isinstance(endpoint, str) or endpoint not in ("auc", "sensitivity", "specificity"):
        raise InputError(f"'endpoint' must be auc, sensitivity or specificity; got {endpoint!r}.")
    rd = reading_design(data, reader=reader, modality=modality, case=case)
    chosen, reason = _decide(rd.kind, method, endpoint)
    cols: dict[str, Any] = dict(reader=reader, modality=modality, case=case, truth=truth,
                                rating=rating)
    res: Any
    if rd.kind == "partially missing" and chosen in ("or", "dbm"):
        try:  # the split-plot check names the reader, case and row that break the design
            split_plot_design(data, modalities=modalities, **cols)
        except DesignError as exc:
            raise DesignError(f"no {chosen.upper()} analysis supports this design: {exc}") from None
        raise DesignError(f"the design is {rd.kind}; {chosen.upper()} needs a fully crossed or "
                          "split-plot design.")  # pragma: no cover - split_plot_design refuses
    if chosen == "ustat":
        if margin is not None:
            raise DesignError("a non-inferiority margin needs an Obuchowski-Rockette analysis; "
                              f"the design is {rd.kind} and the U-statistic analysis was chosen "
                              "(use --method or for a split plot).")
        res = ustat_analysis(data, modalities=modalities, alpha=alpha, endpoint=endpoint, **cols)
    elif chosen == "or_split_plot":
        opts = {k: v for k, v in mrmc_options.items() if k in ("covariance", "n_bootstrap", "seed")}
        if mrmc_options.get("binormal"):
            raise DesignError("binormal fits are offered for fully crossed designs only.")
        res = split_plot_mrmc(data, endpoint=endpoint, modalities=modalities, margin=margin,
                              alpha=alpha, **cols, **opts)
    else:
        res = mrmc_analysis(data, endpoint=endpoint, method=chosen, modalities=modalities,
                            margin=margin, alpha=alpha, **cols, **mrmc_options)
    design = {**rd.to_dict(), "analysis": chosen, "reason": reason}
    return design, res


def ustat_reader_block(data: pd.DataFrame, *, modalities: tuple[str, ...], alpha: float,
                       endpoint: str = "auc") -> dict[str, Any]:
    """A reader study of a split-plot (or partly missing) design, as the MRMC block.

    Runs the U-statistic analysis and lays its result out as the reader-study block of a
    fully crossed study (``modalities`` with per-reader FOMs, ``difference``, the test under
    ``rrrc`` with its t statistic squared as ``statistic``), so that hypotheses and the
    report read it unchanged; ``design`` says what the table holds and why this analysis.
    """
    design, res = choose_analysis(data, method="ustat", endpoint=endpoint,
                                  modalities=modalities, alpha=alpha)
    d = res.difference
    rrrc = {"statistic": None if d.statistic is None else d.statistic**2, "df_num": 1.0,
            "df_den": d.df, "p_value": d.p_value, "ci": d.ci, "se": d.se,
            "distribution": "F" if endpoint == "auc" else "chi2", "method": d.method,
            "references": list(d.references)}
    design["reason"] = (f"the design is {design['kind']}: the U-statistic variance (Gallas "
                        "2006, 2009), valid for any design, is used")
    if endpoint != "auc":
        design["reason"] += (" (binary endpoint: Gallas, Pennello and Myers 2007, normal "
                             "reference distribution)")
    mods = {name: {"estimate": e.estimate, "se": e.se, "df": e.df, "ci": e.ci,
                   "readers": dict(e.readers), "method": e.method,
                   "references": list(e.references)} for name, e in res.modalities.items()}
    return {"endpoint": endpoint, "analysis": "ustat", "alpha": alpha,
            "n_readers": res.n_readers, "n_cases": res.n_nondiseased + res.n_diseased,
            "modalities": mods, "difference": {"estimate": d.estimate,
                                               "comparison": res.comparison},
            "rrrc": rrrc, "notes": list(res.notes), "design": design,
            "method": res.method, "references": list(res.references)}


def split_plot_reader_block(data: pd.DataFrame, *, modalities: tuple[str, ...], alpha: float,
                            endpoint: str = "auc", ci: str | None = None,
                            margin: float | None = None, covariance: str = "jackknife",
                            n_bootstrap: int = 2000, seed: int | None = None) -> dict[str, Any]:
    """The reader-study block of a protocol planned as a split plot, by the design it sees.

    A true split plot gets the OR split-plot form for sensitivity and specificity, and for the
    AUC when the endpoint asks ``ci: or_split_plot``; the AUC otherwise (and any partially
    missing design) the U-statistic analysis (:func:`ustat_reader_block`). ``design`` (the
    reading design, ``analysis`` and ``reason``) is part of the block either way.
    """
    kind = reading_design(data).kind
    if kind == "split-plot" and (endpoint != "auc" or ci == "or_split_plot"):
        kwargs: dict[str, Any] = {"covariance": covariance, "n_bootstrap": n_bootstrap}
        if seed is not None:
            kwargs["seed"] = seed
        design, res = choose_analysis(data, method="or", endpoint=endpoint,
                                      modalities=modalities, alpha=alpha, margin=margin, **kwargs)
        return {**res.to_dict(), "design": design}
    if ci == "or_split_plot":
        raise DesignError(f"the endpoint asks the Obuchowski-Rockette split-plot form (ci: "
                          f"or_split_plot) but the ratings form a {kind} design, not a split "
                          "plot with disjoint case blocks; " + _why_not_split(data, modalities))
    return ustat_reader_block(data, modalities=modalities, alpha=alpha, endpoint=endpoint)


def _why_not_split(data: pd.DataFrame, modalities: tuple[str, ...]) -> str:
    try:
        split_plot_design(data, modalities=modalities)
    except DesignError as exc:
        return str(exc)
    return "the reading design is fully crossed."


def conduct_for_design(conduct: dict[str, Any], design: str,
                       data: pd.DataFrame) -> dict[str, Any]:
    """Replace the fully-crossed conduct check by the planned design's, for a split plot."""
    if design == "fully_crossed":
        return conduct
    rd = reading_design(data)
    ok = rd.kind == "split-plot"
    checks = dict(conduct.get("checks") or {})
    checks.pop("fully_crossed", None)
    checks["split_plot"] = {
        "name": "split_plot", "status": "pass" if ok else "fail",
        "detail": (f"{len(rd.groups)} reader groups, each reading its own block of cases in "
                   "every modality" if ok else f"the readings form a {rd.kind} design, not "
                   "the planned split plot"),
        "problems": [] if ok else [f"design found: {rd.kind}"]}
    passed = all(c.get("status") != "fail" for c in checks.values())
    return {**conduct, "checks": checks, "passed": passed}


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


def _endpoint_block(protocol: Any, ep: Any, pooled: dict[str, Any],
                    modalities: dict[str, Any]) -> dict[str, Any]:
    return {"kind": ep.kind, "unit": ep.unit, "role": ep.role, "ci_method": ep.ci,
            "covariance": ep.covariance, "population": protocol.endpoint_population(ep),
            "pooled": pooled, "modalities": modalities, "by_site": {}, "by_subgroup": {},
            "indeterminate": None}


def localization_section(protocol: Any, inputs: Any, *, alpha: float, seed: int
                         ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The ``localization`` block of results.json and its endpoints' blocks.

    ``inputs``: :class:`validation.data.marks.LocalizationInputs`. The readers' study is
    analysed once per ``mrmc_wafroc`` endpoint (OR, or DBM when ``ci: dbm``); the algorithm's
    marks give ``wafroc`` (patient-cluster bootstrap) and ``froc_llf`` (LLF at
    ``llf_threshold``, the same bootstrap on the lesion-level indicator).
    """
    sec = protocol.localization
    fom = sec.figure_of_merit
    block: dict[str, Any] = {"figure_of_merit": fom, "by_endpoint": {},
                             "modality_order": [str(m) for m in sec.modalities]}
    eps: dict[str, dict[str, Any]] = {}
    n_boot = int(protocol.analysis.bootstrap_replicates)
    for ep in protocol.endpoints:
        if ep.kind == "mrmc_wafroc":
            if inputs.readers is None:
                raise DataError(f"endpoint {ep.id!r} needs the readers' marks.")
            margin = next((float(h.margin) for h in protocol.hypotheses if h.endpoint == ep.id
                           and h.type == "noninferiority" and h.margin is not None), None)
            study = localization_study(
                inputs.readers, fom=fom, method="dbm" if ep.ci == "dbm" else "or",
                modalities=tuple(block["modality_order"]), alpha=alpha, margin=margin)
            d = study["analysis"]
            block.setdefault("match", study["match"])
            block.setdefault("design", study["design"])
            block.setdefault("curves", study["curves"])
            block["by_endpoint"][ep.id] = d
            rrrc = d["rrrc"]
            eps[ep.id] = _endpoint_block(protocol, ep, {
                "estimate": d["difference"]["estimate"], "ci": rrrc.get("ci"),
                "comparison": d["difference"]["comparison"], "statistic": rrrc.get("statistic"),
                "df": rrrc.get("df_den"), "p_value": rrrc.get("p_value"), "se": rrrc.get("se"),
                "method": d.get("method"), "references": d.get("references", [])},
                {name: {k: m.get(k) for k in ("estimate", "ci", "se") if k in m}
                 for name, m in d["modalities"].items()})
        elif ep.kind in ("wafroc", "froc_llf"):
            if inputs.algorithm is None:
                raise DataError(f"endpoint {ep.id!r} needs the algorithm's marks.")
            if "algorithm" not in block:
                block["algorithm"] = standalone_localization_result(
                    inputs.algorithm, fom=fom, threshold=sec.llf_threshold, n_boot=n_boot,
                    seed=seed, alpha=alpha)
                block["algorithm"]["llf_bootstrap"] = (
                    _llf_bootstrap(inputs.algorithm, sec.llf_threshold, n_boot, seed, alpha)
                    if sec.llf_threshold is not None else None)
            alg = block["algorithm"]
            est = alg["estimate"] if ep.kind == "wafroc" else alg["llf_bootstrap"]
            eps[ep.id] = _endpoint_block(protocol, ep, {
                "estimate": est["estimate"], "ci": est["ci"], "se": est["se"],
                "method": est["method"], "references": est["references"]}, {})
    return block, eps


def _llf_bootstrap(tables: MarkTables, threshold: float, n_boot: int, seed: int,
                   alpha: float) -> dict[str, Any]:
    """LLF at ``threshold`` with a patient-cluster bootstrap (lesions clustered in patients)."""
    from validation.stats.bootstrap import bootstrap_proportion

    match = match_marks(tables.marks, tables.truth)
    data = localization_arrays(match, tables.truth)
    real = data.weights > 0
    hit = (data.ll[0, 0] >= threshold)[real].astype(int)
    dcases = [c for c, d in zip(data.cases, data.diseased, strict=True) if d]
    owner = np.repeat(np.arange(len(dcases)), real.sum(axis=1))
    cluster = owner
    if "patient" in tables.truth and tables.truth["patient"].notna().all():
        per_case = tables.truth.groupby("case", sort=False)["patient"].first()
        cluster = per_case.reindex(dcases).to_numpy()[owner]
    res = bootstrap_proportion(hit, cluster=cluster, n_boot=n_boot, seed=seed, alpha=alpha)
    out = res.to_dict()
    out["method"] = f"lesion-localization fraction at rating >= {threshold:g}; {out['method']}"
    return out  # type: ignore[no-any-return]


__all__ = ["ANALYSES", "SPLIT_PLOT_AUC_DEFAULT", "choose_analysis", "conduct_for_design",
           "localization_section", "localization_study", "split_plot_reader_block",
           "standalone_localization_result", "ustat_reader_block"]
