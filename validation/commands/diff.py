"""``validation diff unpaired|paired``: differences of two proportions from counts.

A calculator for the statistician's quick checks: the difference ``p1 - p2`` (test 1 = the new
test), its two-sided interval, McNemar's test for paired tables, and with ``--margin`` the
one-sided non-inferiority score test of ``H0: p1 - p2 <= -margin`` (Farrington-Manning for
independent groups, Tango for paired data).
"""

from __future__ import annotations

from typing import Any

import typer

diff_app = typer.Typer(
    name="diff",
    help="Differences of two proportions (unpaired or paired) with CI and non-inferiority test.",
    no_args_is_help=True,
    add_completion=False,
)


def _payload(res: Any, alpha: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "difference": res.estimate,
        "ci": list(res.ci),
        "confidence": res.confidence,
        "alpha": alpha,
        "method": res.method,
        "p1": res.p1,
        "p2": res.p2,
        "counts": res.counts,
        "references": list(res.references),
    }
    if res.noninferiority is not None:
        ni = res.noninferiority
        out["noninferiority"] = {
            "margin": ni.margin,
            "null_hypothesis": f"p1 - p2 <= -{ni.margin:g}",
            "statistic": ni.statistic,
            "p_value": ni.p_value,
            "alternative": "greater",
            "method": ni.method,
        }
    return out


def _print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    typer.echo(title)
    for key, value in rows:
        typer.echo(f"  {key:<{width}}  {value}")


def _common_rows(res: Any) -> list[tuple[str, str]]:
    from validation.commands._common import fmt

    pct = f"{100 * res.confidence:.4g}%"
    rows = [
        ("p1 (test 1)", fmt(res.p1)),
        ("p2 (test 2)", fmt(res.p2)),
        ("difference p1 - p2", fmt(res.estimate)),
        (f"{pct} CI", f"{fmt(res.ci[0])} to {fmt(res.ci[1])}  ({res.method})"),
    ]
    return rows


def _ni_rows(res: Any) -> list[tuple[str, str]]:
    from validation.commands._common import fmt

    if res.noninferiority is None:
        return []
    ni = res.noninferiority
    return [
        ("non-inferiority H0", f"p1 - p2 <= -{ni.margin:g}  ({ni.method})"),
        ("  z", fmt(ni.statistic)),
        ("  one-sided p", f"{ni.p_value:.4g}"),
    ]


# a negative count ("-1") reaches the count check instead of reading as an unknown option
_COUNTS = {"ignore_unknown_options": True}


@diff_app.command("unpaired", context_settings=_COUNTS)
def unpaired(
    x1: int = typer.Argument(..., help="Successes in group 1 (the new test)."),
    n1: int = typer.Argument(..., help="Size of group 1."),
    x2: int = typer.Argument(..., help="Successes in group 2 (the comparator)."),
    n2: int = typer.Argument(..., help="Size of group 2."),
    ci: str = typer.Option(
        "newcombe", "--ci",
        help="newcombe | mn (Miettinen-Nurminen) | mee (Mee: inverts the Farrington-Manning "
        "test)."),
    margin: float | None = typer.Option(
        None, "--margin", help="Non-inferiority margin D > 0: Farrington-Manning test of "
        "H0: p1 - p2 <= -D."),
    alpha: float = typer.Option(0.05, "--alpha", help="The CI has confidence 1 - alpha."),
    as_json: bool = typer.Option(False, "--json", help="Print canonical JSON."),
) -> None:
    """Two independent proportions x1/n1 and x2/n2."""
    from validation.commands._common import check_interval_alpha, echo_json
    from validation.stats.differences import unpaired_difference

    check_interval_alpha(alpha)
    res = unpaired_difference(x1, n1, x2, n2, ci=ci, alpha=alpha, margin=margin)
    if as_json:
        echo_json(_payload(res, alpha))
        return
    _print_table(f"Unpaired difference: {x1}/{n1} vs {x2}/{n2}",
                 _common_rows(res) + _ni_rows(res))


@diff_app.command("paired", context_settings=_COUNTS)
def paired(
    a: int = typer.Argument(..., help="Both tests positive."),
    b: int = typer.Argument(..., help="Test 1 positive, test 2 negative."),
    c: int = typer.Argument(..., help="Test 1 negative, test 2 positive."),
    d: int = typer.Argument(..., help="Both tests negative."),
    ci: str = typer.Option("tango", "--ci", help="tango | newcombe (method 10)."),
    margin: float | None = typer.Option(
        None, "--margin", help="Non-inferiority margin D > 0: Tango score test of "
        "H0: p1 - p2 <= -D."),
    alpha: float = typer.Option(0.05, "--alpha", help="The CI has confidence 1 - alpha."),
    as_json: bool = typer.Option(False, "--json", help="Print canonical JSON."),
) -> None:
    """Two proportions on the same cases (paired 2x2 table a, b, c, d).

    With no discordant pairs (b = c = 0) McNemar's test is not defined: the JSON holds
    "mcnemar": null and the table says so.
    """
    from validation.commands._common import check_interval_alpha, echo_json, fmt
    from validation.stats.differences import paired_difference

    check_interval_alpha(alpha)
    res = paired_difference(a, b, c, d, ci=ci, alpha=alpha, margin=margin)
    mcn = res.mcnemar
    if as_json:
        out = _payload(res, alpha)
        out["mcnemar"] = None if mcn is None else {
            "statistic": mcn.statistic, "df": mcn.df, "p_value": mcn.p_value,
            "method": mcn.method,
        }
        echo_json(out)
        return
    rows = _common_rows(res)
    if mcn is None:
        rows.append(("McNemar", "not defined (no discordant pairs)"))
    else:
        rows.append(("McNemar chi-square", f"{fmt(mcn.statistic)} (1 df), p = {mcn.p_value:.4g}"))
    _print_table(f"Paired difference: a={a} b={b} c={c} d={d} (n={a + b + c + d})",
                 rows + _ni_rows(res))


def register(app: typer.Typer) -> None:
    app.add_typer(diff_app, name="diff")
