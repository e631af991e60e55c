"""Scale benchmark: ``validation run`` of a demo-like study at 1e4, 1e5 and 1e6 cases.

The study (``benchmarks/scale_study.py``: 20 sites, three subgroups, precomputed predictions,
2,000 bootstrap replicates) is generated once per size; ``python -m validation run PROTOCOL
--format none`` then runs in a subprocess ``SCALE_REPEATS`` times (default 3) and the median
wall time and peak resident memory are reported (peak from ``getrusage`` of the child itself,
written by a small launcher). Reported alongside, in the same run: the growth exponent of the
wall time between consecutive sizes (``log(w2 / w1) / log(n2 / n1)``), the ratio of each run to
the bare core numbers on the same rows (pandas reads the two CSVs and joins them, sklearn's
``roc_auc_score`` and a pandas per-site confusion table), and the ROC band's replicates per
second at 1e5 cases. The one-minute load average is recorded before each run: on a shared
machine the same-run ratio to the bare core, and the CPU seconds of the run (``cpu_s``, from
``getrusage``), are the fair figures, not the wall time alone.

``SCALE_SIZES`` (comma-separated, e.g. ``1e4,1e5``) limits the sizes. Timings on a shared
machine are noisy: quote the medians.

``SCALE_DASK=local`` (or a scheduler address) adds, at each size, ``validation run --dask``
runs alternating with the in-process ones: their wall time, the client's peak memory and CPU
seconds, the largest peak of a worker process (``RUSAGE_CHILDREN``: a LocalCluster's workers
are the client's children) and their CPU seconds, and whether ``results.json`` is byte-identical
to the in-process run's.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = tuple(int(float(s)) for s in os.environ.get("SCALE_SIZES", "1e4,1e5,1e6").split(","))
REPEATS = int(os.environ.get("SCALE_REPEATS", "3"))
TARGETS = {10_000: None, 100_000: "peak <= 2 GB; wall(1e5)/wall(1e4) <= 3",
           1_000_000: "wall < 60 s, peak < 4 GB"}

_LAUNCHER = (
    "import resource, runpy, sys\n"
    "out = sys.argv.pop(1)\n"
    "sys.argv[0] = 'validation'\n"
    "try:\n"
    "    runpy.run_module('validation', run_name='__main__')\n"
    "finally:\n"
    "    u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    c = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "    open(out, 'w').write(f'{u.ru_maxrss} {u.ru_utime + u.ru_stime} {c.ru_maxrss} '\n"
    "                         f'{c.ru_utime + c.ru_stime}')\n"
)
DASK = os.environ.get("SCALE_DASK")


def load_average() -> float:
    """The one-minute load average (the machine may be shared: quote it with each timing)."""
    return round(os.getloadavg()[0], 2)


def run_once(protocol: Path, work: Path) -> tuple[float, float, float]:
    """Wall seconds, peak resident memory (GB) and CPU seconds of one ``validation run``."""
    wall, peak, cpu, _, _, _ = _run(protocol, work, [])
    return wall, peak, cpu


def _run(protocol: Path, work: Path, extra: list[str]
         ) -> tuple[float, float, float, float, float, bytes]:
    """One run: wall, peak (GB), CPU s, children's largest peak (GB), their CPU s, results."""
    peak_file = work / "peak.txt"
    out = work / ("runs-dask" if extra else "runs")
    cmd = [sys.executable, "-c", _LAUNCHER, str(peak_file), "run", str(protocol), "--format", "none",
           "--quiet", "--out", str(out), *extra]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"validation run failed ({done.returncode}): {done.stderr[-2000:]}")
    rss, cpu, crss, ccpu = peak_file.read_text().split()
    newest = max(out.glob("*/*/results.json"), key=lambda p: p.stat().st_mtime)
    # ru_maxrss is in KiB on Linux
    return (wall, int(rss) * 1024 / 1e9, float(cpu), int(crss) * 1024 / 1e9, float(ccpu),
            newest.read_bytes())


def dask_rows(n: int, protocol: Path, work: Path) -> list[dict]:
    """``--dask`` runs alternating with in-process ones (see the module notes)."""
    local, dask, loads = [], [], []
    for _ in range(REPEATS):
        loads.append(load_average())
        local.append(_run(protocol, work, []))
        dask.append(_run(protocol, work, ["--dask", str(DASK)]))
    same = all(d[5] == local[0][5] for d in dask + local)
    return [{"name": f"validation run --dask {DASK}, {n:.0e} cases, 2000 replicates, --format none",
             "value": statistics.median(d[0] for d in dask), "unit": "s (median)",
             "walls": [d[0] for d in dask], "client_peak_gb": [d[1] for d in dask],
             "client_cpu_s": [d[2] for d in dask], "worker_peak_gb": [d[3] for d in dask],
             "worker_cpu_s": [d[4] for d in dask], "load_average": loads,
             "local_walls": [x[0] for x in local], "local_peak_gb": [x[1] for x in local],
             "ratio": statistics.median(d[0] for d in dask) / statistics.median(x[0] for x in local),
             "ratio_to": "in-process run, same sizes, alternating",
             "results_json_byte_identical": same}]


def bare_core(inputs: Path) -> float:
    """Wall seconds for the bare core on the same rows: read, join, AUC, per-site confusion table."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    t0 = time.perf_counter()
    m = pd.read_csv(inputs / "manifest.csv")
    p = pd.read_csv(inputs / "predictions.csv")
    d = m.merge(p, on="case_id", how="inner")
    d = d[~(d["consent_withdrawn"] | d["ai_opt_out"]) & d["score"].notna()]
    roc_auc_score(d["truth"], d["score"])
    pd.crosstab([d["site"], d["truth"]], d["score"] >= 0.5)
    return time.perf_counter() - t0


def band_rate(n: int, n_boot: int = 2000) -> tuple[float, float]:
    """ROC band replicates per wall second and per CPU second at ``n`` cases (in process)."""
    from validation.stats.roc_band import roc_sensitivity_band

    rng = np.random.default_rng(5)
    t = (rng.random(n) < 0.3).astype(np.int64)
    s = np.round(rng.normal(size=n) + 1.5 * t, 6)
    t0, c0 = time.perf_counter(), time.process_time()
    roc_sensitivity_band(t, s, n_boot=n_boot, seed=1)
    return n_boot / (time.perf_counter() - t0), n_boot / (time.process_time() - c0)


def run() -> list[dict]:
    from benchmarks.scale_study import prepare_scale_study

    rows: list[dict] = []
    walls: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            work = Path(tmp) / f"n{n}"
            protocol = prepare_scale_study(work, n)
            runs, cores, loads = [], [], []
            for _ in range(REPEATS):  # run and core alternate, so both see the same load
                loads.append(load_average())
                runs.append(run_once(protocol, work))
                cores.append(bare_core(protocol.parent))
            core = statistics.median(cores)
            wall = statistics.median(w for w, _, _ in runs)
            peak = statistics.median(p for _, p, _ in runs)
            walls[n] = wall
            rows.append({"name": f"validation run, {n:.0e} cases, 2000 replicates, --format none",
                         "value": wall, "unit": "s (median)", "peak_gb": peak,
                         "walls": [w for w, _, _ in runs], "peaks_gb": [p for _, p, _ in runs],
                         "cpu_s": [c for _, _, c in runs], "load_average": loads, "core_walls": cores,
                         "ratio": wall / core,
                         "ratios": [w / c for (w, _, _), c in zip(runs, cores, strict=True)],
                         "ratio_to": "bare core (pandas read+join, roc_auc_score, per-site confusion table)",
                         "core_s": core,
                         "target": TARGETS.get(n)})
            if DASK:
                rows += dask_rows(n, protocol, work)
        sizes = sorted(walls)
        for a, b in zip(sizes, sizes[1:], strict=False):
            rows.append({"name": f"growth exponent of wall time, {a:.0e} -> {b:.0e}",
                         "value": math.log(walls[b] / walls[a]) / math.log(b / a), "unit": "",
                         "ratio": walls[b] / walls[a]})
    loads = [load_average()]
    rates = [band_rate(100_000) for _ in range(REPEATS)]
    rows.append({"name": "ROC band (stratified bootstrap), 2000 replicates, 1e5 cases",
                 "value": statistics.median(w for w, _ in rates), "unit": "replicates/s (median)",
                 "rates": [w for w, _ in rates], "per_cpu_second": [c for _, c in rates],
                 "load_average": loads, "target": ">= 1000 replicates/s"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row))
