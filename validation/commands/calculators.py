"""``validation auc`` and ``validation accuracy``: standalone calculators on a case table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from validation.constants import DEFAULT_SEED

_AUC_CI = ("delong", "logit", "bootstrap")
_ACC_CI = ("wilson", "exact", "jeffreys", "agresti-coull")


def _table(title: str, header: list[str], rows: list[list[str]], notes: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i == 0 else "right")
    for r in rows:
        table.add_row(*r)
    console = Console(soft_wrap=True)
    console.print(table)
    for note in notes:
        console.print(note, highlight=False)


def _ci_text(ci: tuple[float, float] | list[float], digits: int = 4) -> str:
    from validation.commands._common import fmt

    return f"{fmt(ci[0], digits)} - {fmt(ci[1], digits)}"


def auc(
    data: Path = typer.Argument(..., help="Case table (CSV or Parquet), one row per case."),
    truth: str = typer.Option(..., "--truth", help="Reference-standard column (0/1)."),
    score: str = typer.Option(..., "--score", help="Score column (higher = more likely positive)."),
    score_b: str | None = typer.Option(
        None, "--score-b", help="Second score column: paired DeLong test of score minus score-b."
    ),
    cluster: str | None = typer.Option(
        None, "--cluster", help="Patient id column when a patient has several findings."
    ),
    ci: str = typer.Option("delong", "--ci", help="delong | logit | bootstrap"),
    alpha: float = typer.Option(0.05, "--alpha", help="Two-sided level: (1 - alpha) interval."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Seed of the bootstrap."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Bootstrap replicates."),
    positive_label: str | None = typer.Option(
        None, "--positive-label", help="Truth value of a positive case when truth is not 0/1."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print canonical JSON."),
) -> None:
    """AUC with a DeLong, logit or bootstrap interval; paired DeLong test with --score-b."""
    from validation.commands._common import echo_json, fmt
    from validation.data.tabular import load_binary_outcome
    from validation.stats import check_alpha, check_choice
    from validation.stats.roc import auc_ci, compare_auc

    check_choice(ci, "--ci", _AUC_CI)
    check_alpha(alpha, "--alpha")
    scores = [score] + ([score_b] if score_b is not None else [])
    tab = load_binary_outcome(
        data, truth=truth, scores=scores, cluster=cluster, positive_label=positive_label
    )
    res = auc_ci(
        tab.truth, tab.scores[score], method=ci, alpha=alpha, cluster=tab.cluster,
        n_boot=n_boot, seed=seed,
    )
    out: dict[str, Any] = {
        "n_positive": res.n_positive,
        "n_negative": res.n_negative,
        "auc": res.estimate,
        "se": res.se,
        "ci": list(res.ci),
        "method": res.method,
    }
    cmp = None
    if score_b is not None:
        cmp = compare_auc(tab.truth, tab.scores[score], tab.scores[score_b], alpha=alpha,
                          cluster=tab.cluster)
        out["comparison"] = {
            "auc_a": cmp.auc_a,
            "auc_b": cmp.auc_b,
            "difference": cmp.estimate,
            "se": cmp.se,
            "z": cmp.statistic,
            "p_value": cmp.p_value,
            "ci": list(cmp.ci),
        }
    if as_json:
        echo_json(out)
        return
    level = f"{100 * (1 - alpha):g}% CI"
    rows = [[score, fmt(res.estimate), fmt(res.se), _ci_text(res.ci)]]
    notes = [
        f"{res.n_positive} positive, {res.n_negative} negative cases"
        + (f" in {res.n_clusters} clusters" if res.n_clusters else "")
        + f"; method: {res.method}"
        + (f" ({res.n_boot} replicates, seed {res.seed})" if res.n_boot else "")
    ]
    if cmp is not None and score_b is not None:
        rows.append([score_b, fmt(cmp.auc_b), fmt(cmp.se_b), ""])
        notes.append(
            f"{score} - {score_b}: difference {fmt(cmp.estimate)}, SE {fmt(cmp.se)}, "
            f"z {fmt(cmp.statistic, 3)}, p {fmt(cmp.p_value)}, {level} {_ci_text(cmp.ci)} "
            f"({cmp.method})"
        )
    _table(f"AUC - {data.name}", ["score", "AUC", "SE", level], rows, notes)


def accuracy(
    data: Path = typer.Argument(..., help="Case table (CSV or Parquet), one row per case."),
    truth: str = typer.Option(..., "--truth", help="Reference-standard column (0/1)."),
    score: str = typer.Option(..., "--score", help="Score column."),
    threshold: float = typer.Option(
        ..., "--threshold", help="Operating point: score >= threshold is a positive call."
    ),
    ci: str = typer.Option("wilson", "--ci", help="wilson | exact | jeffreys | agresti-coull"),
    cluster: str | None = typer.Option(
        None, "--cluster", help="Patient id column: cluster-adjusted intervals."
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="Two-sided level: (1 - alpha) interval."),
    positive_label: str | None = typer.Option(
        None, "--positive-label", help="Truth value of a positive case when truth is not 0/1."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print canonical JSON."),
) -> None:
    """Sensitivity, specificity, PPV, NPV and accuracy at a threshold, with intervals."""
    import math

    from validation.commands._common import echo_json, fmt
    from validation.data.tabular import load_binary_outcome
    from validation.errors import InputError
    from validation.stats import check_alpha, check_choice
    from validation.stats.proportions import diagnostic_accuracy

    check_choice(ci, "--ci", _ACC_CI)
    check_alpha(alpha, "--alpha")
    if not math.isfinite(threshold):
        raise InputError(f"'--threshold' must be a finite number; got {threshold!r}.")
    tab = load_binary_outcome(
        data, truth=truth, scores=[score], cluster=cluster, positive_label=positive_label
    )
    res = diagnostic_accuracy(
        tab.truth, tab.scores[score] >= threshold, ci=ci, alpha=alpha, cluster=tab.cluster
    )
    names = ("sensitivity", "specificity", "ppv", "npv", "accuracy")
    out: dict[str, Any] = {}
    for name in names:
        r = getattr(res, name)
        out[name] = None if r is None else {
            "estimate": r.estimate, "ci": list(r.ci), "successes": r.successes, "n": r.n,
        }
    if as_json:
        echo_json(out)
        return
    level = f"{100 * (1 - alpha):g}% CI"
    rows = []
    for name in names:
        r = getattr(res, name)
        label = name.upper() if name in ("ppv", "npv") else name
        if r is None:
            rows.append([label, "NA", "0/0", "no cases called " +
                         ("positive" if name == "ppv" else "negative")])
        else:
            rows.append([label, fmt(r.estimate), f"{r.successes}/{r.n}", _ci_text(r.ci)])
    cm = res.confusion
    notes = [
        f"threshold {threshold:g} (score >= threshold is positive); TP {cm.tp}, FP {cm.fp}, "
        f"FN {cm.fn}, TN {cm.tn}; interval: {res.method}"
        + (f" over {res.n_clusters} clusters" if res.n_clusters else "")
    ]
    _table(f"Diagnostic accuracy - {data.name}", ["", "estimate", "x/n", level], rows, notes)


def register(app: typer.Typer) -> None:
    app.command("auc")(auc)
    app.command("accuracy")(accuracy)
