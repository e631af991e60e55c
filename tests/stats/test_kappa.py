"""Cohen's and Fleiss' kappa against published R values.

* Cohen: ``tests/reference/expected/06_reader_agreement.json`` (vcd::Kappa, psych, psy, epiR;
  2 readers x 120 cases, 5 ordinal categories): kappa to 1e-12, the Fleiss-Cohen-Everitt
  standard error to 1e-10 (vcd's ASE), and psych::cohen.kappa's unweighted variance.
* Fleiss: the estimate against statsmodels' ``fleiss_kappa`` (independent implementation) to
  1e-12; the estimate, Gwet's (2008) standard error and the t interval against
  ``tests/reference/agreement/make_agreement_refs.R`` (irrCAC's formula in base R) to 1e-10.
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
from validation.stats import cohen_kappa, fleiss_kappa

REF = Path(__file__).resolve().parents[1] / "reference"
K = json.loads((REF / "expected" / "06_reader_agreement.json").read_text())["kappa"]
D = pd.read_csv(REF / "data" / "reader_kappa_n120.csv")
A = json.loads((REF / "agreement" / "agreement_refs.json").read_text())


@pytest.mark.parametrize(("weights", "key", "ase"), [
    (None, "kappa_unweighted", "unweighted_ASE"), ("linear", "kappa_linear", "linear_ASE"),
    ("quadratic", "kappa_quadratic", "quadratic_ASE"),
])
def test_cohen_kappa_matches_vcd(weights: str | None, key: str, ase: str) -> None:
    r = cohen_kappa(D.reader1, D.reader2, weights=weights)
    assert r.estimate == pytest.approx(K[key], rel=1e-12)
    assert r.se == pytest.approx(K["vcd_asymptotic_se"][ase], rel=1e-10)
    z = 1.959963984540054
    assert r.ci == pytest.approx((K[key] - z * r.se, K[key] + z * r.se), rel=1e-12)


def test_cohen_kappa_matches_psych_unweighted_variance_and_interval() -> None:
    ref = A["psych_cohen_kappa"]
    r = cohen_kappa(D.reader1, D.reader2)
    assert r.se**2 == pytest.approx(ref["var_kappa"], rel=1e-10)
    assert r.ci == pytest.approx((ref["confid"][0], ref["confid"][4]), rel=1e-10)
    assert cohen_kappa(D.reader1, D.reader2, weights="quadratic").estimate == pytest.approx(
        ref["weighted_kappa"], rel=1e-12)


def test_cohen_kappa_against_scikit_learn_on_random_reads() -> None:
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(5)
    x = rng.integers(0, 4, 200)
    y = np.where(rng.random(200) < 0.6, x, rng.integers(0, 4, 200))
    for w in (None, "linear", "quadratic"):
        assert cohen_kappa(x, y, weights=w).estimate == pytest.approx(cohen_kappa_score(x, y, weights=w),
                                                                      rel=1e-12)


def test_fleiss_kappa_matches_statsmodels_and_gwet_in_r() -> None:
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    table = pd.read_csv(REF / "agreement" / "ratings_fleiss.csv").to_numpy()
    r = fleiss_kappa(table)
    assert r.estimate == pytest.approx(sm_fleiss(aggregate_raters(table)[0]), rel=1e-12)
    ref = A["fleiss_kappa"]
    assert r.estimate == pytest.approx(ref["kappa"], rel=1e-12)
    assert r.se == pytest.approx(ref["se"], rel=1e-10)
    assert r.ci == pytest.approx((ref["lower"], ref["upper"]), rel=1e-10)


def test_kappa_bad_input() -> None:
    with pytest.raises(InputError, match="'weights' must be None"):
        cohen_kappa([1, 2], [1, 2], weights="square")
    with pytest.raises(InputError, match="at least 2 categories"):
        cohen_kappa([1, 1, 1], [1, 1, 1])
    with pytest.raises(InputError, match="ordered numeric categories"):
        cohen_kappa(["a", "b", "a"], ["a", "b", "b"], weights="linear")
    with pytest.raises(InputError, match="a category for every case"):
        cohen_kappa([1.0, np.nan, 2.0], [1.0, 2.0, 2.0])


reads = st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=3, max_size=40)


@settings(max_examples=80, deadline=None)
@given(reads, st.sampled_from([None, "linear", "quadratic"]))
def test_cohen_kappa_properties(pairs: list[tuple[int, int]], w: str | None) -> None:
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    try:
        r = cohen_kappa(x, y, weights=w)
    except InputError:
        return
    assert r.estimate <= 1.0 + 1e-12
    assert cohen_kappa(y, x, weights=w).estimate == pytest.approx(r.estimate, abs=1e-12)  # symmetric
    assert r.se >= 0.0 and r.ci[0] <= r.estimate <= r.ci[1]
    perm = np.random.default_rng(0).permutation(x.size)  # case order does not matter
    assert cohen_kappa(x[perm], y[perm], weights=w).estimate == pytest.approx(r.estimate, abs=1e-12)
    if w is None and len(set(x)) > 1:
        assert cohen_kappa(x, x).estimate == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2), min_size=3, max_size=3), min_size=3, max_size=25))
def test_fleiss_kappa_properties(rows: list[list[int]]) -> None:
    table = np.array(rows)
    try:
        r = fleiss_kappa(table)
    except InputError:
        return
    assert r.estimate <= 1.0 + 1e-12
    # rater order and subject order do not matter
    assert fleiss_kappa(table[:, ::-1]).estimate == pytest.approx(r.estimate, abs=1e-12)
    assert fleiss_kappa(table[::-1]).estimate == pytest.approx(r.estimate, abs=1e-12)
