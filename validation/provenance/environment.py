"""``environment.json``: the software that produced a run.

Records the Python interpreter, the platform, every installed distribution with its version
(from :mod:`importlib.metadata`), the suite's own version and git commit (when it runs from a
git checkout; ``dirty`` says whether tracked files had uncommitted changes) and the renderer
used for the report (``quarto``, or ``pandoc+typst`` when the suite rendered the ``.qmd``
itself).
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import validation
from validation._atomic import write_json_atomic
from validation.constants import ENVIRONMENT_FILE
from validation.errors import InputError

SCHEMA_VERSION = "1.0"


def installed_packages() -> dict[str, str]:
    """``{distribution name (lower case): version}`` for every installed distribution."""
    return dict(_installed_packages())


@functools.lru_cache(maxsize=1)
def _installed_packages() -> tuple[tuple[str, str], ...]:
    # Scanning every distribution's metadata takes about a second; a process's installed
    # packages do not change while it runs, so it is done once.
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata is not None else None
        if not name:
            continue
        key = name.lower()
        if key not in found:  # the first on sys.path is the one that imports
            found[key] = dist.version
    return tuple(sorted(found.items()))


def git_state(start: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the git checkout holding the suite, or ``None``.

    ``None`` when git is not installed or the suite is not installed from a checkout.
    """
    git = shutil.which("git")
    if git is None:
        return None
    where = Path(start) if start is not None else Path(validation.__file__).resolve().parent
    try:
        top = subprocess.run(
            [git, "-C", str(where), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, timeout=10, check=False,
        )
        if top.returncode != 0:
            return None
        commit = subprocess.run(
            [git, "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=False,
        )
        if commit.returncode != 0:
            return None
        status = subprocess.run(
            [git, "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {
        "commit": commit.stdout.strip(),
        "dirty": bool(status.stdout.strip()) if status.returncode == 0 else None,
    }


def describe_environment(renderer: str | None = None) -> dict[str, Any]:
    """The ``environment.json`` object (without writing it)."""
    if renderer is not None and (not isinstance(renderer, str) or not renderer):
        raise InputError(f"'renderer' must be a non-empty string or None; got {renderer!r}.")
    return {
        "schema_version": SCHEMA_VERSION,
        "suite": {"name": "imaging-validation", "version": validation.__version__,
                  "git": git_state()},
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "virtualenv": sys.prefix != sys.base_prefix,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "platform": platform.platform(),
        },
        "renderer": renderer,
        "packages": installed_packages(),
    }


def write_environment(run_dir: str | os.PathLike[str], renderer: str | None = None) -> Path:
    """Write ``run_dir/environment.json`` atomically and return its path."""
    target = Path(run_dir)
    if not target.is_dir():
        raise InputError(f"'run_dir' must be an existing folder; got {str(target)!r}.")
    return write_json_atomic(target / ENVIRONMENT_FILE, describe_environment(renderer))
