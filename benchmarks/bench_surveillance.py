"""Surveillance at scale: one 1,000,000-row batch, aggregated and evaluated, beside NannyML.

Rows (each measured in a fresh child process, so that its peak resident memory is its own):
- ``stats``: read the batch (Parquet), ``aggregate_cases`` (pooled, 20 sites, 4 factors), fit
  the isotonic calibrator on a 5,000-case baseline, and for the pooled cell and every site: the
  Bernoulli CUSUM limit and chart of misses and false positives, the binomial CUSUM, the EWMA of
  sensitivity, PSI and KS of the scores, chi-square of each factor's mix, the drift
  multiplicity, and CBPE (sensitivity, specificity, PPV, NPV, AUC). Target < 10 s, < 2 GB.
- ``ingest_batch`` end to end (the surveillance layer: spec check, store, registry, rules) on
  the same number of rows, when the layer and the demo baseline are available.
- NannyML (run in its own virtual environment, given by the ``NANNYML_PYTHON`` environment
  variable: the path of that environment's python; skipped with a message when unset or
  missing): CBPE (ROC AUC, recall, specificity, precision) and univariate drift (KS on the
  score, chi-square on the four factors) on the same rows, one chunk. The ratio is NannyML's
  time over ours for the same scope (pooled cell only, so that the work is comparable).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_ROWS = 1_000_000
N_BASE = 5_000
SITES = [f"S{i:02d}" for i in range(1, 21)]
FACTORS = ["manufacturer", "scanner_model", "age_band", "sex"]
THRESHOLD = 0.5


def _frame(n: int, seed: int, labelled: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = (rng.random(n) < 0.3).astype(float)
    score = np.clip(np.where(truth == 1, rng.normal(0.72, 0.18, n), rng.normal(0.3, 0.18, n)), 0, 1)
    truth[rng.random(n) >= labelled] = np.nan
    makers = np.array(["GE", "Siemens", "Philips", "Canon"])
    m = rng.integers(0, 4, n)
    return pd.DataFrame({
        "period": "2027-03",
        "site": np.array(SITES)[rng.integers(0, len(SITES), n)],
        "score": np.round(score, 6),
        "truth": pd.array(truth, dtype="Float64").astype("Int8"),
        "manufacturer": makers[m],
        "scanner_model": np.char.add(makers[m], np.array(["-A", "-B"])[rng.integers(0, 2, n)]),
        "age_band": np.array(["18-49", "50-64", "65+"])[rng.integers(0, 3, n)],
        "sex": np.array(["F", "M"])[rng.integers(0, 2, n)],
    })


def _peak_mb() -> float:
    """Peak resident memory of this process (VmHWM: reset by exec, unlike ru_maxrss, which a
    child started by subprocess inherits from its parent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _evaluate_cell(vs: Any, cal: Any, base: pd.DataFrame, cur: pd.DataFrame,
                   base_sens: float, base_spec: float, pooled: bool) -> None:
    truth = cur["truth"]
    called = cur["score"].to_numpy() >= THRESHOLD
    pos = (truth == 1).fillna(False).to_numpy(dtype=bool)
    neg = (truth == 0).fillna(False).to_numpy(dtype=bool)
    for mask, event, p0 in ((pos, ~called, 1 - base_sens), (neg, called, 1 - base_spec)):
        p1 = min(p0 + 0.1, 0.99)
        lim = vs.cusum_limit(p0=p0, p1=p1, arl0=2000)
        vs.bernoulli_cusum(event[mask].astype(np.int8), p0=p0, p1=p1, limit=lim.limit)
        k, n = int(event[mask].sum()), int(mask.sum())
        blim = vs.binomial_cusum_limit(p0=p0, p1=p1, n=max(1, min(n, 500)), arl0=100)
        vs.binomial_cusum([min(k, n)], [n], p0=p0, p1=p1, limit=blim.limit)
    tp, fn = int((pos & called).sum()), int((pos & ~called).sum())
    vs.ewma_proportion([tp], [tp + fn], target=base_sens, lam=0.2, width=3.0)
    score = cur["score"].to_numpy()
    vs.population_stability_index(base["score"].to_numpy(), score)
    pvals = [vs.ks_drift(base["score"].to_numpy(), score).p_value]
    for f in FACTORS:
        if not pooled and f == "site":
            continue
        ref = base[f].value_counts().to_dict()
        now = cur[f].value_counts().to_dict()
        pvals.append(vs.chi2_mix(ref, now).p_value)
    vs.adjust_drift_pvalues(pvals)
    vs.estimated_performance(cal.predict(score), threshold=float(cal.predict(np.array([THRESHOLD]))[0]))


def child_stats(folder: Path, pooled_only: bool) -> dict[str, float]:
    import validation.stats as vs
    from validation.surveillance.aggregate import aggregate_cases

    t0 = time.perf_counter()
    cases = pd.read_parquet(folder / "batch.parquet")
    base = pd.read_parquet(folder / "baseline.parquet")
    t_read = time.perf_counter() - t0
    t1 = time.perf_counter()
    aggregate_cases(cases, threshold=THRESHOLD, factors=FACTORS)
    t_agg = time.perf_counter() - t1
    t2 = time.perf_counter()
    bt = base["truth"].to_numpy(dtype=float)
    cal = vs.fit_calibrator(base["score"].to_numpy(), bt)
    called = base["score"].to_numpy() >= THRESHOLD
    sens = float((called & (bt == 1)).sum() / (bt == 1).sum())
    spec = float((~called & (bt == 0)).sum() / (bt == 0).sum())
    _evaluate_cell(vs, cal, base, cases, sens, spec, True)
    if not pooled_only:
        for _site, cell in cases.groupby("site", sort=True):
            _evaluate_cell(vs, cal, base, cell, sens, spec, False)
    t_stats = time.perf_counter() - t2
    return {"read_s": t_read, "aggregate_s": t_agg, "stats_s": t_stats,
            "total_s": time.perf_counter() - t0, "peak_mb": _peak_mb()}


NANNYML_SCRIPT = r"""
import json, resource, sys, time, warnings
def peak():
    try:
        for line in open("/proc/self/status").read().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
warnings.simplefilter("ignore")
import nannyml as nml
import pandas as pd
folder = sys.argv[1]
t0 = time.perf_counter()
cases = pd.read_parquet(folder + "/batch.parquet")
base = pd.read_parquet(folder + "/baseline.parquet")
t_read = time.perf_counter() - t0
factors = ["manufacturer", "scanner_model", "age_band", "sex"]
for df in (cases, base):
    df["y_pred"] = (df["score"] >= 0.5).astype(int)
base["truth"] = base["truth"].astype(int)
ana = cases.drop(columns=["truth"])
t1 = time.perf_counter()
est = nml.CBPE(y_pred_proba="score", y_pred="y_pred", y_true="truth",
               problem_type="classification_binary",
               metrics=["roc_auc", "recall", "specificity", "precision"], chunk_number=1)
est.fit(base)
est.estimate(ana)
t_cbpe = time.perf_counter() - t1
t2 = time.perf_counter()
drift = nml.UnivariateDriftCalculator(column_names=["score"] + factors,
                                      continuous_methods=["kolmogorov_smirnov"],
                                      categorical_methods=["chi2"], chunk_number=1)
drift.fit(base)
drift.calculate(ana)
t_drift = time.perf_counter() - t2
print(json.dumps({"read_s": t_read, "cbpe_s": t_cbpe, "drift_s": t_drift,
                  "total_s": time.perf_counter() - t0,
                  "peak_mb": peak(),
                  "version": nml.__version__}))
"""


def child_ingest(folder: Path) -> dict[str, float]:
    tests = Path(__file__).resolve().parents[1] / "tests" / "surveillance"
    sys.path.insert(0, str(tests))
    from surv_fixture import make_baseline, make_batch, model_sha, write_plan  # type: ignore[import-not-found]

    from validation.surveillance.ingest import ingest_batch

    env = dict(os.environ)
    env["VALIDATION_HOME"] = str(folder / "home")
    env["VALIDATION_REGISTRY"] = f"sqlite:///{folder / 'home' / 'registry.sqlite'}"
    baseline = make_baseline(folder / "demo", env)
    plan = write_plan(folder / "plan", baseline, minimum=20)
    batch = make_batch(folder / "batch.csv", batch_id="B1", month="2026-03", n=N_ROWS,
                       model=model_sha(baseline), seed=5)
    url = f"sqlite:///{folder / 'surv.sqlite'}"
    t0, c0 = time.perf_counter(), time.process_time()
    res = ingest_batch(plan, batch, registry=url)
    # CPU seconds (all threads) beside the wall: on a shared machine the wall time grows with
    # the load, the CPU time much less; the load average says which one to read
    return {"total_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            "load_average": os.getloadavg()[0], "peak_mb": _peak_mb(),
            "alarms": float(len(res.alarms))}


def _run_child(args: list[str], timeout: float = 900) -> dict[str, Any] | str:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)
    if p.returncode != 0:
        return f"failed (exit {p.returncode}): {p.stderr.strip().splitlines()[-1:]}"
    return dict(json.loads(p.stdout.strip().splitlines()[-1]))


def run() -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-surveillance-") as tmp:
        folder = Path(tmp)
        _frame(N_ROWS, 1, labelled=0.3).to_parquet(folder / "batch.parquet")
        _frame(N_BASE, 2, labelled=1.0).to_parquet(folder / "baseline.parquet")
        me = [sys.executable, "-m", "benchmarks.bench_surveillance", "--child"]
        full = _run_child([*me, "stats", tmp])
        pooled = _run_child([*me, "pooled", tmp])
        if isinstance(full, str) or isinstance(pooled, str):
            rows.append({"name": "surveillance stats", "value": None, "unit": "s",
                         "note": full if isinstance(full, str) else pooled})
            return rows
        rows.append({"name": "1M-row batch: read + aggregate + all stats (pooled + 20 sites)",
                     "value": full["total_s"], "unit": "s", "ratio": None, "target": "< 10 s",
                     "detail": full})
        rows.append({"name": "1M-row batch: peak memory (stats child)", "value": full["peak_mb"],
                     "unit": "MB", "ratio": None, "target": "< 2048 MB"})
        rows.append({"name": "1M-row batch: read + aggregate + stats, pooled cell only",
                     "value": pooled["total_s"], "unit": "s", "ratio": None, "detail": pooled})
        py = os.environ.get("NANNYML_PYTHON", "")
        if py and Path(py).is_file():
            nml = _run_child([py, "-c", NANNYML_SCRIPT, tmp])
            if isinstance(nml, str):
                rows.append({"name": "NannyML CBPE + univariate drift", "value": None,
                             "unit": "s", "note": nml})
            else:
                rows.append({"name": "NannyML CBPE + univariate drift (1M rows, one chunk)",
                             "value": nml["total_s"], "unit": "s",
                             "ratio": nml["total_s"] / pooled["total_s"],
                             "note": "ratio = NannyML time / ours (pooled cell)", "detail": nml})
        else:
            rows.append({"name": "NannyML CBPE + univariate drift", "value": None, "unit": "s",
                         "note": "skipped: set NANNYML_PYTHON to the python of a virtual "
                                 "environment with nannyml installed"})
        if os.environ.get("BENCH_SURVEILLANCE_INGEST", "1") != "0":
            ing = _run_child([*me, "ingest", tmp], timeout=1800)
            if isinstance(ing, str):
                rows.append({"name": "ingest_batch end to end (1M rows)", "value": None,
                             "unit": "s", "note": ing})
            else:
                rows.append({"name": "ingest_batch end to end (1M rows, SQLite registry)",
                             "value": ing["total_s"], "unit": "s", "ratio": None,
                             "target": "< 10 s", "detail": ing})
    return rows


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        kind, where = sys.argv[2], Path(sys.argv[3])
        if kind == "ingest":
            out = child_ingest(where)
        else:
            out = child_stats(where, pooled_only=kind == "pooled")
        print(json.dumps(out))
    else:
        for row in run():
            print(json.dumps(row))
