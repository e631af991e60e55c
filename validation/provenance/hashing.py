"""SHA-256 of files and folders, streamed so that large images and models never sit in memory.

Paths inside a run directory are written as POSIX paths relative to that directory, so a
dossier hashes the same on every machine and after being moved or copied.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from validation.errors import InputError

CHUNK = 1 << 20
"""Bytes read per step (1 MiB)."""


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def hash_mismatch_message(
    path: Path, expected: str, actual: str, what: str = "Model artifact"
) -> str:
    """The refusal shown when a locked file's sha256 differs (both hashes, and what to do)."""
    return (
        f"{what} '{path.name}' does not match its locked hash; refusing to run.\n"
        f"  locked (protocol): {expected}\n"
        f"  actual (file):     {actual}\n"
        "The evaluated model must be bit for bit the locked one: restore the locked file, or "
        "amend the protocol through change control and lock it again."
    )


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file at ``path``, read in 1 MiB chunks.

    Raises
    ------
    InputError
        If ``path`` is not an existing regular file.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"'path' must be an existing file; got {str(p)!r}.")
    digest = hashlib.sha256()
    with p.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def iter_files(root: str | os.PathLike[str]) -> list[Path]:
    """Every regular file under ``root``, sorted by its relative POSIX path.

    Symbolic links are refused rather than followed: a dossier must hold its own bytes.
    """
    base = Path(root)
    if not base.is_dir():
        raise InputError(f"'root' must be an existing folder; got {str(base)!r}.")
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames.sort()
        here = Path(dirpath)
        for name in dirnames:
            if (here / name).is_symlink():
                raise InputError(
                    f"'root' must not contain symbolic links; got {str(here / name)!r}. "
                    "Copy the target into the folder instead."
                )
        for name in filenames:
            p = here / name
            if p.is_symlink():
                raise InputError(
                    f"'root' must not contain symbolic links; got {str(p)!r}. "
                    "Copy the target into the folder instead."
                )
            if p.is_file():
                found.append(p)
    return sorted(found, key=lambda p: p.relative_to(base).as_posix())


def hash_tree(
    root: str | os.PathLike[str], *, exclude: frozenset[str] = frozenset()
) -> dict[str, dict[str, int | str]]:
    """``{relative posix path: {"sha256": hex, "size": bytes}}`` for every file under ``root``.

    ``exclude`` holds relative paths to leave out (e.g. ``manifest.json`` itself).
    """
    base = Path(root)
    out: dict[str, dict[str, int | str]] = {}
    for p in iter_files(base):
        rel = p.relative_to(base).as_posix()
        if rel in exclude:
            continue
        out[rel] = {"sha256": sha256_file(p), "size": p.stat().st_size}
    return out
