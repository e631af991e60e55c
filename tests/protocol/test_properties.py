"""Properties: the protocol hash ignores YAML layout; the graph checks match their definition."""

from __future__ import annotations

import random
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protocol_helpers import PROTOCOLS

from validation.protocol import canonical_protocol_json, protocol_sha256
from validation.protocol.graph_checks import graph_problems
from validation.protocol.load import validate_text

EXAMPLE = (PROTOCOLS / "cade_pneumothorax.yaml").read_text(encoding="utf-8")
EXAMPLE_DATA = yaml.safe_load(EXAMPLE)
_REFERENCE, _ = validate_text(EXAMPLE, check_files=False)
assert _REFERENCE is not None
REFERENCE_JSON = canonical_protocol_json(_REFERENCE)


def shuffled(obj: Any, rnd: random.Random) -> Any:
    """The same data with every mapping's keys in a random order (lists keep their order)."""
    if isinstance(obj, dict):
        keys = list(obj)
        rnd.shuffle(keys)
        return {k: shuffled(obj[k], rnd) for k in keys}
    if isinstance(obj, list):
        return [shuffled(x, rnd) for x in obj]
    return obj


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False), flow=st.booleans(), width=st.integers(20, 200))
def test_canonical_json_stable_under_key_reordering(rnd, flow, width):
    text = yaml.safe_dump(shuffled(EXAMPLE_DATA, rnd), sort_keys=False,
                          default_flow_style=flow, width=width)
    protocol, problems = validate_text(text, check_files=False)
    assert problems == []
    assert protocol is not None
    assert canonical_protocol_json(protocol) == REFERENCE_JSON
    assert protocol_sha256(protocol) == protocol_sha256(_REFERENCE)


@settings(max_examples=10, deadline=None)
@given(goal=st.floats(0.01, 0.99), seed=st.integers(0, 2**32 - 1))
def test_hash_changes_when_content_changes(goal, seed):
    data = yaml.safe_load(EXAMPLE)
    data["hypotheses"][0]["goal"] = goal
    if goal >= data["sample_size"]["assumptions"][0]["expected"]:  # keep it in the alternative
        data["sample_size"]["assumptions"][0]["expected"] = (1 + goal) / 2
    data["analysis"]["seed"] = seed
    protocol, problems = validate_text(yaml.safe_dump(data), check_files=False)
    assert problems == [] and protocol is not None
    same = (goal == EXAMPLE_DATA["hypotheses"][0]["goal"]
            and seed == EXAMPLE_DATA["analysis"]["seed"])
    assert (protocol_sha256(protocol) == protocol_sha256(_REFERENCE)) == same


weights_st = st.dictionaries(st.sampled_from(["H1", "H2", "H3"]),
                             st.floats(0.0, 1.0, allow_nan=False), min_size=1)


@settings(max_examples=80, deadline=None)
@given(weights=weights_st, data=st.data())
def test_graph_checks_match_definition(weights, data):
    names = list(weights)
    transitions = data.draw(st.dictionaries(
        st.sampled_from(names),
        st.dictionaries(st.sampled_from(names), st.floats(0.0, 1.0, allow_nan=False)),
    ))
    valid = (
        sum(weights.values()) <= 1.0 + 1e-9
        and all(sum(row.values()) <= 1.0 + 1e-9 for row in transitions.values())
        and all(row.get(h, 0.0) == 0.0 for h, row in transitions.items())
    )
    assert (graph_problems(weights, transitions) == []) == valid
