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
from validation.errors import Terminated, ValidationError

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


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(f"the process received signal {signum} (SIGTERM) and stopped")


def install_sigterm_handler() -> None:
    """Turn SIGTERM into :class:`~validation.errors.Terminated`, so that a run being written
    marks its ``.incomplete`` folder with ``FAILED.txt`` (as for Ctrl-C) before exiting."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)


def main() -> None:
    """Console-script entry point."""
    install_sigterm_handler()
    try:
        app()
    except ValidationError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Terminated as exc:
        typer.echo(f"terminated: {exc}", err=True)
        sys.exit(143)


if __name__ == "__main__":
    main()
