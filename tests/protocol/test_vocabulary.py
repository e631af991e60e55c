"""The protocol vocabulary: kinds, interval methods and the derived meanings read everywhere."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from validation.protocol import vocabulary as v
from validation.stats.hypotheses import one_sided_alpha


def test_kinds_partition_the_endpoint_kinds() -> None:
    kinds = v.endpoint_kinds()
    assert set(kinds) == (set(v.PROPORTION_KINDS) | {"auc"} | set(v.MRMC_KINDS)
                          | set(v.RISK_KINDS) | set(v.LOCALIZATION_KINDS))
    assert not set(v.PROPORTION_KINDS) & set(v.MRMC_KINDS)
    assert not set(v.LOCALIZATION_KINDS) & (set(v.PROPORTION_KINDS) | set(v.MRMC_KINDS))
    assert {v.kind_family(k) for k in v.LOCALIZATION_KINDS} == {"localization"}
    assert v.READER_KINDS == v.MRMC_KINDS
    assert {v.kind_family(k) for k in v.PROPORTION_KINDS} == {"proportion"}
    assert v.kind_family("auc") == "auc"
    assert {v.kind_family(k) for k in v.MRMC_KINDS} == {"mrmc"}
    assert {v.kind_family(k) for k in v.RISK_KINDS} == {"risk_wald", "risk_bootstrap"}


def test_default_interval_is_an_allowed_one() -> None:
    for family, units in v.DEFAULT_CI.items():
        for unit, method in units.items():
            assert method in v.CI_METHODS[family][unit]
    assert v.allowed_ci_methods("auc", "finding") == ("obuchowski", "cluster_bootstrap")
    assert v.allowed_ci_methods("mrmc_auc", "finding") == ()


@pytest.mark.parametrize(("htype", "expected"), [
    ("performance_goal", 0.80), ("noninferiority", 0.75), ("superiority", 0.85),
    ("equivalence", 0.80),
])
def test_null_value_of_each_type(htype: str, expected: float) -> None:
    assert v.null_value(htype, 0.80, 0.05) == pytest.approx(expected, abs=1e-15)


def test_null_bounds_of_each_type() -> None:
    assert v.null_bounds("performance_goal", 0.8, None) == (0.8, None)
    assert v.null_bounds("noninferiority", 0.8, 0.1) == (pytest.approx(0.7), None)
    assert v.null_bounds("superiority", 0.8, 0.1) == (None, pytest.approx(0.9))
    assert v.null_bounds("equivalence", 0.8, 0.1) == (pytest.approx(0.7), pytest.approx(0.9))


@given(ref=st.floats(0.01, 0.99), margin=st.floats(0.0, 0.5),
       htype=st.sampled_from(["performance_goal", "noninferiority", "superiority"]))
def test_null_value_is_the_open_bound(ref: float, margin: float, htype: str) -> None:
    """For a one-sided hypothesis the null value is the one finite null boundary."""
    low, high = v.null_bounds(htype, ref, margin)
    bound = low if high is None else high
    assert v.null_value(htype, ref, margin) == bound


@given(alpha=st.floats(0.001, 0.49), side=st.sampled_from(["one-sided", "two-sided"]))
def test_levels_are_the_stats_definition(alpha: float, side: str) -> None:
    """One definition: the vocabulary defers to stats.hypotheses.one_sided_alpha."""
    assert v.one_sided_level(alpha, side) == one_sided_alpha(alpha, side)
    assert v.ci_alpha(alpha, side) == pytest.approx(2 * one_sided_alpha(alpha, side))
    assert v.ci_alpha(alpha, "two-sided") == pytest.approx(alpha) if side == "two-sided" else True


def test_format_helpers() -> None:
    assert v.format_loc(("endpoints", 0, "ci")) == "endpoints[0].ci"
    assert v.format_loc(()) == "(top level)"
    assert v.format_number(800.0) == "800" and v.format_number(0.05) == "0.05"
