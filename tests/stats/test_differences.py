"""Differences of proportions against the reference cases (R 4.2.2, published examples).

Reference values: ``tests/reference/expected/05a_two_proportions_unpaired.json`` and
``05b_two_proportions_paired.json`` (each entry carries the R call in its ``how`` field).
Published anchors: Newcombe (1998a) Table II method 10, examples (a), (d), (e), (h); Tango (1998)
examples 4/9/3/16 (-0.027 to 0.390) and 43/0/1/0 at 90% (-0.096 to 0.037); Fagerland et al.
(2014) Bentur data, Tango -0.517 to -0.026.

Tolerances: 1e-12 for closed forms (restricted MLE, statistics, Newcombe intervals); 1e-9 for
bounds found by root search (score intervals), as the reference README states.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from validation.errors import InputError
from validation.stats.differences import (
    farrington_manning_statistic,
    farrington_manning_test,
    mcnemar_test,
    miettinen_nurminen_interval,
    newcombe_paired_interval,
    newcombe_paired_phi,
    paired_difference,
    restricted_mle,
    tango_interval,
    tango_statistic,
    tango_test,
    unpaired_difference,
)

CLOSED = 1e-12
ROOT = 1e-9


def _load(reference_dir, name):
    return json.loads((reference_dir / "expected" / name).read_text())["subcases"]


@pytest.fixture(scope="module")
def unpaired(reference_dir):
    return _load(reference_dir, "05a_two_proportions_unpaired.json")


@pytest.fixture(scope="module")
def paired(reference_dir):
    return _load(reference_dir, "05b_two_proportions_paired.json")


UNPAIRED_IDS = [
    "newcombe1998_a_56of70_vs_48of80",
    "newcombe1998_d_5of56_vs_0of29",
    "newcombe1998_e_0of10_vs_0of20",
    "newcombe1998_h_10of10_vs_0of20",
]
PAIRED_IDS = [
    "tango1998_example_4_9_3_16",
    "tango1998_example_43_0_1_0_conf90",
    "bentur2009_1_1_7_12",
    "cavo2012_59_6_16_80",
]


def _x(s):
    return s["x1"], s["n1"], s["x2"], s["n2"]


def _t(s):
    return s["a"], s["b"], s["c"], s["d"]


# ----------------------------------------------------------------------------- unpaired


@pytest.mark.parametrize("case", UNPAIRED_IDS)
def test_newcombe_hybrid_matches_r(unpaired, case):
    s = unpaired[case]
    r = unpaired_difference(*_x(s), ci="newcombe")
    ref = s["newcombe_hybrid_score_ci95"]
    assert r.estimate == pytest.approx(s["difference"], abs=CLOSED)
    assert r.ci[0] == pytest.approx(ref["lower"], abs=CLOSED)
    assert r.ci[1] == pytest.approx(ref["upper"], abs=CLOSED)


@pytest.mark.parametrize("case", UNPAIRED_IDS)
def test_miettinen_nurminen_matches_r(unpaired, case):
    s = unpaired[case]
    r = unpaired_difference(*_x(s), ci="mn")
    ref = s["miettinen_nurminen_score_ci95"]
    assert r.ci == pytest.approx((ref["lower"], ref["upper"]), abs=ROOT)
    mee = miettinen_nurminen_interval(*_x(s), mn_correction=False)
    ref = s["mee_fm_score_ci95_no_N_over_N_minus_1"]
    assert mee == pytest.approx((ref["lower"], ref["upper"]), abs=ROOT)


def test_miettinen_nurminen_published_example_d():
    # Newcombe (1998a) Table II, example (d) 5/56 vs 0/29: MN -0.0326 to 0.1933 (4 dp)
    low, high = miettinen_nurminen_interval(5, 56, 0, 29)
    assert (round(low, 4), round(high, 4)) == (-0.0326, 0.1933)


@pytest.mark.parametrize("case", UNPAIRED_IDS)
def test_farrington_manning_matches_r(unpaired, case):
    s = unpaired[case]
    fm = s["farrington_manning_noninferiority"]
    t1, t2 = restricted_mle(*_x(s), -fm["delta"])
    assert t1 == pytest.approx(fm["restricted_mle_p1"], abs=CLOSED)
    assert t2 == pytest.approx(fm["restricted_mle_p2"], abs=CLOSED)
    r = farrington_manning_test(*_x(s), margin=fm["delta"])
    assert r.statistic == pytest.approx(fm["z"], abs=CLOSED)
    assert r.p_value == pytest.approx(fm["p_value_one_sided"], abs=CLOSED, rel=1e-10)
    assert r.null_difference == -fm["delta"]


@pytest.mark.parametrize("x", [(56, 70, 48, 80), (5, 56, 0, 29), (3, 40, 9, 35), (17, 20, 20, 20)])
@pytest.mark.parametrize("delta", [-0.2, -0.05, 0.0, 0.1])
def test_restricted_mle_is_the_constrained_maximum(x, delta):
    """Closed-form cubic root against a numerical maximisation of the constrained likelihood."""
    x1, n1, x2, n2 = x

    def negll(p1):
        p2 = p1 - delta
        out = 0.0
        for k, n, p in ((x1, n1, p1), (x2, n2, p2)):
            out -= stats.binom.logpmf(k, n, p)
        return out

    lo, hi = max(0.0, delta) + 1e-12, min(1.0, 1.0 + delta) - 1e-12
    opt = optimize.minimize_scalar(negll, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-12})
    t1, t2 = restricted_mle(*x, delta)
    assert t1 - t2 == pytest.approx(delta, abs=1e-14)
    assert t1 == pytest.approx(opt.x, abs=1e-6)


def test_fm_statistic_at_zero_is_pooled_score_test():
    # at delta0 = 0 the restricted MLE is the pooled proportion: the classical z test
    x1, n1, x2, n2 = 56, 70, 48, 80
    p = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    assert farrington_manning_statistic(x1, n1, x2, n2, null_difference=0.0) == pytest.approx(
        z, abs=CLOSED
    )
    sup = farrington_manning_test(x1, n1, x2, n2, margin=0.0, superiority=True)
    assert sup.p_value == pytest.approx(stats.norm.sf(z), abs=CLOSED)


# ----------------------------------------------------------------------------- paired


@pytest.mark.parametrize("case", PAIRED_IDS)
def test_mcnemar_matches_r(paired, case):
    s = paired[case]
    plain = mcnemar_test(*_t(s))
    assert plain.statistic == pytest.approx(s["mcnemar_chisq_no_cc"], abs=CLOSED)
    assert plain.p_value == pytest.approx(s["mcnemar_p_no_cc"], abs=CLOSED)
    cc = mcnemar_test(*_t(s), correction=True)
    assert cc.statistic == pytest.approx(s["mcnemar_chisq_cc"], abs=CLOSED)
    assert cc.p_value == pytest.approx(s["mcnemar_p_cc"], abs=CLOSED)
    ex = mcnemar_test(*_t(s), exact=True)
    assert ex.p_value == pytest.approx(s["mcnemar_exact_binomial_p"], abs=CLOSED)


@pytest.mark.parametrize("case", PAIRED_IDS)
def test_tango_matches_r(paired, case):
    s = paired[case]
    alpha = 1 - s["conf_level"]
    r = paired_difference(*_t(s), ci="tango", alpha=alpha, margin=0.05)
    assert r.estimate == pytest.approx(s["difference"], abs=CLOSED)
    ref = s["tango_score_ci"]
    assert r.ci == pytest.approx((ref["lower"], ref["upper"]), abs=ROOT)
    ni = s["tango_noninferiority_delta_0.05"]
    assert r.noninferiority.statistic == pytest.approx(ni["z"], abs=CLOSED)
    assert r.noninferiority.p_value == pytest.approx(ni["p_value_one_sided"], abs=CLOSED)
    assert tango_statistic(*_t(s), null_difference=0.0) == pytest.approx(
        s["tango_score_z_at_0"], abs=CLOSED
    )


def test_tango_published_examples():
    # Tango (1998) Section 4: -0.027 to 0.390 (95%) and -0.096 to 0.037 (90%), 3 dp
    assert tuple(round(v, 3) for v in tango_interval(4, 9, 3, 16)) == (-0.027, 0.390)
    assert tuple(round(v, 3) for v in tango_interval(43, 0, 1, 0, alpha=0.10)) == (-0.096, 0.037)
    # Fagerland et al. (2014), Bentur et al. data: -0.517 to -0.026
    assert tuple(round(v, 3) for v in tango_interval(1, 1, 7, 12)) == (-0.517, -0.026)


@pytest.mark.parametrize("case", PAIRED_IDS)
def test_newcombe_paired_matches_r(paired, case):
    s = paired[case]
    alpha = 1 - s["conf_level"]
    for key, adjusted in (("newcombe10_paired_ci", True),
                          ("newcombe10_paired_ci_unadjusted_phi", False)):
        ref = s[key]
        assert newcombe_paired_phi(*_t(s), adjusted=adjusted) == pytest.approx(
            ref["phi"], abs=CLOSED
        )
        ci = newcombe_paired_interval(*_t(s), alpha=alpha, phi_adjusted=adjusted)
        assert ci == pytest.approx((ref["lower"], ref["upper"]), abs=CLOSED)
    r = paired_difference(*_t(s), ci="newcombe", alpha=alpha)
    ref = s["newcombe10_paired_ci"]
    assert r.ci == pytest.approx((ref["lower"], ref["upper"]), abs=CLOSED)


def test_paired_result_dict_and_no_discordant_pairs():
    r = paired_difference(10, 0, 0, 5, margin=0.1)
    assert r.mcnemar is None
    d = r.to_dict()
    assert d["estimate"] == 0.0 and d["ci"][0] < 0.0 < d["ci"][1]
    assert d["noninferiority"]["margin"] == 0.1
    with pytest.raises(InputError, match="discordant"):
        mcnemar_test(10, 0, 0, 5)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("margin", [-0.05, 0.0, 1.0, 5, float("nan"), "x"])
def test_bad_margin(margin):
    with pytest.raises(InputError, match="'margin'"):
        farrington_manning_test(5, 10, 5, 10, margin=margin)
    with pytest.raises(InputError, match="'margin'"):
        tango_test(1, 2, 3, 4, margin=margin)


@pytest.mark.parametrize(
    "args, match",
    [((11, 10, 5, 10), "'x1'"), ((5, 0, 5, 10), "'n1'"), ((5, 10, -1, 10), "'x2'"),
     ((5.5, 10, 5, 10), "'x1'")],
)
def test_bad_unpaired_counts(args, match):
    with pytest.raises(InputError, match=match):
        unpaired_difference(*args)


def test_bad_paired_and_options():
    with pytest.raises(InputError, match="'a \\+ b \\+ c \\+ d'"):
        paired_difference(0, 0, 0, 0)
    with pytest.raises(InputError, match="'c'"):
        paired_difference(1, 2, -3, 4)
    with pytest.raises(InputError, match="'ci'"):
        paired_difference(1, 2, 3, 4, ci="wald")
    with pytest.raises(InputError, match="'ci'"):
        unpaired_difference(1, 2, 3, 4, ci="newcomb")
    with pytest.raises(InputError, match="'alpha'"):
        unpaired_difference(1, 2, 3, 4, alpha=1.5)


# ----------------------------------------------------------------------------- properties


@st.composite
def two_groups(draw):
    n1 = draw(st.integers(1, 200))
    n2 = draw(st.integers(1, 200))
    return draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2


@st.composite
def paired_tables(draw):
    cells = draw(st.lists(st.integers(0, 80), min_size=4, max_size=4))
    if sum(cells) == 0:
        cells[0] = 1
    return tuple(cells)


@settings(max_examples=60, deadline=None)
@given(two_groups(), st.sampled_from(["newcombe", "mn"]))
@example((197, 197, 0, 1), "newcombe")  # statsmodels' upper bound spills to 1 + 2e-16
def test_unpaired_ci_contains_estimate_and_mirrors(x, method):
    x1, n1, x2, n2 = x
    r = unpaired_difference(x1, n1, x2, n2, ci=method)
    low, high = r.ci
    assert -1.0 <= low <= r.estimate <= high <= 1.0
    swapped = unpaired_difference(x2, n2, x1, n1, ci=method)
    assert swapped.ci[0] == pytest.approx(-high, abs=1e-9)
    assert swapped.ci[1] == pytest.approx(-low, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(paired_tables(), st.sampled_from(["tango", "newcombe"]))
def test_paired_ci_contains_estimate_and_mirrors(t, method):
    a, b, c, d = t
    r = paired_difference(a, b, c, d, ci=method)
    low, high = r.ci
    assert -1.0 <= low <= r.estimate + 1e-12 and r.estimate - 1e-12 <= high <= 1.0
    swapped = paired_difference(a, c, b, d, ci=method)
    assert swapped.ci[0] == pytest.approx(-high, abs=1e-9)
    assert swapped.ci[1] == pytest.approx(-low, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(two_groups(), st.floats(0.01, 0.3), st.floats(0.01, 0.3))
def test_fm_p_value_decreases_with_margin(x, m1, m2):
    lo, hi = sorted((m1, m2))
    p_lo = farrington_manning_test(*x, margin=lo).p_value
    p_hi = farrington_manning_test(*x, margin=hi).p_value
    assert 0.0 <= p_hi <= p_lo + 1e-12 <= 1.0 + 1e-12


@settings(max_examples=40, deadline=None)
@given(paired_tables())
def test_tango_ci_inverts_the_test(t):
    """The score interval is the set of nulls the two-sided score test does not reject."""
    low, high = tango_interval(*t)
    z = stats.norm.ppf(0.975)
    for bound in (low, high):
        if -1.0 < bound < 1.0:
            assert abs(tango_statistic(*t, null_difference=bound)) == pytest.approx(z, abs=1e-6)


@pytest.mark.parametrize("delta", [1.5, float("nan"), "x"])
def test_restricted_mle_refuses_a_null_outside_the_range(delta):
    with pytest.raises(InputError, match="'delta'"):
        restricted_mle(56, 70, 48, 80, delta)
