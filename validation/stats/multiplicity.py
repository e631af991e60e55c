"""Multiplicity across hypotheses: fixed sequence, Holm, Hochberg, graphical, co-primary.

Every procedure takes the raw (one-sided) p-values of the hypotheses and the family-wise level
``alpha`` and returns a :class:`MultiplicityResult`: the adjusted p-value of each hypothesis
(the smallest family-wise level at which the procedure rejects it), the decision, and the rule
that produced the decision.

* ``fixed_sequence``: hierarchical testing in the stated order, each at full ``alpha``; testing
  stops at the first non-rejection. Adjusted ``p_i = max(p_1, ..., p_i)`` (Maurer et al. 1995).
* ``holm`` and ``hochberg``: the step-down and step-up formulas (the same values as statsmodels
  ``multipletests`` methods ``holm`` and ``simes-hochberg``, checked in the tests; computed here
  because ``multipletests`` runs a full garbage collection on every call).
* ``graphical``: the sequentially rejective weighted-Bonferroni graph of Bretz, Maurer,
  Brannath and Posch (2009) with initial weights ``w`` and transition matrix ``G``: Holm,
  fixed-sequence and fallback procedures are special graphs.
* ``coprimary``: all hypotheses must be rejected, each at full ``alpha`` with no split
  (intersection-union test, Berger 1982); the adjusted p-value of each is ``max_j p_j``.
* ``none``: a single hypothesis, or a protocol that declares no adjustment.

References
----------
1. Bretz F, Maurer W, Brannath W, Posch M (2009). A graphical approach to sequentially
   rejective multiple test procedures. Stat Med 28(4):586-604. doi:10.1002/sim.3495
2. Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J Stat
   6(2):65-70. https://www.jstor.org/stable/4615733
3. Hochberg Y (1988). A sharper Bonferroni procedure for multiple tests of significance.
   Biometrika 75(4):800-802. doi:10.1093/biomet/75.4.800
4. Maurer W, Hothorn LA, Lehmacher W (1995). Multiple comparisons in drug clinical trials and
   preclinical assays: a-priori ordered hypotheses. In: Vollmar J (ed.), Biometrie in der
   chemisch-pharmazeutischen Industrie 6:3-18. Fischer, Stuttgart.
5. Berger RL (1982). Multiparameter hypothesis testing and acceptance sampling.
   Technometrics 24(4):295-300. doi:10.1080/00401706.1982.10487790
6. Westfall PH, Krishen A (2001). Optimally weighted, fixed sequence and gatekeeper multiple
   testing procedures. J Stat Plan Inference 99(1):25-40. doi:10.1016/S0378-3758(01)00077-5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from validation.errors import InputError
from validation.stats._checks import check_alpha, check_choice
from validation.stats._result import Result

REF_BRETZ_2009 = (
    "Bretz F, Maurer W, Brannath W, Posch M (2009). A graphical approach to sequentially "
    "rejective multiple test procedures. Stat Med 28(4):586-604. doi:10.1002/sim.3495"
)
REF_HOLM_1979 = (
    "Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J Stat "
    "6(2):65-70. https://www.jstor.org/stable/4615733"
)
REF_HOCHBERG_1988 = (
    "Hochberg Y (1988). A sharper Bonferroni procedure for multiple tests of significance. "
    "Biometrika 75(4):800-802. doi:10.1093/biomet/75.4.800"
)
REF_MAURER_1995 = (
    "Maurer W, Hothorn LA, Lehmacher W (1995). Multiple comparisons in drug clinical trials and "
    "preclinical assays: a-priori ordered hypotheses. Biometrie in der chemisch-pharmazeutischen "
    "Industrie 6:3-18."
)
REF_WESTFALL_2001 = (
    "Westfall PH, Krishen A (2001). Optimally weighted, fixed sequence and gatekeeper multiple "
    "testing procedures. J Stat Plan Inference 99(1):25-40. doi:10.1016/S0378-3758(01)00077-5"
)
REF_BERGER_1982 = (
    "Berger RL (1982). Multiparameter hypothesis testing and acceptance sampling. "
    "Technometrics 24(4):295-300. doi:10.1080/00401706.1982.10487790"
)

PROCEDURES = ("none", "fixed_sequence", "holm", "hochberg", "graphical", "coprimary")
_TOL = 1e-12


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiplicityResult(Result):
    """Adjusted p-values and decisions of one multiple-testing procedure.

    ``p_adjusted[i]`` is the smallest family-wise level at which the procedure rejects
    hypothesis ``i`` (capped at 1); ``rejected[i]`` is ``p_adjusted[i] <= alpha``;
    ``rules[i]`` says in words why. ``rejection_order`` lists the rejected hypotheses in the
    order the procedure rejected them. ``weights`` and ``transitions`` are the initial graph
    (graphical procedure only).
    """

    procedure: str
    alpha: float
    hypotheses: tuple[str, ...]
    p_values: tuple[float, ...]
    p_adjusted: tuple[float, ...]
    rejected: tuple[bool, ...]
    rules: tuple[str, ...]
    rejection_order: tuple[str, ...]
    weights: tuple[float, ...] | None
    transitions: tuple[tuple[float, ...], ...] | None
    method: str
    references: tuple[str, ...]

    def decision(self, hypothesis: str) -> bool:
        """Whether ``hypothesis`` (by name) was rejected."""
        return self.rejected[self.hypotheses.index(hypothesis)]


# --------------------------------------------------------------------------- checks


def _check_p(p_values: Sequence[float], name: str = "p_values") -> np.ndarray:
    try:
        p = np.asarray(p_values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be numbers in [0, 1]; got {p_values!r}.") from None
    if p.ndim != 1 or p.size == 0:
        raise InputError(f"'{name}' must be a non-empty list of p-values; got {p_values!r}.")
    bad = ~((p >= 0.0) & (p <= 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"'{name}' must lie in [0, 1]; got {p_values[i]!r} at position {i}.")
    return p


def _check_names(names: Sequence[str] | None, m: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"H{i + 1}" for i in range(m))
    out = tuple(str(n) for n in names)
    if len(out) != m:
        raise InputError(f"'names' must have one name per p-value ({m}); got {len(out)}.")
    if len(set(out)) != m:
        raise InputError(f"'names' must be unique; got {list(out)!r}.")
    return out


def check_graph(
    weights: Sequence[float], transitions: Sequence[Sequence[float]], m: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a graphical procedure's initial weights and transition matrix.

    Weights must be non-negative and sum to at most 1; the transition matrix must be square of
    the same size, non-negative, with a zero diagonal and rows summing to at most 1
    (Bretz et al. 2009, Section 2).
    """
    try:
        w = np.asarray(weights, dtype=np.float64)
        g = np.asarray(transitions, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            "'weights' and 'transitions' must be a list of numbers and a square matrix of "
            "numbers."
        ) from None
    if w.ndim != 1 or w.size == 0:
        raise InputError(f"'weights' must be a non-empty list of numbers; got {weights!r}.")
    if m is not None and w.size != m:
        raise InputError(f"'weights' must have one weight per hypothesis ({m}); got {w.size}.")
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError(f"'weights' must be non-negative numbers; got {w.tolist()!r}.")
    if w.sum() > 1.0 + 1e-9:
        raise InputError(
            f"'weights' must sum to at most 1 (they split alpha); got sum {w.sum():.6g} "
            f"from {w.tolist()!r}."
        )
    if g.shape != (w.size, w.size):
        raise InputError(
            f"'transitions' must be a {w.size} x {w.size} matrix (one row and column per "
            f"hypothesis); got shape {g.shape}."
        )
    if not np.isfinite(g).all() or (g < 0).any():
        raise InputError("'transitions' must hold non-negative numbers.")
    diag = np.diag(g)
    if (diag != 0).any():
        i = int(np.flatnonzero(diag != 0)[0])
        raise InputError(
            f"'transitions' must have a zero diagonal (a hypothesis cannot pass alpha to "
            f"itself); got {float(g[i, i]):g} at row {i + 1}."
        )
    rows = g.sum(axis=1)
    if (rows > 1.0 + 1e-9).any():
        i = int(np.flatnonzero(rows > 1.0 + 1e-9)[0])
        raise InputError(
            f"'transitions' rows must sum to at most 1 (a hypothesis passes on at most its own "
            f"alpha); row {i + 1} sums to {rows[i]:.6g}."
        )
    return w, g


# --------------------------------------------------------------------------- procedures


def _result(
    procedure: str,
    alpha: float,
    names: tuple[str, ...],
    p: np.ndarray,
    p_adj: np.ndarray,
    rules: list[str],
    order: list[int],
    method: str,
    references: tuple[str, ...],
    weights: np.ndarray | None = None,
    transitions: np.ndarray | None = None,
) -> MultiplicityResult:
    p_adj = np.minimum(p_adj, 1.0)
    rejected = tuple(passes(q, alpha) for q in p_adj)
    return MultiplicityResult(
        procedure=procedure,
        alpha=alpha,
        hypotheses=names,
        p_values=tuple(float(v) for v in p),
        p_adjusted=tuple(float(v) for v in p_adj),
        rejected=rejected,
        rules=tuple(rules),
        rejection_order=tuple(names[i] for i in order if rejected[i]),
        weights=None if weights is None else tuple(float(v) for v in weights),
        transitions=None
        if transitions is None
        else tuple(tuple(float(v) for v in row) for row in transitions),
        method=method,
        references=references,
    )


def passes(p: float, level: float) -> bool:
    """``p <= level``, with a relative tolerance for the rounding of adjusted p-values (one
    rule for every procedure, its rule text and its decision; the hypotheses' reasons use it
    too)."""
    return bool(p <= level + _TOL * level)


def _cmp(p: float, level: float) -> str:
    return "<=" if passes(p, level) else ">"


def _verdict(q: float, alpha: float) -> str:
    return f"adjusted p = {q:.4g} {_cmp(q, alpha)} alpha = {alpha:g}"


def no_adjustment(
    p_values: Sequence[float], *, alpha: float = 0.05, names: Sequence[str] | None = None
) -> MultiplicityResult:
    """Each hypothesis at level ``alpha`` with no adjustment (one hypothesis, or declared so)."""
    alpha = check_alpha(alpha)
    p = _check_p(p_values)
    nm = _check_names(names, p.size)
    rules = [
        f"no multiplicity adjustment: p = {v:.4g} {_cmp(v, alpha)} alpha = {alpha:g}"
        for v in p
    ]
    return _result("none", alpha, nm, p, p.copy(), rules, list(np.argsort(p, kind="stable")),
                   "no adjustment", ())


def fixed_sequence(
    p_values: Sequence[float], *, alpha: float = 0.05, names: Sequence[str] | None = None
) -> MultiplicityResult:
    """Fixed-sequence (hierarchical) testing in the given order, each step at full ``alpha``.

    ``H_i`` is rejected iff ``p_1, ..., p_i <= alpha``; adjusted ``p_i = max_{j <= i} p_j``.
    The order is the order of ``p_values`` and must be fixed in the protocol beforehand.

    References
    ----------
    Maurer, Hothorn and Lehmacher (1995); Westfall and Krishen (2001)
    doi:10.1016/S0378-3758(01)00077-5.
    """
    alpha = check_alpha(alpha)
    p = _check_p(p_values)
    nm = _check_names(names, p.size)
    p_adj = np.maximum.accumulate(p)
    rules = []
    stopped: str | None = None
    for i, q in enumerate(p_adj):
        step = f"fixed sequence, step {i + 1} of {p.size}"
        if stopped is not None:
            rules.append(f"{step}: not rejected because {stopped} earlier in the sequence was not "
                         f"rejected ({_verdict(q, alpha)})")
        elif passes(p[i], alpha):
            rules.append(f"{step}: p = {p[i]:.4g} <= alpha = {alpha:g}; {_verdict(q, alpha)}")
        else:
            rules.append(f"{step}: p = {p[i]:.4g} > alpha = {alpha:g}; testing stops here")
            stopped = nm[i]
    return _result("fixed_sequence", alpha, nm, p, p_adj, rules, list(range(p.size)),
                   "fixed-sequence (hierarchical) testing", (REF_MAURER_1995, REF_WESTFALL_2001))


def holm(
    p_values: Sequence[float], *, alpha: float = 0.05, names: Sequence[str] | None = None
) -> MultiplicityResult:
    """Holm's step-down procedure.

    Adjusted ``p_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))`` for the ordered p-values.

    References
    ----------
    Holm (1979).
    """
    alpha = check_alpha(alpha)
    p = _check_p(p_values)
    nm = _check_names(names, p.size)
    return _stepwise("holm", alpha, nm, p, step_down=True)



def _stepwise(
    kind: str, alpha: float, nm: tuple[str, ...], p: np.ndarray, *, step_down: bool
) -> MultiplicityResult:
    """Holm (step-down) and Hochberg (step-up) share the ordered Bonferroni steps
    ``min(1, (m - j + 1) p_(j))``; step-down takes the running maximum from the smallest p,
    step-up the running minimum from the largest."""
    order = list(np.argsort(p, kind="stable"))
    m = p.size
    steps = np.minimum(1.0, (m - np.arange(m)) * p[order])
    p_adj = np.empty(m)
    if step_down:
        p_adj[order] = np.maximum.accumulate(steps)
    else:
        p_adj[order] = np.minimum.accumulate(steps[::-1])[::-1]
    rank = {j: r for r, j in enumerate(order)}
    label = "Holm step-down" if step_down else "Hochberg step-up"
    rules = [
        f"{label}, rank {rank[i] + 1} of {m} (p = {p[i]:.4g} compared with "
        f"alpha/{m - rank[i]}); {_verdict(p_adj[i], alpha)}"
        for i in range(m)
    ]
    refs = (REF_HOLM_1979,) if step_down else (REF_HOCHBERG_1988,)
    return _result(kind, alpha, nm, p, p_adj, rules, order, f"{label} procedure", refs)

def hochberg(
    p_values: Sequence[float], *, alpha: float = 0.05, names: Sequence[str] | None = None
) -> MultiplicityResult:
    """Hochberg's step-up procedure.

    Adjusted ``p_(i) = min_{j >= i} min(1, (m - j + 1) p_(j))``. Valid under independence or
    positive dependence of the test statistics (e.g. positively correlated one-sided tests).

    References
    ----------
    Hochberg (1988) doi:10.1093/biomet/75.4.800.
    """
    alpha = check_alpha(alpha)
    p = _check_p(p_values)
    nm = _check_names(names, p.size)
    return _stepwise("hochberg", alpha, nm, p, step_down=False)


def coprimary(
    p_values: Sequence[float], *, alpha: float = 0.05, names: Sequence[str] | None = None
) -> MultiplicityResult:
    """Co-primary hypotheses: success needs every one rejected, each at full ``alpha``.

    The intersection-union test needs no alpha split; its p-value is ``max_j p_j``, which is
    reported as every hypothesis' adjusted p-value, so all pass or all fail together.

    References
    ----------
    Berger (1982) doi:10.1080/00401706.1982.10487790.
    """
    alpha = check_alpha(alpha)
    p = _check_p(p_values)
    nm = _check_names(names, p.size)
    worst = float(p.max())
    failing = [nm[i] for i in range(p.size) if not passes(p[i], alpha)]
    rules = []
    for i in range(p.size):
        own = f"p = {p[i]:.4g} {_cmp(p[i], alpha)} alpha = {alpha:g}"
        if failing:
            rules.append(f"co-primary (all must pass): {own}; not all passed "
                         f"({', '.join(failing)} failed)")
        else:
            rules.append(f"co-primary (all must pass): {own}; every co-primary hypothesis passed")
    return _result("coprimary", alpha, nm, p, np.full(p.size, worst), rules,
                   list(np.argsort(p, kind="stable")),
                   "co-primary endpoints (intersection-union test, no alpha split)",
                   (REF_BERGER_1982,))


def _remove_node(w: np.ndarray, g: np.ndarray, active: np.ndarray, j: int) -> None:
    """Algorithm 1 of Bretz et al. (2009): remove ``j``, pass its weight, update edges."""
    for k in np.flatnonzero(active):
        if k != j:
            w[k] += w[j] * g[j, k]
    w[j] = 0.0
    new = np.zeros_like(g)
    idx = [k for k in np.flatnonzero(active) if k != j]
    for a in idx:
        den = 1.0 - g[a, j] * g[j, a]
        for b in idx:
            if a == b:
                continue
            new[a, b] = (g[a, b] + g[a, j] * g[j, b]) / den if den > _TOL else 0.0
    g[:, :] = new
    active[j] = False


def graph_update(
    weights: Sequence[float], transitions: Sequence[Sequence[float]], remove: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Weights and transition matrix after removing (rejecting) the hypotheses ``remove``.

    Applies the update of Bretz et al. (2009, Algorithm 1) for each index in turn (0-based);
    the result does not depend on the order.
    """
    w, g = check_graph(weights, transitions)
    w, g = w.copy(), g.copy()
    active = np.ones(w.size, dtype=bool)
    for j in remove:
        if not (0 <= int(j) < w.size) or not active[int(j)]:
            raise InputError(f"'remove' must hold distinct indices below {w.size}; got {remove!r}.")
        _remove_node(w, g, active, int(j))
    return w, g


def graphical(
    p_values: Sequence[float],
    weights: Sequence[float],
    transitions: Sequence[Sequence[float]],
    *,
    alpha: float = 0.05,
    names: Sequence[str] | None = None,
) -> MultiplicityResult:
    """The graphical weighted-Bonferroni procedure of Bretz et al. (2009).

    Hypothesis ``i`` starts with local level ``w_i alpha``. Whenever some ``p_j <= w_j alpha``,
    ``H_j`` is rejected and its weight is passed along the graph's edges (Algorithm 1):
    ``w_k <- w_k + w_j g_jk`` and
    ``g_kl <- (g_kl + g_kj g_jl) / (1 - g_kj g_jk)``. Adjusted p-values follow the same steps:
    at each step the hypothesis with the smallest ``p_j / w_j`` is removed and its adjusted
    p-value is ``max(previous, min(1, p_j / w_j))``.

    Parameters
    ----------
    p_values : sequence of float, shape (m,)
        Raw one-sided p-values.
    weights : sequence of float, shape (m,)
        Initial weights, non-negative, summing to at most 1.
    transitions : (m, m) matrix
        ``transitions[j][k]`` is the fraction of ``H_j``'s level passed to ``H_k`` when ``H_j``
        is rejected; zero diagonal, rows summing to at most 1.
    alpha : float
        Family-wise level.
    names : sequence of str, optional

    Returns
    -------
    MultiplicityResult

    References
    ----------
    Bretz, Maurer, Brannath and Posch (2009) doi:10.1002/sim.3495.

    Examples
    --------
    Holm for two hypotheses is the graph with weights (1/2, 1/2) and edges of weight 1:

    >>> r = graphical([0.01, 0.04], [0.5, 0.5], [[0, 1], [1, 0]], alpha=0.05)
    >>> r.p_adjusted, r.rejected
    ((0.02, 0.04), (True, True))
    """
    alpha = check_alpha(alpha)
    p = _check_p(p_values)
    nm = _check_names(names, p.size)
    w0, g0 = check_graph(weights, transitions, p.size)
    w, g = w0.copy(), g0.copy()
    active = np.ones(p.size, dtype=bool)
    p_adj = np.ones(p.size)
    level_at_removal = np.zeros(p.size)
    order: list[int] = []
    running = 0.0
    while active.any():
        idx = np.flatnonzero(active)
        ratios = np.array([float(p[k]) / float(w[k]) if w[k] > 0 else math.inf for k in idx])
        if not np.isfinite(ratios).any():
            break  # no weight left for the remaining hypotheses: they cannot be rejected
        pick = int(idx[int(np.argmin(ratios))])
        running = max(running, min(1.0, float(ratios.min())))
        p_adj[pick] = running
        level_at_removal[pick] = w[pick] * alpha
        order.append(pick)
        _remove_node(w, g, active, pick)
    # the local levels the hypotheses not rejected end with: the graph after removing exactly
    # the rejected ones (in their order), as the sequentially rejective procedure leaves it
    w_end, g_end = w0.copy(), g0.copy()
    left = np.ones(p.size, dtype=bool)
    for j in order:
        if passes(p_adj[j], alpha):
            _remove_node(w_end, g_end, left, j)
    rules = []
    step_of = {j: s for s, j in enumerate(order)}
    for i in range(p.size):
        if passes(p_adj[i], alpha):
            s = step_of[i]
            rules.append(
                f"graphical (Bretz 2009): rejected at step {s + 1} with local level "
                f"w*alpha = {level_at_removal[i]:.4g} (p = {p[i]:.4g}); {_verdict(p_adj[i], alpha)}"
            )
        elif w_end[i] <= 0.0:
            rules.append(
                f"graphical (Bretz 2009): not rejected; it received no alpha (local level 0: "
                f"no initial weight and no weight passed on from rejected hypotheses); "
                f"p = {p[i]:.4g}; {_verdict(p_adj[i], alpha)}"
            )
        else:
            rules.append(
                f"graphical (Bretz 2009): not rejected; p = {p[i]:.4g} > local level "
                f"w*alpha = {w_end[i] * alpha:.4g}; {_verdict(p_adj[i], alpha)}"
            )
    return _result("graphical", alpha, nm, p, p_adj, rules, order,
                   "graphical approach with weighted Bonferroni tests", (REF_BRETZ_2009,),
                   weights=w0, transitions=g0)


def adjust(
    procedure: str,
    p_values: Sequence[float],
    *,
    alpha: float = 0.05,
    names: Sequence[str] | None = None,
    weights: Sequence[float] | None = None,
    transitions: Sequence[Sequence[float]] | None = None,
) -> MultiplicityResult:
    """Run the named procedure (one of ``PROCEDURES``); ``graphical`` needs the graph."""
    proc = check_choice(procedure, "procedure", PROCEDURES)
    if proc == "graphical":
        if weights is None or transitions is None:
            raise InputError(
                "'weights' and 'transitions' must be given for the graphical procedure; got "
                f"weights={weights!r}, transitions={transitions!r}."
            )
        return graphical(p_values, weights, transitions, alpha=alpha, names=names)
    funcs: dict[str, Any] = {
        "none": no_adjustment,
        "fixed_sequence": fixed_sequence,
        "holm": holm,
        "hochberg": hochberg,
        "coprimary": coprimary,
    }
    return funcs[proc](p_values, alpha=alpha, names=names)
