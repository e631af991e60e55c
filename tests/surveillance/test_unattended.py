"""Unattended and safe: two ingests at once, and SIGKILL at any point.

Real processes on a real registry (SQLite; PostgreSQL when VALIDATION_TEST_POSTGRES_URL is
set): a batch is never lost nor counted twice, and a killed ingest leaves it wholly in or
wholly out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from validation.provenance import Registry, check_chain
from validation.provenance.registry import SurveillanceBatchRecord, SurveillanceDataRecord
from validation.surveillance import ingest_batch
from validation.surveillance.context import open_context
from validation.surveillance.ingest import recorded_cases

WORKER = str(Path(__file__).parent / "surv_worker.py")


def _spawn(surv, batch: Path, url: str, mode: str, start: float = 0.0) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    env = dict(os.environ, VALIDATION_REGISTRY=url)
    return subprocess.Popen([sys.executable, WORKER, str(surv.plan), str(batch), url, mode,
                             str(start)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _state(url: str) -> tuple[int, int, bool]:
    with Registry(url) as reg:
        return (reg.count(SurveillanceBatchRecord), reg.count(SurveillanceDataRecord),
                check_chain(reg).ok)


def _n_cases(surv, url: str) -> int:  # type: ignore[no-untyped-def]
    with open_context(surv.plan, registry=url) as ctx:
        return len(recorded_cases(ctx))


def test_two_ingests_at_once_neither_lose_nor_double_count(surv, registry_url: str) -> None:  # type: ignore[no-untyped-def]
    a = surv.batch("A", month="2026-02", n=80, seed=1)
    b = surv.batch("B", month="2026-02", n=80, seed=2)
    start = time.time() + 3.0
    procs = [_spawn(surv, a, registry_url, "plain", start), _spawn(surv, b, registry_url, "plain", start),
             _spawn(surv, a, registry_url, "plain", start), _spawn(surv, b, registry_url, "plain", start)]
    outs = [p.communicate(timeout=180) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [0, 0, 0, 0], outs
    news = sorted(o[0].split()[-1] for o in outs)
    assert news == ["new=False", "new=False", "new=True", "new=True"], outs
    assert _state(registry_url) == (2, 2, True)
    assert _n_cases(surv, registry_url) == 160


def test_two_batches_sharing_case_ids_at_once_one_wins(surv, registry_url: str) -> None:  # type: ignore[no-untyped-def]
    a = surv.batch("A", month="2026-02", n=50, seed=3, prefix="C")
    b = surv.batch("B", month="2026-03", n=50, seed=4, prefix="C")
    start = time.time() + 3.0
    procs = [_spawn(surv, a, registry_url, "plain", start), _spawn(surv, b, registry_url, "plain", start)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert sorted(p.returncode for p in procs) == [0, 2], outs
    assert any("case ids already in batch" in o[1] for o in outs), outs
    assert _state(registry_url) == (1, 1, True)
    assert _n_cases(surv, registry_url) == 50


@pytest.mark.parametrize(("mode", "line", "wholly_in"), [
    ("before-commit", "WRITTEN", False),
    ("in-transaction", "INSIDE", False),
    ("after-commit", "COMMITTED", True),
])
def test_sigkill_leaves_batch_wholly_in_or_out(surv, registry_url: str, mode: str, line: str,  # type: ignore[no-untyped-def]
                                               wholly_in: bool) -> None:
    batch = surv.batch("K", month="2026-02", n=70, seed=5)
    proc = _spawn(surv, batch, registry_url, mode)
    try:
        got = proc.stdout.readline() if proc.stdout else ""
        assert got.strip() == line, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    expected = (1, 1, True) if wholly_in else (0, 0, True)
    assert _state(registry_url) == expected
    assert _n_cases(surv, registry_url) == (70 if wholly_in else 0)
    again = ingest_batch(surv.plan, batch, registry=registry_url)
    assert again.new is (not wholly_in)
    assert _state(registry_url) == (1, 1, True)
    assert _n_cases(surv, registry_url) == 70


def test_sigkill_at_random_moments(surv) -> None:  # type: ignore[no-untyped-def]
    url = surv.registry
    delays = (0.8, 1.6, 2.2, 2.8, 3.4, 4.5)  # from start-up to after the commit
    batches = [surv.batch(f"R{i}", month="2026-02", n=40, seed=50 + i) for i in range(len(delays))]
    for batch, delay in zip(batches, delays, strict=True):
        proc = _spawn(surv, batch, url, "plain")
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        n_batch, n_data, ok = _state(url)
        assert ok and n_batch == n_data
        assert _n_cases(surv, url) == 40 * n_batch
    for batch in batches:
        ingest_batch(surv.plan, batch, registry=url)
    assert _state(url) == (len(delays), len(delays), True)
    assert _n_cases(surv, url) == 40 * len(delays)
