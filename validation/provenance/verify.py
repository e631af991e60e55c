"""Verify a finalized run directory: files against the manifest, manifest against the
registry, and the registry's audit chain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from validation.errors import ProvenanceError
from validation.provenance.audit import check_chain
from validation.provenance.manifest import (
    INCOMPLETE_SUFFIX,
    compare_to_manifest,
    is_incomplete,
    read_manifest,
)
from validation.provenance.registry import (
    Registry,
    default_registry_url,
    normalize_url,
    open_registry,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationReport:
    """Outcome of :func:`verify_run`; ``ok`` only when every list is empty."""

    run_dir: str
    run_id: str | None
    manifest_sha256: str
    n_files: int
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    registry_problems: tuple[str, ...] = field(default_factory=tuple)
    chain_problems: tuple[str, ...] = field(default_factory=tuple)
    registry_entry: dict | None = None

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.extra or self.registry_problems
                    or self.chain_problems)

    def lines(self) -> list[str]:
        """One line per problem, for people."""
        out = [f"changed: {p}" for p in self.changed]
        out += [f"missing: {p}" for p in self.missing]
        out += [f"extra:   {p}" for p in self.extra]
        out += [f"registry: {p}" for p in self.registry_problems]
        out += [f"audit chain: {p}" for p in self.chain_problems]
        return out

    def to_dict(self) -> dict:
        return {
            "ok": self.ok, "run_dir": self.run_dir, "run_id": self.run_id,
            "manifest_sha256": self.manifest_sha256, "n_files": self.n_files,
            "changed": list(self.changed), "missing": list(self.missing),
            "extra": list(self.extra), "registry_problems": list(self.registry_problems),
            "chain_problems": list(self.chain_problems),
            "registry_entry": self.registry_entry,
        }


def verify_run(
    run_dir: str | os.PathLike[str], registry: Registry | str | None = None
) -> VerificationReport:
    """Re-hash every file of ``run_dir`` and check it against its manifest and the registry.

    Raises
    ------
    ProvenanceError
        When the folder cannot be verified at all: it does not exist, is still marked
        ``.incomplete`` (a run that did not finish), or has no readable manifest.
        A folder that can be checked but fails is reported in the returned object instead.
    """
    if not isinstance(registry, Registry):
        normalize_url(registry if registry is not None else default_registry_url())
    root = Path(run_dir)
    if not root.is_dir():
        raise ProvenanceError(f"'run_dir' must be an existing run directory; got {str(root)!r}.")
    if is_incomplete(root):
        raise ProvenanceError(
            f"{str(root)!r} is marked {INCOMPLETE_SUFFIX}: the run did not finish (killed or "
            "failed) and is not a dossier. Rerun it; do not rename the folder by hand."
        )
    manifest, manifest_sha = read_manifest(root)
    files = compare_to_manifest(root, manifest)
    reg = open_registry(registry, create=False)
    registry_problems: list[str] = []
    run_id = manifest.get("run_id")
    entry = None
    runs = reg.run_by_manifest(manifest_sha)
    if not runs:
        registry_problems.append(
            f"manifest sha256 {manifest_sha} is not recorded in the registry {reg.safe_url} "
            "(manifest.json was edited, or the run belongs to another registry)"
        )
    else:
        entry = runs[0]
        if run_id is not None and entry["run_id"] != run_id:
            registry_problems.append(
                f"the registry records this manifest for run {entry['run_id']!r}, the "
                f"manifest names {run_id!r}"
            )
    anchor = manifest.get("registry_anchor")
    if anchor is not None:
        witnessed = reg.entry(int(anchor.get("seq", -1))) if isinstance(anchor, dict) else None
        if witnessed is None or witnessed.entry_hash != anchor.get("entry_hash"):
            registry_problems.append(
                f"the audit log entry this run witnessed ({anchor!r}) is gone or changed: "
                "the log was rewritten after the run"
            )
    chain = check_chain(reg)
    if reg is not registry:
        reg.close()
    return VerificationReport(
        run_dir=str(root), run_id=run_id, manifest_sha256=manifest_sha,
        n_files=files.n_files, changed=files.changed, missing=files.missing,
        extra=files.extra, registry_problems=tuple(registry_problems),
        chain_problems=chain.problems, registry_entry=entry,
    )
