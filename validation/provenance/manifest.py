"""``manifest.json``: the SHA-256 and size of every file of a run directory, and its check.

The manifest lists every file under the run directory except itself and the registry
receipt, by POSIX path relative
to the directory. Its own SHA-256 (of its bytes) is what the registry's audit entry holds, so
the manifest cannot be rewritten to match edited files without breaking the link to the
registry.

It also holds ``registry_anchor``: the sequence number and hash of the audit log's newest
entry when the run was sealed. Each dossier thereby witnesses the registry's history up to
that point: rewriting the log before it (even recomputing every later hash) no longer
matches the anchor, and ``verify`` says so.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validation._atomic import canonical_json, write_bytes_atomic
from validation.constants import MANIFEST_FILE, RECEIPT_FILE
from validation.errors import InputError, ProvenanceError
from validation.provenance.hashing import hash_tree, sha256_bytes

UNLISTED = frozenset({MANIFEST_FILE, RECEIPT_FILE})
INCOMPLETE_SUFFIX = ".incomplete"
SCHEMA_VERSION = "1.0"


def build_manifest(
    run_dir: str | os.PathLike[str], *, run_id: str, anchor: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The manifest object for ``run_dir`` (every file but ``manifest.json``).

    ``anchor`` is ``{"seq": n, "entry_hash": h}`` of the registry's head, or ``None`` for an
    empty registry.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise InputError(f"'run_dir' must be an existing folder; got {str(root)!r}.")
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "algorithm": "sha256",
        "registry_anchor": anchor,
        "files": hash_tree(root, exclude=UNLISTED),
    }


def write_manifest(
    run_dir: str | os.PathLike[str], *, run_id: str, anchor: dict[str, Any] | None = None
) -> tuple[Path, str]:
    """Write ``run_dir/manifest.json`` atomically; return its path and its own SHA-256."""
    data = canonical_json(build_manifest(run_dir, run_id=run_id, anchor=anchor)).encode("utf-8")
    path = write_bytes_atomic(Path(run_dir) / MANIFEST_FILE, data)
    return path, sha256_bytes(data)


def read_manifest(run_dir: str | os.PathLike[str]) -> tuple[dict[str, Any], str]:
    """Read ``run_dir/manifest.json``; return it and the SHA-256 of its bytes."""
    path = Path(run_dir) / MANIFEST_FILE
    if not path.is_file():
        raise ProvenanceError(
            f"'{MANIFEST_FILE}' is missing from {str(run_dir)!r}: the run was never finalized "
            "(or the manifest was deleted), so it cannot be verified."
        )
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProvenanceError(
            f"'{MANIFEST_FILE}' in {str(run_dir)!r} is not valid JSON: {exc}."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise ProvenanceError(f"'{MANIFEST_FILE}' in {str(run_dir)!r} has no 'files' object.")
    return data, sha256_bytes(raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestCheck:
    """Files that differ from the manifest, each list sorted by relative path."""

    changed: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    n_files: int

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.extra)


def compare_to_manifest(run_dir: str | os.PathLike[str], manifest: dict[str, Any]) -> ManifestCheck:
    """Re-hash every file of ``run_dir`` and compare it with ``manifest['files']``."""
    recorded = manifest["files"]
    now = hash_tree(run_dir, exclude=UNLISTED)
    changed = sorted(
        rel for rel in set(recorded) & set(now)
        if not isinstance(recorded[rel], dict)
        or recorded[rel].get("sha256") != now[rel]["sha256"]
        or recorded[rel].get("size") != now[rel]["size"]
    )
    return ManifestCheck(
        changed=tuple(changed),
        missing=tuple(sorted(set(recorded) - set(now))),
        extra=tuple(sorted(set(now) - set(recorded))),
        n_files=len(recorded),
    )


def is_incomplete(run_dir: str | os.PathLike[str]) -> bool:
    """True for a run directory still marked ``.incomplete``."""
    return Path(run_dir).name.endswith(INCOMPLETE_SUFFIX)
