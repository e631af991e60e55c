"""Electronic signatures: registered keys, signing, and the checks of ``verify`` (SQLite and
PostgreSQL through the ``registry`` fixture)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from validation._atomic import canonical_json
from validation.errors import InputError, ProvenanceError
from validation.provenance import signatures as sg
from validation.provenance.audit import check_chain

PASS = "correct horse battery"


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "keys"
    monkeypatch.setenv("VALIDATION_KEYS", str(folder))
    return folder


def _doc(tmp_path: Path, name: str = "plan.yaml.lock.json", text: str = "locked plan\n") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _approver(registry, **kw):  # type: ignore[no-untyped-def]
    args = {"name": "Ada Lovelace", "email": "ada@example.org", "party": "manufacturer",
            "role": "approver", "passphrase": PASS} | kw
    return sg.register_key(registry, **args)


def test_sign_and_verify(registry, keys: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rec = _approver(registry)
    assert Path(rec["key_file"]).stat().st_mode & 0o777 == 0o600
    pem = Path(rec["key_file"]).read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem and PASS.encode() not in pem
    doc = _doc(tmp_path)
    sig = sg.sign_file(registry, doc, key="ada@example.org", meaning="approved", passphrase=PASS)
    assert sig["document_sha256"] == sg.sha256_file(doc)
    assert sig["signed_utc"].endswith("Z") and sig["meaning"] == "approved"
    check = sg.verify_signatures(registry, doc)
    assert check.ok and len(check.valid) == 1 and "Ada Lovelace" in check.valid[0]
    actions = [e.action for e in registry.entries()]
    assert actions == ["key.registered", "signature.recorded"]
    assert check_chain(registry).ok


def test_copied_forged_and_changed_fail(registry, keys: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _approver(registry)
    doc = _doc(tmp_path)
    sg.sign_file(registry, doc, key="ada@example.org", meaning="approved", passphrase=PASS)
    # copied onto another document
    other = _doc(tmp_path, "other.json", "another decision\n")
    sg.signatures_path(other).write_bytes(sg.signatures_path(doc).read_bytes())
    bad = sg.verify_signatures(registry, other)
    assert not bad.ok and "copied from another document" in bad.problems[0]
    # forged: the meaning edited in the file (the signature no longer verifies)
    side = sg.signatures_path(doc)
    data = json.loads(side.read_text())
    data["signatures"][0]["meaning"] = "reviewed"
    forged = _doc(tmp_path, "forged.json", "locked plan\n")
    sg.signatures_path(forged).write_text(json.dumps(data))
    assert "forged or edited" in sg.verify_signatures(registry, forged).problems[0]
    # forged with another key that was never registered
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    rogue = Ed25519PrivateKey.generate()
    body = {k: data["signatures"][0][k] for k in sg.SIGNED_FIELDS} | {"meaning": "approved"}
    body["signature"] = base64.b64encode(rogue.sign(canonical_json(
        {k: body[k] for k in sg.SIGNED_FIELDS}).encode())).decode()
    sg.signatures_path(forged).write_text(json.dumps({"format": sg.FORMAT,
                                                      "signatures": [body]}))
    assert "forged or edited" in sg.verify_signatures(registry, forged).problems[0]
    # the document changed after signing
    doc.write_text("locked plan, edited\n")
    assert "changed after signing" in sg.verify_signatures(registry, doc).problems[0]
    with pytest.raises(ProvenanceError, match="do not verify"):
        sg.require_valid_signatures(registry, doc)


def test_wrong_passphrase_role_and_revoked(registry, keys: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rec = _approver(registry)
    doc = _doc(tmp_path)
    with pytest.raises(InputError, match="wrong passphrase") as err:
        sg.sign_file(registry, doc, key="ada@example.org", meaning="approved",
                     passphrase="not the passphrase")
    assert "not the passphrase" not in str(err.value)
    with pytest.raises(InputError, match="revoked|meaning"):
        sg.sign_file(registry, doc, key=rec["key_id"][:12], meaning="reviewed", passphrase=PASS)
    with pytest.raises(InputError, match="at least 10"):
        _approver(registry, email="bob@example.org", passphrase="short")
    with pytest.raises(InputError, match="site"):
        _approver(registry, email="site@example.org", party="institution", role="acceptance")
    with pytest.raises(InputError, match="role"):
        _approver(registry, email="x@example.org", role="acceptance")
    sg.sign_file(registry, doc, key="ada@example.org", meaning="approved", passphrase=PASS)
    sg.revoke_key(registry, key="ada@example.org", reason="left the company",
                  operator="QA <qa@example.org>")
    # a signature made before revocation still verifies
    assert sg.verify_signatures(registry, doc).ok
    with pytest.raises(InputError, match="revoked"):
        sg.sign_file(registry, doc, key="ada@example.org", meaning="approved", passphrase=PASS)
    with pytest.raises(InputError, match="already revoked"):
        sg.revoke_key(registry, key=rec["key_id"], reason="again", operator="QA")
    # a signature made with the revoked key afterwards (bypassing the refusal) fails verify
    key = sg.unlock_key(sg.find_key(registry, rec["key_id"]), PASS)
    later = _doc(tmp_path, "later.json", "signed after revocation\n")
    body = {"format": sg.FORMAT, "document": later.name,
            "document_sha256": sg.sha256_file(later), "key_id": rec["key_id"],
            "name": rec["name"], "email": rec["email"], "party": rec["party"],
            "role": rec["role"], "site": None, "meaning": "approved",
            "signed_utc": "2020-01-01T00:00:00.000000Z"}  # back-dated
    sig = base64.b64encode(key.sign(canonical_json(body).encode())).decode()
    registry.add_record(sg.SignatureRecord(
        signature=sig, key_id=rec["key_id"], email=rec["email"], meaning="approved",
        document=later.name, document_sha256=body["document_sha256"],
        signed_utc=body["signed_utc"]), actor="x", subject="x", unique={"signature": sig},
        same=())
    sg.signatures_path(later).write_text(json.dumps({"format": sg.FORMAT,
                                                     "signatures": [body | {"signature": sig}]}))
    problems = sg.verify_signatures(registry, later).problems
    assert len(problems) == 1 and "after its key was revoked" in problems[0]
    # never recorded in the registry
    unrecorded = _doc(tmp_path, "unrecorded.json", "x\n")
    body2 = body | {"document": unrecorded.name,
                    "document_sha256": sg.sha256_file(unrecorded)}
    sig2 = base64.b64encode(key.sign(canonical_json(body2).encode())).decode()
    sg.signatures_path(unrecorded).write_text(json.dumps(
        {"format": sg.FORMAT, "signatures": [body2 | {"signature": sig2}]}))
    assert "never recorded" in sg.verify_signatures(registry, unrecorded).problems[0]
    listed = sg.list_keys(registry)
    assert [k["status"] for k in listed] == ["revoked"]
    assert check_chain(registry).ok
    assert [e.action for e in registry.entries()].count("key.revoked") == 1


def test_cli_keys_sign_verify(registry, keys: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                              monkeypatch: pytest.MonkeyPatch) -> None:
    pf = tmp_path / "pass.txt"
    pf.write_text(PASS + "\n")
    code, out, err = cli("keys", "register", "--name", "Site Lead", "--email", "lead@site.org",
                         "--party", "institution", "--role", "acceptance", "--site", "SITE-A",
                         "--passphrase-file", pf)
    assert code == 0, err
    assert PASS not in out + err
    doc = _doc(tmp_path, "decision.json", "{}\n")
    monkeypatch.setenv(sg.PASSPHRASE_ENV, PASS)
    code, out, err = cli("sign", doc, "--meaning", "accepted", "--key", "lead@site.org")
    assert code == 0, err
    assert PASS not in out + err
    code, out, err = cli("verify", doc)
    assert code == 0 and "1 signature(s) valid" in out and "site SITE-A" in out
    code, out, _ = cli("keys", "list")
    assert "lead@site.org" in out and "active" in out
    monkeypatch.setenv(sg.PASSPHRASE_ENV, "wrong passphrase!")
    code, _, err = cli("sign", doc, "--meaning", "accepted", "--key", "lead@site.org")
    assert code == 2 and "wrong passphrase" in err and "Traceback" not in err
    doc.write_text('{"edited": true}\n')
    code, _, err = cli("verify", doc)
    assert code == 1 and "changed after signing" in err
    code, out, err = cli("keys", "revoke", "lead@site.org", "--reason", "lost laptop",
                         "--operator", "QA")
    assert code == 0, err
    code, _, err = cli("sign", doc, "--meaning", "accepted", "--key", "lead@site.org")
    assert code == 2 and "revoked" in err
