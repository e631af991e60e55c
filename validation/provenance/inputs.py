"""``inputs.json``: every input file of a run with its size and SHA-256.

A role (``protocol``, ``manifest``, ``images``, ``model``, ``ratings``, ...) names either one
file or a folder; a folder is listed file by file (every image) and also gets one hash over
its listing, so a reviewer can compare a whole image set with one number.

Layout::

    {"schema_version": "1.1",
     "paths_relative_to": "protocol folder",
     "protocol_folder_from_run": "../../../inputs",
     "host_sha256": "<sha256 of the host name>",
     "inputs": {"manifest": {"kind": "file", "path": "manifest.csv",
                             "sha256": "...", "size": 1234},
                "images":   {"kind": "folder", "path": "images",
                             "sha256": "<hash of the listing>", "size": <total bytes>,
                             "n_files": 3, "files": {"a/1.dcm": {"sha256": ..., "size": ...}}}}}

Paths are POSIX paths relative to the protocol's folder (the folder of the ``protocol``
input; without one, the inputs' common folder), never absolute paths of the operator's
machine; the host appears only as the SHA-256 of its name. ``protocol_folder_from_run`` is
the protocol's folder relative to the run directory, which is where ``validation reproduce``
looks for the inputs again (or give it ``--protocol``). Hashes, not paths, identify inputs.

A ``record`` entry is an input that is no file: a plan derived from the locked protocol
and the suite (the robustness perturbation plan: families, severities, seed and
implementation), stored verbatim with the SHA-256 of its canonical JSON, so the run's
inputs (and everything sealed over ``inputs.json``) change when the plan does.
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

SCHEMA_VERSION = "1.1"
RELATIVE_TO = "protocol folder"


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()


def _base_of(paths: Mapping[str, Path]) -> Path:
    if "protocol" in paths:
        return Path(paths["protocol"]).resolve().parent
    return Path(os.path.commonpath([str(Path(p).resolve()) for p in paths.values()]))


def _host_sha256() -> str:
    import socket

    return sha256_bytes(socket.gethostname().encode("utf-8"))


def _describe(role: str, path: Path, base: Path) -> dict[str, Any]:
    if path.is_file():
        return {
            "kind": "file",
            "path": _relative(path, base),
            "sha256": sha256_file(path),
            "size": path.stat().st_size,
        }
    if path.is_dir():
        files = hash_tree(path)
        return {
            "kind": "folder",
            "path": _relative(path, base),
            "sha256": sha256_bytes(canonical_json(files).encode("utf-8")),
            "size": sum(int(f["size"]) for f in files.values()),
            "n_files": len(files),
            "files": files,
        }
    raise InputError(
        f"input '{role}' must be an existing file or folder; got {str(path)!r}."
    )


def _record(role: str, record: Any) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        raise InputError(f"record input '{role}' must be a mapping; got {type(record).__name__}.")
    return {"kind": "record",
            "sha256": sha256_bytes(canonical_json(record).encode("utf-8")),
            "record": dict(record)}


def describe_inputs(paths: Mapping[str, str | os.PathLike[str]],
                    run_dir: str | os.PathLike[str] | None = None,
                    records: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The ``inputs.json`` object for ``paths`` (role -> file or folder), without writing it.

    ``run_dir`` (the run directory) gives ``protocol_folder_from_run``; ``records`` (role ->
    plain mapping) adds ``record`` entries (inputs that are no file, e.g. the robustness
    perturbation plan)."""
    if not isinstance(paths, Mapping) or not paths:
        raise InputError(f"'paths' must be a non-empty mapping of role to path; got {paths!r}.")
    for role in paths:
        if not isinstance(role, str) or not role:
            raise InputError(f"'paths' keys must be non-empty strings; got {role!r}.")
    base = _base_of({r: Path(p) for r, p in paths.items()})
    inputs = {role: _describe(role, Path(p), base) for role, p in paths.items()}
    for role, record in (records or {}).items():
        if role in inputs:
            raise InputError(f"record input '{role}' must not repeat a file role; rename it.")
        inputs[role] = _record(role, record)
    out: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "paths_relative_to": RELATIVE_TO}
    if run_dir is not None:
        out["protocol_folder_from_run"] = _relative(base, Path(run_dir))
    return out | {"host_sha256": _host_sha256(), "inputs": inputs}


def record_inputs(
    run_dir: str | os.PathLike[str], paths: Mapping[str, str | os.PathLike[str]],
    records: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Hash every input and write ``run_dir/inputs.json`` atomically; return its path.

    Parameters
    ----------
    run_dir
        The run directory being built (normally ``<run-id>.incomplete``).
    paths
        Role -> file or folder, e.g. ``{"protocol": ..., "manifest": ..., "images": ...,
        "model": ...}``. Folders are hashed file by file.
    records
        Role -> plain mapping recorded verbatim with its hash (see :func:`describe_inputs`).
    """
    target = Path(run_dir)
    if not target.is_dir():
        raise InputError(f"'run_dir' must be an existing folder; got {str(target)!r}.")
    return write_json_atomic(target / INPUTS_FILE, describe_inputs(paths, run_dir=target,
                                                                      records=records))


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


def inputs_base(recorded: Mapping[str, Any], run_dir: str | os.PathLike[str] | None
                ) -> Path | None:
    """Where the relative paths of ``recorded`` start: the protocol's folder as seen from
    ``run_dir`` (``None`` when unknown)."""
    rel = recorded.get("protocol_folder_from_run")
    if run_dir is None or not isinstance(rel, str):
        return None
    return Path(run_dir) / rel


def check_inputs(recorded: Mapping[str, Any], base: str | os.PathLike[str] | None = None
                 ) -> list[str]:
    """Re-hash the inputs listed in an ``inputs.json`` object; one line per difference.

    Relative paths are taken from ``base`` (the protocol's folder; see :func:`inputs_base`).
    An empty list means every recorded input is still present with the same bytes.
    """
    problems: list[str] = []
    for role, entry in sorted(recorded.get("inputs", {}).items()):
        if entry.get("kind") == "record":  # no file: its content must still match its hash
            if sha256_bytes(canonical_json(entry.get("record")).encode("utf-8")) != entry.get("sha256"):
                problems.append(f"input '{role}': the recorded content does not match its sha256")
            continue
        path = Path(entry["path"])
        if not path.is_absolute():
            if base is None:
                problems.append(f"input '{role}': {entry['path']!r} is relative to the "
                                "protocol's folder, which is not known; give --protocol")
                continue
            path = Path(base) / path
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


TEST_SET_ROLES = ("manifest", "images")
"""The ``inputs.json`` roles whose hashes identify a test set."""


def hash_of_test_set(inputs: dict[str, Any]) -> str:
    """Content hash of the test set: SHA-256 over the hashes of its ``inputs.json`` roles."""
    entries = inputs.get("inputs", {})
    parts = {role: entries[role]["sha256"] for role in TEST_SET_ROLES if role in entries}
    if "manifest" not in parts:
        raise ProvenanceError(
            "inputs.json has no 'manifest' entry, so the test set cannot be identified; "
            "record the test-set manifest under the role 'manifest' (or pass test_set_sha256)."
        )
    return sha256_bytes(canonical_json(parts).encode("utf-8"))
