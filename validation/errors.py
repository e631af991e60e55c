"""Exceptions and warnings of the suite.

Every error carries a message a statistician can act on: what was wrong, where (file, row,
column or field) and what was expected. The command line turns any ``ValidationError`` into
one line on stderr and exit code 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def did_you_mean(value: Any, choices: Iterable[Any]) -> str:
    """`` Did you mean 'x'?`` for the closest of ``choices`` to ``value`` (empty if none is
    close): the one suggestion helper of every error message."""
    import difflib

    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


class ValidationError(Exception):
    """Base class: bad input or a refused operation. The CLI maps it to exit code 2."""

    exit_code = 2


class InputError(ValidationError, ValueError):
    """An argument or a data value is not what a function accepts."""


class DataError(ValidationError):
    """A data file violates its specification.

    ``problems`` lists every violation found (collected all at once), each a short line
    naming file, row and column.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            shown = "\n".join(f"  - {p}" for p in self.problems[:50])
            more = len(self.problems) - 50
            tail = f"\n  ... and {more} more" if more > 0 else ""
            message = f"{message}\n{shown}{tail}"
        super().__init__(message)


class ProtocolError(ValidationError):
    """A protocol file is invalid, or a run would deviate from the locked protocol."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class LockError(ProtocolError):
    """The protocol changed after it was locked, or its lock file is missing or invalid."""


class LockedModelError(ValidationError):
    """A model artifact does not match its locked hash, does not load, or violates its card."""


class DesignError(ValidationError):
    """A study design the requested method cannot analyse (e.g. an incomplete MRMC design)."""


class ProvenanceError(ValidationError):
    """A dossier or the audit chain fails verification."""


class PrivacyError(ValidationError):
    """An output of a run holds a patient identifier; the run is not sealed."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            shown = "\n".join(f"  - {p}" for p in self.problems[:50])
            more = len(self.problems) - 50
            tail = f"\n  ... and {more} more" if more > 0 else ""
            message = f"{message}\n{shown}{tail}"
        super().__init__(message)


class RenderError(ValidationError):
    """A report could not be rendered."""


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM): raised so that a run marks itself failed.

    A ``BaseException`` like ``KeyboardInterrupt``: no ``except Exception`` swallows it.
    """


class SmallSampleWarning(UserWarning):
    """A method's large-sample approximation is doubtful for these counts."""


class DegenerateVarianceWarning(UserWarning):
    """A variance component was negative or zero and was handled as the method prescribes."""
