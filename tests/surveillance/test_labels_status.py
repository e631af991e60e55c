"""Late labels (merged, audited, unknown cases refused) and the status the report renders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from validation.errors import DataError
from validation.provenance import Registry, check_chain
from validation.surveillance import ingest_batch, merge_labels, surveillance_status
from validation.surveillance.ingest import ModelMismatchError


def _labels(surv, name: str, source: Path, rows: slice | None = None) -> Path:  # type: ignore[no-untyped-def]
    df = pd.read_csv(source, dtype=str)
    df = df[["case_id", "truth"]] if rows is None else df[["case_id", "truth"]].iloc[rows]
    path = surv.folder / f"{name}.csv"
    df.to_csv(path, index=False)
    return path


def _pooled(status: dict, metric: str, period: str) -> dict:  # type: ignore[type-arg]
    (m,) = [m for m in status["metrics"] if m["metric"] == metric and m["period"] == period
            and m["site"] is None and m["subgroup"] is None]
    return m


def test_late_labels_merged_audited_and_shown_beside_estimates(surv) -> None:  # type: ignore[no-untyped-def]
    pending = surv.batch("B1", month="2026-02", n=150, seed=11, labelled=0.0)
    truth = surv.batch("B1-truth", month="2026-02", n=150, seed=11, prefix="B1")
    ingest_batch(surv.plan, pending)
    before = surveillance_status(surv.plan)
    sens = _pooled(before, "sensitivity", "2026-02")
    assert sens["observed"] is None and sens["estimated"] is not None
    assert 0 < sens["estimated"]["estimate"] < 1
    assert before["periods"] == [{"period": "2026-02", "n_cases": 150, "n_labelled": 0,
                                  "batches": ["B1"]}]

    labels = _labels(surv, "labels-1", truth)
    res = merge_labels(surv.plan, labels)
    assert res.new and res.n_labels == 150 and res.n_changed == 150
    assert res.periods == ("2026-02",)
    with Registry(surv.registry) as reg:
        amendments = reg.entries_for("surveillance.label", "PMS-TEST/")
        assert len(amendments) == 150
        assert {a.payload["old_truth"] for a in amendments} == {None}
        assert check_chain(reg).ok
    after = surveillance_status(surv.plan)
    sens = _pooled(after, "sensitivity", "2026-02")
    expected = pd.read_csv(truth)
    pos = expected[expected["truth"] == 1]
    tp = int((pos["score"] >= 0.5).sum())
    assert sens["observed"]["successes"] == tp and sens["observed"]["trials"] == len(pos)
    assert sens["estimated"] is not None
    assert after["periods"][0]["n_labelled"] == 150

    again = merge_labels(surv.plan, labels)
    assert not again.new and again.n_changed == 0
    with Registry(surv.registry) as reg:
        assert len(reg.entries_for("surveillance.label", "PMS-TEST/")) == 150

    # a correction: one case's truth flipped, audited with its old value
    fix = pd.read_csv(labels).iloc[[0]]
    fix["truth"] = 1 - fix["truth"]
    fix_path = surv.folder / "labels-fix.csv"
    fix.to_csv(fix_path, index=False)
    corr = merge_labels(surv.plan, fix_path)
    assert corr.n_changed == 1
    with Registry(surv.registry) as reg:
        last = reg.entries_for("surveillance.label", "PMS-TEST/")[-1]
    assert last.payload["old_truth"] == int(1 - fix["truth"].iloc[0])
    assert last.payload["new_truth"] == int(fix["truth"].iloc[0])
    assert last.payload["period"] == "2026-02" and last.payload["batch_id"] == "B1"


def test_labels_for_unknown_cases_refused_whole(surv) -> None:  # type: ignore[no-untyped-def]
    ingest_batch(surv.plan, surv.batch("B1", month="2026-02", n=20, seed=12, labelled=0.0))
    path = surv.folder / "labels.csv"
    pd.DataFrame({"case_id": ["B1-00000", "NOPE-1", "B1-00001", "NOPE-2"],
                  "truth": [1, 0, 0, 1]}).to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        merge_labels(surv.plan, path)
    assert "rows 2, 4, column case_id: unknown case ids (first: 'NOPE-1')" in \
        "\n".join(info.value.problems)
    with Registry(surv.registry) as reg:
        assert reg.entries_for("surveillance.label", "PMS-TEST/") == []
    res = subprocess.run([sys.executable, "-m", "validation", "surveil", "labels",
                          str(surv.plan), str(path)], capture_output=True, text=True)
    assert res.returncode == 2 and "unknown case ids" in res.stderr


def test_status_shape_and_cli(surv) -> None:  # type: ignore[no-untyped-def]
    for i, month in enumerate(("2026-01", "2026-02")):
        ingest_batch(surv.plan, surv.batch(f"B{i}", month=month, n=120, seed=20 + i))
    with pytest.raises(ModelMismatchError):
        ingest_batch(surv.plan, surv.batch("BX", month="2026-03", n=10, seed=29, model="b" * 64))
    st = surveillance_status(surv.plan)
    assert set(st) == {"schema_version", "plan", "registry", "periods", "metrics", "charts",
                       "drift", "alarms"}
    assert st["schema_version"] == "1.0"
    plan = st["plan"]
    assert {"id", "title", "version", "sha256", "approval", "period", "monitors",
            "model_sha256"} <= set(plan)
    assert plan["approval"]["signatures"][0]["role"] == "approved"
    assert set(plan["monitors"]) == {"protocol_id", "protocol_sha256", "baseline_results_sha256"}
    assert plan["monitors"]["protocol_id"] == "DEMO-001"
    assert st["registry"]["url"] == surv.registry and st["registry"]["head_seq"] > 0
    assert [p["period"] for p in st["periods"]] == ["2026-01", "2026-02"]
    m = st["metrics"][0]
    assert set(m) == {"metric", "site", "subgroup", "period", "observed", "estimated"}
    kinds = {(c["rule"], c["kind"]) for c in st["charts"]}
    assert ("sensitivity-cusum", "bernoulli_cusum") in kinds and ("pcr-ewma", "ewma") in kinds
    chart = next(c for c in st["charts"] if c["rule"] == "sensitivity-cusum" and c["site"] is None
                 and c["subgroup"] is None)
    assert chart["limit"] > 0 and chart["arl0"] == pytest.approx(2000, rel=0.2)
    assert {"period", "statistic", "lower", "upper", "signal"} == set(chart["points"][0])
    assert any(d["check"] == "psi" for d in st["drift"])
    assert all({"period", "site", "check", "variable", "statistic", "p_value",
                "adjusted_p_value", "threshold", "flag"} <= set(d) for d in st["drift"])
    mismatch = [a for a in st["alarms"] if a["rule"] == "locked-model"]
    assert len(mismatch) == 1 and mismatch[0]["severity"] == "critical"
    res = subprocess.run([sys.executable, "-m", "validation", "surveil", "status",
                          str(surv.plan), "--json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["periods"] == st["periods"]
    text = subprocess.run([sys.executable, "-m", "validation", "surveil", "status",
                           str(surv.plan)], capture_output=True, text=True)
    assert text.returncode == 0 and "2026-02: 120 cases" in text.stdout
    assert "ALARM critical: model_sha256" in text.stdout


def test_status_is_deterministic(surv) -> None:  # type: ignore[no-untyped-def]
    ingest_batch(surv.plan, surv.batch("B1", month="2026-02", n=80, seed=31))
    one = surveillance_status(surv.plan)
    two = surveillance_status(surv.plan)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
