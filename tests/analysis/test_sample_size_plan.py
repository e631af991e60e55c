"""Sample-size planning in the analysis layer: the plan, and the plain key of results.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from validation.analysis.sample_size import sample_size_of_locked, sample_size_plan, sample_size_section
from validation.errors import ProtocolError
from validation.protocol import Protocol
from validation.stats import sample_size as ss
from validation.stats import to_plain

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"


def _data(name: str = "cade_pneumothorax") -> dict:
    return yaml.safe_load((PROTOCOLS / f"{name}.yaml").read_text())


def test_section_is_plain_json_and_is_the_plan() -> None:
    p = Protocol.model_validate(_data())
    section = sample_size_section(p)
    assert section is not None
    assert json.loads(json.dumps(section)) == section
    assert section == to_plain(sample_size_plan(p, strict=False))
    assert [it["hypothesis"] for it in section["items"]] == [
        str(a.hypothesis) for a in p.sample_size.assumptions]
    assert section["alpha_one_sided"] == p.one_sided_level
    assert section["required_cases"] == max(it["n_enrol"] for it in section["items"]
                                            if it.get("n_enrol") is not None)


def test_performance_goal_item_matches_the_stats_call() -> None:
    """An item is the stats planning call at the protocol's one-sided level, inflated for the
    prevalence and the drop-out."""
    p = Protocol.model_validate(_data())
    plan = p.sample_size
    section = sample_size_section(p)
    a = next(a for a in plan.assumptions
             if p.endpoint(p.hypothesis(a.hypothesis).endpoint).kind == "sensitivity"
             and p.hypothesis(a.hypothesis).type == "performance_goal")
    h = p.hypothesis(a.hypothesis)
    item = next(it for it in section["items"] if it["hypothesis"] == h.id)
    method = "normal" if (plan.method and "normal" in plan.method.lower()) else "exact"
    r = ss.proportion_vs_goal_sample_size(a.expected, h.null_value(), alpha=p.one_sided_level,
                                          power=plan.power, method=method,
                                          endpoint="sensitivity", prevalence=plan.prevalence)
    assert item["n"] == r.n
    total = item.get("n_total") or item["n"]
    expected = math.ceil(total / (1 - plan.dropout) - 1e-9) if plan.dropout else total
    assert item["n_enrol"] == expected


def test_no_assumptions_gives_no_section() -> None:
    d = _data()
    d.pop("sample_size", None)
    assert sample_size_section(Protocol.model_validate(d)) is None
    assert sample_size_of_locked(d) is None
    with pytest.raises(ProtocolError, match="no 'sample_size' section"):
        sample_size_plan(Protocol.model_validate(d))


def test_locked_data_that_does_not_validate_gives_an_error_entry() -> None:
    d = _data()
    d["alpha"] = "not a number"
    out = sample_size_of_locked(d)
    assert out is not None and "alpha" in out["error"]
    assert sample_size_of_locked("not a mapping") is None
