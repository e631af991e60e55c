"""The protocol model's types and the derived values it carries (levels, null values)."""

from __future__ import annotations

import pytest
import yaml
from protocol_helpers import PROTOCOLS, minimal_text
from pydantic import ValidationError

from validation.protocol import Protocol
from validation.protocol.model import Hypothesis
from validation.protocol.vocabulary import SUPERIORITY_MARGIN_WITH_COMPARATOR


def _data(**changes):
    data = yaml.safe_load(minimal_text())
    data.update(changes)
    return data


@pytest.mark.parametrize(("alpha", "side", "one", "ci"), [
    (0.025, "one-sided", 0.025, 0.05), (0.05, "two-sided", 0.025, 0.05),
    (0.05, "one-sided", 0.05, 0.10),
])
def test_levels_on_the_protocol(alpha: float, side: str, one: float, ci: float) -> None:
    p = Protocol.model_validate(_data(alpha=alpha, sidedness=side))
    assert p.one_sided_level == pytest.approx(one)
    assert p.ci_alpha == pytest.approx(ci)
    assert p.ci_level == pytest.approx(1 - ci)


def test_null_value_on_the_hypothesis() -> None:
    h = Hypothesis(id="H", endpoint="e", type="noninferiority", goal=0.9, margin=0.05)
    assert h.null_value() == pytest.approx(0.85)
    assert h.null_value(0.7) == pytest.approx(0.65)  # against a comparator's estimate
    g = Hypothesis(id="G", endpoint="e", type="performance_goal", goal=0.8)
    assert g.null_value() == 0.8
    c = Hypothesis(id="C", endpoint="e", type="noninferiority", margin=0.05,
                   comparator_column="reader")
    with pytest.raises(ValueError, match="no goal"):
        c.null_value()


def test_superiority_margin_with_a_comparator_column_is_the_vocabulary_rule() -> None:
    with pytest.raises(ValidationError) as err:
        Hypothesis(id="S", endpoint="e", type="superiority", margin=0.05,
                   comparator_column="reader")
    assert SUPERIORITY_MARGIN_WITH_COMPARATOR in str(err.value)


def test_examples_validate_and_expose_their_sections() -> None:
    for name in ("cade_pneumothorax", "reader_study", "demo"):
        data = yaml.safe_load((PROTOCOLS / f"{name}.yaml").read_text())
        p = Protocol.model_validate(data, context={"skip_cross_checks": False})
        assert p.endpoint(p.endpoints[0].id) is p.endpoints[0]
        for h in p.hypotheses:
            assert p.hypothesis(h.id) is h
        with pytest.raises(KeyError):
            p.endpoint("no-such-endpoint")


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Protocol.model_validate(_data(unexpected=1))


def test_multiplicity_graph_is_in_family_order_with_absent_entries_zero() -> None:
    from validation.protocol.model import Multiplicity

    m = Multiplicity(procedure="graphical", weights={"H1": 0.75, "H2": 0.25},
                     transitions={"H1": {"H2": 1.0}})
    w, g = m.graph(["H2", "H1", "H3"])
    assert w == [0.25, 0.75, 0.0]
    assert g == [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
