"""The example protocols in protocols/ lock and run end to end through the engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from validation.demo_data import DEMO_APPROVER, DEMO_MEANING
from validation.pipeline import run_protocol

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"


def _locked_copy(tmp_path: Path, name: str) -> Path:
    """Copy protocols/ into tmp_path (never touch the repository's locks) and lock ``name``."""
    from validation.protocol import lock_path_for, lock_protocol

    root = tmp_path / "protocols"
    shutil.copytree(PROTOCOLS, root)
    path = root / f"{name}.yaml"
    lock = lock_path_for(path)
    if lock.exists():
        lock.unlink()
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    return path


def test_reader_study_example_reproduces_van_dyke(tmp_path: Path) -> None:
    """The reader-study example is the Van Dyke (1993) data reshaped.

    Published (OR-DBM MRMC 2.5 output, tests/reference/mrmc/README.md): modality means
    0.89703704 and 0.94083736, difference 0.04380032 in absolute value, RRRC F = 4.4563,
    95% CI of modality 1 minus 2 (-0.08796, 0.00036). Tolerances follow the published digits.
    """
    path = _locked_copy(tmp_path, "reader_study")
    run = run_protocol(path, out_dir=tmp_path / "runs", progress=False)
    res = json.loads((run / "results.json").read_text())
    ep = res["endpoints"]["mrmc_auc"]
    assert abs(ep["pooled"]["estimate"]) == pytest.approx(0.04380032, abs=5e-9)
    lo, hi = sorted(abs(x) for x in ep["pooled"]["ci"])
    assert (lo, hi) == (pytest.approx(0.00036, abs=5e-6), pytest.approx(0.08796, abs=5e-6))
    means = sorted(m["estimate"] for m in ep["modalities"].values())
    assert means == [pytest.approx(0.89703704, abs=5e-9), pytest.approx(0.94083736, abs=5e-9)]
    block = res["reader_study"]["by_endpoint"]["mrmc_auc"]
    assert block["rrrc"]["statistic"] == pytest.approx(4.4563, abs=5e-5)
    assert res["reader_study"]["n_ratings"] == 1140
    assert [h["id"] for h in res["hypotheses"]] == ["H1", "H2"]


def test_cade_example_flow_matches_the_manifest(tmp_path: Path) -> None:
    path = _locked_copy(tmp_path, "cade_pneumothorax")
    run = run_protocol(path, out_dir=tmp_path / "runs", progress=False)
    res = json.loads((run / "results.json").read_text())
    m = pd.read_csv(path.parent / "examples" / "cade_pneumothorax" / "manifest.csv")

    def flag(col: str) -> pd.Series:
        return m[col].astype(str).str.lower().isin(["true", "1", "yes"])

    cw = flag("consent_withdrawn")
    opt = flag("ai_opt_out") & ~cw
    analysed = m[~cw & ~flag("ai_opt_out")]
    flow = res["flow"]
    assert flow["eligible"] == len(m)
    assert flow["excluded"] == {"consent_withdrawn": int(cw.sum()), "ai_opt_out": int(opt.sum()),
                                "reference_standard_missing": 0}
    assert flow["analysed"] == len(analysed)
    assert flow["indeterminate"] == int(
        analysed["non_diagnostic"].astype(str).str.lower().isin(["true", "1", "yes"]).sum()
    )
    assert flow["by_reference"]["positive"] == int((analysed["truth"] == 1).sum())
    assert set(res["endpoints"]) == {"sensitivity", "specificity", "auc", "ppv", "npv"}
    assert set(res["endpoints"]["sensitivity"]["by_subgroup"]) == {
        "site", "sex", "age_band", "manufacturer"}
    assert [h["id"] for h in res["hypotheses"]] == ["H1", "H2", "H3"]
    # H3: sensitivity vs the reporting radiologist on the same radiographs, worst-case
    # handling of the model's indeterminate results, recomputed from the files directly
    from validation.stats.differences import paired_difference

    preds = pd.read_csv(path.parent / "examples" / "cade_pneumothorax" / "predictions.csv")
    a = analysed.merge(preds, on="case_id")
    pos = a["truth"] == 1
    ind = a["non_diagnostic"].astype(str).str.lower().isin(["true", "1", "yes"])
    new = (~ind & (a["score"] >= 0.5))[pos].to_numpy()
    old = (a["radiologist_call"] == 1)[pos].to_numpy()
    cells = [int((new & old).sum()), int((new & ~old).sum()), int((~new & old).sum()),
             int((~new & ~old).sum())]
    direct = paired_difference(*cells, margin=0.05, alpha=0.05)
    h3 = res["hypotheses"][2]
    assert list(h3["paired_counts"].values()) == cells
    assert h3["statistic"] == pytest.approx(direct.noninferiority.statistic, abs=1e-12)
    assert h3["p_value"] == pytest.approx(direct.noninferiority.p_value, abs=1e-12)
    assert h3["ci"] == pytest.approx(list(direct.ci), abs=1e-12)
    assert res["multiplicity"]["procedure"] == "fixed_sequence"


def test_short_washout_is_recorded_as_a_deviation(tmp_path: Path) -> None:
    path = _locked_copy(tmp_path, "reader_study")
    ratings = path.parent / "examples" / "reader_study" / "ratings.csv"
    df = pd.read_csv(ratings, dtype=str)
    df["reading_date"] = "2026-01-05"  # both modalities read the same day: no washout
    df.to_csv(ratings, index=False)
    run = run_protocol(path, out_dir=tmp_path / "runs", progress=False)
    res = json.loads((run / "results.json").read_text())
    conduct = res["reader_study"]["conduct"]
    assert conduct["passed"] is False
    assert conduct["checks"]["washout"]["status"] == "fail"
    (dev,) = res["deviations"]
    assert dev["kind"] == "reader_study_conduct" and "washout" in dev["description"]


def test_detection_example_runs_jafroc_with_wafroc_primary(tmp_path: Path) -> None:
    """Marks -> matching -> JAFROC (OR on wAFROC) -> hypotheses -> dossier sections."""
    path = _locked_copy(tmp_path, "detection_study")
    run = run_protocol(path, out_dir=tmp_path / "runs", progress=False, formats=("html",))
    res = json.loads((run / "results.json").read_text())
    loc = res["localization"]
    assert loc["match"]["n_lesions"] == 93 and loc["design"]["kind"] == "fully crossed"
    block = loc["by_endpoint"]["mrmc_wafroc"]
    assert block["endpoint"] == "wAFROC"
    ep = res["endpoints"]["mrmc_wafroc"]
    assert ep["pooled"]["estimate"] == block["difference"]["estimate"]
    assert ep["pooled"]["comparison"] == "aided - unaided"
    assert res["endpoints"]["standalone_wafroc"]["pooled"]["method"] == "bootstrap-cluster-percentile"
    assert 0 < res["endpoints"]["standalone_llf"]["pooled"]["estimate"] < 1
    assert [h["endpoint"] for h in res["hypotheses"]] == ["mrmc_wafroc", "mrmc_wafroc"]
    sar = (run / "report" / "sar.qmd").read_text()
    assert "Lesion localization (free-response)" in sar and "localization\\_wafroc" in sar
    assert (run / "report" / "figures" / "localization_froc.svg").is_file()
    assert "Lesion localization" in (run / "report" / "sap.qmd").read_text()


def test_split_plot_example_runs_ustat_and_says_why(tmp_path: Path) -> None:
    path = _locked_copy(tmp_path, "split_plot_study")
    run = run_protocol(path, out_dir=tmp_path / "runs", progress=False, formats=("html",))
    res = json.loads((run / "results.json").read_text())
    rs = res["reader_study"]
    assert rs["analysis"] == "ustat" and rs["design"]["kind"] == "split-plot"
    assert "U-statistic" in rs["design"]["reason"]
    assert rs["conduct"]["checks"]["split_plot"]["status"] == "pass"
    assert rs["conduct"]["passed"] and not res["deviations"]
    sar = (run / "report" / "sar.qmd").read_text()
    assert "| Split plot | pass: " in sar and "| All conduct checks | passed |" in sar
    assert "{'name'" not in sar  # one row per check, not the raw record
    assert set(rs["modalities"]["aided"]["readers"]) == {"R1", "R2", "R3", "R4", "R5"}
    # the hypotheses name the test that ran, not the crossed Obuchowski-Rockette one
    assert res["hypotheses"] and {h["test"] for h in res["hypotheses"]} <= {
        "U-statistic (Gallas) random-reader random-case t test (BDG Satterthwaite df)",
        "U-statistic (Gallas) single-modality t test (BDG Satterthwaite df)"}


def test_split_plot_binary_and_or_auc_endpoints_run_end_to_end(tmp_path: Path) -> None:
    """The split-plot example with a sensitivity endpoint and the AUC asked by OR (ci:
    or_split_plot): both get the Obuchowski-Rockette split-plot form, the design block says so,
    the default AUC endpoint keeps the U-statistic analysis, and the report renders."""
    import pandas as pd
    import yaml

    from validation.protocol import lock_path_for, lock_protocol

    root = tmp_path / "protocols"
    shutil.copytree(PROTOCOLS, root)
    ratings = root / "examples" / "split_plot" / "ratings.csv"
    df = pd.read_csv(ratings)
    df["decision"] = (df["rating"] >= 3).astype(int)
    df.to_csv(ratings, index=False)
    path = root / "split_plot_study.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["study"]["id"] = "MRMC-SPLIT-002"
    doc["endpoints"] += [
        {"id": "mrmc_sens", "kind": "mrmc_sensitivity", "role": "secondary"},
        {"id": "mrmc_auc_or", "kind": "mrmc_auc", "ci": "or_split_plot", "role": "exploratory"}]
    doc["hypotheses"].append({"id": "H3", "endpoint": "mrmc_sens", "type": "noninferiority",
                              "margin": 0.05, "comparator": "unaided"})
    doc["multiplicity"]["order"].append("H3")
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    if lock_path_for(path).exists():
        lock_path_for(path).unlink()
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    run = run_protocol(path, out_dir=tmp_path / "runs", progress=False, formats=("html",))
    res = json.loads((run / "results.json").read_text())
    by = res["reader_study"]["by_endpoint"]
    assert by["mrmc_auc"]["analysis"] == "ustat"
    for ep in ("mrmc_sens", "mrmc_auc_or"):
        assert by[ep]["analysis"] == "or_split_plot", ep
        assert by[ep]["design"]["kind"] == "split-plot"
        assert "Hillis 2014" in by[ep]["design"]["reason"]
        assert res["endpoints"][ep]["pooled"]["df"] is not None
    assert by["mrmc_sens"]["endpoint"] == "sensitivity"
    assert by["mrmc_sens"]["noninferiority"]["margin"] == 0.05
    h3 = next(h for h in res["hypotheses"] if h["id"] == "H3")
    assert h3["test"] == "OR split-plot random-reader random-case t test (Hillis df)"
    sar = (run / "report" / "sar.qmd").read_text()
    assert "mrmc\\_sens" in sar or "mrmc_sens" in sar
    assert (run / "report" / "sar.html").is_file()


def test_split_plot_marks_study_runs_to_the_report(tmp_path: Path) -> None:
    """The detection example made a split plot (R1-R3 read the odd cases, R4-R5 the even ones;
    the truth's reader_group says so): wAFROC by the OR split-plot form, protocol to report."""
    path = _locked_copy(tmp_path, "detection_study")
    ex = path.parent / "examples" / "detection_study"
    lesions = pd.read_csv(ex / "lesions.csv", dtype=str)
    order = {c: k for k, c in enumerate(pd.unique(lesions["case_id"]))}
    lesions["reader_group"] = ["A" if order[c] % 2 else "B" for c in lesions["case_id"]]
    lesions.to_csv(ex / "lesions.csv", index=False)
    marks = pd.read_csv(ex / "marks.csv", dtype=str)
    group = dict(zip(lesions["case_id"], lesions["reader_group"], strict=False))
    reader_group = {"R1": "A", "R2": "A", "R3": "A", "R4": "B", "R5": "B"}
    keep = marks["case_id"].map(group) == marks["reader_id"].map(reader_group)
    marks[keep].to_csv(ex / "marks.csv", index=False)
    from validation.protocol import lock_path_for, lock_protocol

    lock_path_for(path).unlink()
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    run = run_protocol(path, out_dir=tmp_path / "runs", progress=False, formats=("html",))
    res = json.loads((run / "results.json").read_text())
    loc = res["localization"]
    assert loc["design"]["kind"] == "split-plot" and loc["design"]["analysis"] == "or_split_plot"
    assert [g["readers"] for g in loc["design"]["groups"]] == [["R1", "R2", "R3"], ["R4", "R5"]]
    block = loc["by_endpoint"]["mrmc_wafroc"]
    assert block["analysis"] == "or_split_plot" and block["endpoint"] == "wAFROC"
    assert any(n.startswith("split plot: 2 reader groups") for n in block["notes"])
    ep = res["endpoints"]["mrmc_wafroc"]
    assert ep["pooled"]["estimate"] == block["difference"]["estimate"]
    assert "Hillis SL (2014)" in " ".join(ep["pooled"]["references"])
    assert {h["test"] for h in res["hypotheses"]} == {
        "OR split-plot random-reader random-case t test (Hillis df)"}
    assert "Lesion localization" in (run / "report" / "sar.qmd").read_text()
    assert (run / "report" / "sar.html").is_file()
