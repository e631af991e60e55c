"""OR parameters <-> Roe-Metz (Hillis 2012) parameters (Hillis 2018 forward, 2020/2022 reverse).

References (``tests/reference/or_to_rm/``, see its README):

* MRMCaov 0.3.0's documented ``OR_to_RMH`` / ``RMH_to_OR`` examples, run with the package's own
  ``R/convert.R`` (an independent implementation; script and JSON beside). Forward map: to
  1e-9 relative (both are closed forms over the bivariate normal; mvtnorm's bivariate CDF
  and our quadrature agree to ~1e-13). Reverse map: MRMCaov finds ``b`` on a grid of step
  1e-6 and the x's by 30 bisections (about 1e-9), we solve each to machine precision, so ``b``
  is compared to 2e-6 and everything that depends on it to 2e-5 relative.
* Hillis (2012) Table 1, lines 6-8 (as quoted in MRMCaov's RMH_to_OR example 2c): Roe and
  Metz's lines 6-8 re-expressed with a mean-to-sigma ratio of 4.5; ``b``, ``delta``,
  ``var_r``, ``var_tr`` to the table's printed precision (half a unit of the last digit).
* Monte Carlo: studies simulated with :func:`roe_metz_ratings` have empirical AUC moments
  equal to the forward map's OR parameters (4 Monte Carlo standard errors).
* Round trips (hypothesis): OR -> RM -> OR returns the OR parameters; RM -> OR -> RM (b
  specified) returns the RM parameters.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special
from scipy.stats import norm

from validation.errors import InputError
from validation.stats import or_to_rm, rm_to_or
from validation.stats.mrmc.covariance import fom_covariance
from validation.stats.mrmc.or_analysis import or_analysis
from validation.stats.mrmc.or_to_rm import bvn_excess
from validation.stats.mrmc.simulation import roe_metz_ratings

REF = Path(__file__).resolve().parents[2] / "reference" / "or_to_rm"
MRMCAOV = json.loads((REF / "mrmcaov_examples.json").read_text())
HILLIS_2012 = json.loads((REF / "hillis2012_table1.json").read_text())
VANDYKE = dict(auc1=0.897, auc2=0.941, var_r=0.00154, var_tr=0.000208, corr1=0.433,
               corr2=0.430, corr3=0.299, var_error=0.000788, n0=69, n1=45)
RM_KEYS = {"delta1": "delta1", "delta2": "delta2", "var_R": "var_r", "var_TR": "var_tr",
           "var_C": "var_c", "var_TC": "var_tc", "var_RC": "var_rc", "var_error": "var_e"}


def _or_inputs(inp: dict) -> dict:  # type: ignore[type-arg]
    out = dict(auc1=inp["AUC1"], auc2=inp["AUC2"], var_r=inp["var_R"], var_tr=inp["var_TR"],
               corr1=inp["corr1"], corr2=inp["corr2"], corr3=inp["corr3"], n0=inp["n0"],
               n1=inp["n1"], var_error=inp.get("var_error"))
    method = inp.get("b_method", "unspecified")
    out["b_method"] = method
    if method == "specified":
        out["b"] = inp["b_input"]
    if method == "mean_to_sigma":
        out["mean_to_sigma"] = inp["mean_sig_input"]
    return out


def _rm_values(rm) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return {"delta1": rm.delta[0], "delta2": rm.delta[1], "var_r": rm.var_r,
            "var_tr": rm.var_tr, "var_c": rm.var_c, "var_tc": rm.var_tc, "var_rc": rm.var_rc,
            "var_e": rm.var_e}


@pytest.mark.parametrize("case", MRMCAOV["or_to_rmh"], ids=lambda c: c["name"])
def test_or_to_rm_reproduces_mrmcaov(case: dict) -> None:  # type: ignore[type-arg]
    rm = or_to_rm(**_or_inputs(case["inputs"]))
    want = case["OR_to_RMH"]
    grid = case["inputs"].get("b_method", "unspecified") == "unspecified"
    assert rm.b == pytest.approx(want["b"], abs=2e-6 if grid else 1e-9)
    got = _rm_values(rm)
    for theirs, ours in RM_KEYS.items():
        assert got[ours] == pytest.approx(want[theirs], rel=2e-5, abs=1e-8), ours


@pytest.mark.parametrize("case", MRMCAOV["or_to_rmh"], ids=lambda c: c["name"])
def test_round_trip_matches_mrmcaov_true_values(case: dict) -> None:  # type: ignore[type-arg]
    """MRMCaov's recommended check: the OR values of the converted model (its "true values");
    for Franken (corr2 < corr3) and Kundel these differ from the inputs, as documented."""
    rm = or_to_rm(**_or_inputs(case["inputs"]))
    back = rm_to_or(**_rm_values(rm), b=rm.b, n0=rm.n0, n1=rm.n1)
    want = case["RMH_to_OR_of_it"]
    for ours, theirs in (("var_r", "var_R"), ("var_tr", "var_TR"), ("var_error", "var_error"),
                         ("corr1", "corr1"), ("corr2", "corr2"), ("corr3", "corr3")):
        assert getattr(back, ours) == pytest.approx(want[theirs], rel=2e-5, abs=1e-9), ours
    assert back.auc == pytest.approx((want["AUC1"], want["AUC2"]), abs=1e-12)


@pytest.mark.parametrize("case", MRMCAOV["rmh_to_or"], ids=lambda c: c["name"])
def test_rm_to_or_reproduces_mrmcaov(case: dict) -> None:  # type: ignore[type-arg]
    i, want = case["inputs"], case["RMH_to_OR"]
    got = rm_to_or(**{RM_KEYS[k]: i[k] for k in RM_KEYS}, b=i["b"], n0=i["n0"], n1=i["n1"])
    assert got.auc == pytest.approx((want["AUC1"], want["AUC2"]), rel=1e-12)
    for ours, theirs in (("var_r", "var_R"), ("var_tr", "var_TR"), ("var_error", "var_error"),
                         ("cov1", "cov1"), ("cov2", "cov2"), ("cov3", "cov3"),
                         ("corr1", "corr1"), ("corr2", "corr2"), ("corr3", "corr3")):
        assert getattr(got, ours) == pytest.approx(want[theirs], rel=1e-9), ours


@pytest.mark.parametrize("line", HILLIS_2012["lines"], ids=lambda x: f"line{x['line']}")
def test_mean_to_sigma_reproduces_hillis_2012_table_1(line: dict) -> None:  # type: ignore[type-arg]
    """Roe and Metz's equal-variance line re-expressed with mean-to-sigma 4.5 keeps the AUC and
    the OR reader components: Hillis's b, delta and var_R = var_TR to the printed digits."""
    rm0 = line["roe_metz"]
    o = rm_to_or(delta1=rm0["delta"], delta2=rm0["delta"], var_r=rm0["var_r"],
                 var_tr=rm0["var_r"], var_c=0.1, var_tc=0.1, var_rc=0.2, var_e=0.6, b=1.0,
                 n0=25, n1=25)
    rm = or_to_rm(auc1=o.auc[0], auc2=o.auc[1], var_r=o.var_r, var_tr=o.var_tr,
                  corr1=o.corr1, corr2=o.corr2, corr3=o.corr3, n0=25, n1=25,
                  b_method="mean_to_sigma", mean_to_sigma=HILLIS_2012["mean_to_sigma"])
    h = line["hillis_2012"]
    assert rm.b == pytest.approx(h["b"], abs=0.5e-5)
    assert rm.delta[0] == pytest.approx(h["delta"], abs=0.5e-3)
    assert rm.var_r == pytest.approx(h["var_r"], abs=0.5e-4)
    assert rm.var_tr == pytest.approx(h["var_r"], abs=0.5e-4)
    assert rm.mean_to_sigma[0] == pytest.approx(4.5, rel=1e-12)


def test_bvn_excess_against_owens_t() -> None:
    """Owen (1956): Phi2(h, k; rho) = [Phi(h) + Phi(k)]/2 - T(h, a_h) - T(k, a_k) - beta, an
    independent closed form (scipy's Owen's T), to 1e-13."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        h, k = rng.uniform(-3, 3, 2)
        rho = rng.uniform(-0.99, 0.99)
        s = math.sqrt(1 - rho * rho)
        beta = 0.5 if h * k < 0 else 0.0
        ref = (0.5 * (norm.cdf(h) + norm.cdf(k)) - special.owens_t(h, (k - rho * h) / (h * s))
               - special.owens_t(k, (h - rho * k) / (k * s)) - beta)
        assert bvn_excess(h, k, rho)[0] == pytest.approx(ref - norm.cdf(h) * norm.cdf(k),
                                                         abs=1e-13)
    assert bvn_excess(1.1, 1.1, 1.0)[0] == pytest.approx(norm.cdf(1.1) * norm.sf(1.1),
                                                         abs=1e-14)
    # at rho = 1 with h != k the integrand vanishes faster than any power at the end point:
    # the quadrature is then good to about 1e-13
    assert bvn_excess(0.3, 1.2, 1.0)[0] == pytest.approx(norm.cdf(0.3) * norm.sf(1.2),
                                                         abs=1e-12)


def _moments(n_studies: int, seed: int, n0: int = 30, n1: int = 20, readers: int = 4) -> None:
    """Simulated empirical-AUC moments equal the forward map (4 Monte Carlo SE), with the
    Van Dyke conversion (b = 0.656, large reader variance: checks the Hillis 2012 scaling of
    only the case components by 1/b^2); the OR analysis's covariance estimates average to the
    forward map too (the jackknife variance is biased upwards by O(1/n): allowed 10% plus 4 SE)."""
    rm = or_to_rm(**VANDYKE)  # type: ignore[arg-type]
    o = rm_to_or(**_rm_values(rm), b=rm.b, n0=n0, n1=n1)
    x, truth = roe_metz_ratings(list(rm.delta), n_readers=readers, n_nondiseased=n0,
                                n_diseased=n1, components=rm.components(),
                                n_studies=n_studies, seed=seed)
    fits = [fom_covariance(x[s], truth) for s in range(n_studies)]
    a = np.array([f.fom for f in fits])  # (studies, 2, readers)
    dev = a - np.array(o.auc)[None, :, None]
    pairs = [(j, k) for j in range(readers) for k in range(readers) if j != k]
    per_study = {
        "auc1": (a[:, 0].mean(1), o.auc[0]),
        "auc2": (a[:, 1].mean(1), o.auc[1]),
        "var_r + var_tr + var_error": ((dev**2).mean(axis=(1, 2)),
                                       o.var_r + o.var_tr + o.var_error),
        "var_r + cov1": ((dev[:, 0] * dev[:, 1]).mean(1), o.var_r + o.cov1),
        "cov2": (np.mean([dev[:, i, j] * dev[:, i, k] for i in (0, 1) for j, k in pairs], 0),
                 o.cov2),
        "cov3": (np.mean([dev[:, 0, j] * dev[:, 1, k] for j, k in pairs], 0), o.cov3),
    }
    vcs = [or_analysis(f.fom, f.cov, n_cases=n0 + n1).variance_components for f in fits]
    for key in ("var_r", "cov1", "cov2", "cov3"):
        per_study[f"OR estimate {key}"] = (np.array([getattr(v, key) for v in vcs]),
                                           getattr(o, key))
    for key, (values, want) in per_study.items():
        se = values.std(ddof=1) / math.sqrt(n_studies)
        assert abs(values.mean() - want) < 4 * se, (key, values.mean(), want, se)
    jack = np.array([v.var for v in vcs])
    se = jack.std(ddof=1) / math.sqrt(n_studies)
    assert o.var_error - 4 * se < jack.mean() < 1.10 * o.var_error + 4 * se


def test_forward_map_matches_simulation() -> None:
    _moments(300, seed=1)


@pytest.mark.slow
def test_forward_map_matches_simulation_large() -> None:
    _moments(4000, seed=2026, n0=50, n1=40, readers=5)


_unit = st.floats(0.0, 1.0)


@settings(max_examples=25, deadline=None)
@given(delta=st.tuples(st.floats(0.3, 2.5), st.floats(0.3, 2.5)),
       reader=st.tuples(st.floats(0.0, 0.1), st.floats(0.0, 0.05)),
       case=st.tuples(st.floats(0.05, 1), _unit, _unit, st.floats(0.05, 1)),
       b=st.floats(0.4, 2.0), n=st.tuples(st.integers(5, 80), st.integers(5, 80)))
def test_round_trips(delta, reader, case, b, n) -> None:  # type: ignore[no-untyped-def]
    rm = dict(delta1=delta[0], delta2=delta[1], var_r=reader[0], var_tr=reader[1],
              var_c=case[0], var_tc=case[1], var_rc=case[2], var_e=case[3])
    o = rm_to_or(**rm, b=b, n0=n[0], n1=n[1])
    assert 0.5 < min(o.auc) and 0 <= o.corr3 <= min(o.corr1, o.corr2) <= max(o.corr1, o.corr2) <= 1
    common = dict(auc1=o.auc[0], auc2=o.auc[1], var_r=o.var_r, var_tr=o.var_tr, corr1=o.corr1,
                  corr2=o.corr2, corr3=o.corr3, n0=n[0], n1=n[1])
    back = or_to_rm(**common, b_method="specified", b=b)  # type: ignore[arg-type]
    total = sum(case)
    for key, v in _rm_values(back).items():
        want = rm[key] / (math.sqrt(total) if key.startswith("delta") else total)
        assert v == pytest.approx(want, rel=1e-6, abs=1e-8), key
    # b from var_error: the largest root in (0, 1] comes first, which may not be the b the
    # parameters came from; at another root the correlations may be out of reach (an error)
    # or moved to the nearest admissible value (a note). Otherwise the OR values come back.
    try:
        free = or_to_rm(**common, var_error=o.var_error)  # type: ignore[arg-type]
    except InputError:
        assert b > 1 or n[0] != n[1]
        return
    if free.notes:
        return
    again = rm_to_or(**_rm_values(free), b=free.b, n0=n[0], n1=n[1])
    for key in ("var_r", "var_tr", "var_error", "cov1", "cov2", "cov3"):
        assert getattr(again, key) == pytest.approx(getattr(o, key), rel=1e-6, abs=1e-12), key


def test_scale_invariance_and_symmetry() -> None:
    base = dict(delta1=0.8, delta2=1.2, var_r=0.01, var_tr=0.02, var_c=0.3, var_tc=0.1,
                var_rc=0.2, var_e=0.4)
    a = rm_to_or(**base, b=0.8, n0=40, n1=30)
    scaled = {k: (v * 3.0 if k.startswith("delta") else v * 9.0) for k, v in base.items()}
    b = rm_to_or(**scaled, b=0.8, n0=40, n1=30)
    assert a.var_error == pytest.approx(b.var_error, rel=1e-12)
    assert a.auc == pytest.approx(b.auc, rel=1e-12) and a.var_r == pytest.approx(b.var_r)
    assert a.cov1 == pytest.approx(b.cov1, rel=1e-12)
    swapped = rm_to_or(**{**base, "delta1": 1.2, "delta2": 0.8}, b=0.8, n0=40, n1=30)
    assert swapped.auc == pytest.approx(a.auc[::-1]) and swapped.cov1 == pytest.approx(a.cov1)


@pytest.mark.parametrize(("change", "match"), [
    ({"auc1": 0.5}, "'auc1' must be an expected AUC in \\(0.5, 1\\)"),
    ({"auc2": 1.0}, "'auc2' must be an expected AUC"),
    ({"corr1": 1.2}, "'corr1' must be an error correlation in \\[0, 1\\]"),
    ({"corr3": -0.1}, "'corr3' must be an error correlation"),
    ({"var_tr": -1e-4}, "'var_tr' must be a variance component >= 0; got -0.0001. Truncate"),
    ({"var_r": 0.2}, "'var_r' is larger than the Roe-Metz model can give"),
    ({"var_error": 0.5}, "'var_error' = 0.5 cannot be reached"),
    ({"var_error": None}, "'var_error' must be given"),
    ({"n0": 0}, "'n0' must be a whole number"),
    ({"b_method": "median"}, "b_method"),
])
def test_bad_input(change: dict, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputError, match=match):
        or_to_rm(**{**VANDYKE, **change})  # type: ignore[arg-type]


def test_bad_b_options() -> None:
    with pytest.raises(InputError, match="'mean_to_sigma' must exceed"):
        or_to_rm(**VANDYKE, b_method="mean_to_sigma", mean_to_sigma=0.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="'b' must be given"):
        or_to_rm(**VANDYKE, b_method="specified")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="case components"):
        rm_to_or(delta1=1, delta2=1, var_r=0, var_tr=0, var_c=0, var_tc=0, var_rc=0, var_e=0,
                 n0=5, n1=5)


def test_inadmissible_correlations_are_moved_with_a_note() -> None:
    """corr2 < corr3 cannot come from a Roe-Metz model (Franken, MRMCaov example 2b): the
    test-by-case component is 0, the model's corr2 the smallest it allows, corr3 kept."""
    rm = or_to_rm(**{**VANDYKE, "corr2": 0.25, "corr3": 0.3})  # type: ignore[arg-type]
    assert rm.var_tc == 0 and any("corr2" in n for n in rm.notes)
    back = rm_to_or(**_rm_values(rm), b=rm.b, n0=69, n1=45)
    assert back.corr2 > 0.25 and back.corr3 == pytest.approx(0.3, rel=1e-6)
    assert back.var_error == pytest.approx(0.000788, rel=1e-9)
    big = or_to_rm(**{**VANDYKE, "corr1": 0.95})  # type: ignore[arg-type]
    assert big.var_e == pytest.approx(0.0, abs=1e-12) and any("corr1" in n for n in big.notes)
