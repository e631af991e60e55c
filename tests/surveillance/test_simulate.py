"""The demo's surveillance simulation: seeded and byte-identical, batches and labels that follow
their specifications, the new scanner only at the degraded site from its month, labels two
months late, and the pivotal generator unchanged by the refactoring it shares."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from validation.data.specs import load_spec, read_table, validate_table
from validation.demo_data import SITES, generate_demo_data
from validation.errors import InputError
from validation.surveillance.simulate import (
    NEW_MANUFACTURER,
    SurveillanceScenario,
    empirical_pool,
    month_labels,
    simulate_surveillance,
)

MODEL = "3c" * 32
SMALL = SurveillanceScenario(volume=0.25)


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = simulate_surveillance(tmp_path / "a", model_sha256=MODEL, seed=7, scenario=SMALL)
    b = simulate_surveillance(tmp_path / "b", model_sha256=MODEL, seed=7, scenario=SMALL)
    c = simulate_surveillance(tmp_path / "c", model_sha256=MODEL, seed=8, scenario=SMALL)
    assert _digest(a.folder) == _digest(b.folder)
    assert len(_digest(a.folder)) == 12 * 2 + 1
    assert _digest(a.folder)["batches/2025-01.csv"] != _digest(c.folder)["batches/2025-01.csv"]


def test_pivotal_generator_unchanged(tmp_path):
    """The demo's pivotal predictions keep the sha256 the shipped demo protocol records."""
    import yaml

    files = generate_demo_data(tmp_path)
    template = Path(__file__).resolve().parents[2] / "protocols" / "demo.yaml"
    shipped = yaml.safe_load(template.read_text(encoding="utf-8"))
    assert files.predictions_sha256 == shipped["model"]["sha256"]


def test_batches_and_labels_follow_their_specs(tmp_path):
    sim = simulate_surveillance(tmp_path, model_sha256=MODEL, seed=3, scenario=SMALL)
    batch_spec, labels_spec = load_spec("surveillance_batch"), load_spec("surveillance_labels")
    ids: set[str] = set()
    for m in sim.months:
        batch = validate_table(read_table(m.batch), batch_spec, source=m.batch.name)
        labels = validate_table(read_table(m.labels), labels_spec, source=m.labels.name)
        assert (batch["batch_id"] == m.batch_id).all()
        assert (batch["model_sha256"] == MODEL).all()
        assert batch["truth"].isna().all(), "truth arrives later, in the labels file"
        assert set(batch["site"]) == {s.site for s in SITES}
        days = pd.to_datetime(batch["acquired_at"]).dt.strftime("%Y-%m")
        assert (days == m.period).all()
        assert sorted(labels["case_id"]) == sorted(batch["case_id"])
        assert int(labels["truth"].sum()) == m.n_positive
        assert not ids & set(batch["case_id"]), "case ids are unique across batches"
        ids |= set(batch["case_id"])
        assert len(batch) == m.n_cases == sum(m.by_site.values())


def test_new_scanner_only_at_the_degraded_site_from_its_month(tmp_path):
    sim = simulate_surveillance(tmp_path, model_sha256=MODEL, seed=11)
    threshold = 0.5
    sens = {}
    for i, m in enumerate(sim.months, start=1):
        batch = pd.read_csv(m.batch)
        labels = pd.read_csv(m.labels)
        cases = batch.drop(columns="truth").merge(labels, on="case_id")
        new = cases["manufacturer"] == NEW_MANUFACTURER
        if i < 8:
            assert not new.any() and m.n_new_scanner == 0
        else:
            assert new.any() and set(cases.loc[new, "site"]) == {"SITE-A"}
            assert int(new.sum()) == m.n_new_scanner
        pos = cases[cases["truth"] == 1]
        sens[m.period] = pos.groupby("site")["score"].apply(lambda s: (s >= threshold).mean())
    before = pd.DataFrame([sens[p] for p in month_labels("2025-01", 7)])
    after = pd.DataFrame([sens[p] for p in month_labels("2025-08", 5)])
    # the degraded site's sensitivity drops by far more than month-to-month noise; others do not
    assert before["SITE-A"].mean() - after["SITE-A"].mean() > 0.25
    for site in ("SITE-B", "SITE-C", "SITE-D"):
        assert abs(before[site].mean() - after[site].mean()) < 0.1


def test_simulation_json(tmp_path):
    sim = simulate_surveillance(tmp_path, model_sha256=MODEL, seed=5, scenario=SMALL)
    record = json.loads(sim.path.read_text(encoding="utf-8"))
    assert record["degraded_site"] == "SITE-A"
    assert record["degradation_start"] == "2025-08"
    assert record["label_delay_months"] == 2
    assert [p["period"] for p in record["periods"]] == month_labels("2025-01", 12)
    released = {p["period"]: p["labels_released_after"] for p in record["periods"]}
    assert released["2025-01"] == "2025-03" and released["2025-10"] == "2025-12"
    assert released["2025-11"] is None and released["2025-12"] is None
    for p in record["periods"]:
        assert (tmp_path / p["batch"]).is_file() and (tmp_path / p["labels"]).is_file()
    labels = pd.read_csv(tmp_path / record["periods"][0]["labels"])
    assert (labels["labelled_at"] == "2025-03-01").all()


def test_empirical_generator_resamples_the_pivotal_cases(tmp_path):
    manifest = pd.DataFrame({"case_id": [f"c{i}" for i in range(40)],
                             "site": ["S1"] * 20 + ["S2"] * 20,
                             "truth": [i % 2 for i in range(40)],
                             "manufacturer": "Acme", "age": 50.0, "sex": "F"})
    scores = pd.DataFrame({"case_id": manifest["case_id"],
                           "score": [0.9 if t else 0.1 for t in manifest["truth"]]})
    pool = empirical_pool(manifest, scores)
    sc = SurveillanceScenario(degraded_site="S2", new_scanner_share=1.0)
    sim = simulate_surveillance(tmp_path, model_sha256=MODEL, seed=1, scenario=sc, pool=pool)
    first = pd.read_csv(sim.months[0].batch)
    assert set(first["score"].round(6)) <= {0.9, 0.1}
    last = pd.read_csv(sim.months[-1].batch).drop(columns="truth").merge(
        pd.read_csv(sim.months[-1].labels), on="case_id")
    pos_s2 = last[(last["site"] == "S2") & (last["truth"] == 1)]
    assert (pos_s2["score"] < 0.5).all() and (pos_s2["manufacturer"] == NEW_MANUFACTURER).all()
    assert (last.loc[last["site"] == "S1", "manufacturer"] == "Acme").all()


@pytest.mark.parametrize("field,value,match", [
    ("degraded_site", "SITE-Z", "'degraded_site' must be one of"),
    ("degradation_month", 13, "'degradation_month' must be between 1 and 12"),
    ("start", "2025-13", "'start' must be a month as YYYY-MM"),
    ("volume", 0.0, "'volume' must be in"),
])
def test_bad_scenarios_are_refused(tmp_path, field, value, match):
    sc = SurveillanceScenario(**{field: value})
    with pytest.raises(InputError, match=match):
        simulate_surveillance(tmp_path, model_sha256=MODEL, seed=1, scenario=sc)
