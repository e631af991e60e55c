"""``validation keys register|revoke|list`` and ``validation sign FILE --meaning ...``.

The passphrase is asked with a hidden prompt; for automation it is read from
``--passphrase-file`` or the ``VALIDATION_SIGNING_PASSPHRASE`` environment variable. It is
never an option value (it would stay in the shell history and the process list) and never
printed or logged.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from validation.commands._common import echo_json

_REGISTRY_HELP = "Registry URL; default: $VALIDATION_REGISTRY, else registry.sqlite under " \
                 "$VALIDATION_HOME."
_PASS_FILE_HELP = ("File holding the passphrase (first line), for automation; default: "
                   "$VALIDATION_SIGNING_PASSPHRASE, else a hidden prompt.")


def read_passphrase(passphrase_file: Path | None, *, confirm: bool = False) -> str:
    """The passphrase from ``passphrase_file``, the environment, or a hidden prompt."""
    from validation.errors import InputError
    from validation.provenance.signatures import PASSPHRASE_ENV

    if passphrase_file is not None:
        if not passphrase_file.is_file():
            raise InputError(f"'--passphrase-file' must be an existing file; got "
                             f"{str(passphrase_file)!r}.")
        lines = passphrase_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    return str(typer.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm))


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="Signing keys of the people who sign (registered public keys).",
                       no_args_is_help=True)
    app.add_typer(keys, name="keys")

    @keys.command("register")
    def register_command(
        name: str = typer.Option(..., "--name", help="The signer's full name."),
        email: str = typer.Option(..., "--email", help="The signer's e-mail."),
        party: str = typer.Option(..., "--party", help="manufacturer | institution."),
        role: str = typer.Option(..., "--role", help="manufacturer: author | reviewer | "
                                 "approver; institution: acceptance."),
        site: str | None = typer.Option(None, "--site", help="Institution signers: the site."),
        key_dir: Path | None = typer.Option(None, "--key-dir", help="Where to write the "
                                            "encrypted private key (default: $VALIDATION_KEYS, "
                                            "else keys/ under $VALIDATION_HOME)."),
        passphrase_file: Path | None = typer.Option(None, "--passphrase-file",
                                                    help=_PASS_FILE_HELP),
        operator: str | None = typer.Option(None, "--operator", help="Who registers it."),
        registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
    ) -> None:
        """Create a key pair (private key encrypted with a passphrase); register the public key."""
        from validation.provenance.signatures import check_passphrase, register_key

        secret = check_passphrase(read_passphrase(passphrase_file, confirm=True))
        rec = register_key(registry, name=name, email=email, party=party, role=role,
                           site=site, passphrase=secret, operator=operator, folder=key_dir)
        typer.echo(f"registered key {rec['key_id'][:16]} of {rec['name']} <{rec['email']}> "
                   f"({rec['party']} {rec['role']}); private key: {rec['key_file']}")

    @keys.command("revoke")
    def revoke_command(
        key: str = typer.Argument(..., help="Key id (8+ hex digits) or the signer's e-mail."),
        reason: str = typer.Option(..., "--reason", help="Why it is revoked."),
        operator: str = typer.Option(..., "--operator", help="Who revokes it."),
        registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
    ) -> None:
        """Revoke a key: signatures recorded after now fail `validation verify`."""
        from validation.provenance.signatures import revoke_key

        rec = revoke_key(registry, key=key, reason=reason, operator=operator)
        typer.echo(f"revoked key {rec['key_id'][:16]} of {rec['email']} at {rec['revoked_utc']}")

    @keys.command("list")
    def list_command(
        registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Every registered key: signer, role, status."""
        from validation.provenance.registry import open_registry
        from validation.provenance.signatures import list_keys

        reg = open_registry(registry, create=False)
        try:
            rows = list_keys(reg)
        finally:
            reg.close()
        if as_json:
            echo_json(rows)
            return
        for k in rows:
            site = f" site {k['site']}" if k["site"] else ""
            status = k["status"] + (f" {k['revoked_utc']}" if k["revoked_utc"] else "")
            typer.echo(f"{k['key_id'][:16]}  {k['name']} <{k['email']}>  {k['party']} "
                       f"{k['role']}{site}  registered {k['registered_utc']}  {status}")

    @app.command("sign")
    def sign_command(
        document: Path = typer.Argument(..., help="The file to sign (a protocol lock, a "
                                        "change-control plan lock, a decision)."),
        meaning: str = typer.Option(..., "--meaning",
                                    help="authored | reviewed | approved | accepted."),
        key: str = typer.Option(..., "--key", help="The signer's e-mail or key id."),
        key_file: Path | None = typer.Option(None, "--key-file",
                                             help="The encrypted private key (default: the "
                                             "keys folder)."),
        passphrase_file: Path | None = typer.Option(None, "--passphrase-file",
                                                    help=_PASS_FILE_HELP),
        registry: str | None = typer.Option(None, "--registry", help=_REGISTRY_HELP),
    ) -> None:
        """Sign FILE: signer, meaning, UTC time and the file's sha256, beside it and in the
        registry."""
        from validation.provenance.signatures import sign_file, signatures_path

        secret = read_passphrase(passphrase_file)
        sig = sign_file(registry, document, key=key, meaning=meaning, passphrase=secret,
                        key_file=key_file)
        typer.echo(f"signed {document.name} (sha256 {sig['document_sha256']}): {sig['meaning']} "
                   f"by {sig['name']} <{sig['email']}> {sig['signed_utc']}; "
                   f"{signatures_path(document)}")
