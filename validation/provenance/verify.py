"""Verify a finalized run directory: files against the manifest, manifest against the
registry, and the registry's audit chain.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from validation.errors import ProvenanceError
from validation.provenance.audit import check_chain
from validation.provenance.manifest import (
    INCOMPLETE_SUFFIX,
    RECEIPT_FILE,
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
    signatures: tuple[str, ...] = field(default_factory=tuple)
    signature_problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.extra or self.registry_problems
                    or self.chain_problems or self.signature_problems)

    def lines(self) -> list[str]:
        """One line per problem, for people."""
        out = [f"changed: {p}" for p in self.changed]
        out += [f"missing: {p}" for p in self.missing]
        out += [f"extra:   {p}" for p in self.extra]
        out += [f"registry: {p}" for p in self.registry_problems]
        out += [f"audit chain: {p}" for p in self.chain_problems]
        out += [f"signature: {p}" for p in self.signature_problems]
        return out

    def to_dict(self) -> dict:
        return {
            "ok": self.ok, "run_dir": self.run_dir, "run_id": self.run_id,
            "manifest_sha256": self.manifest_sha256, "n_files": self.n_files,
            "changed": list(self.changed), "missing": list(self.missing),
            "extra": list(self.extra), "registry_problems": list(self.registry_problems),
            "chain_problems": list(self.chain_problems),
            "registry_entry": self.registry_entry,
            "signatures": list(self.signatures),
            "signature_problems": list(self.signature_problems),
        }


def _receipt_problems(root: Path, reg: Registry, run_id: object, manifest_sha: str,
                      entry: dict | None) -> list[str]:
    """``registry_receipt.json`` names the run's own audit entry: it must still be there with
    the same hash (a log cut back below it, or rewritten at or before it, fails here)."""
    path = root / RECEIPT_FILE
    if not path.is_file():
        return [f"{RECEIPT_FILE} is missing: the run's own audit entry is not witnessed"]
    try:
        receipt = json.loads(path.read_text(encoding="utf-8"))
        seq, want = int(receipt["audit_seq"]), str(receipt["entry_hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{RECEIPT_FILE} is unreadable"]
    problems = []
    if receipt.get("run_id") != run_id or receipt.get("manifest_sha256") != manifest_sha:
        problems.append(f"{RECEIPT_FILE} is for run {receipt.get('run_id')!r} / manifest "
                        f"{str(receipt.get('manifest_sha256'))[:12]}..., not this one")
    witnessed = reg.entry(seq)
    if witnessed is None:
        problems.append(f"the run's own audit entry {seq} is gone: the log was cut back "
                        "below it")
    elif witnessed.entry_hash != want:
        problems.append(f"the run's own audit entry {seq} changed (hash {want[:12]}... in the "
                        f"receipt, {witnessed.entry_hash[:12]}... now): the log was rewritten "
                        f"at or before entry {seq}")
    elif entry is not None and int(entry.get("audit_seq", -1)) != seq:
        problems.append(f"the registry row of this run points at audit entry "
                        f"{entry.get('audit_seq')}, the receipt at {seq}")
    return problems


def _name_problems(root: Path, run_id: object, entry: dict | None) -> list[str]:
    """The folder's name, the manifest's run id and the registry row must name one run (a
    dossier copied over another one's folder verifies file by file but is the wrong run)."""
    if not isinstance(run_id, str) or not run_id:
        return ["manifest.json names no run id"]
    if root.name != run_id:
        return [f"the folder is named {root.name!r} but its manifest is run {run_id!r} (a "
                "dossier copied or renamed over another run's folder)"]
    if entry is not None and entry.get("run_id") != root.name:
        return [f"the registry records this manifest for run {entry.get('run_id')!r}, the "
                f"folder is {root.name!r}"]
    return []


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
    registry_problems += _name_problems(root, run_id, entry)
    anchor = manifest.get("registry_anchor")
    if anchor is not None:
        witnessed = reg.entry(int(anchor.get("seq", -1))) if isinstance(anchor, dict) else None
        if witnessed is None or witnessed.entry_hash != anchor.get("entry_hash"):
            registry_problems.append(
                f"the audit log entry this run witnessed ({anchor!r}) is gone or changed: "
                "the log was rewritten after the run"
            )
    registry_problems += _receipt_problems(root, reg, run_id, manifest_sha, entry)
    chain = check_chain(reg)
    extra, signed, sig_problems = _signature_lines(root, reg, files.extra)
    if reg is not registry:
        reg.close()
    return VerificationReport(
        run_dir=str(root), run_id=run_id, manifest_sha256=manifest_sha,
        n_files=files.n_files, changed=files.changed, missing=files.missing,
        extra=extra, registry_problems=tuple(registry_problems),
        chain_problems=chain.problems, registry_entry=entry,
        signatures=signed, signature_problems=sig_problems,
    )


def _signature_lines(root: Path, reg: Registry, extra: tuple[str, ...]
                     ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Every ``*.signatures.json`` of the dossier checked against the registered keys (those
    added after sealing are not "extra" files: each signature carries its own proof), and
    the typed approvals of its protocol lock listed as unsigned."""
    from validation.constants import LOCK_FILE
    from validation.provenance.signatures import SIGNATURES_SUFFIX, verify_signatures

    signed: list[str] = []
    problems: list[str] = []
    for side in sorted(root.rglob(f"*{SIGNATURES_SUFFIX}")):
        document = side.with_name(side.name[: -len(SIGNATURES_SUFFIX)])
        if not document.is_file():
            problems.append(f"{side.relative_to(root).as_posix()}: the signed document is "
                            "missing")
            continue
        check = verify_signatures(reg, document)
        signed += check.valid
        problems += check.problems
    signed += typed_approvals(root / LOCK_FILE)
    kept = tuple(e for e in extra if not e.endswith(SIGNATURES_SUFFIX))
    return kept, tuple(signed), tuple(problems)


def typed_approvals(lock: Path) -> list[str]:
    """The typed approvals of a lock file, each marked unsigned (none when it is not a lock)."""
    from validation.errors import LockError
    from validation.lockfile import read_lock_file

    if not lock.is_file():
        return []
    try:
        approvals = read_lock_file(lock).approvals
    except LockError:  # not a lock, or an altered one (the file checks report it)
        return []
    return [f"{lock.name}: {a.meaning} by {a.name} <{a.email}> {a.time_utc} (typed approval, "
            "unsigned)" for a in approvals]
