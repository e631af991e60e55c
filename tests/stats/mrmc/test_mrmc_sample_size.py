"""Sample size from pilot OR components: the Van Dyke example of the RJafroc book.

Reference: tests/reference/mrmc/published_vandyke.json, key ``sample_size_rrrc`` (Chakraborty,
RJafrocBook, chapter "ROC-DBMH sample size using RJafroc": Van Dyke pilot, observed effect size
0.0438, alpha 0.05; printed power table and SsSampleSizeKGivenJ outputs). Hillis, Obuchowski and
Berbaum (2011) show the DBM and OR forms of the power are the same for jackknife pilots, so our
OR formula must reproduce them; powers are printed to 7 digits there.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.errors import InputError
from validation.stats.mrmc import mrmc_analysis
from validation.stats.mrmc.sample_size import mrmc_power, mrmc_sample_size


@pytest.fixture(scope="module")
def pilot(reference_dir):
    df = pd.read_csv(reference_dir / "mrmc" / "vandyke_1993_roc.csv")
    res = mrmc_analysis(df)
    vc = res.variance_components
    return dict(var_tr=vc.var_tr, var=vc.var, cov1=vc.cov1, cov2=vc.cov2, cov3=vc.cov3,
                pilot_cases=vc.n_cases, effect=res.difference.estimate)


@pytest.fixture(scope="module")
def ref(reference_dir):
    return json.loads((reference_dir / "mrmc" / "published_vandyke.json").read_text())[
        "sample_size_rrrc"]


def test_power_at_6_readers_112_cases(pilot, ref):
    p = mrmc_power(n_readers=6, n_cases=112, **pilot)
    assert p.power == pytest.approx(ref["power_J6_K112"]["power"], abs=1e-7)
    assert p.noncentrality == pytest.approx(ref["power_J6_K112"]["ncp"], abs=0.05)
    assert p.df_den == pytest.approx(ref["power_J6_K112"]["ddf"], abs=0.05)


def test_cases_for_80_percent_power_table(pilot, ref):
    for readers, cases in ref["K_for_power_0.8"].items():
        assert mrmc_sample_size(n_readers=int(readers), **pilot).n_cases == cases, readers


def test_sample_size_outputs(pilot, ref):
    s = mrmc_sample_size(n_readers=10, **pilot)
    assert (s.n_cases, s.power) == (ref["J10_power_0.8"]["K"],
                                    pytest.approx(ref["J10_power_0.8"]["power"], abs=1e-7))
    s = mrmc_sample_size(n_readers=10, power=0.9, **pilot)
    assert (s.n_cases, s.power) == (ref["J10_power_0.9"]["K"],
                                    pytest.approx(ref["J10_power_0.9"]["power"], abs=1e-7))
    s = mrmc_sample_size(n_readers=10, analysis="rrfc", **pilot)
    assert (s.n_cases, s.power) == (ref["rrfc_J10_power_0.8"]["K"],
                                    pytest.approx(ref["rrfc_J10_power_0.8"]["power"], abs=1e-7))
    assert mrmc_power(n_readers=10, n_cases=s.n_cases - 1, analysis="rrfc",
                      **pilot).power < 0.8


def test_unreachable_power_is_an_error(pilot):
    with pytest.raises(InputError, match="cannot reach power"):
        mrmc_sample_size(n_readers=3, max_cases=300, **pilot)
    with pytest.raises(InputError, match="'effect' must be non-zero"):
        mrmc_power(n_readers=5, n_cases=100, **{**pilot, "effect": 0.0})


@settings(max_examples=30, deadline=None)
@given(k=st.integers(20, 2000), j=st.integers(2, 30), d=st.floats(0.01, 0.2))
def test_power_properties(pilot, k, j, d):
    kw = {**pilot, "effect": d}
    p = mrmc_power(n_readers=j, n_cases=k, **kw)
    assert 0.0 < p.power <= 1.0
    # more readers never hurt; a larger effect never hurts (same df, larger non-centrality)
    assert mrmc_power(n_readers=j + 1, n_cases=k, **kw).power >= p.power - 1e-12
    assert mrmc_power(n_readers=j, n_cases=k, **{**pilot, "effect": 1.5 * d}).power >= p.power
    # FRRC (no reader variability) is at least as powerful as RRRC
    assert mrmc_power(n_readers=j, n_cases=k, analysis="frrc", **kw).power >= p.power - 1e-12


def test_power_not_monotone_in_cases_for_two_readers(pilot):
    """ddf_H shrinks towards J - 1 as cases grow, so power can fall: the scan handles it."""
    kw = {**pilot, "effect": 0.05}
    assert (mrmc_power(n_readers=2, n_cases=2050, **kw).power
            < mrmc_power(n_readers=2, n_cases=2000, **kw).power)
