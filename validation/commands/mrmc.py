"""``validation mrmc``: multi-reader multi-case analysis of a reader-study table."""

from __future__ import annotations

from pathlib import Path

import typer

from validation.constants import DEFAULT_SEED
from validation.errors import DataError, DesignError, InputError


def _read_table(path: Path):  # type: ignore[no-untyped-def]
    import pandas as pd

    if not path.is_file():
        raise DataError(f"reader-study file {str(path)!r} does not exist.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".tsv", ".tab"):
            return pd.read_csv(path, sep="\t")
        return pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read {path.name}: {exc}") from None


def mrmc(
    data: Path = typer.Argument(..., help="Long-format table (CSV/TSV/Parquet): one row per "
                                "reader x modality x case; with --lesions, the marks file "
                                "(data_specs/reader_marks.yaml)."),
    lesions: Path | None = typer.Option(None, "--lesions",
                                        help="Lesion truth (data_specs/lesion_truth.yaml): "
                                             "DATA holds marks, analysed by JAFROC."),
    fom: str = typer.Option("wAFROC", "--fom",
                            help="With --lesions: wAFROC | AFROC | wAFROC1 | AFROC1."),
    reader: str = typer.Option("reader", "--reader", help="Reader column."),
    modality: str = typer.Option("modality", "--modality", help="Modality column."),
    case: str = typer.Option("case", "--case", help="Case column."),
    truth: str = typer.Option("truth", "--truth", help="Truth column (1 = diseased)."),
    rating: str = typer.Option("rating", "--rating",
                               help="Column analysed: ratings, or the binary decision for "
                                    "sensitivity/specificity."),
    modalities: str | None = typer.Option(None, "--modalities",
                                          help="A,B: compare these two; difference is B - A."),
    endpoint: str = typer.Option("auc", "--endpoint", help="auc | sensitivity | specificity"),
    covariance: str = typer.Option("jackknife", "--covariance",
                                   help="jackknife | delong | bootstrap"),
    method: str = typer.Option(
        "auto", "--method",
        help="auto (by the design: OR when fully crossed; a split plot: the OR split-plot form "
             "for sensitivity/specificity, U-statistics for the AUC; U-statistics otherwise) | "
             "or (the split-plot form on a split plot) | dbm | ustat"),
    margin: float | None = typer.Option(None, "--margin",
                                        help="Non-inferiority margin (positive)."),
    alpha: float = typer.Option(
        0.05, "--alpha",
        help="Level of the two-sided intervals; with --margin also the one-sided level of the "
        "non-inferiority and superiority tests (bound = lower limit of the 1 - 2 alpha "
        "interval): give 0.025 for one-sided 2.5% tests."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Seed of the bootstrap."),
    binormal: bool = typer.Option(False, "--binormal",
                                  help="Also fit binormal ROC curves (ML) per reader."),
    date: str | None = typer.Option(None, "--date",
                                    help="Reading-date column: check the washout."),
    washout_days: float = typer.Option(28, "--washout-days",
                                       help="Minimum washout in days (with --date)."),
    truthers: str | None = typer.Option(None, "--truthers",
                                        help="Comma-separated truther ids: none may be a reader."),
    time: str | None = typer.Option(None, "--time",
                                    help="Reading-time column: ratio of geometric means."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as canonical JSON."),
) -> None:
    """Obuchowski-Rockette (or DBM) MRMC comparison of two modalities."""
    from validation.analysis.localization import choose_analysis
    from validation.commands._common import check_interval_alpha, echo_json
    from validation.stats.mrmc.conduct import study_conduct
    from validation.stats.mrmc.reading_time import reading_time_ratio

    check_interval_alpha(alpha)
    mods = None
    if modalities is not None:
        mods = tuple(m.strip() for m in modalities.split(","))
        if len(mods) != 2 or not all(mods):
            raise InputError(f"'--modalities' must be two names separated by a comma, e.g. "
                             f"unaided,aided; got {modalities!r}.")
    if lesions is not None:
        _marks(data, lesions, fom=fom, method="or" if method == "auto" else method,
               modalities=mods, alpha=alpha, margin=margin, as_json=as_json)
        return
    df = _read_table(data)
    try:
        design, res = choose_analysis(df, method=method, endpoint=endpoint, modalities=mods,
                                      margin=margin, alpha=alpha, reader=reader,
                                      modality=modality, case=case, truth=truth, rating=rating,
                                      covariance=covariance, seed=seed, binormal=binormal)
    except DesignError as exc:
        raise DesignError(f"{data.name}: {exc}") from None
    if design["analysis"] in ("ustat", "or_split_plot"):
        if as_json:
            echo_json({**res.to_dict(), "design": design})
            return
        typer.echo(f"design: {design['kind']} -> {design['reason']}.")
        typer.echo(_ustat_summary(res) if design["analysis"] == "ustat" else res.summary())
        return
    conduct = study_conduct(
        df, reader=reader, modality=modality, case=case, date=date,
        washout_days_min=washout_days,
        truthers=[x.strip() for x in truthers.split(",")] if truthers else None)
    rt = None
    if time is not None:
        rt = reading_time_ratio(df, time=time, reader=reader, modality=modality, case=case,
                                modalities=mods, alpha=alpha)
    if as_json:
        out = res.to_dict()
        out["conduct"] = conduct.to_dict()
        if rt is not None:
            out["reading_time"] = rt.to_dict()
        echo_json(out)
        return
    typer.echo(f"design: {design['kind']} -> {design['reason']}.")
    typer.echo(res.summary())
    for check in conduct.checks.values():
        typer.echo(f"  conduct {check.name}: {check.status} ({check.detail})")
        for problem in check.problems[:10]:
            typer.echo(f"    - {problem}")
    if rt is not None:
        typer.echo(f"  reading time {rt.comparison}: ratio {rt.estimate:.3f} "
                   f"[{rt.ci[0]:.3f}, {rt.ci[1]:.3f}]")


def _ustat_summary(res) -> str:  # type: ignore[no-untyped-def]
    what = "AUC" if "binary" not in res.method else "binary endpoint"
    lines = [f"U-statistic MRMC {what} ({res.n_readers} readers, {res.n_nondiseased} + "
             f"{res.n_diseased} cases, {res.n_readings} readings)"]
    for name, e in (*res.modalities.items(), (f"difference {res.comparison}", res.difference)):
        ci = f"[{e.ci[0]:.4f}, {e.ci[1]:.4f}]" if e.ci else "(no interval)"
        p = f", p = {e.p_value:.4g}" if e.p_value is not None else ""
        df = f", df {e.df:.2f}" if e.df is not None else ""
        lines.append(f"  {name}: {e.estimate:.4f} {ci} (se {e.se if e.se else float('nan'):.4f}"
                     f"{df}{p})")
    lines.extend(f"  note: {n}" for n in res.notes)
    return "\n".join(lines)


def _marks(data: Path, lesions: Path, *, fom: str, method: str,  # type: ignore[no-untyped-def]
           modalities, alpha: float, margin: float | None, as_json: bool) -> None:
    from validation.analysis.localization import localization_study
    from validation.commands._common import echo_json
    from validation.data.marks import load_marks

    out = localization_study(load_marks(data, lesions), fom=fom, method=method,
                             modalities=modalities, alpha=alpha, margin=margin)
    if as_json:
        echo_json({k: v for k, v in out.items() if k != "summary"})
        return
    m = out["match"]
    typer.echo(f"marks: {m['n_marks']} ({m['n_lesion_localizations']} lesion localizations, "
               f"{m['n_non_lesion_localizations']} non-lesion, {m['n_duplicates']} duplicates "
               f"ignored); {m['n_cases']} cases, {m['n_diseased']} diseased, {m['n_lesions']} "
               f"lesions; matched by {m['rule']}.")
    typer.echo(out["summary"])


def register(app: typer.Typer) -> None:
    app.command("mrmc")(mrmc)
