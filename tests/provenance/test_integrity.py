"""Tamper cases on a dossier and its registry: swapped folders, a log cut back or rewritten
with recomputed hashes (caught by the run's receipt and by signed checkpoints)."""

from __future__ import annotations

import json
import shutil

import pytest
from prov_dossier import build_run
from sqlalchemy import create_engine, delete, select, update

from validation.provenance import Registry, check_chain, verify_run
from validation.provenance.checkpoint import (
    DATABASE_ONLY,
    check_checkpoints,
    checkpoint_dir,
    found_checkpoints,
    write_checkpoint,
)
from validation.provenance.registry import RECORD_TABLES, AuditEntry, entry_hash


def _two_runs(tmp_path, url):
    a = build_run(tmp_path / "a", run_id="run-a", registry=url)
    b = build_run(tmp_path / "b", run_id="run-b", registry=url)
    return a, b


def _rechain_from(url: str, first: int, actor: str = "mallory") -> None:
    """A forger with write access edits entry ``first`` and recomputes every later hash."""
    engine = create_engine(url)
    with engine.begin() as conn:
        rows = conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)).all()
        prev = "0" * 64
        for r in rows:
            who = actor if r.seq == first else r.actor
            h = entry_hash(seq=r.seq, recorded_utc=r.recorded_utc, actor=who, action=r.action,
                           subject=r.subject, payload=r.payload, prev_hash=prev)
            conn.execute(update(AuditEntry.__table__).where(AuditEntry.seq == r.seq)
                         .values(actor=who, prev_hash=prev, entry_hash=h))
            prev = h
    engine.dispose()


def _truncate_from(url: str, first: int) -> None:
    """Cut the log back: entries ``first``.. and their record rows are deleted."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in RECORD_TABLES.values():
            t = table.__table__  # type: ignore[attr-defined]
            conn.execute(delete(t).where(t.c.audit_seq >= first))
        conn.execute(delete(AuditEntry.__table__).where(AuditEntry.seq >= first))
    engine.dispose()


def test_a_dossier_copied_over_another_runs_folder_fails(tmp_path, sqlite_url):
    a, b = _two_runs(tmp_path, sqlite_url)
    shutil.rmtree(a)
    shutil.copytree(b, a)  # folder run-a now holds run-b's dossier, file for file
    report = verify_run(a, sqlite_url)
    assert not report.ok and report.changed == report.missing == report.extra == ()
    assert any("named 'run-a' but its manifest is run 'run-b'" in p
               for p in report.registry_problems), report.lines()
    assert verify_run(b, sqlite_url).ok


def test_the_receipt_covers_the_runs_own_entry(tmp_path, sqlite_url):
    a, b = _two_runs(tmp_path, sqlite_url)
    receipt = json.loads((b / "registry_receipt.json").read_text(encoding="utf-8"))
    with Registry(sqlite_url) as reg:
        assert reg.entry(receipt["audit_seq"]).action == "run.finalized"
        head = reg.head()
    assert receipt["audit_seq"] == head.seq  # the newest entry: the run's own
    _truncate_from(sqlite_url, receipt["audit_seq"])  # cut off exactly the run's own entry
    with Registry(sqlite_url) as reg:
        assert check_chain(reg).ok  # the database alone cannot tell
        report = verify_run(b, reg)
    assert any(f"audit entry {receipt['audit_seq']} is gone" in p
               for p in report.registry_problems), report.lines()


@pytest.mark.parametrize("tamper", ["truncate", "rewrite"])
def test_signed_checkpoints_catch_a_log_cut_back_or_rewritten(tmp_path, sqlite_url, cli,
                                                              tamper):
    a, b = _two_runs(tmp_path, sqlite_url)
    with Registry(sqlite_url) as reg:
        files = found_checkpoints(reg)
        assert len(files) == 2  # one per sealed run, outside the database
        n = reg.head().seq
        a_seq = json.loads((a / "registry_receipt.json").read_text())["audit_seq"]
    if tamper == "truncate":
        _truncate_from(sqlite_url, a_seq + 1)  # run-b's entries are gone
        want = f"audit entry {n} is missing: the log was truncated"
    else:
        _rechain_from(sqlite_url, 2)
        want = f"audit entry {n} has hash"
    with Registry(sqlite_url) as reg:
        assert check_chain(reg).ok  # self-consistent after the tamper
    saved = tmp_path / "kept.json"
    shutil.copy(files[-1], saved)
    shutil.rmtree(checkpoint_dir())  # the operator's folder is gone too: the kept copy counts
    code, out, err = cli("audit", "--registry", sqlite_url, "--checkpoint", saved)
    assert code == 1, out + err
    assert want in err and "kept.json" in err
    code, out, err = cli("audit", "--registry", sqlite_url)
    assert code == 0 and "cannot show" in out and "checked against 0 signed" in out


def test_a_forged_checkpoint_is_refused(tmp_path, sqlite_url):
    build_run(tmp_path, run_id="run-a", registry=sqlite_url)
    with Registry(sqlite_url) as reg:
        path = write_checkpoint(reg, tmp_path / "cp")
        data = json.loads(path.read_text(encoding="utf-8"))
        data["seq"] = 1  # a forger moves the checkpoint down to an entry he did not rewrite
        data["head"] = reg.entry(1).entry_hash
        path.write_text(json.dumps(data), encoding="utf-8")
        report = check_checkpoints(reg, [path])
        assert not report.ok and "signature does not verify" in report.problems[0]


def test_a_checkpoint_by_another_key_is_refused(tmp_path, sqlite_url, monkeypatch):
    build_run(tmp_path, run_id="run-a", registry=sqlite_url)
    with Registry(sqlite_url) as reg:
        trusted_path = write_checkpoint(reg, tmp_path / "cp")
        trusted = json.loads(trusted_path.read_text())["public_key"]
        monkeypatch.setenv("VALIDATION_CHECKPOINT_KEY", str(tmp_path / "mallory.pem"))
        other = write_checkpoint(reg, tmp_path / "cp2")
        assert check_checkpoints(reg, [trusted_path], trusted=trusted).ok
        report = check_checkpoints(reg, [other], trusted=trusted)
        assert "another key" in report.problems[0]
    assert (tmp_path / "mallory.pem").stat().st_mode & 0o077 == 0  # private key: owner only


def test_audit_says_what_a_database_only_check_cannot_detect():
    assert "cut off" in DATABASE_ONLY and "recomputed" in DATABASE_ONLY


# --- inputs outside the folders the dossier hashes ------------------------------------------


def _image_study(root):
    import yaml

    from validation.demo_data import DEMO_APPROVER, DEMO_MEANING, prepare_demo
    from validation.protocol import lock_path_for, lock_protocol

    protocol = prepare_demo(root, images=True)

    def relock(edit=None):
        if edit is not None:
            doc = yaml.safe_load(protocol.read_text(encoding="utf-8"))
            edit(doc)
            protocol.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        lock_path_for(protocol).unlink()
        lock_protocol(protocol, approver=DEMO_APPROVER, meaning=DEMO_MEANING)

    return protocol, relock


def test_image_paths_leaving_images_root_are_refused_naming_rows(tmp_path, cli):
    import pandas as pd

    protocol, _ = _image_study(tmp_path)
    manifest_path = protocol.parent / "manifest.csv"
    frame = pd.read_csv(manifest_path, dtype=str, keep_default_na=False)
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(protocol.parent / "images" / frame.loc[2, "image"], tmp_path / "elsewhere" / "x.png")
    frame.loc[2, "image"] = "../../elsewhere/x.png"
    frame.loc[4, "image"] = "/etc/passwd"
    frame.to_csv(manifest_path, index=False, lineterminator="\n")
    code, out, err = cli("run", protocol, "--out", tmp_path / "runs", "--format", "none",
                         "--quiet")
    assert code == 2, err
    assert "row 3" in err and "'../../elsewhere/x.png' leaves images_root" in err
    assert "row 5" in err and "'/etc/passwd' leaves images_root" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.incomplete"))


def test_a_model_artifact_outside_the_protocol_folder_needs_the_flag(tmp_path):
    from validation.errors import DataError
    from validation.pipeline import _check_contained_paths
    from validation.protocol import load_protocol

    protocol, relock = _image_study(tmp_path)
    doc_artifact = load_protocol(protocol).model.artifact
    outside = tmp_path / "models"
    outside.mkdir()
    shutil.copy(protocol.parent / doc_artifact, outside / "model.pt")
    relock(lambda d: d["model"].__setitem__("artifact", "../models/model.pt"))
    p = load_protocol(protocol)
    with pytest.raises(DataError, match=r"model.artifact '../models/model.pt' lies outside"):
        _check_contained_paths(p, protocol.parent, _FakeTestSet(), False)
    _check_contained_paths(p, protocol.parent, _FakeTestSet(), True)  # explicitly allowed


class _FakeTestSet:
    import pandas as _pd

    manifest = _pd.DataFrame({"case_id": ["a"], "image": ["site/a.png"]})


def test_model_inference_refuses_images_leaving_the_root(tmp_path):
    """The same rule where ``validation predict`` resolves images (no protocol run)."""
    import pandas as pd

    from validation.errors import DataError
    from validation.models import _case_images

    (tmp_path / "images").mkdir()
    cases = pd.DataFrame({"case_id": ["a", "b", "c"],
                          "image": ["s/a.png", "../../x.dcm", "/etc/passwd"]})
    with pytest.raises(DataError) as err:
        _case_images(cases, tmp_path / "images")
    text = str(err.value)
    assert "row 2 (case 'b')" in text and "row 3 (case 'c')" in text and "row 1" not in text
