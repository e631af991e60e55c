"""``validation mrmc``: multi-reader multi-case analysis of a reader-study table."""

from __future__ import annotations

from pathlib import Path

import typer

from validation.constants import DEFAULT_SEED
from validation.errors import DataError, InputError


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
                                "reader x modality x case."),
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
    method: str = typer.Option("or", "--method", help="or | dbm"),
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
    from validation.commands._common import check_interval_alpha, echo_json
    from validation.stats.mrmc import mrmc_analysis
    from validation.stats.mrmc.conduct import study_conduct
    from validation.stats.mrmc.reading_time import reading_time_ratio

    check_interval_alpha(alpha)
    mods = None
    if modalities is not None:
        mods = tuple(m.strip() for m in modalities.split(","))
        if len(mods) != 2 or not all(mods):
            raise InputError(f"'--modalities' must be two names separated by a comma, e.g. "
                             f"unaided,aided; got {modalities!r}.")
    df = _read_table(data)
    res = mrmc_analysis(df, endpoint=endpoint, covariance=covariance, method=method,
                        modalities=mods, margin=margin, alpha=alpha, reader=reader,
                        modality=modality, case=case, truth=truth, rating=rating, seed=seed,
                        binormal=binormal)
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
    typer.echo(res.summary())
    for check in conduct.checks.values():
        typer.echo(f"  conduct {check.name}: {check.status} ({check.detail})")
        for problem in check.problems[:10]:
            typer.echo(f"    - {problem}")
    if rt is not None:
        typer.echo(f"  reading time {rt.comparison}: ratio {rt.estimate:.3f} "
                   f"[{rt.ci[0]:.3f}, {rt.ci[1]:.3f}]")


def register(app: typer.Typer) -> None:
    app.command("mrmc")(mrmc)
