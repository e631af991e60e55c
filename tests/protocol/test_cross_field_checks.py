"""Cross-field and planning checks on plain (YAML-loaded) protocol data."""

from __future__ import annotations

import yaml
from protocol_helpers import minimal_text

from validation.protocol.checks import cross_field_problems
from validation.protocol.graph_checks import graph_problems


def _data():
    return yaml.safe_load(minimal_text())


def _messages(data) -> dict:
    return {loc: msg for loc, msg in cross_field_problems(data)}


def test_the_minimal_protocol_has_no_problems() -> None:
    assert cross_field_problems(_data()) == []
    assert cross_field_problems("not a mapping") == []


def test_a_hypothesis_naming_an_unknown_endpoint_is_located() -> None:
    d = _data()
    d["hypotheses"][0]["endpoint"] = "senss"
    msgs = _messages(d)
    assert ("hypotheses", 0, "endpoint") in msgs
    assert "Did you mean 'sens'?" in msgs[("hypotheses", 0, "endpoint")]


def test_null_value_outside_the_unit_interval() -> None:
    d = _data()
    d["hypotheses"][0].update(type="noninferiority", goal=0.03, margin=0.05)
    msgs = _messages(d)
    assert "goal - margin = -0.02" in msgs[("hypotheses", 0, "margin")]


def test_one_sided_alpha_of_one_half_is_refused() -> None:
    d = _data()
    d["alpha"] = 0.5
    assert "below 0.5" in _messages(d)[("alpha",)]


def test_planning_assumption_on_the_null_side() -> None:
    d = _data()
    d["sample_size"] = {"power": 0.8, "assumptions": [{"hypothesis": "H1", "expected": 0.8}]}
    msgs = _messages(d)
    assert "must lie above the goal 0.8" in msgs[("sample_size", "assumptions", 0, "expected")]
    d["sample_size"]["assumptions"][0]["expected"] = 0.9
    assert cross_field_problems(d) == []


def test_graph_problems() -> None:
    assert graph_problems({"H1": 0.5, "H2": 0.5}, {"H1": {"H2": 1.0}, "H2": {"H1": 1.0}}) == []
    bad = graph_problems({"H1": 0.7, "H2": 0.7}, {"H1": {"H1": 0.5}})
    assert any("sum to at most 1" in m for m in bad)
    assert any("zero diagonal" in m for m in bad)
