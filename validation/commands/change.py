"""``validation change PLAN --model NEW --card CARD --signer KEY`` and
``validation change-plan check|lock|lineage``."""

from __future__ import annotations

from pathlib import Path

import typer

from validation.commands._common import echo_json
from validation.commands.keys import _PASS_FILE_HELP, _REGISTRY_HELP, read_passphrase


def register(app: typer.Typer) -> None:
    @app.command("change")
    def change_command(
        plan: Path = typer.Argument(..., help="The locked change-control plan (YAML)."),
        model: Path = typer.Option(..., "--model", help="The new version's artifact (for a "
                                   "precomputed protocol: its predictions file)."),
        card: Path = typer.Option(..., "--card", help="The new version's card (YAML)."),
        signer: str = typer.Option(..., "--signer", help="E-mail or key id of the manufacturer "
                                   "approver who signs the decision."),
        sha256: str | None = typer.Option(None, "--sha256", help="The artifact's declared "
                                          "sha256 (refused if the file differs)."),
        key_file: Path | None = typer.Option(None, "--key-file", help="The signer's encrypted "
                                             "private key (default: the keys folder)."),
        passphrase_file: Path | None = typer.Option(None, "--passphrase-file",
                                                    help=_PASS_FILE_HELP),
        out: Path = typer.Option(Path("runs"), "--out", help="Runs folder (the dossier goes "
                                 "to OUT/<plan-id>/<run-id>/)."),
        operator: str | None = typer.Option(None, "--operator", help="Who opens the test set "
                                            "(default: the signer)."),
        registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
    ) -> None:
        """Decide a planned modification: run the new version on the sequestered test set,
        compare it case by case with the original and previous versions against the plan's
        criteria, write and sign the modification dossier, record the lineage."""
        from validation.change.run import run_change

        secret = read_passphrase(passphrase_file)
        res = run_change(plan, model=model, card=card, signer=signer, passphrase=secret,
                         sha256=sha256, key_file=key_file, out_dir=out, registry=registry,
                         operator=operator)
        typer.echo(f"version {res.version}: {res.decision.upper()} ({'; '.join(res.reasons)})")
        typer.echo(f"dossier: {res.dossier}")

    group = typer.Typer(help="Change-control plans (PCCP): check, lock, lineage.",
                        no_args_is_help=True)
    app.add_typer(group, name="change-plan")

    @group.command("check")
    def check_command(plan: Path = typer.Argument(..., help="The plan (YAML).")) -> None:
        """Check a change-control plan; every problem with file:line:column."""
        from validation.change.plan import load_change_plan

        p = load_change_plan(plan)
        typer.echo(f"{plan}: change-control plan {p.id} is valid "
                   f"({len(p.modifications)} modification types).")

    @group.command("lock")
    def lock_command(
        plan: Path = typer.Argument(..., help="The plan (YAML)."),
        approver: str = typer.Option(..., "--approver", help='"Full Name <email>".'),
        meaning: str = typer.Option(..., "--meaning", help='e.g. "approved change-control '
                                    'plan".'),
        replace: bool = typer.Option(False, "--replace", help="Lock an amendment."),
        registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
    ) -> None:
        """Lock the plan (typed approval) and declare its test-set governance in the registry
        (every later run, reproduction and change of that test set is held to it); sign the
        lock with `validation sign`."""
        from validation.change.plan import lock_change_plan
        from validation.change.run import declare_plan_governance
        from validation.protocol.lock import lock_path_for

        lock = lock_change_plan(plan, approver=approver, meaning=meaning, replace=replace)
        rule = declare_plan_governance(plan, registry=registry, actor=approver)
        typer.echo(f"locked {plan} (sha256 {lock.protocol_sha256}): {lock_path_for(plan)}; "
                   f"test set {rule['test_set_id']}: budget {rule['budget']}, authorised "
                   f"{', '.join(rule['authorised'])}")

    @group.command("lineage")
    def lineage_command(
        plan_id: str = typer.Argument(..., help="The plan id."),
        registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Every version decided under the plan: sha256, parent, decision, who, when."""
        from validation.change.lineage import lineage
        from validation.provenance.registry import open_registry

        reg = open_registry(registry, create=False)
        try:
            rows = lineage(reg, plan_id)
        finally:
            reg.close()
        if as_json:
            echo_json(rows)
            return
        for v in rows:
            typer.echo(f"{v['version']}  {v['decision']:<9} sha256 {v['model_sha256'][:16]}  "
                       f"op {v['operating_point']}  parent {v['parent_version'] or '-'}  "
                       f"{v['modification']}  by {v['decided_by']} {v['decided_utc']}")
