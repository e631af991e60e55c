"""The case-by-case comparison: invariant to the order of the cases, and a version compared
with itself is non-inferior on every criterion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.change.compare import compare_versions
from validation.change.demo import _plan, _version_scores
from validation.change.plan import ChangePlan
from validation.data.predictions import load_precomputed_predictions, match_predictions
from validation.demo_data import prepare_demo
from validation.protocol import load_protocol
from validation.provenance.hashing import sha256_file
from validation.run_checks import load_test_set

SEED = 20261128


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("cmp")
    proto = prepare_demo(folder, seed=SEED, images=False)
    protocol = load_protocol(proto)
    ts = load_test_set(protocol, proto.parent)
    orig = proto.parent / "predictions.csv"
    new = proto.parent / "v.csv"
    new.write_text(_version_scores(proto.parent, SEED, lift=0.45))
    cases = {n: match_predictions(ts, load_precomputed_predictions(p, sha256=sha256_file(p)),
                                  source=p.name) for n, p in (("o", orig), ("n", new))}
    plan = ChangePlan.model_validate(_plan("0" * 64))
    return protocol, plan, cases


def _decisions(res):  # type: ignore[no-untyped-def]
    return [(c["id"], c["decision"], c["test"]["p_value"], c["paired_counts"])
            for c in res["criteria"]]


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_order_of_cases_changes_nothing(versions, seed: int) -> None:  # type: ignore[no-untyped-def]
    protocol, plan, cases = versions
    mod = plan.modification("retraining")
    base = compare_versions(protocol, plan, mod, {"original": (cases["o"], 0.5),
                                                  "previous": (cases["o"], 0.5),
                                                  "new": (cases["n"], 0.5)})
    perm = np.random.default_rng(seed).permutation(len(cases["o"]))
    shuffled = {k: v.iloc[perm].reset_index(drop=True) for k, v in cases.items()}
    again = compare_versions(protocol, plan, mod, {"original": (shuffled["o"], 0.5),
                                                   "previous": (shuffled["o"], 0.5),
                                                   "new": (shuffled["n"], 0.5)})
    for (i1, d1, p1, c1), (i2, d2, p2, c2) in zip(_decisions(base), _decisions(again),
                                                  strict=True):
        assert (i1, d1, c1) == (i2, d2, c2)
        assert p1 == pytest.approx(p2, rel=1e-9, abs=1e-15)
    assert base["decision"] == again["decision"] == "accepted"


def test_a_version_against_itself(versions) -> None:  # type: ignore[no-untyped-def]
    """Identical readings: no discordant case, Tango's test on the findings, non-inferior."""
    protocol, plan, cases = versions
    mod = plan.modification("threshold_change")
    res = compare_versions(protocol, plan, mod, {"original": (cases["o"], 0.5),
                                                 "previous": (cases["o"], 0.5),
                                                 "new": (cases["o"], 0.5)})
    for c in res["criteria"]:
        assert c["paired_counts"]["b"] == c["paired_counts"]["c"] == 0
        assert c["test"]["estimate"] == 0.0 and c["decision"] == "pass"
        assert "no discordant finding" in c["note"]
    assert res["consistency"]["passed"]
