"""Multiplicity procedures against brute-force oracles and worked examples.

* Holm and Hochberg against their textbook formulas written out here (Holm 1979, Hochberg 1988).
* The graphical procedure (Bretz et al. 2009) against: (i) a hand-worked example, the graph
  with two primary and two secondary hypotheses (H1 -> H3, H2 -> H4, H3 -> H2, H4 -> H1, initial
  weights 1/2, 1/2, 0, 0) worked step by step below; (ii) Holm and fixed sequence, which are
  special graphs (Bretz et al. 2009, Section 2); (iii) the closed test it is a shortcut for:
  every intersection hypothesis tested by weighted Bonferroni with the weights obtained by
  removing the other hypotheses from the graph (Bretz et al. 2009, Section 3; Bretz et al. 2011,
  doi:10.1002/bimj.201000239), adjusted p-value = max over intersections containing H_i.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.errors import InputError
from validation.stats.multiplicity import (
    adjust,
    check_graph,
    coprimary,
    fixed_sequence,
    graph_update,
    graphical,
    hochberg,
    holm,
    no_adjustment,
)

TOL = 1e-12


def holm_oracle(p):
    m = len(p)
    order = np.argsort(p, kind="stable")
    out = np.empty(m)
    running = 0.0
    for j, i in enumerate(order):
        running = max(running, min(1.0, (m - j) * p[i]))
        out[i] = running
    return out


def hochberg_oracle(p):
    m = len(p)
    order = np.argsort(p, kind="stable")
    out = np.empty(m)
    running = 1.0
    for j in range(m - 1, -1, -1):
        i = order[j]
        running = min(running, min(1.0, (m - j) * p[i]))
        out[i] = running
    return out


def closed_test_oracle(p, w, g):
    """Adjusted p-values of the closed weighted-Bonferroni test defined by the graph."""
    m = len(p)
    adj = np.zeros(m)
    for r in range(1, m + 1):
        for subset in itertools.combinations(range(m), r):
            removed = [k for k in range(m) if k not in subset]
            wi, _ = graph_update(w, g, removed)
            local = min((float(p[k]) / float(wi[k]) if wi[k] > 0 else np.inf) for k in subset)
            local = min(local, 1.0)
            for k in subset:
                adj[k] = max(adj[k], local)
    return adj


def holm_graph(m):
    g = np.full((m, m), 1.0 / (m - 1))
    np.fill_diagonal(g, 0.0)
    return np.full(m, 1.0 / m), g


def sequence_graph(m):
    w = np.zeros(m)
    w[0] = 1.0
    g = np.zeros((m, m))
    for i in range(m - 1):
        g[i, i + 1] = 1.0
    return w, g


# --------------------------------------------------------------------------- worked example


def test_graphical_worked_example_two_primary_two_secondary():
    """Worked by hand (alpha = 0.025).

    Step 1: p/w = (0.02, 0.01, inf, inf); reject H2 (0.005 <= 0.0125); its weight goes to H4:
    w = (1/2, 0, 0, 1/2); edges H3 -> H4 (through H2), H4 -> H1.
    Step 2: p/w = (0.02, -, inf, 0.044); reject H1 (0.01 <= 0.0125); its weight goes to H3:
    w = (0, 0, 1/2, 1/2); edges H3 -> H4, H4 -> H3.
    Step 3: p/w = (-, -, 0.03, 0.044): 0.015 > 0.0125, stop. Adjusted: H3 0.03, then H4 takes
    all the weight: max(0.03, 0.022) = 0.03.
    """
    w = [0.5, 0.5, 0.0, 0.0]
    g = [[0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0], [1, 0, 0, 0]]
    r = graphical([0.01, 0.005, 0.015, 0.022], w, g, alpha=0.025,
                  names=["H1", "H2", "H3", "H4"])
    assert r.p_adjusted == pytest.approx((0.02, 0.01, 0.03, 0.03), abs=TOL)
    assert r.rejected == (True, True, False, False)
    assert r.rejection_order == ("H2", "H1")
    assert "step 1" in r.rules[1] and "step 2" in r.rules[0]
    assert r.decision("H3") is False
    # after rejecting H2 and H1 the remaining graph is H3 <-> H4 with weights 1/2 each
    w2, g2 = graph_update(w, g, [1, 0])
    assert w2 == pytest.approx([0, 0, 0.5, 0.5], abs=TOL)
    assert g2[2, 3] == pytest.approx(1.0) and g2[3, 2] == pytest.approx(1.0)


def test_graphical_rules_state_the_local_level():
    """Worked example above: H3 and H4 end with weight 1/2 each (local level 0.0125); a
    hypothesis with no weight and no incoming edge from a rejected one receives no alpha."""
    w = [0.5, 0.5, 0.0, 0.0]
    g = [[0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0], [1, 0, 0, 0]]
    r = graphical([0.01, 0.005, 0.015, 0.022], w, g, alpha=0.025)
    assert "p = 0.015 > local level w*alpha = 0.0125" in r.rules[2]
    assert "p = 0.022 > local level w*alpha = 0.0125" in r.rules[3]
    # H3 has weight 0 and only H2 (not rejected) passes to it
    r = graphical([0.01, 0.3, 0.001], [0.5, 0.5, 0.0], [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
                  alpha=0.025)
    assert r.rejected == (True, False, False)
    assert "received no alpha (local level 0" in r.rules[2]
    assert "local level w*alpha = 0.025" in r.rules[1]


def test_rule_text_and_decision_share_one_comparison():
    """A p-value equal to alpha up to rounding passes in the text and the decision alike."""
    a = 0.025
    p = a * (1 + 1e-14)
    for proc in (fixed_sequence, coprimary, no_adjustment):
        r = proc([p, 0.001], alpha=a)
        assert r.rejected[0] is True and f"<= alpha = {a:g}" in r.rules[0], proc
        assert "> alpha" not in r.rules[0]


def test_graph_error_shows_plain_numbers():
    with pytest.raises(InputError) as err:
        check_graph(np.array([0.5, 0.5]), np.array([[0.5, 0.5], [1.0, 0.0]]))
    assert "got 0.5 at row 1" in str(err.value) and "np.float64" not in str(err.value)
    with pytest.raises(InputError) as err:
        check_graph(np.array([0.7, 0.6]), [[0, 1], [1, 0]])
    assert "np.float64" not in str(err.value) and "[0.7, 0.6]" in str(err.value)


def test_graph_update_order_does_not_matter():
    w = [0.4, 0.3, 0.2, 0.1]
    g = [[0, 0.5, 0.5, 0], [0.2, 0, 0.3, 0.5], [0.25, 0.25, 0, 0.5], [1 / 3, 1 / 3, 1 / 3, 0]]
    a = graph_update(w, g, [0, 2])
    b = graph_update(w, g, [2, 0])
    assert np.allclose(a[0], b[0], atol=TOL) and np.allclose(a[1], b[1], atol=TOL)


@pytest.mark.parametrize("m", [2, 3, 5])
def test_holm_is_a_special_graph(m):
    rng = np.random.default_rng(m)
    for _ in range(20):
        p = rng.uniform(0, 0.1, m)
        w, g = holm_graph(m)
        gr = graphical(p, w, g, alpha=0.05)
        assert gr.p_adjusted == pytest.approx(tuple(holm_oracle(p)), abs=TOL)
        assert holm(p, alpha=0.05).p_adjusted == pytest.approx(tuple(holm_oracle(p)), abs=TOL)


@pytest.mark.parametrize("m", [2, 4])
def test_fixed_sequence_is_a_special_graph(m):
    rng = np.random.default_rng(10 + m)
    for _ in range(20):
        p = rng.uniform(0, 0.1, m)
        w, g = sequence_graph(m)
        fs = fixed_sequence(p, alpha=0.05)
        assert graphical(p, w, g, alpha=0.05).p_adjusted == pytest.approx(fs.p_adjusted, abs=TOL)
        assert fs.p_adjusted == pytest.approx(tuple(np.maximum.accumulate(p)), abs=TOL)


def test_fixed_sequence_stops_at_first_failure():
    r = fixed_sequence([0.01, 0.2, 0.001], alpha=0.05, names=["sens", "spec", "auc"])
    assert r.rejected == (True, False, False)
    assert "testing stops here" in r.rules[1]
    assert "spec earlier in the sequence" in r.rules[2]


def test_holm_hochberg_match_statsmodels():
    """statsmodels multipletests ('holm', 'simes-hochberg') as the independent implementation."""
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.012, 0.04, 0.0031, 0.2, 0.04, 0.049])
    for proc, name in ((holm, "holm"), (hochberg, "simes-hochberg")):
        ref = multipletests(p, alpha=0.05, method=name)
        r = proc(p, alpha=0.05)
        assert r.p_adjusted == pytest.approx(tuple(ref[1]), abs=TOL)
        assert r.rejected == tuple(bool(v) for v in ref[0])


def test_hochberg_matches_formula_and_dominates_holm():
    rng = np.random.default_rng(5)
    for m in (2, 3, 6):
        for _ in range(20):
            p = rng.uniform(0, 0.08, m)
            hb = hochberg(p, alpha=0.05)
            assert hb.p_adjusted == pytest.approx(tuple(hochberg_oracle(p)), abs=TOL)
            assert all(a <= b + TOL for a, b in zip(hb.p_adjusted, holm(p).p_adjusted, strict=True))


def test_hochberg_rejects_all_when_largest_passes():
    # Hochberg's step-up: if the largest p <= alpha, all are rejected (Holm would reject none
    # beyond the first here)
    r = hochberg([0.04, 0.045], alpha=0.05)
    assert r.rejected == (True, True)
    assert holm([0.04, 0.045], alpha=0.05).rejected == (False, False)


def test_coprimary_all_or_nothing():
    ok = coprimary([0.01, 0.03], alpha=0.05, names=["sens", "spec"])
    assert ok.rejected == (True, True) and ok.p_adjusted == (0.03, 0.03)
    bad = coprimary([0.01, 0.06], alpha=0.05, names=["sens", "spec"])
    assert bad.rejected == (False, False)
    assert "spec failed" in bad.rules[0]


def test_adjust_dispatch_and_dict():
    r = adjust("holm", [0.01, 0.02], alpha=0.05, names=["a", "b"])
    d = r.to_dict()
    assert d["procedure"] == "holm" and d["p_adjusted"] == [0.02, 0.02]
    assert adjust("none", [0.03]).rejected == (True,)
    assert no_adjustment([0.07]).rejected == (False,)
    with pytest.raises(InputError, match="'weights' and 'transitions' must be given"):
        adjust("graphical", [0.01, 0.02])
    with pytest.raises(InputError, match="'procedure'"):
        adjust("bonferroni-ish", [0.01])


# --------------------------------------------------------------------------- bad graphs


@pytest.mark.parametrize(
    "w, g, match",
    [
        ([0.6, 0.6], [[0, 1], [1, 0]], "sum to at most 1"),
        ([-0.1, 0.5], [[0, 1], [1, 0]], "non-negative"),
        ([0.5, 0.5], [[0.5, 0.5], [1, 0]], "zero diagonal"),
        ([0.5, 0.5], [[0, 1.2], [1, 0]], "row 1 sums to 1.2"),
        ([0.5, 0.5], [[0, 1, 0], [1, 0, 0]], "2 x 2 matrix"),
        ([0.5, 0.5], [[0, -1], [1, 0]], "non-negative"),
    ],
)
def test_invalid_graph(w, g, match):
    with pytest.raises(InputError, match=match):
        check_graph(w, g)
    with pytest.raises(InputError):
        graphical([0.01, 0.02], w, g)


@pytest.mark.parametrize("p", [[], [0.1, 1.2], [float("nan")], ["a"]])
def test_bad_p_values(p):
    with pytest.raises(InputError, match="'p_values'"):
        holm(p)


def test_names_must_match():
    with pytest.raises(InputError, match="'names'"):
        holm([0.1, 0.2], names=["a"])
    with pytest.raises(InputError, match="unique"):
        holm([0.1, 0.2], names=["a", "a"])


# --------------------------------------------------------------------------- properties


@st.composite
def graphs(draw):
    m = draw(st.integers(2, 4))
    raw_w = np.array(draw(st.lists(st.floats(0, 1), min_size=m, max_size=m)))
    total = draw(st.floats(0.5, 1.0))
    w = raw_w / raw_w.sum() * total if raw_w.sum() > 0 else np.full(m, 1.0 / m)
    g = np.zeros((m, m))
    for i in range(m):
        row = np.array(draw(st.lists(st.floats(0, 1), min_size=m - 1, max_size=m - 1)))
        keep = draw(st.floats(0.0, 1.0))
        row = row / row.sum() * keep if row.sum() > 0 else row
        g[i, [k for k in range(m) if k != i]] = row
    p = np.array(draw(st.lists(st.floats(0, 0.2), min_size=m, max_size=m)))
    return p, w, g


@settings(max_examples=80, deadline=None)
@given(graphs())
def test_graphical_equals_closed_weighted_bonferroni_test(case):
    p, w, g = case
    r = graphical(p, w, g, alpha=0.05)
    assert np.allclose(r.p_adjusted, closed_test_oracle(p, w, g), atol=1e-9)
    assert all(q >= pi - TOL for q, pi in zip(r.p_adjusted, p, strict=True))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=8), st.floats(0.001, 0.2))
def test_holm_hochberg_properties(p, alpha):
    p = np.array(p)
    for proc in (holm, hochberg):
        r = proc(p, alpha=alpha)
        q = np.array(r.p_adjusted)
        assert (q >= p - TOL).all() and (q <= 1.0).all()
        # monotone: a smaller raw p never gets a larger adjusted p
        order = np.argsort(p, kind="stable")
        assert (np.diff(q[order]) >= -TOL).all()
        assert r.rejected == tuple(bool(v <= alpha * (1 + 1e-12)) for v in q)
    # Holm is never less conservative than Hochberg, never more than Bonferroni
    assert (np.array(holm(p).p_adjusted) <= np.minimum(1, p * p.size) + TOL).all()
