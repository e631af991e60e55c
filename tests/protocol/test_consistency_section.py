"""The protocol's ``consistency`` section: valid plans load, bad ones fail with file:line.

Each bad input is one edit of a valid section, and the test checks the problem's line is the
line of the offending YAML node and that the message says what is allowed instead.
"""

from __future__ import annotations

import json
import re

import pytest
from protocol_helpers import PROTOCOLS, minimal_text

from validation.protocol import check_protocol, load_protocol, lock_protocol, protocol_sha256, verify_lock
from validation.protocol.schema import protocol_json_schema

SECTION = """\
subgroups:
  - {id: age_band, column: age, bins: [18, 50, 120]}
  - {id: sex, column: sex}
consistency:
  endpoints: [sens, spec, auc]
  factors:
    - {id: site}
    - {id: sex}
    - {id: sex_by_age, cross: [sex, age_band]}
  pooling: {method: dl, knha: false}
  min_level_size: 10
  rules:
    - {id: C1, type: prediction_lower_bound, endpoint: sens, factor: site, threshold: 0.80}
    - {id: C2, type: level_lower_bound, endpoint: sens, factor: sex_by_age, margin: 0.05}
    - {id: C3, type: interaction_or_gap, endpoint: spec, factor: sex}
"""


def with_section(section: str = SECTION) -> str:
    text = minimal_text().replace(
        "subgroups:\n  - {id: age_band, column: age, bins: [18, 50, 120]}\n", section
    )
    assert "consistency:" in text
    return text


def line_of(text: str, fragment: str) -> int:
    return next(i + 1 for i, line in enumerate(text.splitlines()) if fragment in line)


def problem(write_protocol, text: str, fragment: str) -> str:
    """The single problem of ``text``; it must point at the line holding ``fragment``."""
    path = write_protocol(text)
    protocol, problems = check_protocol(path)
    assert protocol is None
    assert len(problems) == 1, [str(p) for p in problems]
    msg = str(problems[0])
    m = re.match(r".*p\.yaml:(\d+):\d+: ", msg)
    assert m is not None, msg
    assert int(m.group(1)) == line_of(text, fragment), msg
    return msg


def test_valid_section_loads_with_defaults(write_protocol) -> None:
    p = load_protocol(write_protocol(with_section()))
    c = p.consistency
    assert c is not None
    assert [f.id for f in c.factors] == ["site", "sex", "sex_by_age"]
    assert c.factor("site").pooled and not c.factor("sex").pooled
    assert c.factor("sex_by_age").parts == ("sex", "age_band")
    assert c.pooling.method == "dl" and c.pooling.knha is False
    assert c.working_correlation == "exchangeable"
    assert [r.p_above for r in c.rules] == [0.05, 0.05, 0.05]
    assert c.rules[2].gap_below == 0.10


@pytest.mark.parametrize(
    ("old", "new", "fragment", "expected"),
    [
        ("    - {id: sex}\n", "    - {id: sex}\n    - {id: scanner}\n", "{id: scanner}",
         "unknown factor 'scanner'; name 'site' or a subgroup id (age_band, sex, site)"),
        ("cross: [sex, age_band]", "cross: [sex, age_bnd]", "cross: [sex, age_bnd]",
         "unknown factor 'age_bnd'; name 'site' or a subgroup id (age_band, sex, site). Did you "
         "mean 'age_band'?"),
        ("endpoints: [sens, spec, auc]", "endpoints: [sens, spec, aux]", "endpoints: [sens",
         "unknown endpoint 'aux'; name an endpoint of the protocol. Did you mean 'auc'?"),
        ("threshold: 0.80}", "threshold: 80}", "threshold: 80}", "less than 1"),
        ("threshold: 0.80}", "threshold: \"0.8\"}", "threshold: \"0.8\"}",
         "'threshold' must be a number; got the text '0.8'"),
        ("margin: 0.05}", "margin: 0.05, threshold: 0.7}", "margin: 0.05, threshold",
         "exactly one of 'threshold'"),
        ("factor: sex}", "factor: age_band}", "factor: age_band}",
         "unknown factor 'age_band'; a rule names one of consistency.factors"),
        ("endpoint: spec, factor: sex}", "endpoint: ppv, factor: sex}", "endpoint: ppv",
         "unknown endpoint 'ppv'; a rule names one of consistency.endpoints"),
        ("endpoint: sens, factor: site, threshold", "endpoint: sens, factor: sex, threshold",
         "factor: sex, threshold", "needs a pooled factor; 'sex' is not pooled"),
        ("{id: C3,", "{id: H1,", "{id: H1, type: interaction", "rule id 'H1' is also a hypothesis id"),
        ("{id: C3,", "{id: C1,", "{id: C1, type: interaction", "duplicate rule id 'C1'"),
        ("pooling: {method: dl", "pooling: {method: hksj", "method: hksj",
         "'method' must be one of reml, dl, pm; got 'hksj'"),
        ("min_level_size: 10", "min_level_size: 0", "min_level_size: 0", "greater than or equal to 1"),
        ("    - {id: sex}\n", "    - {id: sex, bins: [1, 2]}\n", "bins: [1, 2]", "bins"),
    ],
)
def test_bad_section_points_at_its_line(write_protocol, old, new, fragment, expected) -> None:
    text = with_section()
    assert old in text
    msg = problem(write_protocol, text.replace(old, new, 1), fragment)
    assert expected in msg, msg
    assert "consistency." in msg


def test_margin_needs_a_performance_goal(write_protocol) -> None:
    text = with_section().replace("endpoint: sens, factor: sex_by_age, margin",
                                  "endpoint: auc, factor: sex_by_age, margin")
    msg = problem(write_protocol, text, "factor: sex_by_age, margin")
    assert "has no performance_goal hypothesis; give 'threshold' instead" in msg


def test_endpoint_of_another_kind_is_refused(write_protocol) -> None:
    text = with_section().replace(
        "  - {id: auc, kind: auc, role: secondary}\n",
        "  - {id: auc, kind: auc, role: secondary}\n  - {id: ppv, kind: ppv}\n",
    ).replace("endpoints: [sens, spec, auc]", "endpoints: [sens, spec, ppv]")
    msg = problem(write_protocol, text, "endpoints: [sens, spec, ppv]")
    assert "of kind 'ppv'; a consistency assessment applies to sensitivity, specificity, auc" in msg


def test_every_problem_is_reported_at_once(write_protocol) -> None:
    text = (with_section().replace("    - {id: sex}\n", "    - {id: sexx}\n")
            .replace("threshold: 0.80}", "threshold: 1.5}"))
    _, problems = check_protocol(write_protocol(text))
    assert len(problems) == 3  # the unknown factor, the bad threshold, the rule naming 'sex'


def test_schema_describes_the_section() -> None:
    schema = protocol_json_schema()
    assert "consistency" in schema["properties"]
    defs = schema["$defs"]
    assert set(defs["ConsistencyRule"]["properties"]["type"]["enum"]) == {
        "prediction_lower_bound", "level_lower_bound", "interaction_or_gap"}
    committed = json.loads((PROTOCOLS / "schema.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(schema))


def test_absent_section_leaves_the_protocol_hash_unchanged(write_protocol) -> None:
    """A protocol without the section dumps no 'consistency' key (its sha256 is as before)."""
    p = load_protocol(write_protocol(minimal_text()))
    assert "consistency" not in p.model_dump(mode="json")
    # the sha256 of this protocol computed before the section existed (main at 4f5362a)
    assert protocol_sha256(p) == "c845c8748645af10197b4f3acc339f5fa6a91055d00950794d4c0b2b82fe7479"
    q = load_protocol(write_protocol(with_section()))
    assert q.model_dump(mode="json")["consistency"]["min_level_size"] == 10


def test_section_is_locked_with_the_protocol(write_protocol) -> None:
    path = write_protocol(with_section())
    lock = lock_protocol(path, approver="A Person <a@example.org>", meaning="approved SAP")
    assert lock.to_dict()["protocol"]["consistency"]["rules"][0]["threshold"] == 0.8
    verify_lock(path)
    path.write_text(with_section().replace("threshold: 0.80}", "threshold: 0.75}"), encoding="utf-8")
    with pytest.raises(Exception, match="changed|altered|sha256"):
        verify_lock(path)


@pytest.mark.parametrize("name", ["demo.yaml", "cade_pneumothorax.yaml"])
def test_example_protocols_have_a_consistency_section(name: str) -> None:
    p = load_protocol(PROTOCOLS / name, check_files=False)
    assert p.consistency is not None
    assert p.consistency.factor("site").pooled
    assert {r.type for r in p.consistency.rules} == {
        "prediction_lower_bound", "level_lower_bound", "interaction_or_gap"}
