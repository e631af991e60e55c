"""Signed checkpoints of the audit log's head, kept outside the database.

A checkpoint is a small JSON file, like a transparency-log checkpoint: the registry it is
about, the sequence number and hash of the newest audit entry, the UTC time, the signer's
Ed25519 public key and a signature over those fields. Anyone holding one can later show that
the log still contains that entry unchanged; someone who can write to the database cannot
cut the log back, or rewrite an entry and recompute every later hash, without every
checkpoint taken after that entry disagreeing.

Where things live (each overridable):

- signing key: ``$VALIDATION_CHECKPOINT_KEY``, else ``$VALIDATION_HOME/checkpoint_key.pem``
  (default ``~/.validation``). Created on first use (PKCS#8 PEM, unencrypted, file mode
  0600), with its public half beside it (``.pub.pem``). Keep the private key where only the
  people who seal runs can read it, back it up, and publish the public key (or give it to
  the auditor) so that checkpoints can be checked against it.
- checkpoints folder: ``$VALIDATION_CHECKPOINTS``, else ``$VALIDATION_HOME/checkpoints``. A
  checkpoint is written there after every sealed run (``<seq>-<hash12>.json``); copy them
  anywhere (a ticket, an e-mail, a public repository): the copies are what protects the log.

Checking (:func:`check_checkpoints`): the signature must verify under the key in the file,
and, when a trusted public key is given or configured, that key must be it. Then entry
``seq`` must exist and have hash ``head``.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validation._atomic import canonical_json, write_bytes_atomic, write_json_atomic
from validation.errors import InputError, ProvenanceError
from validation.provenance.registry import Registry, utc_now

FORMAT = "imaging-validation-checkpoint/1"
SIGNED_FIELDS = ("format", "registry", "seq", "head", "time", "public_key")


def _home() -> Path:
    return Path(os.environ.get("VALIDATION_HOME") or Path.home() / ".validation")


def key_path() -> Path:
    """The signing key: ``$VALIDATION_CHECKPOINT_KEY``, else ``$VALIDATION_HOME/checkpoint_key.pem``."""
    env = os.environ.get("VALIDATION_CHECKPOINT_KEY")
    return Path(env).expanduser() if env else _home() / "checkpoint_key.pem"


def checkpoint_dir() -> Path:
    """``$VALIDATION_CHECKPOINTS``, else ``$VALIDATION_HOME/checkpoints``."""
    env = os.environ.get("VALIDATION_CHECKPOINTS")
    return Path(env).expanduser() if env and env.lower() != "off" else _home() / "checkpoints"


def _load_or_create_key(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.is_file():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise ProvenanceError(
                f"the checkpoint key {str(path)!r} is not an unencrypted PEM private key: {exc}"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ProvenanceError(f"the checkpoint key {str(path)!r} must be an Ed25519 key.")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    write_bytes_atomic(path.with_name(path.stem + ".pub.pem"), pub)
    return key


def _raw_public(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def write_checkpoint(registry: Registry, folder: str | os.PathLike[str] | None = None,
                     key_file: str | os.PathLike[str] | None = None) -> Path | None:
    """Sign the registry's current head and write it to ``folder``; ``None`` for an empty log."""
    head = registry.head()
    if head is None:
        return None
    key = _load_or_create_key(Path(key_file) if key_file else key_path())
    body = {"format": FORMAT, "registry": registry.safe_url, "seq": head.seq,
            "head": head.entry_hash, "time": utc_now(),
            "public_key": _raw_public(key.public_key())}
    signature = key.sign(canonical_json(body).encode("utf-8"))
    data = body | {"signature": base64.b64encode(signature).decode("ascii")}
    out = Path(folder) if folder is not None else checkpoint_dir()
    return write_json_atomic(out / f"{head.seq:09d}-{head.entry_hash[:12]}.json", data)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckpointReport:
    """Outcome of :func:`check_checkpoints`: how many were checked and every problem."""

    checked: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def read_checkpoint(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"'--checkpoint' must be a checkpoint JSON file; {str(path)!r}: {exc}.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"'--checkpoint' must be a file in format {FORMAT!r}; got {str(path)!r}.")
    return data


def _signature_ok(data: dict[str, Any], trusted: str | None) -> str | None:
    """Why the signature does not hold, or ``None``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(data["public_key"]))
        body = {k: data[k] for k in SIGNED_FIELDS}
        public.verify(base64.b64decode(data["signature"]), canonical_json(body).encode("utf-8"))
    except (KeyError, ValueError, TypeError, InvalidSignature):
        return "its signature does not verify (the file was edited or forged)"
    if trusted is not None and data["public_key"] != trusted:
        return "it is signed by another key than the trusted checkpoint key"
    return None


def trusted_public_key(path: str | os.PathLike[str] | None = None) -> str | None:
    """The raw public key (base64) of a PEM public or private key file, or of the configured
    signing key when it exists; ``None`` when there is none."""
    from cryptography.hazmat.primitives import serialization

    if path is None:
        candidate = key_path()
        pub = candidate.with_name(candidate.stem + ".pub.pem")
        file = pub if pub.is_file() else candidate if candidate.is_file() else None
        if file is None:
            return None
    else:
        file = Path(path)
        if not file.is_file():
            raise InputError(f"'--public-key' must be a PEM key file; got {str(file)!r}.")
    raw = file.read_bytes()
    try:
        if b"PRIVATE" in raw:
            return _raw_public(serialization.load_pem_private_key(raw, password=None).public_key())
        return _raw_public(serialization.load_pem_public_key(raw))
    except (ValueError, TypeError) as exc:
        raise InputError(f"'--public-key' must be a PEM Ed25519 key; {str(file)!r}: {exc}.") from None


def check_checkpoints(registry: Registry, files: Iterable[str | os.PathLike[str]], *,
                      trusted: str | None = None) -> CheckpointReport:
    """Check the registry against every checkpoint file given (one problem line each)."""
    checked: list[str] = []
    problems: list[str] = []
    for f in files:
        path = Path(f)
        data = read_checkpoint(path)
        name = path.name
        checked.append(str(path))
        why = _signature_ok(data, trusted)
        if why:
            problems.append(f"checkpoint {name}: {why}")
            continue
        seq, head = int(data["seq"]), str(data["head"])
        entry = registry.entry(seq)
        if entry is None:
            problems.append(
                f"checkpoint {name} ({data['time']}): audit entry {seq} is missing: the log "
                f"was truncated below entry {seq}")
        elif entry.entry_hash != head:
            problems.append(
                f"checkpoint {name} ({data['time']}): audit entry {seq} has hash "
                f"{entry.entry_hash[:12]}..., the checkpoint signed {head[:12]}...: entry {seq} "
                f"or an entry before it was rewritten")
    return CheckpointReport(checked=tuple(checked), problems=tuple(problems))


def found_checkpoints(registry: Registry, folder: str | os.PathLike[str] | None = None
                      ) -> list[Path]:
    """Checkpoint files of this registry in ``folder`` (default :func:`checkpoint_dir`)."""
    base = Path(folder) if folder is not None else checkpoint_dir()
    if not base.is_dir():
        return []
    out = []
    for p in sorted(base.glob("*.json")):
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and data.get("format") == FORMAT \
                and data.get("registry") == registry.safe_url:
            out.append(p)
    return out


DATABASE_ONLY = (
    "What this check of the database alone shows: entries edited in place, deleted from the "
    "middle, or inserted; records that differ from their audit entries. What it cannot show "
    "alone: the newest entries cut off, or the log rewritten from some entry on with every "
    "later hash recomputed by someone who can write to the database. Those are caught only by "
    "a record kept outside it: signed checkpoints (--checkpoint, or the checkpoints folder), "
    "--expect-head, or a dossier's registry_receipt.json (validation verify)."
)
