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


def run() -> None:
    """Process entry point (console script and ``python -m validation``): :func:`main`, and on
    a refusal (a non-zero exit) leave without interpreter finalisation.

    Native thread pools loaded by a command (Arrow, OpenMP) can abort the process while Python
    shuts down ("terminate called without an active exception"), which would turn a clean
    refusal, exit 2, into SIGABRT for a scheduler. Everything a refused command wrote is
    already written atomically, so after flushing the streams the process exits with its code
    directly.
    """
    import os

    try:
        main()
        code: str | int | None = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, int) and code != 0:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
