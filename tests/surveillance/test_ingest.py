"""Ingesting batches: exactly once, bad input refused whole, alarms, the CLI's exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from validation.errors import DataError, InputError, LockError
from validation.provenance import Registry, check_chain
from validation.provenance.registry import SurveillanceBatchRecord, SurveillanceDataRecord
from validation.surveillance import ingest_batch, ingest_inbox
from validation.surveillance.context import open_context
from validation.surveillance.ingest import ModelMismatchError, recorded_cases


def _counts(url: str) -> tuple[int, int, int]:
    with Registry(url) as reg:
        return (reg.count(SurveillanceBatchRecord), reg.count(SurveillanceDataRecord),
                len(reg.entries()))


def test_bad_batch_lists_every_violation_with_row_and_column(surv) -> None:  # type: ignore[no-untyped-def]
    path = surv.batch("B1", month="2026-02", n=12, seed=1)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[2, "score"] = "high"
    df.loc[4, "sex"] = "X"
    df.loc[5, "truth"] = "2"
    df = df.drop(columns=["model_sha256"])
    df.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        ingest_batch(surv.plan, path)
    text = "\n".join(info.value.problems)
    assert "model_sha256" in text
    assert "row 3" in text and "score" in text
    assert "row 5" in text and "sex" in text
    assert "row 6" in text and "truth" in text
    assert _counts(surv.registry) == (0, 0, 0)


def test_unknown_sites_and_dates_outside_the_period_refused_whole(surv) -> None:  # type: ignore[no-untyped-def]
    path = surv.batch("B1", month="2026-02", n=10, seed=2)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[[1, 7], "site"] = "SITE-Z"
    df.loc[3, "acquired_at"] = "2025-12-30"
    df.loc[4, "acquired_at"] = "2099-01-01"
    df.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        ingest_batch(surv.plan, path)
    text = "\n".join(info.value.problems)
    assert "rows 2, 8, column site: site 'SITE-Z' is not one the plan expects" in text
    assert "rows 4, column acquired_at: dates before the plan's start 2026-01-01" in text
    assert "rows 5, column acquired_at: dates in the future" in text
    assert _counts(surv.registry) == (0, 0, 0)


def test_model_mismatch_refused_and_alarm_recorded_once(surv) -> None:  # type: ignore[no-untyped-def]
    path = surv.batch("B1", month="2026-02", n=10, seed=3, model="a" * 64)
    for _ in range(2):
        with pytest.raises(ModelMismatchError) as info:
            ingest_batch(surv.plan, path)
    alarm = info.value.alarm
    assert alarm["severity"] == "critical" and alarm["rule"] == "locked-model"
    assert alarm["figures"]["found_model_sha256"] == ["a" * 64]
    with Registry(surv.registry) as reg:
        alarms = reg.entries_for("surveillance.alarm", "PMS-TEST/")
        assert len(alarms) == 1 and alarms[0].payload == alarm
        assert reg.count(SurveillanceBatchRecord) == 0
    res = subprocess.run([sys.executable, "-m", "validation", "surveil", "ingest",
                          str(surv.plan), str(path)], capture_output=True, text=True)
    assert res.returncode == 2 and "not the locked model" in res.stderr


def test_a_rejected_version_in_the_field_raises_its_own_alarm(surv) -> None:  # type: ignore[no-untyped-def]
    from validation.change.lineage import record_version

    rejected = "b" * 64
    with Registry(surv.registry) as reg:
        record_version(reg, plan_id="CCP-TEST", plan_sha256="c" * 64, decided_by="QA <qa@x.org>",
                       entry={"version": "1.2.0", "model_sha256": rejected,
                              "operating_point": "0.7", "artifact": "v12.pt",
                              "parent_version": "1.0.0", "modification": "threshold_change",
                              "decision": "rejected", "criteria": [], "dossier_run_id": None,
                              "signature": None})
    path = surv.batch("B1", month="2026-02", n=10, seed=3, model=rejected)
    with pytest.raises(ModelMismatchError, match=r"version 1\.2\.0, REJECTED under "
                       r"change-control plan CCP-TEST .*must not be deployed") as info:
        ingest_batch(surv.plan, path)
    alarm = info.value.alarm
    assert alarm["rule"] == "rejected-version" and alarm["severity"] == "critical"
    assert [v["decision"] for v in alarm["figures"]["change_control"]] == ["rejected"]
    with Registry(surv.registry) as reg:
        assert reg.count(SurveillanceBatchRecord) == 0


def test_a_threshold_change_shares_its_parents_sha256_and_both_decisions_are_named(surv) -> None:  # type: ignore[no-untyped-def]
    from validation.change.lineage import record_version

    shared = "d" * 64  # 1.2.0 moved 1.1.0's operating point: one artifact, two decisions
    with Registry(surv.registry) as reg:
        for version, decision, op in (("1.1.0", "accepted", "0.5"), ("1.2.0", "rejected", "0.7")):
            record_version(reg, plan_id="CCP-TEST", plan_sha256="c" * 64, decided_by="QA <qa@x.org>",
                           entry={"version": version, "model_sha256": shared, "operating_point": op,
                                  "artifact": "v11.csv", "parent_version": "1.0.0",
                                  "modification": "threshold_change", "decision": decision,
                                  "criteria": [], "dossier_run_id": None, "signature": None})
    path = surv.batch("B1", month="2026-02", n=10, seed=3, model=shared)
    with pytest.raises(ModelMismatchError, match=r"version 1\.1\.0, ACCEPTED .*version 1\.2\.0, "
                       r"REJECTED .*must not be deployed") as info:
        ingest_batch(surv.plan, path)
    alarm = info.value.alarm
    assert alarm["rule"] == "rejected-version"
    assert [(v["version"], v["decision"]) for v in alarm["figures"]["change_control"]] == [
        ("1.1.0", "accepted"), ("1.2.0", "rejected")]


def test_plan_lock_must_match(surv) -> None:  # type: ignore[no-untyped-def]
    path = surv.batch("B1", month="2026-02", n=10, seed=4)
    surv.plan.write_text(surv.plan.read_text().replace("minimum_cases: 20", "minimum_cases: 21"))
    with pytest.raises(LockError, match="changed after it was locked"):
        ingest_batch(surv.plan, path)
    res = subprocess.run([sys.executable, "-m", "validation", "surveil", "ingest",
                          str(surv.plan), str(path)], capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_same_bytes_again_change_nothing_and_other_file_under_used_id_refused(surv) -> None:  # type: ignore[no-untyped-def]
    path = surv.batch("B1", month="2026-02", n=60, seed=5)
    first = ingest_batch(surv.plan, path)
    assert first.new and first.periods == ("2026-02",) and first.n_cases == 60
    before = _counts(surv.registry)
    assert before[:2] == (1, 1)
    again = ingest_batch(surv.plan, path)
    assert not again.new and _counts(surv.registry) == before
    other = surv.batch("B1", month="2026-02", n=60, seed=6, prefix="other")
    with pytest.raises(InputError, match="already in with another file"):
        ingest_batch(surv.plan, other)
    assert _counts(surv.registry) == before
    with Registry(surv.registry) as reg:
        assert check_chain(reg).ok


def test_case_ids_unique_across_batches(surv) -> None:  # type: ignore[no-untyped-def]
    ingest_batch(surv.plan, surv.batch("B1", month="2026-02", n=30, seed=7, prefix="C"))
    dup = surv.batch("B2", month="2026-03", n=30, seed=8, prefix="C")
    with pytest.raises(DataError) as info:
        ingest_batch(surv.plan, dup)
    assert "column case_id: case ids already in batch 'B1'" in "\n".join(info.value.problems)
    assert _counts(surv.registry)[:2] == (1, 1)


def test_inbox_ingests_new_files_in_order_and_skips_known(surv) -> None:  # type: ignore[no-untyped-def]
    for i, month in enumerate(("2026-01", "2026-02", "2026-03")):
        surv.batch(f"B{i}", month=month, n=40, seed=10 + i)
    inbox = surv.folder / "batches"
    first = ingest_inbox(surv.plan, inbox)
    assert [r.batch_id for r in first] == ["B0", "B1", "B2"]
    surv.batch("B3", month="2026-04", n=40, seed=20)
    second = ingest_inbox(surv.plan, inbox)
    assert [r.batch_id for r in second] == ["B3"]
    with open_context(surv.plan) as ctx:
        assert len(recorded_cases(ctx)) == 160


def test_store_is_parquet_addressed_by_hash(surv) -> None:  # type: ignore[no-untyped-def]
    ingest_batch(surv.plan, surv.batch("B1", month="2026-02", n=25, seed=30))
    with Registry(surv.registry) as reg:
        (rec,) = reg.rows(SurveillanceDataRecord)
    store = Path(surv.registry.removeprefix("sqlite:///")).parent / "surveillance"
    files = list((store / "PMS-TEST" / "cases").glob("*.parquet"))
    assert [f.stem for f in files] == [rec[1]["parquet_sha256"]]
    frame = pd.read_parquet(files[0])
    assert len(frame) == 25 and set(frame["period"]) == {"2026-02"}
    aggregates = json.loads(rec[1]["aggregates"])
    pooled = [a for a in aggregates if a["site"] is None and a["factor"] is None]
    assert pooled and pooled[0]["n"] == 25


def test_alarm_for_a_degraded_site_and_exit_codes(surv) -> None:  # type: ignore[no-untyped-def]
    cmd = [sys.executable, "-m", "validation", "surveil", "ingest", str(surv.plan)]
    for i, month in enumerate(("2026-01", "2026-02", "2026-03")):
        res = subprocess.run([*cmd, str(surv.batch(f"B{i}", month=month, n=200, seed=40 + i)),
                              "--json"], capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
    bad = surv.batch("B9", month="2026-04", n=400, seed=49, degraded_site="SITE-C")
    res = subprocess.run([*cmd, str(bad), "--json"], capture_output=True, text=True)
    assert res.returncode == 1, res.stdout + res.stderr
    out = json.loads(res.stdout)
    sens = [a for a in out["alarms"] if a["rule"] == "sensitivity-cusum" and a["subgroup"] is None]
    assert {a["site"] for a in sens} <= {"SITE-C", None} and "SITE-C" in {a["site"] for a in sens}
    assert all(a["period"] == "2026-04" and a["first_detected"] == "2026-04" for a in sens)
    path = Path(out["batches"][0]["alarms_path"])
    written = json.loads(path.read_text())
    assert written["period"] == "2026-04" and written["alarms"] == sorted(
        written["alarms"], key=lambda a: (a["rule"], str(a["site"]),
                                          json.dumps(a["subgroup"], sort_keys=True), a["metric"]))
    assert {"period", "site", "subgroup", "metric", "rule", "severity", "figures",
            "first_detected"} == set(written["alarms"][0])


def test_dask_aggregation_records_the_same_aggregates(surv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = surv.batch("B1", month="2026-02", n=300, seed=60)
    local_url = f"sqlite:///{tmp_path / 'local' / 'registry.sqlite'}"
    dask_url = f"sqlite:///{tmp_path / 'dask' / 'registry.sqlite'}"
    ingest_batch(surv.plan, path, registry=local_url)
    ingest_batch(surv.plan, path, registry=dask_url, dask="local")
    with Registry(local_url) as a, Registry(dask_url) as b:
        (ra,) = a.rows(SurveillanceDataRecord)
        (rb,) = b.rows(SurveillanceDataRecord)
    assert json.loads(ra[1]["aggregates"]) == json.loads(rb[1]["aggregates"])
    assert ra[1]["parquet_sha256"] == rb[1]["parquet_sha256"]
