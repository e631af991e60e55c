"""Seeded simulation of the demo's post-market surveillance: twelve monthly batches after the
pivotal study, a new scanner at one site from a given month, labels released two months late.

Each month every site sends a batch of the cases its deployed model scored (one CSV per month
following ``data_specs/surveillance_batch.yaml``, every row carrying the locked model's sha256
and no truth); the reference standard of a month's cases arrives ``label_delay`` months later as a
labels file (``data_specs/surveillance_labels.yaml``). From ``degradation_month`` on, a share of
the degraded site's patients are imaged on a new scanner (a manufacturer value the pivotal study
never saw) that hides lesions: the latent score of its positive findings is lowered, so the
site's sensitivity drops while its negatives, and every other site, stay as they were.

Two score generators, the same as the pivotal study's:

* ``tabular`` (the tabular demo): patients drawn by :func:`validation.demo_data.draw_patient`
  for the demo's sites and scored by :func:`validation.demo_data.demo_score`;
* ``empirical`` (the image demo, whose scores come from the locked network): the pivotal run's
  own scored cases resampled within site, a new-scanner positive scored as one of the site's
  pivotal negatives (the lesion is invisible to the model).

The same seed gives byte-identical files (``numpy.random.default_rng``, fixed formatting).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation._atomic import write_text_atomic
from validation.demo_data import SITES, demo_score, draw_patient
from validation.errors import InputError

SIMULATION_FILE = "simulation.json"
NEW_MANUFACTURER = "Zenith"
NEW_SCANNER_MODEL = "Zenith Z9"
SCANNER_MODELS = {"GE": "GE Definium 8000", "Siemens": "Siemens Ysio Max",
                  "Philips": "Philips DigitalDiagnost C90", "Canon": "Canon Radrex-i",
                  "Fujifilm": "Fujifilm FDR Smart X"}
BATCH_COLUMNS = ("batch_id", "case_id", "site", "acquired_at", "score", "model_sha256", "truth",
                 "manufacturer", "scanner_model", "age", "sex")


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveillanceScenario:
    """What is simulated (every field is written to ``simulation.json``)."""

    start: str = "2025-01"
    """First month (``YYYY-MM``); the months must be over before the ingest date."""
    months: int = 12
    volume: float = 0.5
    """Patients per site and month, as a multiple of the site's pivotal size."""
    degraded_site: str = "SITE-A"
    degradation_month: int = 8
    """1-based month from which the new scanner is in use."""
    new_scanner_share: float = 0.75
    """Share of the degraded site's patients imaged on the new scanner from then on."""
    positive_shift: float = -3.0
    """Added to the latent (logit) score of the new scanner's positive findings."""
    label_delay: int = 2
    """Months between a month's cases and the release of their labels."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedMonth:
    period: str
    batch_id: str
    batch: Path
    labels: Path
    labels_released: str | None
    """The month after whose batch the labels are merged (None: after the simulated year)."""
    n_cases: int
    n_positive: int
    n_new_scanner: int
    by_site: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Simulation:
    """What :func:`simulate_surveillance` wrote."""

    folder: Path
    path: Path
    """``simulation.json``."""
    scenario: SurveillanceScenario
    months: tuple[SimulatedMonth, ...]

    @property
    def degradation_start(self) -> str:
        return self.months[self.scenario.degradation_month - 1].period


def month_labels(start: str, months: int) -> list[str]:
    """``months`` consecutive ``YYYY-MM`` labels from ``start``."""
    try:
        first = date.fromisoformat(f"{start}-01")
    except ValueError as exc:
        raise InputError(f"'start' must be a month as YYYY-MM; got {start!r}.") from exc
    out = []
    for i in range(months):
        m = first.month - 1 + i
        out.append(f"{first.year + m // 12:04d}-{m % 12 + 1:02d}")
    return out


def _check(scenario: SurveillanceScenario, sites: list[str]) -> None:
    if scenario.months < 1:
        raise InputError(f"'months' must be at least 1; got {scenario.months!r}.")
    if not 1 <= scenario.degradation_month <= scenario.months:
        raise InputError(f"'degradation_month' must be between 1 and {scenario.months}; got "
                         f"{scenario.degradation_month!r}.")
    if scenario.degraded_site not in sites:
        raise InputError(f"'degraded_site' must be one of {', '.join(sites)}; got "
                         f"{scenario.degraded_site!r}.")
    if not 0.0 < scenario.volume <= 20.0:
        raise InputError(f"'volume' must be in (0, 20]; got {scenario.volume!r}.")
    if not 0.0 <= scenario.new_scanner_share <= 1.0:
        raise InputError(f"'new_scanner_share' must be in [0, 1]; got "
                         f"{scenario.new_scanner_share!r}.")
    if scenario.label_delay < 0:
        raise InputError(f"'label_delay' must be 0 or more; got {scenario.label_delay!r}.")


def _tabular_month(rng: np.random.Generator, period: str, month: int,
                   scenario: SurveillanceScenario) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    degraded = month >= scenario.degradation_month
    for site in SITES:
        n_pat = max(8, int(round(site.n_patients * scenario.volume)))
        for p in range(n_pat):
            patient = draw_patient(rng, site)
            day = int(rng.integers(1, 29))
            new_scanner = bool(rng.random() < scenario.new_scanner_share)
            if patient.consent_withdrawn or patient.ai_opt_out:
                continue  # never scored in the field
            new_scanner = new_scanner and degraded and site.site == scenario.degraded_site
            for f, finding in enumerate(patient.findings):
                if finding.non_diagnostic:
                    continue  # the model returns no score: not in the batch
                shift = scenario.positive_shift if new_scanner else 0.0
                rows.append(_row(period, site.site, f"{site.site}-{p + 1:04d}-{f + 1}", day,
                                 demo_score(site, patient, finding, positive_shift=shift),
                                 finding.truth, patient.manufacturer, patient.age, patient.sex,
                                 new_scanner))
    return rows


def _row(period: str, site: str, local_id: str, day: int, score: float, truth: int,
         manufacturer: str, age: float, sex: str, new_scanner: bool) -> dict[str, Any]:
    maker = NEW_MANUFACTURER if new_scanner else manufacturer
    return {"case_id": f"{period}-{local_id}", "site": site, "acquired_at": f"{period}-{day:02d}",
            "score": score, "truth": int(truth), "manufacturer": maker,
            "scanner_model": NEW_SCANNER_MODEL if new_scanner else SCANNER_MODELS.get(maker, maker),
            "age": round(float(age), 1), "sex": sex, "new_scanner": new_scanner}


def _empirical_month(rng: np.random.Generator, period: str, month: int,
                     scenario: SurveillanceScenario, pool: pd.DataFrame) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    degraded = month >= scenario.degradation_month
    for site, cell in pool.groupby("site", sort=True):
        n = max(8, int(round(len(cell) * scenario.volume)))
        picks = rng.integers(0, len(cell), n)
        days = rng.integers(1, 29, n)
        switch = rng.random(n) < scenario.new_scanner_share
        negatives = cell.loc[cell["truth"] == 0, "score"].to_numpy(dtype=float)
        masked = rng.integers(0, max(1, len(negatives)), n)
        for i in range(n):
            case = cell.iloc[int(picks[i])]
            new_scanner = bool(switch[i]) and degraded and site == scenario.degraded_site
            score = float(case["score"])
            if new_scanner and int(case["truth"]) == 1 and len(negatives):
                # the lesion is invisible on the new scanner: the case scores like a negative
                score = float(negatives[int(masked[i])])
            rows.append(_row(period, str(site), f"{site}-{i + 1:04d}", int(days[i]), score,
                             int(case["truth"]), str(case["manufacturer"]), float(case["age"]),
                             str(case["sex"]), new_scanner))
    return rows


def empirical_pool(manifest: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The pivotal run's scored cases (site, truth, score, manufacturer, age, sex)."""
    pool = manifest.merge(scores[["case_id", "score"]], on="case_id", how="inner")
    pool = pool[pool["score"].notna() & pool["truth"].isin([0, 1])]
    return pool[["site", "truth", "score", "manufacturer", "age", "sex"]].reset_index(drop=True)


def _fmt_csv(df: pd.DataFrame) -> str:
    out = df.copy()
    if "score" in out.columns:
        out["score"] = out["score"].map(lambda v: f"{v:.6f}")
    if "age" in out.columns:
        out["age"] = out["age"].map(lambda a: f"{a:.1f}")
    return out.to_csv(index=False, lineterminator="\n")


def simulate_surveillance(out_dir: str | os.PathLike[str], *, model_sha256: str, seed: int,
                          scenario: SurveillanceScenario | None = None,
                          pool: pd.DataFrame | None = None) -> Simulation:
    """Write the monthly batches, the late labels and ``simulation.json`` into ``out_dir``.

    Parameters
    ----------
    out_dir : folder; ``batches/<period>.csv``, ``labels/<period>.csv`` and ``simulation.json``
        are written there.
    model_sha256 : the locked model's sha256, carried by every batch row.
    seed : the demo's seed (the simulation draws from its own stream of it).
    scenario : what to simulate (defaults: :class:`SurveillanceScenario`).
    pool : the pivotal run's scored cases (:func:`empirical_pool`) for the ``empirical``
        generator; ``None`` draws from the tabular demo's generator and sites.

    Returns
    -------
    Simulation
    """
    sc = scenario or SurveillanceScenario()
    sites = sorted(pool["site"].astype(str).unique()) if pool is not None else [
        s.site for s in SITES]
    _check(sc, sites)
    periods = month_labels(sc.start, sc.months)
    rng = np.random.default_rng([int(seed), 15])
    folder = Path(out_dir)
    months: list[SimulatedMonth] = []
    for m, period in enumerate(periods, start=1):
        rows = (_tabular_month(rng, period, m, sc) if pool is None
                else _empirical_month(rng, period, m, sc, pool))
        df = pd.DataFrame(rows)
        df = df.sort_values(["acquired_at", "case_id"], kind="stable").reset_index(drop=True)
        batch_id = f"DEMO-{period}"
        batch = df.assign(batch_id=batch_id, model_sha256=model_sha256, truth="")
        batch_path = write_text_atomic(folder / "batches" / f"{period}.csv",
                                       _fmt_csv(batch[list(BATCH_COLUMNS)]))
        release = m + sc.label_delay
        released = periods[release - 1] if release <= sc.months else None
        labels = pd.DataFrame({"case_id": df["case_id"], "truth": df["truth"].astype(int),
                               "labelled_at": _labelled_at(periods, period, sc.label_delay)})
        labels_path = write_text_atomic(folder / "labels" / f"{period}.csv", _fmt_csv(labels))
        months.append(SimulatedMonth(
            period=period, batch_id=batch_id, batch=batch_path, labels=labels_path,
            labels_released=released, n_cases=len(df), n_positive=int(df["truth"].sum()),
            n_new_scanner=int(df["new_scanner"].sum()),
            by_site={str(k): int(v) for k, v in df["site"].value_counts().sort_index().items()}))
    sim = Simulation(folder=folder, path=folder / SIMULATION_FILE, scenario=sc,
                     months=tuple(months))
    write_text_atomic(sim.path, json.dumps(simulation_record(sim, seed=seed, sites=sites,
                                                             model_sha256=model_sha256,
                                                             generator="tabular" if pool is None
                                                             else "empirical"),
                                           indent=2, sort_keys=False) + "\n")
    return sim


def _labelled_at(periods: list[str], period: str, delay: int) -> str:
    first = date.fromisoformat(f"{period}-01")
    m = first.month - 1 + delay
    return f"{first.year + m // 12:04d}-{m % 12 + 1:02d}-01"


def simulation_record(sim: Simulation, *, seed: int, sites: list[str], model_sha256: str,
                      generator: str) -> dict[str, Any]:
    """The content of ``simulation.json``."""
    sc = sim.scenario
    return {
        "schema_version": "1.0",
        "seed": int(seed),
        "generator": generator,
        "sites": sites,
        "model_sha256": model_sha256,
        "degraded_site": sc.degraded_site,
        "degradation_start": sim.degradation_start,
        "degradation": {"manufacturer": NEW_MANUFACTURER, "scanner_model": NEW_SCANNER_MODEL,
                        "share_of_site_patients": sc.new_scanner_share,
                        "positives": f"latent score shifted by {sc.positive_shift}"
                        if generator == "tabular" else "scored as the site's pivotal negatives"},
        "label_delay_months": sc.label_delay,
        "volume": sc.volume,
        "periods": [{"period": m.period, "batch_id": m.batch_id,
                     "batch": m.batch.relative_to(sim.folder).as_posix(),
                     "labels": m.labels.relative_to(sim.folder).as_posix(),
                     "labels_released_after": m.labels_released, "n_cases": m.n_cases,
                     "n_positive": m.n_positive, "n_new_scanner": m.n_new_scanner,
                     "by_site": m.by_site}
                    for m in sim.months],
    }

