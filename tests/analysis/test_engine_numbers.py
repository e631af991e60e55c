"""The engine's numbers against direct calls of the statistics layer on brute-force inputs.

The statistics themselves are tested against R and published values in tests/stats; here we
check that the engine feeds them the right cases: the unit of analysis, the patient clusters,
the indeterminate handling, the site and subgroup subsets.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation._atomic import canonical_json
from validation.analysis.engine import analyse
from validation.analysis.subgroups import MISSING, OUTSIDE, subgroup_levels
from validation.data.predictions import match_predictions
from validation.data.specs import load_spec, validate_table
from validation.data.testset import ExclusionRule, build_test_set
from validation.demo_data import simulate
from validation.errors import DataError
from validation.protocol import Protocol
from validation.stats.proportions import clustered_proportion_ci, proportion_ci
from validation.stats.roc import auc_ci

PROTOCOL: dict[str, Any] = {
    "schema_version": "1.0",
    "study": {"id": "ENG-1", "title": "engine", "version": "1", "sponsor": "t"},
    "device": {"name": "d", "version": "1", "intended_use": "t", "risk_class": "II"},
    "model": {"kind": "precomputed", "artifact": "p.csv", "sha256": "a" * 64,
              "training_sites": ["T1"], "operating_point": 0.5},
    "test_set": {"manifest": "m.csv", "reference_standard": "sim",
                 "exclusions": [{"reason": "consent_withdrawn", "column": "consent_withdrawn",
                                 "values": [True]}]},
    "endpoints": [
        {"id": "sens", "kind": "sensitivity", "unit": "finding", "ci": "wilson"},
        {"id": "spec_pat", "kind": "specificity", "unit": "patient", "ci": "exact"},
        {"id": "auc", "kind": "auc", "unit": "finding", "ci": "obuchowski"},
        {"id": "sens_pp", "kind": "sensitivity", "unit": "finding", "ci": "wilson",
         "population": "per_protocol"},
    ],
    "alpha": 0.05,
    "sidedness": "two-sided",
    "subgroups": [{"id": "age", "column": "age", "bins": [18, 50, 65, 96]},
                  {"id": "sex", "column": "sex"}],
    "populations": ["all_eligible", "per_protocol"],
    "analysis": {"seed": 3, "bootstrap_replicates": 200},
}


def protocol(**changes: Any) -> Protocol:
    p = copy.deepcopy(PROTOCOL)
    p.update(changes)
    return Protocol.model_validate(p)


@pytest.fixture(scope="module")
def cases() -> tuple[pd.DataFrame, dict[str, Any]]:
    m, p = simulate(17, scale=0.3)
    raw = m.astype({c: str for c in m.columns})
    man = validate_table(raw, load_spec("test_set_manifest"), source="m.csv")
    ts = build_test_set(
        man, source="m.csv",
        exclusions=[ExclusionRule("consent_withdrawn", "consent_withdrawn", (True,))],
        training_sites=["T1"],
    )
    preds = pd.DataFrame({"case_id": p["case_id"].astype(str), "score": p["score"]})
    scored = match_predictions(ts, preds, source="p.csv")
    assert scored["indeterminate"].sum() > 0  # the fixture exercises indeterminate handling
    return scored, ts.flow


@pytest.fixture(scope="module")
def results(cases: tuple[pd.DataFrame, dict[str, Any]]) -> dict[str, Any]:
    scored, flow = cases
    return analyse(protocol(), scored, flow=flow, protocol_sha256="b" * 64,
                   model_sha256="a" * 64, seed=3)


def worst_case(df: pd.DataFrame, op: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Brute force: (truth, called, score) with every indeterminate result an error."""
    truth, called, score = [], [], []
    finite = df["score"].dropna()
    lo, hi = finite.min() - 1.0, finite.max() + 1.0
    for _, r in df.iterrows():
        t = int(r["truth"])
        truth.append(t)
        if r["indeterminate"]:
            called.append(t == 0)
            score.append(hi if t == 0 else lo)
        else:
            called.append(r["score"] >= op)
            score.append(r["score"])
    return np.array(truth), np.array(called), np.array(score, dtype=float)


def close(stat: dict[str, Any], res: Any) -> None:
    assert stat["estimate"] == pytest.approx(res.estimate, abs=1e-15)
    assert stat["ci"] == pytest.approx(list(res.ci), abs=1e-15)
    assert stat["method"] == res.method


def test_pooled_sensitivity_finding_clustered(cases, results) -> None:
    scored, _ = cases
    t, c, _ = worst_case(scored)
    pos = t == 1
    direct = clustered_proportion_ci(c[pos].astype(int), scored["patient_id"].to_numpy()[pos],
                                     method="wilson", alpha=0.05)
    close(results["endpoints"]["sens"]["pooled"], direct)
    assert results["endpoints"]["sens"]["pooled"]["successes"] == int(c[pos].sum())


def test_per_site_matches_direct_calls(cases, results) -> None:
    scored, _ = cases
    by_site = results["endpoints"]["sens"]["by_site"]
    assert sorted(by_site) == sorted(scored["site"].unique())
    lo, hi = scored["score"].min() - 1.0, scored["score"].max() + 1.0
    for site, stat in by_site.items():
        sub = scored[scored["site"] == site]
        # the indeterminate scores are imputed from the pooled range, as in the engine
        t = sub["truth"].to_numpy()
        ind = sub["indeterminate"].to_numpy()
        c = np.where(ind, t == 0, sub["score"].to_numpy() >= 0.5)
        pos = t == 1
        direct = clustered_proportion_ci(c[pos].astype(int), sub["patient_id"].to_numpy()[pos],
                                         method="wilson", alpha=0.05)
        close(stat, direct)
        s = np.where(ind, np.where(t == 0, hi, lo), sub["score"].to_numpy())
        auc = auc_ci(t, s, method="delong", cluster=sub["patient_id"].to_numpy())
        close(results["endpoints"]["auc"]["by_site"][site], auc)


def test_patient_level_specificity(cases, results) -> None:
    scored, _ = cases
    t, c, _ = worst_case(scored)
    patients: dict[str, list[int]] = {}
    for pid, ti, ci in zip(scored["patient_id"], t, c, strict=True):
        rec = patients.setdefault(pid, [0, 0])
        rec[0] = max(rec[0], ti)
        rec[1] = max(rec[1], int(ci))
    neg = [v for v in patients.values() if v[0] == 0]
    x = sum(1 for v in neg if v[1] == 0)
    direct = proportion_ci(x, len(neg), method="exact", alpha=0.05)
    close(results["endpoints"]["spec_pat"]["pooled"], direct)


def test_auc_obuchowski_pooled(cases, results) -> None:
    scored, _ = cases
    t, _, s = worst_case(scored)
    direct = auc_ci(t, s, method="delong", cluster=scored["patient_id"].to_numpy())
    close(results["endpoints"]["auc"]["pooled"], direct)
    assert results["endpoints"]["auc"]["pooled"]["n_clusters"] == scored["patient_id"].nunique()


def test_indeterminate_both_ways_and_per_protocol(cases, results) -> None:
    scored, flow = cases
    ind = scored["indeterminate"].to_numpy()
    t = scored["truth"].to_numpy()
    s = scored["score"].to_numpy()
    pid = scored["patient_id"].to_numpy()
    block = results["endpoints"]["sens"]["indeterminate"]
    assert block["n"] == flow["indeterminate"] == int(ind.sum())
    assert block["primary_handling"] == "worst_case"
    for name, as_pos in (("as_positive", True), ("as_negative", False)):
        c = np.where(ind, as_pos, s >= 0.5)
        direct = clustered_proportion_ci(c[t == 1].astype(int), pid[t == 1], alpha=0.05)
        close(block[name], direct)
    det = ~ind
    direct = clustered_proportion_ci((s[det & (t == 1)] >= 0.5).astype(int), pid[det & (t == 1)])
    close(block["excluded"], direct)
    pp = results["endpoints"]["sens_pp"]
    assert pp["population"] == "per_protocol" and pp["indeterminate_handling"] == "determinate"
    close(pp["pooled"], direct)


def test_subgroups_and_confusion(cases, results) -> None:
    scored, _ = cases
    levels = results["endpoints"]["sens"]["by_subgroup"]["age"]
    assert set(levels) <= {"18-50", "50-65", "65-96", MISSING, OUTSIDE}
    # subgroup sizes add up to the pooled denominator
    assert sum(v["n"] for v in levels.values()) == results["endpoints"]["sens"]["pooled"]["n"]
    sexes = results["endpoints"]["spec_pat"]["by_subgroup"]["sex"]
    assert set(sexes) == set(scored["sex"].astype(str))
    det = scored[~scored["indeterminate"]]
    t = det["truth"].to_numpy() == 1
    c = det["score"].to_numpy() >= 0.5
    conf = results["confusion"]["pooled"]
    assert (conf["tp"], conf["fp"], conf["fn"], conf["tn"]) == (
        int((t & c).sum()), int((~t & c).sum()), int((t & ~c).sum()), int((~t & ~c).sum()))
    assert conf["indeterminate"] == int(scored["indeterminate"].sum())
    assert sum(v["n"] for v in results["confusion"]["by_site"].values()) == conf["n"]


def test_results_are_canonical_json_and_deterministic(cases, results) -> None:
    scored, flow = cases
    again = analyse(protocol(), scored.sample(frac=1.0, random_state=1).reset_index(drop=True),
                    flow=flow, protocol_sha256="b" * 64, model_sha256="a" * 64, seed=3)
    assert canonical_json(again) == canonical_json(results)  # case order changes nothing
    assert results["roc"]["pooled"]["thresholds"][0] is None  # +inf written as null
    assert results["analysis"]["ci_level"] == pytest.approx(0.95)


def test_one_sided_protocol_reports_1_minus_2alpha_intervals(cases) -> None:
    scored, flow = cases
    r = analyse(protocol(alpha=0.025, sidedness="one-sided"), scored, flow=flow,
                protocol_sha256="b" * 64, model_sha256="a" * 64, seed=3)
    assert r["analysis"]["ci_level"] == pytest.approx(0.95)
    assert r["endpoints"]["sens"]["pooled"]["alpha"] == pytest.approx(0.05)


def test_subset_without_positives_is_null_with_note(cases) -> None:
    scored, flow = cases
    df = scored.copy()
    df.loc[df["site"] == "SITE-B", "truth"] = 0
    r = analyse(protocol(), df, flow=flow, protocol_sha256="b" * 64, model_sha256="a" * 64,
                seed=3)
    stat = r["endpoints"]["sens"]["by_site"]["SITE-B"]
    assert stat["estimate"] is None and stat["ci"] == [None, None]
    assert "no reference-positive cases" in stat["note"]
    auc = r["endpoints"]["auc"]["by_site"]["SITE-B"]
    assert auc["estimate"] is None and auc["note"]


def test_pooled_endpoint_that_cannot_be_estimated_is_refused(cases) -> None:
    scored, flow = cases
    df = scored.assign(truth=0)
    with pytest.raises(DataError, match="endpoint 'sens'.*no reference-positive cases"):
        analyse(protocol(), df, flow=flow, protocol_sha256="b" * 64, model_sha256="a" * 64,
                seed=3)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.floats(0, 130, allow_nan=False)), min_size=1,
                    max_size=40),
)
def test_age_bands_brute_force(values: list[float | None]) -> None:
    bins = [18.0, 50.0, 65.0, 96.0]
    labels = ["18-49", "50-64", "65+"]
    got = subgroup_levels(pd.Series(values, dtype="float64"), bins=bins, labels=labels)
    for v, level in zip(values, got, strict=True):
        if v is None:
            assert level == MISSING
        elif v < 18 or v > 96:
            assert level == OUTSIDE
        elif v < 50:
            assert level == "18-49"
        elif v < 65:
            assert level == "50-64"
        else:
            assert level == "65+"  # [65, 96], the last band closed on the right
