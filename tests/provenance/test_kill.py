"""A run killed with SIGKILL while writing its dossier, and while sealing it.

Each kill must leave a ``.incomplete`` folder that ``verify`` refuses, and the registry must
count nothing twice: one test-set access per run that touched the data, one run record per
sealed manifest, and an intact chain.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from validation.errors import ProvenanceError
from validation.provenance import Registry, check_chain, finalize, verify_run
from validation.provenance.registry import AccessRecord, RunRecord

HERE = Path(__file__).parent

SLOW_WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    sys.path.insert(0, {here!r})
    from prov_dossier import build_incomplete
    from validation._atomic import write_bytes_atomic
    from validation.provenance import finalize
    root, url, run_id, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    run_dir = build_incomplete(root, run_id, url)  # inputs, environment, test-set access
    if mode == "report":
        print("WRITING", flush=True)
        with open(run_dir / "report" / "sar.html", "wb") as handle:  # a report being written
            for i in range(100000):
                handle.write(b"<p>page %d</p>" % i)
                handle.flush()
                time.sleep(0.005)
    elif mode == "seal":  # die after the registry write, just before the rename
        def stall(*args):
            print("RENAMING", flush=True)
            time.sleep(600)
        os.rename = stall
        finalize(run_dir, url)
    else:  # "registered": die right after the run's registry row is committed
        fin = sys.modules["validation.provenance.finalize"]
        def stall(*args, **kwargs):
            print("REGISTERED", flush=True)
            time.sleep(600)
        fin.write_receipt = stall
        finalize(run_dir, url)
""")


def _run_and_kill(root: Path, url: str, run_id: str, mode: str, signal_line: str) -> None:
    code = SLOW_WRITER.format(here=str(HERE))
    proc = subprocess.Popen([sys.executable, "-c", code, str(root), url, run_id, mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # blocks until the child reaches the point
        assert line.strip() == signal_line, proc.stderr.read()
        time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def url(registry_url):
    Registry(registry_url).close()
    return registry_url


def test_sigkill_while_writing_the_report(tmp_path, url):
    _run_and_kill(tmp_path, url, "run-killed", "report", "WRITING")
    study = tmp_path / "runs" / "S-1"
    assert sorted(p.name for p in study.iterdir()) == ["run-killed.incomplete"]
    with pytest.raises(ProvenanceError, match="marked .incomplete"):
        verify_run(study / "run-killed.incomplete", url)
    reg = Registry(url)
    try:
        assert reg.count(AccessRecord) == 1 and reg.count(RunRecord) == 0
        assert check_chain(reg).ok
    finally:
        reg.close()
    # The next run of the same study is counted once, and reports the killed access.
    from prov_dossier import build_run

    final = build_run(tmp_path, run_id="run-next", registry=url)
    assert verify_run(final, url).ok
    import json
    usage = json.loads((final / "test_set_usage.json").read_text(encoding="utf-8"))
    assert usage["n_accesses"] == 2 and usage["n_previous_accesses"] == 1
    assert [a["status"] for a in usage["accesses"]] == ["not finalized", "this run"]
    reg = Registry(url)
    try:
        assert reg.count(AccessRecord) == 2 and reg.count(RunRecord) == 1
        assert check_chain(reg).ok
    finally:
        reg.close()


def test_sigkill_between_registry_write_and_rename(tmp_path, url):
    _run_and_kill(tmp_path, url, "run-sealing", "seal", "RENAMING")
    run_dir = tmp_path / "runs" / "S-1" / "run-sealing.incomplete"
    assert (run_dir / "manifest.json").is_file() and run_dir.is_dir()
    with pytest.raises(ProvenanceError, match="marked .incomplete"):
        verify_run(run_dir, url)
    final = finalize(run_dir, url)  # completing it again adds nothing to the registry
    assert final.name == "run-sealing" and verify_run(final, url).ok
    reg = Registry(url)
    try:
        assert reg.count(RunRecord) == 1 and reg.count(AccessRecord) == 1
        assert [e.action for e in reg.entries()].count("run.finalized") == 1
        assert check_chain(reg).ok
    finally:
        reg.close()


@pytest.mark.parametrize("mode,line", [("registered", "REGISTERED"), ("seal", "RENAMING")])
def test_sigkill_after_the_registry_row_is_recovered(tmp_path, url, cli, mode, line):
    """Killed with the registry saying finalized and the folder still .incomplete:
    ``validation recover`` completes it, once, and leaves never-sealed runs alone."""
    _run_and_kill(tmp_path, url, "run-sealed", mode, line)
    study = tmp_path / "runs" / "S-1"
    from prov_dossier import build_incomplete

    build_incomplete(tmp_path / "other", "run-unsealed", url)  # a run killed earlier
    unsealed = tmp_path / "other" / "runs" / "S-1" / "run-unsealed.incomplete"
    shutil.move(unsealed, study / unsealed.name)
    reg = Registry(url)
    try:
        assert reg.finalized_run_ids(["run-sealed"]) == {"run-sealed"}
    finally:
        reg.close()
    code, out, err = cli("recover", tmp_path / "runs", "--registry", url)
    assert code == 0, out + err
    assert "completed: " in out and "run-unsealed.incomplete: not recorded" in out
    assert sorted(p.name for p in study.iterdir()) == ["run-sealed", "run-unsealed.incomplete"]
    assert verify_run(study / "run-sealed", url).ok
    code, out, _ = cli("recover", tmp_path / "runs", "--registry", url)  # idempotent
    assert code == 0 and "completed" not in out
    reg = Registry(url)
    try:
        assert [e.action for e in reg.entries()].count("run.finalized") == 1
        assert check_chain(reg).ok
    finally:
        reg.close()
