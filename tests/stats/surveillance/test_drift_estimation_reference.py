"""Drift and label-free estimation against independent references.

* PSI: computed in R with quantile(type = 7) edges and findInterval(left.open = TRUE) bins
  (tests/reference/surveillance/make_surveillance_refs.R); both sum the same finite terms,
  so 1e-12 absolute.
* KS: R ``ks.test(exact = TRUE)``; statistic 1e-12, p-value 1e-9 relative (scipy's exact
  two-sample distribution and R's psmirnov are independent implementations of the same
  recursion).
* Chi-square: R ``chisq.test(correct = FALSE)``; 1e-10 relative.
* Holm / BH: R ``p.adjust``; 1e-15 absolute (the same closed forms).
* CBPE: NannyML 0.13.1 (tests/reference/surveillance/make_cbpe_refs.py, own virtual
  environment, values in cbpe_refs.json) on the same cases: sensitivity, specificity,
  PPV and the expected confusion matrix are sums of the same terms, 1e-10; the AUC to 1e-6
  (NannyML rounds its cumulative counts to 5 decimals before the trapezoid); the isotonic
  calibrator to 1e-12 (both scikit-learn IsotonicRegression, clipped).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import validation.stats as vs

HERE = Path(__file__).parents[2] / "reference" / "surveillance"
R = json.loads((HERE / "surveillance_refs.json").read_text(encoding="utf-8"))
CBPE = json.loads((HERE / "cbpe_refs.json").read_text(encoding="utf-8"))


def test_psi_quantile_bins_match_r() -> None:
    c = R["psi"]
    r = vs.population_stability_index(c["baseline"], c["current"], bins=10)
    np.testing.assert_allclose(r.edges, c["quantile_edges"], atol=1e-12)
    assert r.estimate == pytest.approx(c["psi_quantile"], abs=1e-12)


def test_psi_given_edges_match_r() -> None:
    c = R["psi"]
    r = vs.population_stability_index(c["baseline"], c["current"], edges=c["given_edges"])
    assert r.estimate == pytest.approx(c["psi_given"], abs=1e-12)


def test_psi_edges_are_right_closed() -> None:
    r = vs.population_stability_index([0.5, 1.0, 1.5], [1.0, 1.0, 2.0], edges=[1.0])
    np.testing.assert_allclose(r.baseline_proportions, [2 / 3, 1 / 3])  # 1.0 in (-inf, 1]
    np.testing.assert_allclose(r.current_proportions, [2 / 3, 1 / 3])
    assert r.estimate == 0.0


@pytest.mark.parametrize("size", ["small", "large"])
def test_ks_matches_r(size: str) -> None:
    c = R["ks"][size]
    r = vs.ks_drift(c["x"], c["y"])
    assert r.statistic == pytest.approx(c["statistic"], abs=1e-12)
    assert r.p_value == pytest.approx(c["p_value"], rel=1e-9)


def test_chi2_matches_r() -> None:
    c = R["chi2"]
    cats = ["a", "b", "c", "d"]
    r = vs.chi2_mix(dict(zip(cats, c["baseline"], strict=True)),
                    dict(zip(cats, c["current"], strict=True)))
    assert r.statistic == pytest.approx(c["statistic"], rel=1e-10)
    assert r.df == c["df"]
    assert r.p_value == pytest.approx(c["p_value"], rel=1e-10)
    r2 = vs.chi2_mix({"x": c["baseline_2"][0], "y": c["baseline_2"][1]},
                     {"x": c["current_2"][0], "y": c["current_2"][1]})
    assert r2.statistic == pytest.approx(c["statistic_2"], rel=1e-10)
    assert r2.p_value == pytest.approx(c["p_value_2"], rel=1e-10)


def test_chi2_category_in_one_sample_only_and_single_category() -> None:
    r = vs.chi2_mix({"GE": 50}, {"GE": 40, "Canon": 10})
    assert r.df == 1 and r.categories == ("Canon", "GE") and r.p_value < 0.01
    one = vs.chi2_mix({"GE": 50}, {"GE": 40})
    assert (one.statistic, one.df, one.p_value) == (0.0, 0, 1.0)


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_drift_adjustment_matches_p_adjust(method: str) -> None:
    c = R["adjust"]
    r = vs.adjust_drift_pvalues(c["p"], method=method)
    np.testing.assert_allclose(r.adjusted, c[method], atol=1e-15)
    assert ("Holm" in r.method) == (method == "holm")


def _cbpe_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    d = pd.read_csv(HERE / "cbpe_data.csv")
    return (d[d["set"] == "reference"].reset_index(drop=True),
            d[d["set"] == "analysis"].reset_index(drop=True))


def test_calibrator_matches_nannyml_isotonic() -> None:
    ref, _ = _cbpe_data()
    cal = vs.fit_calibrator(ref["score"], ref["truth"])
    assert cal.method == "isotonic"
    got = cal.predict(np.array(CBPE["calibrator_grid"]))
    np.testing.assert_allclose(got, CBPE["calibrator_predictions"], atol=1e-12)


def test_estimated_performance_matches_nannyml_cbpe() -> None:
    assert CBPE["needs_calibration"] is True  # NannyML calibrated, as we do
    ref, ana = _cbpe_data()
    cal = vs.fit_calibrator(ref["score"], ref["truth"])
    for c in CBPE["chunks"]:
        p = cal.predict(ana["score"].to_numpy()[c["start"]:c["end"] + 1])
        e = vs.estimated_performance(p, threshold=CBPE["threshold"])
        assert e.sensitivity.estimate == pytest.approx(c["recall"], abs=1e-10)
        assert e.specificity.estimate == pytest.approx(c["specificity"], abs=1e-10)
        assert e.ppv.estimate == pytest.approx(c["precision"], abs=1e-10)
        assert e.auc.estimate == pytest.approx(c["roc_auc"], abs=1e-6)
        assert e.expected_tp == pytest.approx(c["true_positive"], abs=1e-8)
        assert e.expected_fp == pytest.approx(c["false_positive"], abs=1e-8)
        assert e.expected_tn == pytest.approx(c["true_negative"], abs=1e-8)
        assert e.expected_fn == pytest.approx(c["false_negative"], abs=1e-8)
        assert e.label == "estimated" and "estimated" in e.sensitivity.method


def test_estimated_band_covers_realised_figures_as_stated() -> None:
    """Labels drawn from the calibrated probabilities: the 95% band of sensitivity holds the
    realised sensitivity in about 95% of draws (400 draws; 0.90-0.99 accepts a correct band
    with probability > 0.999)."""
    rng = np.random.default_rng(11)
    p = rng.beta(2, 3, 1500)
    e = vs.estimated_performance(p, threshold=0.5)
    lo, hi = e.sensitivity.band
    hits = 0
    for _ in range(400):
        y = rng.random(p.size) < p
        realised = (y & (p >= 0.5)).sum() / y.sum()
        hits += lo <= realised <= hi
    assert 0.90 <= hits / 400 <= 0.99


def test_platt_calibrator_matches_statsmodels_logit() -> None:
    """Platt: the unpenalised logistic fit against statsmodels' Newton-Raphson Logit (an
    independent optimiser): probabilities to 1e-6."""
    import statsmodels.api as sm

    ref, _ = _cbpe_data()
    cal = vs.fit_calibrator(ref["score"], ref["truth"], method="platt")
    fit = sm.Logit(ref["truth"].to_numpy(), sm.add_constant(ref["score"].to_numpy())).fit(disp=0)
    grid = np.linspace(0, 1, 11)
    np.testing.assert_allclose(cal.predict(grid), fit.predict(sm.add_constant(grid)), atol=1e-6)
    assert cal.method == "platt"
