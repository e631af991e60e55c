"""The modification dossier's report: ``report/change.md`` and its figures, formatted from the
``change.json`` data (the report computes nothing).

Sections: the decision and its reasons; one table row per criterion (estimate of new minus
comparator, two-sided interval, margin, p-value, adjusted p-value, decision, McNemar); the
site consistency re-check; the ROC curves of the original, previous and new versions; the
model lineage (every version's sha256, parent, decision, who decided and when, against which
criteria); the sequestered test set's access history and refusals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from validation._atomic import write_text_atomic
from validation.report.figures import ACCENT, GOAL, MUTED, _plt, _save


def _f(x: Any, digits: int = 4) -> str:
    return "NA" if x is None else f"{float(x):.{digits}f}"


def _criteria_table(change: dict[str, Any]) -> list[str]:
    out = ["| criterion | endpoint | versus | unit | n | new - comparator | CI | margin | p | "
           "p adjusted | McNemar p | decision |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in change["comparison"]["criteria"]:
        t = c["test"] or {}
        ci = t.get("ci") or [None, None]
        mcn = (c.get("mcnemar") or {}).get("p_value")
        out.append(f"| {c['id']} | {c['endpoint']} | {c['versus']} | {c['unit'] or 'NA'} | "
                   f"{c['n'] if c['n'] is not None else 'NA'} | {_f(t.get('estimate'))} | "
                   f"[{_f(ci[0])}, {_f(ci[1])}] | {c['margin']:g} | {_f(c['p_value'])} | "
                   f"{_f(c['p_adjusted'])} | {_f(mcn)} | **{c['decision']}** |")
    return out


def _consistency(change: dict[str, Any]) -> list[str]:
    con = change["comparison"]["consistency"]
    if con is None:
        return ["No site consistency re-check is planned for this modification type."]
    out = [f"Rule: at every site with at least {con['min_cases']} cases in the denominator, new "
           f"minus original not below -{con['margin']:g} (point estimates).", "",
           "| site | endpoint | n | new | original | difference | status |",
           "|---|---|---|---|---|---|---|"]
    for s in con["sites"]:
        out.append(f"| {s['site']} | {s['endpoint']} | {s['n']} | {_f(s['new'])} | "
                   f"{_f(s['original'])} | {_f(s['difference'])} | {s['status']} |")
    return out


def _lineage(change: dict[str, Any]) -> list[str]:
    out = ["| version | sha256 | operating point | parent | modification | decision | "
           "decided by | when (UTC) | criteria |", "|---|---|---|---|---|---|---|---|---|"]
    for v in change["lineage"]:
        crit = ", ".join(f"{c['id']} {c['decision']}" for c in v.get("criteria") or []) or "-"
        out.append(f"| {v['version']} | `{v['model_sha256'][:16]}...` | {v['operating_point']} | "
                   f"{v['parent_version'] or '-'} | {v['modification']} | {v['decision']} | "
                   f"{v.get('decided_by') or '-'} | {v.get('decided_utc') or '-'} | {crit} |")
    return out


def _access(change: dict[str, Any]) -> list[str]:
    acc = change["test_set_access"]
    usage, budget = acc["usage"], acc["budget"]
    out = [f"Test set `{usage['test_set_sha256'][:16]}...`: {usage['n_accesses']} recorded "
           f"accesses (budget {budget['budget']}; {budget['remaining_after']} left), "
           f"{usage['n_model_versions']} model versions.", "",
           "| when (UTC) | run | model sha256 | operator | status |", "|---|---|---|---|---|"]
    for a in usage["accesses"]:
        out.append(f"| {a['accessed_utc']} | {a['run_id']} | `{a['model_sha256'][:12]}...` | "
                   f"{a['operator']} | {a['status']} |")
    if acc["refusals"]:
        out += ["", "Refused accesses:", ""]
        out += [f"- {r['recorded_utc']}: {r['reason']}" for r in acc["refusals"]]
    return out


def roc_figure(change: dict[str, Any], out_dir: Path) -> str:
    """ROC curves of the original, previous and new versions on the same cases."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.8, 4.6))
    styles = {"original": (MUTED, "--"), "previous": (GOAL, ":"), "new": (ACCENT, "-")}
    for name, pts in change["comparison"]["roc"].items():
        color, ls = styles[name]
        label = f"{name} ({change['versions'][name]['version']})"
        ax.plot(pts["fpr"], pts["tpr"], color=color, linestyle=ls, label=label, linewidth=1.4)
    ax.plot([0, 1], [0, 1], color="#cccccc", linewidth=0.8)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.legend(loc="lower right", frameon=False)
    return _save(fig, out_dir, "roc_versions")


def render_change_report(run_dir: str | Path, change: dict[str, Any]) -> Path:
    """Write ``report/change.md`` and ``report/figures/roc_versions.svg``; return the .md."""
    report = Path(run_dir) / "report"
    fig = roc_figure(change, report / "figures")
    new = change["versions"]["new"]
    lines = [
        f"# Modification dossier: {change['plan']['id']}, version {new['version']}", "",
        f"Modification: **{change['modification']['type']}**. "
        f"{change['modification']['description']}", "",
        f"Decision: **{change['comparison']['decision'].upper()}**. "
        + "; ".join(change["comparison"]["reasons"]) + ".", "",
        f"Plan sha256 `{change['plan']['sha256']}`; pivotal protocol sha256 "
        f"`{change['protocol']['sha256']}`; one-sided alpha {change['comparison']['alpha']:g}, "
        f"multiplicity {change['comparison']['multiplicity']['method']}.", "",
        "## Acceptance criteria (paired, case by case)", "", *_criteria_table(change), "",
        *[f"- {c['id']}: {c['note']}" for c in change["comparison"]["criteria"] if c["note"]],
        "",
        "## Site consistency re-check", "", *_consistency(change), "",
        "## ROC curves", "", f"![ROC curves of the versions](figures/{fig}.svg)", "",
        "## Model lineage", "", *_lineage(change), "",
        "## Sequestered test set: access history", "", *_access(change), "",
    ]
    return write_text_atomic(report / "change.md", "\n".join(lines))
