"""Checks of command arguments made before any data is read.

A run refused for a typo (``--format xls``, ``--seed -5``, an ``--out`` folder that cannot be
written) must not spend the sequestered test set: these checks run before the manifest is
opened, so a refused run records no access and leaves no ``.incomplete`` folder.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from validation.errors import InputError

#: Seeds are unsigned 32-bit integers (the bound of the protocol's ``analysis.seed``).
SEED_LIMIT = 2**32

#: Invisible characters that reorder displayed text (Unicode bidirectional controls).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_seed(seed: int | None, name: str = "--seed") -> int | None:
    """``seed`` if it is ``None`` or a whole number in ``[0, 2**32)``; :class:`InputError` else."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
        raise InputError(
            f"'{name}' must be a whole number from 0 to {SEED_LIMIT - 1} (the bound of the "
            f"protocol's analysis.seed); got {seed!r}. Give a seed in that range, or none to use "
            "the protocol's."
        )
    return seed


def check_report_formats(formats: Iterable[str], name: str = "--format") -> tuple[str, ...]:
    """The report formats, checked against the renderer's list (an empty list: no report)."""
    from validation.report.render import FORMATS

    items = tuple(str(f).strip().lower() for f in formats if str(f).strip())
    bad = [f for f in items if f not in FORMATS]
    if bad:
        raise InputError(
            f"'{name}' must be one or more of {', '.join(FORMATS)} (comma-separated), or 'none'; "
            f"got {bad[0]!r}."
        )
    return items


def check_person_text(text: str | None, name: str) -> str | None:
    """Refuse control and bidirectional characters in who-did-it text (operator, approver).

    Such text is stored in the audit log and printed on terminals and in reports; a newline
    or an escape sequence there could forge a line or hide text.
    """
    if text is None:
        return None
    for i, ch in enumerate(text):
        if unicodedata.category(ch) == "Cc" or ch in _BIDI or ch in "\u2028\u2029":
            raise InputError(
                f"'{name}' must be printable text without control characters; got {text!r}, "
                f"which holds U+{ord(ch):04X} ({unicodedata.name(ch, 'control character')}) at "
                f"position {i + 1}. Give the name on one line without escape sequences."
            )
    return text


def check_output_dir(path: str | os.PathLike[str], name: str = "--out") -> Path:
    """``path`` if it is a folder, or can be created as one, that this process may write.

    Refuses a path that is a file, whose nearest existing parent is a file, or that lies in a
    folder this process cannot write, with one message naming the path.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(
            f"'{name}' must be a folder; got {str(p)!r}, which is a file. Give a folder path "
            "(it is created when missing)."
        )
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise InputError(
            f"'{name}' must be a folder path; got {str(p)!r}, but {str(probe)!r} is a file, so "
            "no folder can be created there. Give another path."
        )
    if probe.is_dir() and not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(
            f"'{name}' must be a folder this user can write; got {str(p)!r}, and {str(probe)!r} "
            "is not writable. Give another path or fix its permissions."
        )
    return p


def check_output_file(path: str | os.PathLike[str], name: str = "--out") -> Path:
    """``path`` if a file can be written there (its folder exists or can be created)."""
    p = Path(path)
    if p.is_dir():
        raise InputError(
            f"'{name}' must be a file path; got {str(p)!r}, which is a folder. Give a file name."
        )
    folder = p.parent
    if folder.exists() and not folder.is_dir():
        raise InputError(
            f"'{name}' must be a file path in a folder; got {str(p)!r}, but {str(folder)!r} is a "
            "file. Give another path."
        )
    check_output_dir(folder, name)
    return p


def why_not_a_file(path: str | os.PathLike[str]) -> str:
    """Why ``path`` cannot be read as a file: a folder, a device or pipe, or nothing there."""
    p = Path(path)
    if p.is_dir():
        return "is a folder, not a file"
    if p.exists():
        return "is not a regular file (a device, pipe or socket)"
    return "does not exist"


def check_operating_point(scores: Iterable[float], operating_point: float, *, source: str) -> None:
    """Refuse a threshold outside [0, 1] when every score is a probability (in [0, 1]).

    With such scores an operating point of 2 calls every case negative: accepted, analysed and
    wrong. Scores on another scale (logits, counts) are left to the model card's range.
    """
    import numpy as np

    values = np.asarray(list(scores), dtype=float)
    values = values[np.isfinite(values)]
    if values.size and values.min() >= 0.0 and values.max() <= 1.0 \
            and not 0.0 <= float(operating_point) <= 1.0:
        raise InputError(
            f"'model.operating_point' must be in [0, 1] for scores that are probabilities (every "
            f"score in {source} lies in [0, 1]); got {operating_point!r}, which would call every "
            "case the same. Correct the threshold and lock the protocol again."
        )
