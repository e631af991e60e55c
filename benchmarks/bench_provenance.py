"""Provenance costs: hashing throughput, verifying a dossier, appending to the audit log.

Rows:
- ``sha256_file`` throughput on a 64 MiB file, ratio to ``hashlib.sha256`` over the same bytes
  already in memory (target: at least 0.8, i.e. streaming costs under 20 %);
- ``verify_run`` on a dossier of 1,000 files (4 KiB each): seconds (target under 2 s);
- audit-log appends on SQLite (each one durable, fsynced): entries per second (target 20+).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

from benchmarks._timing import best_of as _best


def run() -> list[dict]:
    from validation.provenance import Registry, finalize, verify_run
    from validation.provenance.hashing import sha256_file

    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-provenance-") as tmp:
        root = Path(tmp)
        blob = os.urandom(64 * 1024 * 1024)
        big = root / "big.bin"
        big.write_bytes(blob)
        t_file = _best(lambda: sha256_file(big))
        t_mem = _best(lambda: hashlib.sha256(blob).hexdigest())
        mib = len(blob) / 2**20
        rows.append({"name": "sha256_file throughput (64 MiB)", "value": mib / t_file,
                     "unit": "MiB/s", "ratio": t_mem / t_file, "target": ">= 0.8 of in-memory"})

        url = f"sqlite:///{root / 'registry.sqlite'}"
        run_dir = root / "runs" / "B" / "bench-run.incomplete"
        for i in range(1000):
            p = run_dir / f"dir{i % 10}" / f"file{i}.bin"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(os.urandom(4096))
        final = finalize(run_dir, url, operator="bench")
        reg = Registry(url)
        t_verify = _best(lambda: verify_run(final, reg))
        rows.append({"name": "verify_run, 1000 files of 4 KiB", "value": t_verify,
                     "unit": "s", "ratio": None, "target": "< 2 s"})

        n = 50
        t0 = time.perf_counter()
        for i in range(n):
            reg.log(actor="bench", action="note", subject=str(i), payload={"i": i})
        t_log = time.perf_counter() - t0
        reg.close()
        rows.append({"name": "audit-log appends, SQLite", "value": n / t_log,
                     "unit": "entries/s", "ratio": None, "target": ">= 20"})
    return rows
