"""The engine's consistency section (``results.json['consistency']``).

Checked against direct calls of the statistics layer on brute-force arrays (the per-level
counts, the random-effects pooling, the bivariate model), for determinism (two runs, same
bytes), for the degenerate cases (one site, a site without positives, levels all below the
minimum, identical site estimates) and for the rest of ``results.json`` staying byte-identical
when a protocol has no consistency section.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.protocol.protocol_helpers import PROTOCOLS
from validation._atomic import canonical_json
from validation.analysis.consistency import consistency_section
from validation.analysis.engine import analyse
from validation.data.predictions import match_predictions
from validation.data.specs import load_spec, validate_table
from validation.data.testset import ExclusionRule, build_test_set
from validation.demo_data import DEFAULT_SEED, simulate
from validation.protocol import Protocol, load_protocol
from validation.protocol.lock import canonical_protocol_json
from validation.stats.bivariate import bivariate_accuracy
from validation.stats.pooled_logit import pooled_auc, pooled_proportion
from validation.stats.proportions import clustered_proportion_ci
from validation.stats.roc import auc_ci
from validation.stats.subgroup_consistency import subgroup_consistency

SEED = DEFAULT_SEED


def scored_cases(seed: int, scale: float = 1.0) -> tuple[pd.DataFrame, dict[str, Any]]:
    m, p = simulate(seed, scale=scale)
    raw = m.astype({c: str for c in m.columns})
    man = validate_table(raw, load_spec("test_set_manifest"), source="m.csv")
    ts = build_test_set(
        man, source="m.csv",
        exclusions=[ExclusionRule("consent_withdrawn", "consent_withdrawn", (True,)),
                    ExclusionRule("ai_opt_out", "ai_opt_out", (True,))],
        training_sites=["T1", "T2"],
    )
    preds = pd.DataFrame({"case_id": p["case_id"].astype(str), "score": p["score"]})
    return match_predictions(ts, preds, source="p.csv"), ts.flow


def demo_protocol(**consistency: Any) -> Protocol:
    base = json.loads(canonical_protocol_json(load_protocol(PROTOCOLS / "demo.yaml", check_files=False)))
    base["consistency"].update(consistency)
    return Protocol.model_validate(base)


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, dict[str, Any]]:
    return scored_cases(SEED)


@pytest.fixture(scope="module")
def section(demo) -> dict[str, Any]:
    cases, _ = demo
    p = demo_protocol()
    out = consistency_section(p, cases, alpha=p.ci_alpha, seed=SEED)
    assert out is not None
    return out


def worst_case_arrays(cases: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Brute force (truth, call, score) with every indeterminate result an error (the demo's
    primary handling), scores of indeterminate cases one beyond the observed range."""
    t = cases["truth"].to_numpy().astype(int)
    ind = cases["indeterminate"].to_numpy().astype(bool)
    s = cases["score"].to_numpy(dtype=float)
    lo, hi = np.nanmin(s) - 1.0, np.nanmax(s) + 1.0
    called = np.where(ind, t == 0, s >= 0.5)
    score = np.where(ind, np.where(t == 0, hi, lo), s)
    return t, called.astype(int), score


def test_site_levels_and_pooling_match_direct_calls(demo, section) -> None:
    cases, _ = demo
    t, c, _ = worst_case_arrays(cases)
    site = cases["site"].astype(str).to_numpy()
    block = section["factors"]["site"]["endpoints"]["sensitivity"]
    levels = sorted(set(site))
    assert [r["level"] for r in block["levels"]] == levels
    tp = [int(np.sum((site == s) & (t == 1) & (c == 1))) for s in levels]
    npos = [int(np.sum((site == s) & (t == 1))) for s in levels]
    assert [r["successes"] for r in block["levels"]] == tp
    assert [r["n"] for r in block["levels"]] == npos
    # findings cluster in patients: each site enters with its Rao-Scott design effect
    pid = cases["patient_id"].astype(str).to_numpy()
    deff = [clustered_proportion_ci(c[(site == s) & (t == 1)], pid[(site == s) & (t == 1)]).design_effect
            for s in levels]
    assert [r["design_effect"] for r in block["levels"]] == deff
    direct = pooled_proportion(tp, npos, method="reml", knha=True, alpha=0.05, design_effect=deff)
    pooled = block["pooled"]
    assert pooled["method"].endswith("-rao-scott") and max(deff) > 1.0
    assert pooled["estimate"] == pytest.approx(direct.estimate, abs=1e-15)
    assert pooled["prediction_interval"] == pytest.approx(list(direct.prediction_interval), abs=1e-15)
    assert pooled["tau2"] == pytest.approx(direct.tau2, abs=1e-15)
    assert pooled["tau2_ci"] == pytest.approx(list(direct.tau2_ci), abs=1e-12)
    assert pooled["i2"] == pytest.approx(direct.i2, abs=1e-15)
    assert pooled["q_p_value"] == pytest.approx(direct.q_p_value, abs=1e-15)
    assert pooled["fallback"] is None and pooled["levels"] == levels
    # the bivariate model on the same per-site 2x2 tables
    tn = [int(np.sum((site == s) & (t == 0) & (c == 0))) for s in levels]
    nneg = [int(np.sum((site == s) & (t == 0))) for s in levels]
    biv = bivariate_accuracy(tp, [a - b for a, b in zip(npos, tp, strict=True)], tn,
                             [a - b for a, b in zip(nneg, tn, strict=True)], alpha=0.05, n_points=60)
    got = section["factors"]["site"]["bivariate"]
    assert got["sensitivity"]["estimate"] == pytest.approx(biv.sensitivity.estimate, abs=1e-12)
    assert got["specificity"]["ci"] == pytest.approx(list(biv.specificity.ci), abs=1e-12)
    assert got["rho"] == pytest.approx(biv.rho, abs=1e-9)
    assert len(got["prediction_region"]["sensitivity"]) == 60


def test_site_auc_pooling_uses_the_clustered_variances(demo, section) -> None:
    cases, _ = demo
    t, _, s = worst_case_arrays(cases)
    site = cases["site"].astype(str).to_numpy()
    pid = cases["patient_id"].astype(str).to_numpy()
    per = [auc_ci(t[site == x], s[site == x], alpha=0.05, cluster=pid[site == x])
           for x in sorted(set(site))]
    direct = pooled_auc([a.estimate for a in per], [a.se**2 for a in per], method="reml", knha=True)
    got = section["factors"]["site"]["endpoints"]["auc"]["pooled"]
    assert got["estimate"] == pytest.approx(direct.estimate, abs=1e-12)
    assert got["ci"] == pytest.approx(list(direct.ci), abs=1e-12)


def test_crossed_factor_matches_subgroup_consistency(demo, section) -> None:
    cases, _ = demo
    t, c, s = worst_case_arrays(cases)
    age = pd.cut(cases["age"].astype(float), [18, 50, 65, 96], right=False,
                 labels=["18-49", "50-64", "65+"]).astype(str).to_numpy()
    age = np.where(cases["age"].astype(float).to_numpy() == 96, "65+", age)
    direct = subgroup_consistency(t, c, cases["sex"].astype(str).to_numpy(), second_factor=age,
                                  score=s, cluster=cases["patient_id"].astype(str).to_numpy(),
                                  min_level_size=20, n_boot=2000, seed=SEED, alpha=0.05)
    got = section["factors"]["sex_by_age"]["endpoints"]["sensitivity"]
    assert [r["level"] for r in got["levels"]] == [r.level for r in direct.levels]
    assert [r["ci"] for r in got["levels"]] == [list(r.sensitivity.ci) for r in direct.levels]
    assert got["interaction"]["p_value"] == direct.interaction_sensitivity.p_value
    assert got["gap"]["ci"] == list(direct.sensitivity_gap.ci)
    eo = section["factors"]["sex_by_age"]["equalized_odds"]
    assert eo["estimate"] == direct.equalized_odds_difference
    assert eo["ci"] == list(direct.equalized_odds.ci)
    assert eo["ci"][0] <= eo["estimate"] <= eo["ci"][1]
    assert eo["n_boot"] + eo["n_dropped"] == 2000 and eo["seed"] == SEED


def test_rules_are_decided_from_the_recorded_numbers(section) -> None:
    rules = {r["id"]: r for r in section["rules"]}
    assert set(rules) == {"C1", "C2", "C3", "C4"}
    c1 = rules["C1"]
    pi = section["factors"]["site"]["endpoints"]["sensitivity"]["pooled"]["prediction_interval"]
    assert c1["value"] == pi[0]
    assert c1["decision"] == ("pass" if pi[0] >= 0.60 else "fail")
    c2 = rules["C2"]
    assert c2["threshold"] == pytest.approx(0.70 - 0.05)
    lows = [r["ci"][0] for r in section["factors"]["sex_by_age"]["endpoints"]["sensitivity"]["levels"]
            if r["compared"]]
    assert c2["value"] == min(lows)
    assert c2["decision"] == ("pass" if min(lows) >= 0.65 else "fail")
    c3 = rules["C3"]
    entry = section["factors"]["manufacturer"]["endpoints"]["sensitivity"]
    ok = entry["interaction"]["p_value"] > 0.05 or entry["gap"]["ci"][1] < 0.10
    assert c3["decision"] == ("pass" if ok else "fail")
    for r in section["rules"]:
        assert r["role"] == "secondary" and r["pre_specified"] is True
        assert r["decision"] in ("pass", "fail", "not_evaluable") and r["reason"]
    # the demo's conclusions, as reported in the issue note
    assert [rules[k]["decision"] for k in ("C1", "C2", "C3", "C4")] == ["pass", "fail", "pass", "pass"]
    assert section["summary"]["small_levels"] == []


def test_small_levels_are_flagged_not_hidden(demo) -> None:
    cases, _ = demo
    p = quick(min_level_size=20, factors=[{"id": "manufacturer"}], rules=[])
    out = consistency_section(p, cases, alpha=p.ci_alpha, seed=SEED)
    assert out is not None
    entry = out["factors"]["manufacturer"]["endpoints"]["sensitivity"]
    canon = next(r for r in entry["levels"] if r["level"] == "Canon")
    assert canon["n_positive"] < 20 and canon["below_minimum"] and not canon["compared"]
    assert canon["estimate"] is not None
    assert "Canon" not in entry["gap"]["levels"]
    assert out["summary"]["small_levels"] == ["manufacturer: Canon"]
    spec = out["factors"]["manufacturer"]["endpoints"]["specificity"]["levels"]
    assert next(r for r in spec if r["level"] == "Canon")["compared"]  # 50 negatives


def test_two_runs_give_the_same_bytes(demo, section) -> None:
    cases, _ = demo
    p = demo_protocol()
    again = consistency_section(p, cases.sample(frac=1.0, random_state=3), alpha=p.ci_alpha, seed=SEED)
    assert canonical_json(again) == canonical_json(section)


def test_progress_is_told_after_each_factor(demo, section) -> None:
    cases, _ = demo
    p = demo_protocol()
    told: list[tuple[int, int]] = []
    out = consistency_section(p, cases, alpha=p.ci_alpha, seed=SEED,
                              progress=lambda done, total: told.append((done, total)))
    n = len(p.consistency.factors)
    assert told == [(i + 1, n) for i in range(n)]
    assert canonical_json(out) == canonical_json(section)  # telling changes nothing


def test_no_nan_anywhere(section) -> None:
    text = canonical_json(section)
    assert "NaN" not in text and "Infinity" not in text


# ---------------------------------------------------------------------------------------------
# degenerate inputs: a stated fallback, never NaN


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, dict[str, Any]]:
    return scored_cases(17, scale=0.6)


def quick(**kw: Any) -> Protocol:
    p = demo_protocol(**kw)
    data = json.loads(canonical_protocol_json(p))
    data["analysis"]["bootstrap_replicates"] = 200
    return Protocol.model_validate(data)


def test_one_site_is_a_stated_fallback(small) -> None:
    cases, _ = small
    one = cases[cases["site"] == "SITE-A"]
    p = quick()
    out = consistency_section(p, one, alpha=p.ci_alpha, seed=1)
    assert out is not None
    site = out["factors"]["site"]
    entry = site["endpoints"]["sensitivity"]
    assert entry["fallback"].startswith("only one level (SITE-A): nothing to compare or pool")
    assert [r["level"] for r in entry["levels"]] == ["SITE-A"] and entry["levels"][0]["estimate"]
    assert entry["interaction"] is None and entry["gap"] is None
    pooled = entry["pooled"]
    assert pooled["fallback"].startswith("single level: its own estimate")
    assert pooled["estimate"] == entry["levels"][0]["estimate"]
    c1 = next(r for r in out["rules"] if r["id"] == "C1")
    assert c1["decision"] == "not_evaluable" and "no prediction interval" in c1["reason"]
    # the other factors are still assessed within the one site
    assert out["factors"]["sex_by_age"]["endpoints"]["sensitivity"]["levels"]
    assert "NaN" not in canonical_json(out)


def test_site_without_positives_is_left_out_of_pooling_with_reason(small) -> None:
    cases, _ = small
    c = cases.copy()
    c.loc[c["site"] == "SITE-D", "truth"] = 0
    p = quick(min_level_size=5)
    out = consistency_section(p, c, alpha=p.ci_alpha, seed=1)
    assert out is not None
    pooled = out["factors"]["site"]["endpoints"]["sensitivity"]["pooled"]
    assert pooled["excluded"] == {"SITE-D": "no reference-positive case"}
    assert pooled["levels"] == ["SITE-A", "SITE-B", "SITE-C"]
    row = next(r for r in out["factors"]["site"]["endpoints"]["sensitivity"]["levels"]
               if r["level"] == "SITE-D")
    assert row["estimate"] is None and row["note"] == "no positive case"
    assert out["factors"]["site"]["bivariate"]["excluded"] == {
        "SITE-D": "no reference-positive or no reference-negative case"}
    assert "NaN" not in canonical_json(out)


def test_all_levels_below_minimum_are_shown_not_compared(small) -> None:
    cases, _ = small
    p = quick(min_level_size=10_000)
    out = consistency_section(p, cases, alpha=p.ci_alpha, seed=1)
    assert out is not None
    entry = out["factors"]["manufacturer"]["endpoints"]["sensitivity"]
    assert entry["fallback"].startswith("every level is below the minimum")
    assert entry["levels"] and all(r["below_minimum"] for r in entry["levels"])
    assert entry["interaction"] is None and entry["gap"] is None
    decisions = {r["id"]: r for r in out["rules"]}
    assert decisions["C2"]["decision"] == "not_evaluable"
    assert decisions["C3"]["decision"] == "not_evaluable"
    # pooling does not need the minimum: the sites are still pooled
    assert out["factors"]["site"]["endpoints"]["sensitivity"]["pooled"]["fallback"] is None


def synthetic(per_site: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    """Cases from per-site (tp, fn, tn, fp), one finding per patient."""
    rows = []
    for i, (tp, fn, tn, fp) in enumerate(per_site):
        for truth, call, n in ((1, 1, tp), (1, 0, fn), (0, 0, tn), (0, 1, fp)):
            for _ in range(n):
                k = len(rows)
                rows.append({"case_id": f"c{k}", "patient_id": f"p{k}", "site": f"S{i}",
                             "truth": truth, "score": 0.9 if call else 0.1, "indeterminate": False,
                             "sex": "F" if k % 2 else "M", "age": 30.0 + k % 50,
                             "manufacturer": "GE" if k % 3 else "Siemens"})
    return pd.DataFrame(rows)


def test_identical_site_estimates_fall_back_from_knapp_hartung() -> None:
    cases = synthetic([(16, 4, 40, 10)] * 3)
    p = quick(endpoints=["sensitivity", "specificity"], min_level_size=5, rules=[])
    out = consistency_section(p, cases, alpha=p.ci_alpha, seed=1)
    assert out is not None
    pooled = out["factors"]["site"]["endpoints"]["sensitivity"]["pooled"]
    assert pooled["estimate"] == pytest.approx(0.8, abs=1e-12)
    assert pooled["tau2"] == 0.0
    assert any("zero spread between levels" in n for n in pooled["notes"])
    assert "knha" not in pooled["method"]
    assert "NaN" not in canonical_json(out)


# ---------------------------------------------------------------------------------------------
# the engine


def test_results_without_the_section_are_unchanged(small) -> None:
    cases, flow = small
    with_it = quick()
    data = json.loads(canonical_protocol_json(with_it))
    data.pop("consistency")
    without = Protocol.model_validate(data)
    kw = {"flow": flow, "protocol_sha256": "b" * 64, "model_sha256": "a" * 64, "seed": 5}
    r0 = analyse(without, cases, **kw)
    r1 = analyse(with_it, cases, **kw)
    assert "consistency" not in r0
    assert r1["consistency"] == json.loads(canonical_json(
        consistency_section(with_it, cases, alpha=with_it.ci_alpha, seed=5)))
    r1.pop("consistency")
    assert canonical_json(r1) == canonical_json(r0)


def test_patient_unit_levels_count_patients() -> None:
    cases = synthetic([(12, 3, 30, 5), (10, 5, 25, 10), (14, 1, 35, 5)])
    dup = cases.iloc[:4].copy()  # second findings of four patients (same site)
    dup["case_id"] = [f"d{i}" for i in range(4)]
    both = pd.concat([cases, dup], ignore_index=True)
    data = json.loads(canonical_protocol_json(quick()))
    for e in data["endpoints"]:
        e["unit"] = "patient"
        if e["kind"] in ("sensitivity", "specificity", "ppv", "npv"):
            e["ci"] = "wilson"
        elif e["kind"] == "auc":
            e["ci"] = "delong"
    data["consistency"].update({"min_level_size": 5, "rules": []})
    p = Protocol.model_validate(data)
    out = consistency_section(p, both, alpha=p.ci_alpha, seed=1)
    assert out is not None
    rows = out["factors"]["site"]["endpoints"]["sensitivity"]["levels"]
    assert [r["n"] for r in rows] == [15, 15, 15]
    assert [r["successes"] for r in rows] == [12, 10, 14]
    # patient-unit pooling is on the plain counts, unchanged by the finding-unit adjustment
    pooled = out["factors"]["site"]["endpoints"]["sensitivity"]["pooled"]
    direct = pooled_proportion([12, 10, 14], [15, 15, 15], method="reml", knha=True, alpha=0.05)
    assert pooled["estimate"] == direct.estimate and pooled["ci"] == list(direct.ci)
    assert pooled["tau2"] == direct.tau2 and not pooled["method"].endswith("-rao-scott")
    assert not any("Rao-Scott" in n for n in pooled["notes"])


def _entry(p: float) -> dict[str, Any]:
    return {"interaction": {"p_value": p}, "gap": {"lowest_level": "B", "estimate": 0.2},
            "levels": []}


def test_differing_uses_the_rule_threshold_else_alpha() -> None:
    from validation.analysis.consistency import left_behind
    from validation.report.consistency import _paragraph

    factors = {"site": {"endpoints": {"sens": _entry(0.03), "spec": _entry(0.08)}},
               "sex": {"endpoints": {"sens": _entry(0.04), "spec": _entry(0.011)}}}
    rules = {("site", "sens"): (0.01, "R1"), ("site", "spec"): (0.10, "R2")}
    s = left_behind(factors, [], thresholds=rules, alpha=0.05)
    got = {(d["factor"], d["endpoint"]): d for d in s["differing"]}
    # site/sens: p 0.03 is above its rule's 0.01, so not differing though below the nominal 0.05
    assert set(got) == {("site", "spec"), ("sex", "sens"), ("sex", "spec")}
    assert got["site", "spec"]["p_threshold"] == 0.10 and got["site", "spec"]["source"] == "rule R2"
    assert got["sex", "sens"]["p_threshold"] == 0.05 and got["sex", "sens"]["source"] == "alpha"
    used = {(u["factor"], u["endpoint"]): u["source"] for u in s["interaction_thresholds"]}
    assert used == {("site", "sens"): "rule R1", ("site", "spec"): "rule R2",
                    ("sex", "sens"): "alpha", ("sex", "spec"): "alpha"}
    strict = left_behind(factors, [], thresholds=rules, alpha=0.01)
    assert {(d["factor"], d["endpoint"]) for d in strict["differing"]} == {("site", "spec")}
    text = _paragraph({"summary": s, "rules": []}, factors)
    assert "rule R1: 0.0100" in text and "rule R2: 0.1000" in text
    assert "the protocol's alpha (0.0500) where no rule names them" in text
    assert "at or below the rule R2 threshold of 0.1000" in text
    assert "at or below the alpha threshold of 0.0500" in text


def test_summary_records_the_demo_rules_thresholds(section) -> None:
    used = {(u["factor"], u["endpoint"]): (u["p_threshold"], u["source"])
            for u in section["summary"]["interaction_thresholds"]}
    assert used[("manufacturer", "sensitivity")] == (0.05, "rule C3")
    assert used[("site", "specificity")] == (0.05, "rule C4")
    assert used[("site", "sensitivity")] == (section["alpha"], "alpha")
