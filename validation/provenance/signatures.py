"""Electronic signatures with registered keys (in the spirit of 21 CFR Part 11 §11.50, §11.70,
§11.200).

A signer registers an Ed25519 key pair (:func:`register_key`): the private key is written
encrypted with the signer's passphrase (PKCS#8, ``BestAvailableEncryption``, file mode 0600)
into the keys folder (``$VALIDATION_KEYS``, else ``$VALIDATION_HOME/keys``); the public key is
recorded in the registry with the signer's name, e-mail and role on the device's value chain:

- ``manufacturer``: ``author``, ``reviewer`` or ``approver`` (of a protocol, a change-control
  plan, a model version's decision);
- ``institution``: ``acceptance`` of a model version for clinical use at one ``site``.

A signature (:func:`sign_file`) binds the signer (key id, name, e-mail, role), the meaning
(``authored``, ``reviewed``, ``approved``, ``accepted``: the one that matches the key's role),
the UTC time and the SHA-256 of the signed document; Ed25519 signs the canonical JSON of these
fields (§11.50, §11.70: the signature cannot be copied to another document, whose hash differs).
It is appended to ``<document>.signatures.json`` beside the document and recorded in the
registry with its audit entry. Registering and revoking keys are audited too.

:func:`verify_signatures` checks every signature of a document against the *registered* public
key (never the one a file carries): a changed or other document, a forged or edited signature,
an unregistered key, a signature the registry never recorded, and a signature recorded after
its key was revoked each fail with a sentence. The typed approvals of protocol locks
(``validation.lockfile``) stay readable and are reported as unsigned.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from validation._atomic import canonical_json, write_json_atomic
from validation.errors import InputError, ProvenanceError
from validation.provenance.hashing import sha256_bytes, sha256_file
from validation.provenance.registry import Registry, open_registry
from validation.provenance.registry_tables import (
    KeyRevocationRecord,
    SignatureRecord,
    SigningKeyRecord,
    record_payload,
    utc_now,
)

FORMAT = "imaging-validation-signature/1"
SIGNATURES_SUFFIX = ".signatures.json"
PASSPHRASE_ENV = "VALIDATION_SIGNING_PASSPHRASE"
MIN_PASSPHRASE = 10
PARTIES: dict[str, tuple[str, ...]] = {
    "manufacturer": ("author", "reviewer", "approver"),
    "institution": ("acceptance",),
}
"""Value-chain party -> the roles its signers may hold."""
MEANING_OF_ROLE = {"author": "authored", "reviewer": "reviewed", "approver": "approved",
                   "acceptance": "accepted"}
SIGN_MEANINGS = tuple(MEANING_OF_ROLE.values())
SIGNED_FIELDS = ("format", "document", "document_sha256", "key_id", "name", "email", "party",
                 "role", "site", "meaning", "signed_utc")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+$")


def keys_dir() -> Path:
    """``$VALIDATION_KEYS``, else ``$VALIDATION_HOME/keys`` (default ``~/.validation/keys``)."""
    env = os.environ.get("VALIDATION_KEYS")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("VALIDATION_HOME") or Path.home() / ".validation") / "keys"


def signatures_path(document: str | os.PathLike[str]) -> Path:
    """``report.json`` -> ``report.json.signatures.json`` (beside the document)."""
    p = Path(document)
    return p.with_name(p.name + SIGNATURES_SUFFIX)


def check_passphrase(passphrase: object) -> str:
    """A passphrase of at least :data:`MIN_PASSPHRASE` characters (never echoed back)."""
    if not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE:
        raise InputError(
            f"'passphrase' must have at least {MIN_PASSPHRASE} characters; got one of "
            f"{len(passphrase) if isinstance(passphrase, str) else 0}. Choose a longer one."
        )
    return passphrase


def _check_person(name: str, email: str) -> None:
    if not isinstance(name, str) or not name.strip() or any(c in name for c in "<>@"):
        raise InputError(f"'--name' must be the signer's full name; got {name!r}.")
    if not isinstance(email, str) or not _EMAIL.match(email):
        raise InputError(f"'--email' must look like name@domain.tld; got {email!r}.")


def _check_role(party: str, role: str, site: str | None) -> None:
    if party not in PARTIES:
        raise InputError(f"'--party' must be one of {', '.join(PARTIES)}; got {party!r}.")
    if role not in PARTIES[party]:
        raise InputError(f"'--role' of a {party} signer must be one of "
                         f"{', '.join(PARTIES[party])}; got {role!r}.")
    if party == "institution" and not (site or "").strip():
        raise InputError("'--site' must name the site whose acceptance an institution signer "
                         "signs; got none.")
    if party == "manufacturer" and site:
        raise InputError(f"'--site' is for institution signers only; got {site!r} for a "
                         "manufacturer signer.")


def _raw_public(public: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def key_id_of(public_b64: str) -> str:
    """The key id: SHA-256 (hex) of the raw 32-byte public key."""
    return sha256_bytes(base64.b64decode(public_b64))


# --------------------------------------------------------------------------------------------
# keys


def register_key(registry: Registry | str | None, *, name: str, email: str, party: str,
                 role: str, passphrase: str, site: str | None = None,
                 operator: str | None = None,
                 folder: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Generate a key pair, write the encrypted private key, register the public key.

    Returns the registry record plus ``key_file`` (where the private key was written).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _check_person(name, email)
    _check_role(party, role, site)
    secret = check_passphrase(passphrase).encode("utf-8")
    key = Ed25519PrivateKey.generate()
    public = _raw_public(key.public_key())
    kid = key_id_of(public)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(secret))
    out = Path(folder) if folder is not None else keys_dir()
    out.mkdir(parents=True, exist_ok=True)
    key_file = out / f"{kid[:16]}.key.pem"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    row = SigningKeyRecord(key_id=kid, name=name.strip(), email=email, party=party, role=role,
                           site=(site or None) and site.strip(), public_key=public,
                           registered_utc=utc_now(), operator=operator or email)
    reg = open_registry(registry)
    try:
        stored, _ = reg.add_record(row, actor=operator or email, subject=f"{email}/{kid[:16]}",
                                   unique={"key_id": kid}, same=("public_key",))
    finally:
        if reg is not registry:
            reg.close()
    return stored | {"key_file": str(key_file)}


def list_keys(registry: Registry) -> list[dict[str, Any]]:
    """Every registered key with ``status`` (``active`` / ``revoked``) and revocation fields."""
    def work(session: Any) -> list[dict[str, Any]]:
        revoked = {r.key_id: record_payload(r) | {"audit_seq": r.audit_seq}
                   for r in session.execute(select(KeyRevocationRecord)).scalars()}
        out = []
        for k in session.execute(select(SigningKeyRecord).order_by(SigningKeyRecord.id)
                                 ).scalars():
            rev = revoked.get(k.key_id)
            out.append(record_payload(k) | {
                "audit_seq": k.audit_seq, "status": "revoked" if rev else "active",
                "revoked_utc": rev["revoked_utc"] if rev else None,
                "revoked_seq": rev["audit_seq"] if rev else None,
                "revocation_reason": rev["reason"] if rev else None})
        return out

    return registry.read(work)


def find_key(registry: Registry, key: str, *, meaning: str | None = None) -> dict[str, Any]:
    """The registered key named by its id (or a unique prefix of 8+ hex digits) or by the
    signer's e-mail (their one active key, or the one whose role gives ``meaning``)."""
    keys = list_keys(registry)
    if "@" in key:
        hits = [k for k in keys if k["email"].lower() == key.lower()]
        active = [k for k in hits if k["status"] == "active"]
        if meaning is not None:
            active = [k for k in active if MEANING_OF_ROLE[k["role"]] == meaning]
        if len(active) == 1:
            return active[0]
        if not hits:
            raise InputError(f"no signing key is registered for {key!r}; register one with "
                             "`validation keys register`.")
        if not active:
            dates = ", ".join(f"{k['key_id'][:16]} revoked {k['revoked_utc']}" for k in hits
                              if k["status"] == "revoked") or "no active key for that meaning"
            raise InputError(f"the signing key of {key!r} is revoked or has another role "
                             f"({dates}); a revoked key cannot sign. Register a new key.")
        raise InputError(f"{key!r} has {len(active)} active keys; name one with --key "
                         f"({', '.join(k['key_id'][:16] for k in active)}).")
    if len(key) < 8 or any(c not in "0123456789abcdef" for c in key.lower()):
        raise InputError(f"'--key' must be a key id (8+ hex digits) or an e-mail; got {key!r}.")
    hits = [k for k in keys if k["key_id"].startswith(key.lower())]
    if len(hits) != 1:
        raise InputError(f"'--key' {key!r} matches {len(hits)} registered keys; give more "
                         "digits of the key id (`validation keys list`).")
    return hits[0]


def revoke_key(registry: Registry | str | None, *, key: str, reason: str,
               operator: str) -> dict[str, Any]:
    """Revoke a key (by id or e-mail): signatures recorded after this are refused by verify."""
    if not isinstance(reason, str) or not reason.strip():
        raise InputError("'--reason' must say why the key is revoked (e.g. 'passphrase "
                         "disclosed', 'left the company'); got none.")
    reg = open_registry(registry)
    try:
        found = find_key(reg, key)
        if found["status"] == "revoked":
            raise InputError(f"key {found['key_id'][:16]} of {found['email']} is already "
                             f"revoked ({found['revoked_utc']}).")
        row = KeyRevocationRecord(key_id=found["key_id"], reason=reason.strip(),
                                  revoked_utc=utc_now(), operator=operator)
        stored, _ = reg.add_record(row, actor=operator,
                                   subject=f"{found['email']}/{found['key_id'][:16]}",
                                   unique={"key_id": found["key_id"]}, same=())
    finally:
        if reg is not registry:
            reg.close()
    return stored | {"email": found["email"]}


def unlock_key(record: dict[str, Any], passphrase: str,
               key_file: str | os.PathLike[str] | None = None) -> Any:
    """The private key of a registered key, decrypted with ``passphrase``.

    Raises :class:`InputError` for a wrong passphrase (the passphrase is never shown), a
    missing key file, or a key file that is not the registered key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(key_file) if key_file else keys_dir() / f"{record['key_id'][:16]}.key.pem"
    if not path.is_file():
        raise InputError(f"the private key of {record['email']} (key {record['key_id'][:16]}) "
                         f"is not at {str(path)!r}; pass --key-file.")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(),
                                                 password=str(passphrase).encode("utf-8"))
    except (ValueError, TypeError):
        raise InputError(f"the passphrase does not unlock the key of {record['email']} (key "
                         f"{record['key_id'][:16]}): wrong passphrase. Nothing was "
                         "signed.") from None
    if not isinstance(key, Ed25519PrivateKey) or _raw_public(key.public_key()) \
            != record["public_key"]:
        raise InputError(f"{str(path)!r} is not the registered key {record['key_id'][:16]} of "
                         f"{record['email']}.")
    return key


# --------------------------------------------------------------------------------------------
# signing and verifying


def sign_file(registry: Registry | str | None, document: str | os.PathLike[str], *, key: str,
              meaning: str, passphrase: str,
              key_file: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Sign ``document`` with a registered, active key; append the signature beside it and
    record it in the registry (with its audit entry). Returns the signature."""
    doc = Path(document)
    if not doc.is_file():
        raise InputError(f"'FILE' must be an existing file to sign; got {str(doc)!r}.")
    if doc.name.endswith(SIGNATURES_SUFFIX):
        raise InputError(f"'FILE' must be a document, not a signatures file; got {doc.name!r}.")
    if meaning not in SIGN_MEANINGS:
        raise InputError(f"'--meaning' must be one of {', '.join(SIGN_MEANINGS)}; got "
                         f"{meaning!r}.")
    reg = open_registry(registry)
    try:
        record = find_key(reg, key, meaning=meaning)
        if record["status"] == "revoked":
            raise InputError(f"key {record['key_id'][:16]} of {record['email']} was revoked "
                             f"{record['revoked_utc']}; a revoked key cannot sign.")
        wanted = MEANING_OF_ROLE[record["role"]]
        if meaning != wanted:
            raise InputError(f"'--meaning' {meaning!r} is not what a {record['party']} "
                             f"{record['role']} signs ({wanted!r}); sign with the key of that "
                             "role.")
        private = unlock_key(record, passphrase, key_file)
        body = {"format": FORMAT, "document": doc.name, "document_sha256": sha256_file(doc),
                "key_id": record["key_id"], "name": record["name"], "email": record["email"],
                "party": record["party"], "role": record["role"], "site": record["site"],
                "meaning": meaning, "signed_utc": utc_now()}
        sig = base64.b64encode(private.sign(canonical_json(body).encode("utf-8"))).decode()
        entry = body | {"signature": sig}
        row = SignatureRecord(signature=sig, key_id=record["key_id"], email=record["email"],
                              meaning=meaning, document=doc.name,
                              document_sha256=body["document_sha256"],
                              signed_utc=body["signed_utc"])
        reg.add_record(row, actor=f"{record['name']} <{record['email']}>",
                       subject=f"{doc.name}/{body['document_sha256'][:12]}",
                       unique={"signature": sig}, same=())
    finally:
        if reg is not registry:
            reg.close()
    side = signatures_path(doc)
    existing = read_signatures(side) if side.is_file() else []
    write_json_atomic(side, {"format": FORMAT, "signatures": [*existing, entry]})
    return entry


def read_signatures(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The signatures of a ``.signatures.json`` file (raises InputError if unreadable)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        sigs = data["signatures"]
        if data.get("format") != FORMAT or not isinstance(sigs, list):
            raise ValueError("not a signatures file")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{p.name} is not a signatures file of format {FORMAT!r} ({exc}).") \
            from None
    return [s for s in sigs if isinstance(s, dict)]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureCheck:
    """Outcome of :func:`verify_signatures` for one document."""

    document: str
    valid: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _one_problem(s: dict[str, Any], doc_sha: str, keys: dict[str, dict[str, Any]],
                 recorded: dict[str, dict[str, Any]]) -> str | None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    who = f"{s.get('email')!r} ({s.get('meaning')})"
    if s.get("document_sha256") != doc_sha:
        return (f"the signature of {who} is for a document with sha256 "
                f"{str(s.get('document_sha256'))[:12]}..., this one is {doc_sha[:12]}...: "
                "copied from another document, or the document changed after signing")
    key = keys.get(str(s.get("key_id")))
    if key is None:
        return f"the signature of {who} is by key {str(s.get('key_id'))[:16]}, which is not " \
               "registered"
    try:
        body = {k: s[k] for k in SIGNED_FIELDS}
        Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"])).verify(
            base64.b64decode(s["signature"]), canonical_json(body).encode("utf-8"))
    except (KeyError, ValueError, TypeError, InvalidSignature):
        return f"the signature of {who} does not verify with the registered key: forged or edited"
    if (s["email"], s["name"], s["role"], s["party"]) != (key["email"], key["name"], key["role"],
                                                         key["party"]):
        return f"the signature of {who} names another signer than the registered key"
    rec = recorded.get(str(s["signature"]))
    if rec is None:
        return f"the signature of {who} was never recorded in the registry"
    if key["status"] == "revoked" and rec["audit_seq"] > key["revoked_seq"]:
        return (f"the signature of {who} was recorded after its key was revoked "
                f"({key['revoked_utc']})")
    return None


def verify_signatures(registry: Registry | str | None,
                      document: str | os.PathLike[str]) -> SignatureCheck:
    """Check every signature beside ``document`` against the registered keys."""
    doc = Path(document)
    side = signatures_path(doc)
    if not doc.is_file():
        raise InputError(f"'FILE' must be an existing document; got {str(doc)!r}.")
    if not side.is_file():
        return SignatureCheck(document=str(doc), valid=(), problems=())
    sigs = read_signatures(side)
    doc_sha = sha256_file(doc)
    reg = open_registry(registry, create=False)
    try:
        keys = {k["key_id"]: k for k in list_keys(reg)}
        recorded = reg.read(lambda session: {
            r.signature: record_payload(r) | {"audit_seq": r.audit_seq}
            for r in session.execute(select(SignatureRecord).where(
                SignatureRecord.document_sha256 == doc_sha)).scalars()})
    finally:
        if reg is not registry:
            reg.close()
    valid, problems = [], []
    for s in sigs:
        why = _one_problem(s, doc_sha, keys, recorded)
        if why:
            problems.append(f"{doc.name}: {why}")
        else:
            valid.append(f"{doc.name}: {s['meaning']} by {s['name']} <{s['email']}> "
                         f"({s['party']} {s['role']}{', site ' + s['site'] if s['site'] else ''})"
                         f" {s['signed_utc']}")
    return SignatureCheck(document=str(doc), valid=tuple(valid), problems=tuple(problems))


def require_valid_signatures(registry: Registry | str | None,
                             document: str | os.PathLike[str]) -> SignatureCheck:
    """:func:`verify_signatures`, raising :class:`ProvenanceError` on any problem."""
    check = verify_signatures(registry, document)
    if not check.ok:
        raise ProvenanceError(f"{Path(document).name} carries signatures that do not verify: "
                              + "; ".join(check.problems))
    return check


def copy_signatures(document: str | os.PathLike[str], copy: str | os.PathLike[str]) -> Path | None:
    """Copy the signatures of ``document`` beside ``copy`` (a byte-identical copy of it, e.g.
    a protocol lock in a dossier); ``None`` when the document is not signed."""
    from validation._atomic import write_bytes_atomic

    side = signatures_path(document)
    if not side.is_file():
        return None
    return write_bytes_atomic(signatures_path(copy), side.read_bytes())
