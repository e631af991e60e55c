"""Logistic recalibration against R 4.2 ``glm`` and its defining invariant.

Reference values: tests/reference/calibration/calibration_refs.json (make_calibration_refs.R):
``glm(y ~ qlogis(p), binomial)`` fitted on site A (the tuning split) and applied to site B as
``plogis(a + b qlogis(p))``, then the calibration intercept, slope and Brier score of the
recalibrated probabilities on site B. Tolerance 1e-8 for the logistic fits (both sides iterate to
convergence, as in test_calibration.py), 1e-12 for the Brier score of the applied model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.errors import InputError
from validation.stats import calibration_summary, fit_recalibration

REF = Path(__file__).resolve().parents[1] / "reference" / "calibration"
R = json.loads((REF / "calibration_refs.json").read_text())
DATA = pd.read_csv(REF / "calibration.csv")
Y = DATA["truth"].to_numpy()
P = DATA["probability"].to_numpy()
A = (DATA["site"] == "A").to_numpy()


def test_fit_matches_r_glm_on_the_tuning_split() -> None:
    m = fit_recalibration(Y[A], P[A])
    ref = R["site_A"]
    assert m.slope.estimate == pytest.approx(ref["slope"]["estimate"], abs=1e-8)
    assert m.slope.se == pytest.approx(ref["slope"]["se"], abs=1e-8)
    assert m.slope.ci == pytest.approx((ref["slope"]["ci_low"], ref["slope"]["ci_high"]), abs=1e-8)
    c = ref["slope_model_intercept"]
    assert m.intercept.estimate == pytest.approx(c["estimate"], abs=1e-8)
    assert m.intercept.se == pytest.approx(c["se"], abs=1e-8)
    assert m.intercept.ci == pytest.approx((c["ci_low"], c["ci_high"]), abs=1e-8)
    assert (m.n, m.n_events) == (int(A.sum()), int(Y[A].sum()))


def test_applied_to_the_evaluation_split_matches_r() -> None:
    m = fit_recalibration(Y[A], P[A])
    ref = R["recalibrated_A_on_B"]
    assert (m.intercept.estimate, m.slope.estimate) == pytest.approx((ref["a"], ref["b"]), abs=1e-8)
    r = calibration_summary(Y[~A], m.recalibrate(P[~A]))
    for name in ("intercept", "slope"):
        got, want = getattr(r, name), ref[name]
        assert got.estimate == pytest.approx(want["estimate"], abs=1e-8)
        assert got.ci == pytest.approx((want["ci_low"], want["ci_high"]), abs=1e-8)
    assert r.brier == pytest.approx(ref["brier"], abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(40, 300), a=st.floats(-1, 1), b=st.floats(0.4, 2.0))
def test_recalibrated_on_its_own_tuning_data_has_intercept_0_and_slope_1(seed: int, n: int, a: float,
                                                                         b: float) -> None:
    """The score equations of the fit: refitting on the recalibrated logits gives (0, 1)."""
    rng = np.random.default_rng(seed)
    lp = rng.normal(0, 1.5, n)
    y = rng.binomial(1, 1 / (1 + np.exp(-(a + b * lp))))
    p = 1 / (1 + np.exp(-lp))
    try:
        m = fit_recalibration(y, p)
    except InputError:
        return  # one class only, or perfect separation
    r = calibration_summary(y, m.recalibrate(p))
    assert r.slope.estimate == pytest.approx(1.0, abs=1e-6)
    assert r.intercept.estimate == pytest.approx(0.0, abs=1e-6)
    assert r.calibration_in_the_large.difference == pytest.approx(0.0, abs=1e-8)  # mean(y) = mean(p*)


def test_bad_input_is_an_input_error() -> None:
    with pytest.raises(InputError, match="must vary"):
        fit_recalibration([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3])
    m = fit_recalibration(Y[A], P[A])
    with pytest.raises(InputError):
        m.recalibrate([0.2, 1.0])
