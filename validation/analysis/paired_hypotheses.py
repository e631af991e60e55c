"""Standalone hypotheses against a comparator read on the same cases (``comparator_column``).

The model and the comparator are compared unit by unit on the analysed cases: paired DeLong
(or its clustered form) for the AUC, McNemar/Tango (or the clustered paired-proportion test)
for sensitivity and specificity, with the indeterminate handling of the endpoint's primary
analysis. Called from :func:`validation.analysis.hypotheses.evaluate_hypothesis`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from validation.errors import DataError, InputError, ProtocolError
from validation.protocol.vocabulary import SUPERIORITY_MARGIN_WITH_COMPARATOR
from validation.stats.hypotheses import HypothesisTest, proportion_difference_test


def _paired_arrays(
    h: Any, ep: Any, protocol: Any, ctx: Any
) -> tuple[Any, Any, Any, Any]:
    """Per-unit truth, model reading, comparator reading and cluster (None at patient level).

    The model's indeterminate results are handled as in the endpoint's primary analysis (e.g.
    worst case); the comparator read every analysed case, so its readings are used as they are
    (the ``per_protocol`` population drops the model's indeterminate cases from both).
    """
    from validation.analysis.endpoints import analysis_scenario, score_bounds, unit_data
    from validation.data.comparator import comparator_values
    from validation.data.testset import INDETERMINATE

    cases = getattr(ctx, "cases", None)
    if cases is None:
        raise ProtocolError(
            f"hypothesis {h.id!r} compares with the comparator in column "
            f"{h.comparator_column!r}, but no per-case data was given."
        )
    comp = comparator_values(cases, str(h.comparator_column), endpoint_kind=ep.kind)
    op = float(protocol.model.operating_point)
    scen = analysis_scenario(protocol, ep)
    mine = unit_data(cases, unit=ep.unit, operating_point=op, scenario=scen,
                     score_bounds=score_bounds(cases))
    other_cases = cases
    if scen != "determinate":
        other_cases = cases.assign(**{INDETERMINATE: False})
    if ep.kind == "auc":
        other = unit_data(other_cases.assign(score=comp.astype(float)), unit=ep.unit,
                          operating_point=op)
        return mine.truth, mine.score, other.score, mine.cluster
    other = unit_data(other_cases.assign(score=np.where(comp, 1.0, 0.0)), unit=ep.unit,
                      operating_point=0.5)
    return mine.truth, mine.called, other.called, mine.cluster


def paired_comparison(h: Any, ep: Any, protocol: Any, ctx: Any, alpha: float) -> dict[str, Any]:
    """A standalone endpoint against a comparator read on the same cases (``comparator_column``)."""
    if h.type == "performance_goal" or h.comparator_column is None:
        raise ProtocolError(f"hypothesis {h.id!r}: a standalone {h.type} hypothesis needs 'goal' "
                            "or 'comparator_column'.")
    if h.type == "superiority" and h.margin:
        raise ProtocolError(f"hypothesis {h.id!r}: {SUPERIORITY_MARGIN_WITH_COMPARATOR}.")
    margin = float(h.margin) if h.margin is not None else None
    truth, new, old, cluster = _paired_arrays(h, ep, protocol, ctx)
    try:
        t, counts = _paired_test(h, ep, truth, new, old, cluster, margin, alpha)
    except InputError as exc:
        raise DataError(
            f"hypothesis {h.id!r} (endpoint {ep.id!r} against comparator column "
            f"{h.comparator_column!r}, unit {ep.unit}) cannot be tested: {exc}"
        ) from None
    d = t.to_dict()
    d.update({"goal": None, "comparator": f"column {h.comparator_column}",
              "comparator_column": str(h.comparator_column), "paired_counts": counts,
              "unit": ep.unit})
    return d


def _paired_test(
    h: Any, ep: Any, truth: Any, new: Any, old: Any, cluster: Any, margin: float | None,
    alpha: float,
) -> tuple[HypothesisTest, dict[str, int] | None]:
    from validation.stats.hypotheses import (
        auc_comparison_test,
        clustered_paired_proportion_test,
    )

    if ep.kind == "auc":
        t = auc_comparison_test(truth, new, old, type=h.type, margin=margin, alpha=alpha,
                                cluster=cluster)
        counts = None
    elif ep.kind in ("sensitivity", "specificity"):
        keep = truth == 1 if ep.kind == "sensitivity" else truth == 0
        ok_new = new[keep] if ep.kind == "sensitivity" else ~new[keep]
        ok_old = old[keep] if ep.kind == "sensitivity" else ~old[keep]
        counts = {"a": int((ok_new & ok_old).sum()), "b": int((ok_new & ~ok_old).sum()),
                  "c": int((~ok_new & ok_old).sum()), "d": int((~ok_new & ~ok_old).sum())}
        if cluster is None:
            t = proportion_difference_test(counts, design="paired", type=h.type, margin=margin,
                                           alpha=alpha)
        else:
            t = clustered_paired_proportion_test(ok_new, ok_old, cluster[keep], type=h.type,
                                                 margin=margin, alpha=alpha)
    else:
        raise ProtocolError(
            f"hypothesis {h.id!r}: endpoint kind {ep.kind!r} has no paired comparator test; "
            "give 'goal' as a fixed reference."
        )
    return t, counts


__all__ = ["paired_comparison"]
