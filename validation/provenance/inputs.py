"""``inputs.json``: every input file of a run with its size and SHA-256.

A role (``protocol``, ``manifest``, ``images``, ``model``, ``ratings``, ...) names either one
file or a folder; a folder is listed file by file (every image) and also gets one hash over
its listing, so a reviewer can compare a whole image set with one number.

Layout::

    {"schema_version": "1.0",
     "inputs": {"manifest": {"kind": "file", "path": "/data/manifest.csv",
                             "sha256": "...", "size": 1234},
                "images":   {"kind": "folder", "path": "/data/images",
                             "sha256": "<hash of the listing>", "size": <total bytes>,
                             "n_files": 3, "files": {"a/1.dcm": {"sha256": ..., "size": ...}}}}}

Paths are stored resolved, as the place where ``validation reproduce`` finds the inputs again;
their hashes, not their paths, are what identify them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validation._atomic import canonical_json, write_json_atomic
from validation.constants import INPUTS_FILE
from validation.errors import InputError, ProvenanceError
from validation.provenance.hashing import hash_tree, sha256_bytes, sha256_file

SCHEMA_VERSION = "1.0"


def _describe(role: str, path: Path) -> dict[str, Any]:
    if path.is_file():
        return {
            "kind": "file",
            "path": str(path.resolve()),
            "sha256": sha256_file(path),
            "size": path.stat().st_size,
        }
    if path.is_dir():
        files = hash_tree(path)
        return {
            "kind": "folder",
            "path": str(path.resolve()),
            "sha256": sha256_bytes(canonical_json(files).encode("utf-8")),
            "size": sum(int(f["size"]) for f in files.values()),
            "n_files": len(files),
            "files": files,
        }
    raise InputError(
        f"input '{role}' must be an existing file or folder; got {str(path)!r}."
    )


def describe_inputs(paths: Mapping[str, str | os.PathLike[str]]) -> dict[str, Any]:
    """The ``inputs.json`` object for ``paths`` (role -> file or folder), without writing it."""
    if not isinstance(paths, Mapping) or not paths:
        raise InputError(f"'paths' must be a non-empty mapping of role to path; got {paths!r}.")
    inputs: dict[str, Any] = {}
    for role, p in paths.items():
        if not isinstance(role, str) or not role:
            raise InputError(f"'paths' keys must be non-empty strings; got {role!r}.")
        inputs[role] = _describe(role, Path(p))
    return {"schema_version": SCHEMA_VERSION, "inputs": inputs}


def record_inputs(
    run_dir: str | os.PathLike[str], paths: Mapping[str, str | os.PathLike[str]]
) -> Path:
    """Hash every input and write ``run_dir/inputs.json`` atomically; return its path.

    Parameters
    ----------
    run_dir
        The run directory being built (normally ``<run-id>.incomplete``).
    paths
        Role -> file or folder, e.g. ``{"protocol": ..., "manifest": ..., "images": ...,
        "model": ...}``. Folders are hashed file by file.
    """
    target = Path(run_dir)
    if not target.is_dir():
        raise InputError(f"'run_dir' must be an existing folder; got {str(target)!r}.")
    return write_json_atomic(target / INPUTS_FILE, describe_inputs(paths))


def load_inputs(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``run_dir/inputs.json``."""
    path = Path(run_dir) / INPUTS_FILE
    if not path.is_file():
        raise ProvenanceError(f"'{path.name}' is missing from the run directory {str(run_dir)!r}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ProvenanceError(f"'{path.name}' is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("inputs"), dict):
        raise ProvenanceError(f"'{path.name}' must hold an 'inputs' object.")
    return data


def check_inputs(recorded: Mapping[str, Any]) -> list[str]:
    """Re-hash the inputs listed in an ``inputs.json`` object; one line per difference.

    An empty list means every recorded input is still present with the same bytes.
    """
    problems: list[str] = []
    for role, entry in sorted(recorded.get("inputs", {}).items()):
        path = Path(entry["path"])
        if entry.get("kind") == "folder":
            if not path.is_dir():
                problems.append(f"input '{role}': folder {str(path)!r} is missing")
                continue
            now = hash_tree(path)
            before = entry.get("files", {})
            for rel in sorted(set(before) | set(now)):
                if rel not in now:
                    problems.append(f"input '{role}': file {rel!r} is missing")
                elif rel not in before:
                    problems.append(f"input '{role}': file {rel!r} was added")
                elif now[rel]["sha256"] != before[rel]["sha256"]:
                    problems.append(f"input '{role}': file {rel!r} changed")
        else:
            if not path.is_file():
                problems.append(f"input '{role}': file {str(path)!r} is missing")
            elif sha256_file(path) != entry.get("sha256"):
                problems.append(f"input '{role}': file {str(path)!r} changed")
    return problems
