"""The demo's surveillance part: a year of monitoring after the demo's pivotal run.

:func:`run_surveillance_demo` writes the demo plan (``protocols/surveillance_demo.yaml`` with
the monitored protocol, the pivotal ``results.json``, their sha256 and the pivotal sites filled
in) and locks it, simulates twelve monthly batches (:mod:`validation.surveillance.simulate`),
ingests them in order into a registry of its own, merges each month's labels two months late,
and writes ``surveillance/simulation.json``, ``status.json`` and ``alarms.json`` (every period);
the surveillance report is rendered from ``status.json`` by the caller (the report layer sits
above this one). Layout under the demo folder::

    surveillance/plan.yaml, plan.yaml.lock.json   the locked demo plan
    surveillance/batches/<month>.csv               the simulated batches
    surveillance/labels/<month>.csv                their labels (released two months later)
    surveillance/simulation.json                   what was simulated (degraded site, start)
    surveillance/registry.sqlite                   the demo's own registry (audit chain)
    surveillance/surveillance/PMS-DEMO/            its case-level Parquet (the store beside it)
    surveillance/status.json, alarms.json          the final status and every alarm
    surveillance/report/surveillance.{html,pdf}    the surveillance report (``validation demo``)
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validation._atomic import write_text_atomic
from validation.errors import InputError
from validation.surveillance.simulate import (
    SIMULATION_FILE,
    Simulation,
    SurveillanceScenario,
    empirical_pool,
    simulate_surveillance,
)

ALARMS_FILE = "alarms.json"
STATUS_FILE = "status.json"
PLAN_TEMPLATE = "protocols/surveillance_demo.yaml"


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveillanceDemo:
    """What :func:`run_surveillance_demo` wrote."""

    folder: Path
    plan: Path
    simulation: Simulation
    status: Path
    alarms_path: Path
    alarms: list[dict[str, Any]]
    status_data: dict[str, Any]


def find_plan_template() -> Path:
    """The demo plan template (repository or the package's assets)."""
    from validation._resources import resource

    path = resource(PLAN_TEMPLATE)
    if path.is_file():
        return path
    raise InputError(f"the demo surveillance plan template must exist at {str(path)!r} "
                     f"({PLAN_TEMPLATE} in a checkout, or validation/assets/{PLAN_TEMPLATE} in "
                     "an installed wheel).")


def _fresh_folder(folder: Path) -> None:
    """Empty the demo's surveillance folder (only one the demo wrote before)."""
    if folder.exists():
        if any(folder.iterdir()) and not (folder / SIMULATION_FILE).is_file() \
                and not (folder / "plan.yaml").is_file():
            raise InputError(f"'{folder}' must be the demo's own surveillance folder or absent; "
                             "it holds other files. Choose another --out.")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def write_demo_plan(folder: Path, *, protocol_path: Path, results_path: Path,
                    sites: Sequence[str], approver: str, meaning: str) -> Path:
    """Fill in and lock the demo plan; returns its path."""
    import yaml

    from validation.protocol.lock import read_lock
    from validation.provenance.hashing import sha256_file
    from validation.surveillance.plan import lock_plan

    template = yaml.safe_load(find_plan_template().read_text(encoding="utf-8"))
    lock = read_lock(protocol_path)
    template["monitors"] = {
        "protocol": os.path.relpath(protocol_path, folder).replace(os.sep, "/"),
        "protocol_sha256": lock.protocol_sha256,
        "results": os.path.relpath(results_path, folder).replace(os.sep, "/"),
        "results_sha256": sha256_file(results_path),
    }
    template["sites"] = list(sites)
    header = ("# Demo surveillance plan, written by `validation demo` from "
              f"{PLAN_TEMPLATE} with the\n# monitored protocol, the pivotal results and their "
              "sha256 and the pivotal sites filled in.\n")
    path = write_text_atomic(folder / "plan.yaml", header + yaml.safe_dump(
        template, sort_keys=False, allow_unicode=True))
    lock_plan(path, approver=approver, meaning=meaning)
    return path


def _pivotal(protocol_path: Path, run_dir: Path) -> tuple[list[str], Any, str]:
    """(sites, empirical pool or None, model sha256) of the pivotal run."""
    import pandas as pd

    from validation.demo_data import SITES
    from validation.protocol.lock import read_lock

    lock = read_lock(protocol_path)
    model_sha = str(lock.protocol["model"]["sha256"])
    manifest = pd.read_csv(protocol_path.parent / str(lock.protocol["test_set"]["manifest"]),
                           dtype={"case_id": str, "site": str})
    sites = sorted(manifest["site"].astype(str).unique())
    if sites == sorted(s.site for s in SITES) and lock.protocol["model"].get("kind") == "precomputed":
        return sites, None, model_sha  # the tabular demo: its own generator
    preds = pd.read_parquet(run_dir / "predictions.parquet")
    col = str(lock.protocol["model"].get("score_column") or "score")
    preds = preds.rename(columns={col: "score"}) if col in preds.columns else preds
    preds["case_id"] = preds["case_id"].astype(str)
    return sites, empirical_pool(manifest, preds), model_sha


def run_surveillance_demo(out: str | os.PathLike[str], *, protocol_path: str | os.PathLike[str],
                          run_dir: str | os.PathLike[str], seed: int,
                          scenario: SurveillanceScenario | None = None,
                          progress: Callable[[str], None] | None = None) -> SurveillanceDemo:
    """Monitor the demo's pivotal run for a simulated year (see the module docstring).

    Parameters
    ----------
    out : the demo folder; ``surveillance/`` is (re)written there.
    protocol_path : the locked demo protocol.
    run_dir : the pivotal run's folder (``results.json``, ``predictions.parquet``).
    seed : the demo's seed.
    scenario : what to simulate (the default: SITE-A's new scanner from month 8).
    progress : called with one line per step.
    """
    from validation.demo_data import DEMO_APPROVER
    from validation.provenance.registry import open_registry
    from validation.surveillance import ingest_batch, merge_labels, surveillance_status

    say = progress or (lambda _line: None)
    folder = Path(out) / "surveillance"
    _fresh_folder(folder)
    protocol_path, run_dir = Path(protocol_path), Path(run_dir)
    sites, pool, model_sha = _pivotal(protocol_path, run_dir)
    # the image demo's pivotal sites are small: one and a half times their size per month
    sc = scenario or (SurveillanceScenario() if pool is None
                      else SurveillanceScenario(degraded_site=sites[0], volume=1.5))
    plan = write_demo_plan(folder, protocol_path=protocol_path,
                           results_path=run_dir / "results.json", sites=sites,
                           approver=DEMO_APPROVER, meaning="approved surveillance plan (demo)")
    sim = simulate_surveillance(folder, model_sha256=model_sha, seed=seed, scenario=sc, pool=pool)
    say(f"surveillance: simulated {len(sim.months)} monthly batches; new scanner at "
        f"{sc.degraded_site} from {sim.degradation_start}")
    registry = open_registry(f"sqlite:///{(folder / 'registry.sqlite').absolute().as_posix()}")
    try:
        by_release: dict[str, list[Path]] = {}
        for m in sim.months:
            if m.labels_released is not None:
                by_release.setdefault(m.labels_released, []).append(m.labels)
        for m in sim.months:
            res = ingest_batch(plan, m.batch, registry=registry)
            for labels in by_release.get(m.period, []):
                merge_labels(plan, labels, registry=registry)
            say(f"surveillance: {m.period} ingested ({res.n_cases} cases)"
                + (f", labels of {', '.join(p.stem for p in by_release[m.period])} merged"
                   if m.period in by_release else ""))
        status = surveillance_status(plan, registry=registry)
    finally:
        registry.close()
    status_path = write_text_atomic(folder / STATUS_FILE,
                                    json.dumps(status, indent=2, sort_keys=True) + "\n")
    alarms = sorted(status["alarms"], key=lambda a: (str(a["period"]), str(a["rule"]),
                                                      str(a.get("site")), repr(a.get("subgroup"))))
    alarms_path = write_text_atomic(folder / ALARMS_FILE, json.dumps(
        {"schema_version": "1.0", "plan_id": status["plan"]["id"],
         "plan_sha256": status["plan"]["sha256"],
         "periods": [p["period"] for p in status["periods"]], "alarms": alarms},
        indent=2, sort_keys=True) + "\n")
    return SurveillanceDemo(folder=folder, plan=plan, simulation=sim, status=status_path,
                            alarms_path=alarms_path, alarms=alarms, status_data=status)
