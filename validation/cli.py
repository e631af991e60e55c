"""The ``validation`` command: it only parses, calls and prints.

Each group of commands lives in ``validation/commands/<group>.py`` and exposes
``register(app)``. Heavy libraries (torch, pandas, matplotlib) are imported inside the command
functions so that ``validation --help`` stays fast. Any :class:`~validation.errors.ValidationError`
becomes one clear message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from validation.commands import COMMAND_MODULES
from validation.errors import ValidationError

app = typer.Typer(
    name="validation",
    help="Regulatory validation and trial analysis suite for locked medical-imaging AI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """Regulatory validation and trial analysis suite for locked medical-imaging AI."""


for _module in COMMAND_MODULES:
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except ValidationError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
