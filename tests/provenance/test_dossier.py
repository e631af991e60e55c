"""Finalize and verify a dossier; every tamper of its files is named by ``verify``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from prov_dossier import build_incomplete, build_run, manifest
from typer.testing import CliRunner

from validation.cli import app, main
from validation.errors import ProvenanceError
from validation.provenance import check_chain, finalize, sha256_file, verify_run
from validation.provenance.registry import AccessRecord, RunRecord


def _cli(args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    """Run the console entry point (with its ValidationError -> exit 2 mapping)."""
    monkeypatch.setattr("sys.argv", ["validation", *args])
    monkeypatch.setenv("COLUMNS", "200")  # rich tables: no wrapping in the captured output
    with pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_finalize_seals_and_verify_passes(tmp_path, registry):
    run = build_run(tmp_path, registry=registry)
    assert run.name == "20261128T101500Z-abc123" and run.is_dir()
    assert not (run.parent / "20261128T101500Z-abc123.incomplete").exists()
    m = manifest(run)
    files = {p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()}
    assert set(m["files"]) == files - {"manifest.json", "registry_receipt.json"}
    for rel, entry in m["files"].items():  # independent re-hash
        assert entry["sha256"] == sha256_file(run / rel)
    for name in ("inputs.json", "environment.json", "test_set_usage.json", "results.json",
                 "protocol.lock.json", "report/figures/roc.svg"):
        assert name in m["files"]
    report = verify_run(run, registry)
    assert report.ok, report.lines()
    runs = registry.rows(RunRecord)
    assert len(runs) == 1
    seq, row = runs[0]
    assert row["manifest_sha256"] == sha256_file(run / "manifest.json")
    entry = registry.entry(seq)
    assert entry.action == "run.finalized"
    assert entry.payload["manifest_sha256"] == row["manifest_sha256"]
    assert [e.action for e in registry.entries()] == [
        "test_set.accessed", "protocol.locked", "approval.recorded", "run.finalized"]
    assert m["registry_anchor"]["seq"] == 3  # the head when the run was sealed


FILES = ["inputs.json", "environment.json", "test_set_usage.json", "results.json",
         "protocol.lock.json", "predictions.parquet", "report/sar.qmd",
         "report/figures/roc.svg", "report/sar.pdf"]


@pytest.mark.parametrize("victim", FILES)
def test_a_flipped_byte_in_any_file_is_named(tmp_path, sqlite_url, victim):
    run = build_run(tmp_path, registry=sqlite_url)
    path = run / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify_run(run, sqlite_url)
    assert not report.ok
    assert report.changed == (victim,) and report.missing == () and report.extra == ()


def test_deleted_added_and_changed_files_are_all_named(tmp_path, registry, capsys,
                                                       monkeypatch):
    run = build_run(tmp_path, registry=registry)
    (run / "report" / "sar.pdf").unlink()
    (run / "results.json").unlink()
    (run / "report" / "notes.txt").write_text("added later\n", encoding="utf-8")
    (run / "report" / "sar.qmd").write_bytes(b"edited")
    report = verify_run(run, registry)
    assert report.missing == ("report/sar.pdf", "results.json")
    assert report.extra == ("report/notes.txt",)
    assert report.changed == ("report/sar.qmd",)
    code, out, err = _cli(["verify", str(run)], capsys, monkeypatch)
    assert code == 1
    for line in ("missing: report/sar.pdf", "missing: results.json",
                 "extra:   report/notes.txt", "changed: report/sar.qmd"):
        assert line in err


def test_a_manifest_rewritten_to_match_edits_is_caught_by_the_registry(tmp_path, registry):
    run = build_run(tmp_path, registry=registry)
    (run / "results.json").write_text('{"forged": true}\n', encoding="utf-8")
    m = manifest(run)
    m["files"]["results.json"] = {"sha256": sha256_file(run / "results.json"),
                                  "size": (run / "results.json").stat().st_size}
    (run / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    report = verify_run(run, registry)
    assert report.changed == () and not report.ok
    assert "is not recorded in the registry" in report.registry_problems[0]


def test_a_rewritten_registry_history_is_caught_by_a_later_dossier(tmp_path, sqlite_url):
    """Recomputing every hash after an edit keeps the chain valid, but not the anchors."""
    from sqlalchemy import create_engine, select, update

    from validation.provenance.registry import AuditEntry, entry_hash

    build_run(tmp_path / "a", run_id="run-a", registry=sqlite_url)
    later = build_run(tmp_path / "b", run_id="run-b", registry=sqlite_url)
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:  # a forger edits entry 1 and re-chains everything after it
        rows = conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)).all()
        prev = "0" * 64
        for r in rows:
            actor = "mallory" if r.seq == 1 else r.actor
            h = entry_hash(seq=r.seq, recorded_utc=r.recorded_utc, actor=actor,
                           action=r.action, subject=r.subject, payload=r.payload,
                           prev_hash=prev)
            conn.execute(update(AuditEntry.__table__).where(AuditEntry.seq == r.seq)
                         .values(actor=actor, prev_hash=prev, entry_hash=h))
            prev = h
    engine.dispose()
    from validation.provenance import Registry
    reg = Registry(sqlite_url)
    assert check_chain(reg).ok  # the re-chained log is self-consistent ...
    report = verify_run(later, reg)  # ... but the later dossier witnessed the old head
    assert any("gone or changed" in p for p in report.registry_problems)
    reg.close()


def test_verify_refuses_incomplete_and_unsealed_folders(tmp_path, sqlite_url, capsys,
                                                        monkeypatch):
    run_dir = build_incomplete(tmp_path, registry=sqlite_url)
    with pytest.raises(ProvenanceError, match="marked .incomplete"):
        verify_run(run_dir, sqlite_url)
    code, _, err = _cli(["verify", str(run_dir), "--registry", sqlite_url], capsys, monkeypatch)
    assert code == 2 and err.startswith("error: ") and ".incomplete" in err
    renamed = run_dir.with_name("renamed-by-hand")
    run_dir.rename(renamed)
    with pytest.raises(ProvenanceError, match="'manifest.json' is missing"):
        verify_run(renamed, sqlite_url)
    with pytest.raises(ProvenanceError, match="must be an existing run directory"):
        verify_run(tmp_path / "nothing", sqlite_url)


def test_finalize_interrupted_before_the_rename_completes_once(tmp_path, sqlite_url,
                                                               monkeypatch):
    run_dir = build_incomplete(tmp_path, registry=sqlite_url)
    real_rename = os.rename

    def killed(*args):  # the process dies right after the registry write
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "rename", killed)
    with pytest.raises(KeyboardInterrupt):
        finalize(run_dir, sqlite_url)
    monkeypatch.setattr(os, "rename", real_rename)
    with pytest.raises(ProvenanceError, match="marked .incomplete"):
        verify_run(run_dir, sqlite_url)
    final = finalize(run_dir, sqlite_url)  # finishing it again records nothing twice
    from validation.provenance import Registry
    reg = Registry(sqlite_url)
    assert reg.count(RunRecord) == 1 and reg.count(AccessRecord) == 1
    assert verify_run(final, reg).ok
    reg.close()


def test_finalize_refuses_complete_or_taken_names(tmp_path, sqlite_url):
    run = build_run(tmp_path, registry=sqlite_url)
    with pytest.raises(ProvenanceError, match="<run-id>.incomplete"):
        finalize(run, sqlite_url)
    again = run.with_name(run.name + ".incomplete")
    again.mkdir()
    with pytest.raises(ProvenanceError, match="never reused"):
        finalize(again, sqlite_url)


def test_verify_cli_passes_and_prints_json(tmp_path, registry):
    run = build_run(tmp_path, registry=registry)
    out = CliRunner().invoke(app, ["verify", str(run), "--registry", registry.url])
    assert out.exit_code == 0, out.output
    assert "verified:" in out.output and "audit chain intact" in out.output
    out = CliRunner().invoke(app, ["verify", str(run), "--json", "--registry", registry.url])
    obj = json.loads(out.output)
    assert obj["ok"] is True and obj["registry_entry"]["run_id"] == run.name


def test_audit_cli_lists_history_and_fails_on_tamper(tmp_path, sqlite_url, capsys, monkeypatch):
    build_run(tmp_path, registry=sqlite_url)
    code, out, _ = _cli(["audit", "--registry", sqlite_url], capsys, monkeypatch)
    assert code == 0
    assert "run.finalized" in out and "audit chain intact: 4 entries." in out
    head = [line for line in out.splitlines() if line.startswith("head: ")][0][6:]
    code, out, _ = _cli(["audit", "--registry", sqlite_url, "--json", "--expect-head", head],
                        capsys, monkeypatch)
    assert code == 0 and json.loads(out)["head_hash"] == head.split(":")[1]
    from sqlalchemy import create_engine, text
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET subject = 'other' WHERE seq = 2"))
    engine.dispose()
    code, _, err = _cli(["audit", "--registry", sqlite_url], capsys, monkeypatch)
    assert code == 1 and "AUDIT CHAIN BROKEN" in err and "audit entry 2" in err


def test_verify_cli_bad_registry_url_is_exit_2(tmp_path, capsys, monkeypatch):
    code, _, err = _cli(["verify", str(tmp_path), "--registry", "mysql://x/y"], capsys,
                        monkeypatch)
    assert code == 2 and "'registry' must be" in err


def test_paths_in_manifest_are_relative(tmp_path, sqlite_url):
    run = build_run(tmp_path, registry=sqlite_url)
    text = (run / "manifest.json").read_text(encoding="utf-8")
    assert str(tmp_path) not in text
    assert all(not Path(k).is_absolute() for k in manifest(run)["files"])


def test_a_missing_registry_is_not_created_by_the_checks(tmp_path, capsys, monkeypatch):
    run = build_run(tmp_path, registry=f"sqlite:///{tmp_path / 'real.sqlite'}")
    typo = f"sqlite:///{tmp_path / 'typo.sqlite'}"
    for args in (["verify", str(run), "--registry", typo], ["audit", "--registry", typo]):
        code, _, err = _cli(args, capsys, monkeypatch)
        assert code == 2 and "no registry at" in err
    assert not (tmp_path / "typo.sqlite").exists()
