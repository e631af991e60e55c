"""``validation mrmc``: multi-reader multi-case analysis of a reader-study table."""

from __future__ import annotations

from pathlib import Path

import typer

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
    alpha: float = typer.Option(0.05, "--alpha", help="Two-sided level of the intervals."),
    seed: int = typer.Option(20261128, "--seed", help="Seed of the bootstrap."),
    binormal: bool = typer.Option(False, "--binormal",
                                  help="Also fit binormal ROC curves (ML) per reader."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as canonical JSON."),
) -> None:
    """Obuchowski-Rockette (or DBM) MRMC comparison of two modalities."""
    from validation.commands._common import echo_json
    from validation.stats.mrmc import mrmc_analysis

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
    if as_json:
        echo_json(res.to_dict())
    else:
        typer.echo(res.summary())


def register(app: typer.Typer) -> None:
    app.command("mrmc")(mrmc)
