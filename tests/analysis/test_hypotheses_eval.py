"""Evaluation of a protocol's hypotheses for results.json (validation.analysis.hypotheses).

The tests themselves are checked against R in tests/stats; here: that each hypothesis reaches
the right statistics call with the right null value, that the one-sided level follows the
protocol's sidedness, that the multiplicity procedure decides, and that the MRMC
non-inferiority test agrees with the MRMC module's own (an independent implementation).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from validation.analysis.hypotheses import HypothesisContext, evaluate_hypotheses
from validation.errors import DataError, ProtocolError
from validation.protocol import Protocol
from validation.stats.differences import paired_difference
from validation.stats.proportions import proportion_ci

BASE: dict[str, Any] = {
    "schema_version": "1.0",
    "study": {"id": "HYP-1", "title": "hypotheses", "version": "1", "sponsor": "t"},
    "device": {"name": "d", "version": "1", "intended_use": "t", "risk_class": "II"},
    "model": {"kind": "precomputed", "artifact": "p.csv", "sha256": "a" * 64,
              "training_sites": ["T1"], "operating_point": 0.5},
    "test_set": {"manifest": "m.csv", "reference_standard": "sim"},
    "endpoints": [
        {"id": "sens", "kind": "sensitivity", "unit": "patient", "ci": "wilson"},
        {"id": "spec", "kind": "specificity", "unit": "patient", "ci": "exact"},
        {"id": "auc", "kind": "auc", "unit": "patient", "ci": "delong"},
    ],
    "hypotheses": [
        {"id": "H1", "endpoint": "sens", "type": "performance_goal", "goal": 0.80},
        {"id": "H2", "endpoint": "spec", "type": "performance_goal", "goal": 0.85},
        {"id": "H3", "endpoint": "auc", "type": "noninferiority", "goal": 0.90, "margin": 0.05},
    ],
    "alpha": 0.05,
    "sidedness": "two-sided",
    "multiplicity": {"procedure": "fixed_sequence", "order": ["H1", "H2", "H3"]},
    "analysis": {"seed": 1},
}


def make_protocol(skip_checks: bool = False, **changes: Any) -> Protocol:
    p = copy.deepcopy(BASE)
    p.update(changes)
    ctx = {"skip_cross_checks": True} if skip_checks else None
    return Protocol.model_validate(p, context=ctx)


def pooled_proportion(x: int, n: int, method: str, alpha: float) -> dict[str, Any]:
    d = proportion_ci(x, n, method=method, alpha=alpha).to_dict()
    return d


RESULTS: dict[str, Any] = {
    "endpoints": {
        "sens": {"pooled": pooled_proportion(178, 200, "wilson", 0.05)},
        "spec": {"pooled": pooled_proportion(540, 600, "exact", 0.05)},
        "auc": {"pooled": {"estimate": 0.93, "ci": [0.90, 0.96], "se": 0.015,
                           "method": "DeLong", "references": []}},
    },
    "reader_study": None,
}
CTX = HypothesisContext(cases=None, ratings=None, ci_alpha=0.05)


def by_id(hyps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {h["id"]: h for h in hyps}


def test_contract_keys_and_fixed_sequence() -> None:
    hyps, mult = evaluate_hypotheses(make_protocol(), RESULTS, CTX)
    keys = {"id", "endpoint", "type", "test", "estimate", "ci", "margin", "goal", "statistic",
            "df", "p_value", "p_adjusted", "alpha", "decision", "reason"}
    for h in hyps:
        assert keys <= set(h)
        assert h["alpha"] == 0.025  # two-sided 0.05 -> one-sided 0.025
    h = by_id(hyps)
    # H1: Wilson score test of 178/200 against 0.80 (the endpoint's own 95% Wilson CI)
    z = (0.89 - 0.8) / np.sqrt(0.8 * 0.2 / 200)
    assert h["H1"]["statistic"] == pytest.approx(z, abs=1e-12)
    assert h["H1"]["p_value"] == pytest.approx(sps.norm.sf(z), abs=1e-12)
    assert h["H1"]["ci"] == pytest.approx(RESULTS["endpoints"]["sens"]["pooled"]["ci"], abs=1e-12)
    # H2: exact binomial test of 540/600 against 0.85, Clopper-Pearson CI as the endpoint's
    assert h["H2"]["p_value"] == pytest.approx(
        sps.binomtest(540, 600, 0.85, alternative="greater").pvalue, abs=1e-12)
    assert h["H2"]["ci"] == pytest.approx(RESULTS["endpoints"]["spec"]["pooled"]["ci"], abs=1e-9)
    # H3: AUC against 0.90 - 0.05 with the DeLong standard error
    z3 = (0.93 - 0.85) / 0.015
    assert h["H3"]["statistic"] == pytest.approx(z3, abs=1e-12)
    assert h["H3"]["null_value"] == pytest.approx(0.85)
    assert h["H3"]["estimate"] == pytest.approx(0.93)
    # fixed sequence: adjusted p = running maximum
    ps = [h[k]["p_value"] for k in ("H1", "H2", "H3")]
    assert [h[k]["p_adjusted"] for k in ("H1", "H2", "H3")] == pytest.approx(
        list(np.maximum.accumulate(ps)), abs=1e-15)
    assert all(h[k]["decision"] == "pass" for k in ("H1", "H2", "H3"))
    assert mult["procedure"] == "fixed_sequence" and mult["alpha"] == 0.025
    assert mult["rejection_order"] == ["H1", "H2", "H3"]
    assert "fixed sequence, step 1" in h["H1"]["reason"]


def test_failure_stops_the_sequence() -> None:
    res = copy.deepcopy(RESULTS)
    res["endpoints"]["sens"]["pooled"] = pooled_proportion(165, 200, "wilson", 0.05)
    h = by_id(evaluate_hypotheses(make_protocol(), res, CTX)[0])
    assert h["H1"]["decision"] == "fail"
    assert h["H2"]["decision"] == "fail" and "H1 earlier in the sequence" in h["H2"]["reason"]


def test_one_sided_protocol_keeps_alpha() -> None:
    p = make_protocol(alpha=0.025, sidedness="one-sided")
    hyps, mult = evaluate_hypotheses(p, RESULTS, CTX)
    assert mult["alpha"] == 0.025 and all(h["alpha"] == 0.025 for h in hyps)


def test_holm_and_graphical() -> None:
    holm = make_protocol(multiplicity={"procedure": "holm", "hypotheses": ["H1", "H2", "H3"]})
    h, mult = evaluate_hypotheses(holm, RESULTS, CTX)
    ps = sorted(x["p_value"] for x in h)
    assert min(x["p_adjusted"] for x in h) == pytest.approx(3 * ps[0], abs=1e-15)
    graph = make_protocol(multiplicity={
        "procedure": "graphical",
        "weights": {"H1": 0.5, "H2": 0.5, "H3": 0.0},
        "transitions": {"H1": {"H3": 1.0}, "H2": {"H3": 1.0}, "H3": {"H1": 0.5, "H2": 0.5}},
    })
    hg, mg = evaluate_hypotheses(graph, RESULTS, CTX)
    assert mg["weights"] == {"H1": 0.5, "H2": 0.5, "H3": 0.0}
    assert mg["transitions"]["H3"] == {"H1": 0.5, "H2": 0.5, "H3": 0.0}
    assert all(x["decision"] == "pass" for x in hg)
    assert "graphical" in hg[0]["reason"]


def test_coprimary_all_or_nothing() -> None:
    p = make_protocol(multiplicity={"procedure": "coprimary", "hypotheses": ["H1", "H2"]})
    res = copy.deepcopy(RESULTS)
    res["endpoints"]["spec"]["pooled"] = pooled_proportion(515, 600, "exact", 0.05)
    h, mult = evaluate_hypotheses(p, res, CTX)
    d = by_id(h)
    assert d["H2"]["decision"] == "fail" and d["H1"]["decision"] == "fail"
    assert d["H1"]["p_adjusted"] == pytest.approx(d["H2"]["p_value"])
    assert "not in the multiplicity family" in d["H3"]["reason"]
    assert not mult["all_rejected"]


def _sens_protocol(ci: str, unit: str, goal: float, **extra: Any) -> Protocol:
    return make_protocol(
        endpoints=[{"id": "sens", "kind": "sensitivity", "unit": unit, "ci": ci}],
        hypotheses=[{"id": "H1", "endpoint": "sens", "type": "performance_goal", "goal": goal,
                     **extra}],
        multiplicity={"procedure": "none"}, sidedness="one-sided", alpha=0.025)


def test_clustered_endpoint_p_value_inverts_its_interval() -> None:
    """A finding-level Wilson interval (Rao-Scott effective n): the p-value is the score test on
    the effective sample size, so it agrees with the bound. Goals just below and just above
    the lower bound flip both together; the old Wald z (from the ratio-estimator SE) passed
    a goal that the bound fails."""
    from validation.stats.interval_inversion import proportion_interval_pvalue
    from validation.stats.proportions import clustered_proportion_ci

    rng = np.random.default_rng(11)
    patients = np.repeat(np.arange(60), 4)
    frailty = rng.random(60)[patients] < 0.3
    outcome = np.where(frailty, rng.random(240) < 0.55, rng.random(240) < 0.97).astype(int)
    pooled = clustered_proportion_ci(outcome, patients, method="wilson", alpha=0.05).to_dict()
    lower = pooled["ci"][0]
    se = pooled["se"]
    wald_pass_goal = round(lower + 1e-3, 4)  # above the bound, yet the Wald z passes it
    assert float(sps.norm.sf((pooled["estimate"] - wald_pass_goal) / se)) <= 0.025
    for goal, expect in ((lower - 1e-6, "pass"), (lower + 1e-6, "fail"),
                         (wald_pass_goal, "fail")):
        p = _sens_protocol("wilson", "finding", goal)
        res = {"endpoints": {"sens": {"pooled": pooled}}}
        h = evaluate_hypotheses(p, res, HypothesisContext(None, None, 0.05))[0][0]
        n_eff = pooled["effective_n"]
        assert h["p_value"] == pytest.approx(proportion_interval_pvalue(
            pooled["estimate"] * n_eff, n_eff, goal, method="wilson"), abs=1e-15)
        assert h["decision"] == expect, (goal, h["reason"])
        assert (h["p_value"] <= 0.025) == (h["ci"][0] > goal)
        # the statistic is the score z on the effective sample size (the test that decided)
        score_z = (pooled["estimate"] - goal) / np.sqrt(goal * (1 - goal) / n_eff)
        assert h["statistic"] == pytest.approx(score_z, abs=1e-9)
        assert h["test"] == "test inverting the Wilson score interval"
        assert "effective sample size" in h["reason"]


@pytest.mark.parametrize("ci", ["jeffreys", "agresti-coull"])
def test_patient_level_interval_methods_agree_with_their_bound(ci: str) -> None:
    pooled = proportion_ci(170, 200, method=ci, alpha=0.05).to_dict()
    pooled.update(successes=170, n=200)
    for goal in (pooled["ci"][0] - 1e-7, pooled["ci"][0] + 1e-7):
        h = evaluate_hypotheses(_sens_protocol(ci, "patient", goal),
                                {"endpoints": {"sens": {"pooled": pooled}}}, CTX)[0][0]
        assert (h["decision"] == "pass") == (pooled["ci"][0] > goal)
        assert (h["p_value"] <= 0.025) == (pooled["ci"][0] > goal)


@pytest.mark.parametrize(("ci", "unit"), [("bootstrap", "patient"),
                                          ("cluster_bootstrap", "finding")])
def test_bootstrap_endpoint_p_value_is_the_replicates_position(ci: str, unit: str) -> None:
    """The bootstrap replicates are redrawn with the analysis seed: the p-value's level puts
    the percentile bound exactly at the goal."""
    from validation.analysis.endpoints import proportion_endpoint, score_bounds, unit_data

    cases = _paired_cases(seed=9, n=400, findings_per_patient=2)
    proto = _sens_protocol(ci, unit, 0.7)
    d = unit_data(cases, unit=unit, operating_point=0.5, scenario="worst_case",
                  score_bounds=score_bounds(cases))
    pooled = proportion_endpoint("sensitivity", d, ci=ci, alpha=0.05, seed=1,
                                 n_boot=int(proto.analysis.bootstrap_replicates))
    ctx = HypothesisContext(cases=cases, ratings=None, ci_alpha=0.05, seed=1)
    lower = pooled["ci"][0]
    ps = []
    for goal, expect in ((lower - 1e-6, "pass"), (lower + 1e-6, "fail")):
        h = evaluate_hypotheses(_sens_protocol(ci, unit, goal),
                                {"endpoints": {"sens": {"pooled": pooled}}}, ctx)[0][0]
        assert h["decision"] == expect, h["reason"]
        ps.append(h["p_value"])
    # replicates of a proportion are discrete: the level jumps across alpha at the bound
    assert ps[0] <= 0.025 < ps[1]
    with pytest.raises(DataError, match="per-case data"):
        evaluate_hypotheses(proto, {"endpoints": {"sens": {"pooled": pooled}}}, CTX)


def test_bca_bootstrap_endpoint_is_decided_on_its_bca_bound() -> None:
    """analysis.bootstrap_interval: bca reaches the endpoint (its interval is BCa) and the
    hypothesis test inverts that BCa interval."""
    from validation.analysis.engine import _standalone_endpoint

    cases = _paired_cases(seed=9, n=400)
    base = _sens_protocol("bootstrap", "patient", 0.7)
    proto = base.model_copy(update={"analysis": base.analysis.model_copy(
        update={"bootstrap_interval": "bca"})})
    pooled = _standalone_endpoint(proto, proto.endpoints[0], cases, {}, alpha=0.05, seed=1,
                                  n_indeterminate=int(cases["indeterminate"].sum()))["pooled"]
    assert pooled["method"] == "bootstrap-simple-bca"
    assert pooled["bias_correction"] is not None and pooled["acceleration"] is not None
    ctx = HypothesisContext(cases=cases, ratings=None, ci_alpha=0.05, seed=1)
    lower = pooled["ci"][0]
    for goal, expect in ((lower - 1e-6, "pass"), (lower + 1e-6, "fail")):
        p = proto.model_copy(update={"hypotheses": [proto.hypotheses[0].model_copy(
            update={"goal": goal})]})
        h = evaluate_hypotheses(p, {"endpoints": {"sens": {"pooled": pooled}}}, ctx)[0][0]
        assert h["decision"] == expect, h["reason"]
        assert "BCa" in h["reason"]


@pytest.mark.parametrize("interval", ["percentile", "bca"])
def test_auc_bootstrap_endpoint_is_decided_on_its_own_interval(interval: str) -> None:
    """An AUC with a bootstrap interval: the hypothesis inverts that same interval (BCa when the
    protocol says so), so its CI is the endpoint's and the decision follows its bound."""
    from validation.analysis.engine import _standalone_endpoint

    cases = _paired_cases(seed=9, n=400)
    proto = make_protocol(
        endpoints=[{"id": "auc", "kind": "auc", "unit": "patient", "ci": "bootstrap"}],
        hypotheses=[{"id": "H1", "endpoint": "auc", "type": "performance_goal", "goal": 0.7}],
        multiplicity={"procedure": "none"}, sidedness="one-sided", alpha=0.025,
        analysis={"seed": 1, "bootstrap_replicates": 1000, "bootstrap_interval": interval})
    pooled = _standalone_endpoint(proto, proto.endpoints[0], cases, {}, alpha=0.05, seed=1,
                                  n_indeterminate=int(cases["indeterminate"].sum()))["pooled"]
    assert pooled["method"].endswith(interval)
    ctx = HypothesisContext(cases=cases, ratings=None, ci_alpha=0.05, seed=1)
    lower = pooled["ci"][0]
    for goal, expect in ((lower - 1e-6, "pass"), (lower + 1e-6, "fail")):
        p = proto.model_copy(update={"hypotheses": [proto.hypotheses[0].model_copy(
            update={"goal": goal})]})
        h = evaluate_hypotheses(p, {"endpoints": {"auc": {"pooled": pooled}}}, ctx)[0][0]
        assert h["ci"] == pooled["ci"] and h["decision"] == expect, h["reason"]
        label = "BCa" if interval == "bca" else "percentile"
        assert h["test"] == f"test inverting the bootstrap {label} interval"


def test_bootstrap_bound_equal_to_the_goal_fails() -> None:
    """With 1001 replicates the percentile bound is an order statistic, a fraction k/50 here:
    across seeds it often equals the goal 0.8 exactly. Such a bound does not exceed the goal,
    and the decision (from the p-value) must say so."""
    from validation.analysis.engine import _standalone_endpoint

    proto = _sens_protocol("bootstrap", "patient", 0.8)
    proto = proto.model_copy(update={"analysis": proto.analysis.model_copy(
        update={"bootstrap_replicates": 1001})})
    truth = np.r_[np.ones(50), np.zeros(50)].astype(int)
    score = np.r_[np.full(45, 0.9), np.full(5, 0.1), np.full(50, 0.1)]
    cases = pd.DataFrame({"case_id": [f"c{i}" for i in range(100)],
                          "patient_id": [f"p{i}" for i in range(100)], "site": "S1",
                          "truth": truth, "score": score, "indeterminate": False})
    ties = 0
    for seed in range(60):
        pooled = _standalone_endpoint(proto, proto.endpoints[0], cases, {}, alpha=0.05,
                                      seed=seed, n_indeterminate=0)["pooled"]
        ctx = HypothesisContext(cases=cases, ratings=None, ci_alpha=0.05, seed=seed)
        h = evaluate_hypotheses(proto, {"endpoints": {"sens": {"pooled": pooled}}}, ctx)[0][0]
        assert (h["decision"] == "pass") == (pooled["ci"][0] > 0.8), (seed, h["reason"])
        ties += pooled["ci"][0] == 0.8
        if pooled["ci"][0] == 0.8:
            assert "lower bound of the 95% CI 0.8 <= 0.8" in h["reason"]
    assert ties >= 1  # the case the test is about occurs


def test_mrmc_noninferiority_matches_the_mrmc_module(reference_dir) -> None:
    from validation.stats.mrmc import mrmc_analysis

    df = pd.read_csv(reference_dir / "mrmc" / "vandyke_1993_roc.csv")
    df[["reader", "modality", "case"]] = df[["reader", "modality", "case"]].astype(str)
    d = mrmc_analysis(df, modalities=("1", "2"), margin=0.05, alpha=0.05).to_dict()
    proto = {
        "reader_study": {"ratings": "r.csv", "modalities": ["1", "2"]},
        "endpoints": [{"id": "mrmc", "kind": "mrmc_auc"}],
        "hypotheses": [
            {"id": "H1", "endpoint": "mrmc", "type": "noninferiority", "margin": 0.05,
             "comparator": "1"},
            {"id": "H2", "endpoint": "mrmc", "type": "superiority", "comparator": "1"},
            {"id": "H3", "endpoint": "mrmc", "type": "noninferiority", "margin": 0.05,
             "comparator": "2"},
        ],
        "multiplicity": {"procedure": "none"},
        "alpha": 0.05, "sidedness": "one-sided",
    }
    results = {"endpoints": {}, "reader_study": {"by_endpoint": {"mrmc": d}}}
    # H3 names the test modality as comparator, which a validated protocol refuses; the
    # evaluation still handles the sign, checked here with the cross-checks skipped
    h = by_id(evaluate_hypotheses(make_protocol(skip_checks=True, **proto), results, CTX)[0])
    ni = d["noninferiority"]
    assert h["H1"]["statistic"] == pytest.approx(ni["statistic"], abs=1e-12)
    assert h["H1"]["p_value"] == pytest.approx(ni["p_value"], abs=1e-12)
    assert h["H1"]["df"] == pytest.approx(ni["df"])
    assert h["H2"]["p_value"] == pytest.approx(ni["superiority_p_value"], abs=1e-12)
    # the other comparator flips the difference: 1 - 2 = -0.0438
    assert h["H3"]["estimate"] == pytest.approx(-d["difference"]["estimate"], abs=1e-15)
    assert h["H3"]["decision"] == "fail"


def _paired_cases(seed: int = 4, n: int = 300, findings_per_patient: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = (rng.random(n) < 0.4).astype(int)
    score = np.where(truth == 1, rng.random(n) * 0.6 + 0.35, rng.random(n) * 0.6)
    reader = np.where(truth == 1, rng.random(n) < 0.8, rng.random(n) < 0.1)
    reader_score = np.clip(np.where(truth == 1, 0.62, 0.4) + rng.normal(0, 0.2, n), 0, 1)
    ind = rng.random(n) < 0.05
    return pd.DataFrame({"case_id": [f"c{i}" for i in range(n)],
                         "patient_id": [f"p{i // findings_per_patient}" for i in range(n)],
                         "site": "S1", "truth": truth, "score": np.where(ind, np.nan, score),
                         "indeterminate": ind,
                         "reader_call": np.where(reader, "1", "0"),
                         "reader_score": reader_score})


def _paired_protocol(**hyp: Any) -> Protocol:
    h = {"id": "H1", "endpoint": "sens", "type": "noninferiority", "margin": 0.05,
         "comparator_column": "reader_call", **hyp}
    return make_protocol(hypotheses=[h], multiplicity={"procedure": "none"})


def test_paired_comparator_uses_tango_with_worst_case_indeterminates() -> None:
    cases = _paired_cases()
    proto = _paired_protocol()
    ctx = HypothesisContext(cases=cases, ratings=None, ci_alpha=0.05)
    h = evaluate_hypotheses(proto, RESULTS, ctx)[0][0]
    truth = cases["truth"].to_numpy()
    ind = cases["indeterminate"].to_numpy()
    pos = truth == 1
    # worst case: an indeterminate model result on a positive case is a miss; the reader's
    # own call is used on every case
    new = np.where(ind, False, cases["score"].to_numpy() >= 0.5)[pos]
    old = (cases["reader_call"] == "1").to_numpy()[pos]
    cells = (int((new & old).sum()), int((new & ~old).sum()), int((~new & old).sum()),
             int((~new & ~old).sum()))
    direct = paired_difference(*cells, margin=0.05, alpha=0.05)
    assert h["paired_counts"] == dict(zip("abcd", cells, strict=True))
    assert h["statistic"] == pytest.approx(direct.noninferiority.statistic, abs=1e-12)
    assert h["p_value"] == pytest.approx(direct.noninferiority.p_value, abs=1e-12)
    assert h["ci"] == pytest.approx(list(direct.ci), abs=1e-12)
    assert h["comparator_column"] == "reader_call"
    # specificity: correct = called negative; the per-protocol population drops the model's
    # indeterminate cases from both readings
    spec = make_protocol(
        hypotheses=[{"id": "H1", "endpoint": "spec", "type": "superiority",
                     "comparator_column": "reader_call"}],
        multiplicity={"procedure": "none"},
        populations=["all_eligible", "per_protocol"],
        endpoints=[*BASE["endpoints"][:1],
                   {"id": "spec", "kind": "specificity", "unit": "patient", "ci": "exact",
                    "population": "per_protocol"}, BASE["endpoints"][2]],
    )
    hs = evaluate_hypotheses(spec, RESULTS, ctx)[0][0]
    neg = (truth == 0) & ~ind
    new_s = ~(cases["score"].to_numpy()[neg] >= 0.5)
    old_s = ~(cases["reader_call"] == "1").to_numpy()[neg]
    cells = (int((new_s & old_s).sum()), int((new_s & ~old_s).sum()),
             int((~new_s & old_s).sum()), int((~new_s & ~old_s).sum()))
    assert hs["paired_counts"] == dict(zip("abcd", cells, strict=True))


def test_paired_comparator_auc_uses_paired_delong() -> None:
    from validation.stats.roc import compare_auc

    cases = _paired_cases(seed=5)
    proto = _paired_protocol(endpoint="auc", margin=0.10, comparator_column="reader_score")
    h = evaluate_hypotheses(proto, RESULTS, HypothesisContext(cases, None, 0.05))[0][0]
    ind = cases["indeterminate"].to_numpy()
    truth = cases["truth"].to_numpy()
    s = cases["score"].to_numpy()
    lo, hi = np.nanmin(s) - 1, np.nanmax(s) + 1
    mine = np.where(ind, np.where(truth == 0, hi, lo), s)  # worst-ranked indeterminates
    cmp_ = compare_auc(truth, mine, cases["reader_score"].to_numpy(), alpha=0.05)
    assert h["estimate"] == pytest.approx(cmp_.estimate, abs=1e-12)
    assert h["statistic"] == pytest.approx((cmp_.estimate + 0.10) / cmp_.se, abs=1e-12)
    assert h["p_value"] == pytest.approx(sps.norm.sf((cmp_.estimate + 0.10) / cmp_.se),
                                         abs=1e-12)


def test_paired_comparator_clustered_findings() -> None:
    import statsmodels.api as sm

    from validation.stats.roc import compare_auc

    cases = _paired_cases(seed=6, n=400, findings_per_patient=3)
    proto = make_protocol(
        endpoints=[{"id": "sens", "kind": "sensitivity", "unit": "finding", "ci": "wilson"},
                   {"id": "auc", "kind": "auc", "unit": "finding", "ci": "obuchowski"}],
        hypotheses=[{"id": "H1", "endpoint": "sens", "type": "noninferiority", "margin": 0.05,
                     "comparator_column": "reader_call"},
                    {"id": "H2", "endpoint": "auc", "type": "superiority",
                     "comparator_column": "reader_score"}],
        multiplicity={"procedure": "holm", "hypotheses": ["H1", "H2"]},
    )
    hyps = by_id(evaluate_hypotheses(proto, RESULTS, HypothesisContext(cases, None, 0.05))[0])
    truth = cases["truth"].to_numpy()
    ind = cases["indeterminate"].to_numpy()
    pos = truth == 1
    new = np.where(ind, False, cases["score"].to_numpy() >= 0.5)[pos].astype(float)
    old = (cases["reader_call"] == "1").to_numpy()[pos].astype(float)
    # independent: OLS of the per-finding difference on a constant with a cluster-robust
    # (CR1, G/(G-1) for one parameter) covariance = the ratio-estimator variance
    fit = sm.OLS(new - old, np.ones(int(pos.sum()))).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(cases["patient_id"][pos])[0]})
    est, se = float(fit.params[0]), float(fit.bse[0])
    assert hyps["H1"]["estimate"] == pytest.approx(est, abs=1e-12)
    assert hyps["H1"]["statistic"] == pytest.approx((est + 0.05) / se, abs=1e-10)
    assert hyps["H1"]["p_value"] == pytest.approx(sps.norm.sf((est + 0.05) / se), abs=1e-10)
    assert hyps["H1"]["paired_counts"]["b"] + hyps["H1"]["paired_counts"]["c"] > 0
    s = cases["score"].to_numpy()
    lo, hi = np.nanmin(s) - 1, np.nanmax(s) + 1
    mine = np.where(ind, np.where(truth == 0, hi, lo), s)
    cmp_ = compare_auc(truth, mine, cases["reader_score"].to_numpy(),
                       cluster=cases["patient_id"].to_numpy())
    assert hyps["H2"]["statistic"] == pytest.approx(cmp_.estimate / cmp_.se, abs=1e-12)
    assert "Obuchowski" in hyps["H2"]["test"]


def test_paired_comparator_bad_column_values() -> None:
    cases = _paired_cases()
    cases.loc[[3, 7], "reader_call"] = ["maybe", None]
    with pytest.raises(DataError) as err:
        evaluate_hypotheses(_paired_protocol(), RESULTS, HypothesisContext(cases, None, 0.05))
    text = str(err.value) + " ".join(getattr(err.value, "problems", []) or [])
    assert "reader_call" in text and "c3" in text and "c7" in text and "'maybe'" in text
    with pytest.raises(ProtocolError, match="no per-case data"):
        evaluate_hypotheses(_paired_protocol(), RESULTS, CTX)


def test_paired_comparator_numeric_text_calls() -> None:
    cases = _paired_cases()
    ctx = HypothesisContext(cases, None, 0.05)
    want = evaluate_hypotheses(_paired_protocol(), RESULTS, ctx)[0][0]
    as_float_text = cases.assign(reader_call=cases["reader_call"].map({"1": "1.0", "0": "0.0"}))
    got = evaluate_hypotheses(_paired_protocol(), RESULTS,
                              HypothesisContext(as_float_text, None, 0.05))[0][0]
    assert got["paired_counts"] == want["paired_counts"]
    assert got["p_value"] == want["p_value"]


@pytest.mark.parametrize("endpoint", ["sens", "auc"])
def test_paired_comparator_identical_readings_name_the_hypothesis(endpoint: str) -> None:
    cases = _paired_cases(seed=8, n=300, findings_per_patient=3)
    cases["score"] = cases["score"].fillna(0.9)
    cases["indeterminate"] = False
    cases["reader_call"] = np.where(cases["score"] >= 0.5, "1", "0")
    cases["reader_score"] = cases["score"]
    column = "reader_call" if endpoint == "sens" else "reader_score"
    proto = make_protocol(
        endpoints=[{"id": "sens", "kind": "sensitivity", "unit": "finding", "ci": "wilson"},
                   {"id": "auc", "kind": "auc", "unit": "finding", "ci": "obuchowski"}],
        hypotheses=[{"id": "H7", "endpoint": endpoint, "type": "superiority",
                     "comparator_column": column}],
        multiplicity={"procedure": "none"},
    )
    with pytest.raises(DataError) as err:
        evaluate_hypotheses(proto, RESULTS, HypothesisContext(cases, None, 0.05))
    text = str(err.value)
    assert "hypothesis 'H7'" in text and repr(column) in text and "unit finding" in text
    assert "zero" in text


def test_bad_protocols() -> None:
    undefined = make_protocol(
        skip_checks=True,
        hypotheses=[{"id": "H1", "endpoint": "nope", "type": "performance_goal", "goal": 0.8}],
        multiplicity={"procedure": "none"},
    )
    with pytest.raises(ProtocolError, match="endpoint 'nope'"):
        evaluate_hypotheses(undefined, RESULTS, CTX)
    family = make_protocol(skip_checks=True,
                           multiplicity={"procedure": "holm", "hypotheses": ["H1", "H9"]})
    with pytest.raises(ProtocolError, match="H9"):
        evaluate_hypotheses(family, RESULTS, CTX)
    res = copy.deepcopy(RESULTS)
    res["endpoints"]["auc"]["pooled"] = {"estimate": None, "ci": [None, None], "method": "x",
                                         "note": "one class"}
    with pytest.raises(DataError, match="'auc'"):
        evaluate_hypotheses(make_protocol(), res, CTX)
