"""Bad input to the surveillance statistics: InputError with the house wording."""

from __future__ import annotations

from typing import Any

import pytest

import validation.stats as vs
from validation.errors import InputError

CASES: list[tuple[Any, dict[str, Any], str]] = [
    (vs.bernoulli_cusum, {"outcomes": [0, 1], "p0": 0.2, "p1": 0.1, "limit": 2}, "'p1' must be above"),
    (vs.bernoulli_cusum, {"outcomes": [0, 1], "p0": 0.0, "p1": 0.1, "limit": 2}, "'p0' must be a prob"),
    (vs.bernoulli_cusum, {"outcomes": [0, 1], "p0": 0.1, "p1": 1.0, "limit": 2}, "'p1' must be a prob"),
    (vs.bernoulli_cusum, {"outcomes": [0, 1], "p0": 0.1, "p1": 0.2, "limit": 0}, "'limit' must be"),
    (vs.bernoulli_cusum, {"outcomes": [0, float("nan")], "p0": 0.1, "p1": 0.2, "limit": 2},
     "'outcomes' must hold only 0"),
    (vs.bernoulli_cusum, {"outcomes": [], "p0": 0.1, "p1": 0.2, "limit": 2}, "must not be empty"),
    (vs.cusum_arl, {"limit": -1, "p0": 0.1, "p1": 0.2, "p": 0.1}, "'limit' must be"),
    (vs.cusum_arl, {"limit": 2, "p0": 0.1, "p1": 0.2, "p": 1.2}, "'p' must be a prob"),
    (vs.cusum_limit, {"p0": 0.1, "p1": 0.2, "arl0": 0.5}, "'arl0' must be"),
    (vs.binomial_cusum, {"events": [1, 2], "trials": [10], "p0": 0.1, "p1": 0.2, "limit": 1},
     "same length"),
    (vs.binomial_cusum, {"events": [11], "trials": [10], "p0": 0.1, "p1": 0.2, "limit": 1},
     "must not exceed"),
    (vs.binomial_cusum_limit, {"p0": 0.1, "p1": 0.2, "n": 0, "arl0": 100}, "'n' must be"),
    (vs.ewma_proportion, {"successes": [1], "trials": [2], "target": 0.5, "lam": 0.0, "width": 3},
     "'lam' must be in"),
    (vs.ewma_proportion, {"successes": [1], "trials": [2], "target": 0.5, "lam": 1.5, "width": 3},
     "'lam' must be in"),
    (vs.ewma_proportion, {"successes": [1], "trials": [0], "target": 0.5, "lam": 0.2, "width": 3},
     "'trials' must be at least 1"),
    (vs.ewma_proportion, {"successes": [1, 2], "trials": [2], "target": 0.5, "lam": 0.2, "width": 3},
     "same length"),
    (vs.ewma_proportion, {"successes": [1], "trials": [2], "target": 1.0, "lam": 0.2, "width": 3},
     "'target' must be"),
    (vs.ewma_proportion, {"successes": [1], "trials": [2], "target": 0.5, "lam": 0.2, "width": 0},
     "'width' must be"),
    (vs.normal_cusum, {"values": [0.8], "mean": 0.8, "sd": 0.0, "shift": -0.1, "arl0": 100},
     "'sd' must be"),
    (vs.normal_cusum, {"values": [0.8], "mean": 0.8, "sd": 0.1, "shift": 0.0, "arl0": 100},
     "'shift' must be"),
    (vs.normal_cusum, {"values": [0.8], "mean": 0.8, "sd": 0.1, "shift": -0.1}, "exactly one"),
    (vs.normal_cusum, {"values": [float("nan")], "mean": 0.8, "sd": 0.1, "shift": -0.1,
                       "arl0": 100}, "'values' must be finite"),
    (vs.population_stability_index, {"baseline": [1, float("nan")], "current": [1]},
     "'baseline' must be finite"),
    (vs.population_stability_index, {"baseline": [1, 2], "current": [1], "edges": [2, 1]},
     "strictly increasing"),
    (vs.population_stability_index, {"baseline": [1, 2], "current": [1], "bins": 1}, "'bins'"),
    (vs.ks_drift, {"baseline": [], "current": [1.0]}, "must not be empty"),
    (vs.chi2_mix, {"baseline": {"a": -1}, "current": {"a": 1}}, "whole number >= 0"),
    (vs.adjust_drift_pvalues, {"p_values": [0.1, 1.5]}, "must be in \\[0, 1\\]"),
    (vs.adjust_drift_pvalues, {"p_values": [0.1], "method": "bonf"}, "'method' must be one of"),
    (vs.estimated_performance, {"probability": [0.2, 1.2], "threshold": 0.5}, "must be in \\[0, 1\\]"),
    (vs.estimated_performance, {"probability": [0.2, float("nan")], "threshold": 0.5}, "finite"),
    (vs.estimated_performance, {"probability": [0.2], "threshold": 2}, "'threshold' must be"),
    (vs.fit_calibrator, {"scores": [0.1, 0.2], "truth": [1, 1]}, "no negative"),
    (vs.fit_calibrator, {"scores": [0.1, 0.2], "truth": [0, 1], "method": "beta"}, "'method'"),
]


@pytest.mark.parametrize(("fn", "kwargs", "match"), CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_raises_input_error(fn: Any, kwargs: dict[str, Any], match: str) -> None:
    if fn in (vs.cusum_arl,):
        limit = kwargs.pop("limit")
        with pytest.raises(InputError, match=match):
            fn(limit, **kwargs)
        return
    first = next(iter(kwargs))
    positional = first in ("outcomes", "values", "baseline", "p_values", "probability", "scores",
                           "successes", "events")
    if positional and first not in ("baseline", "scores"):
        args = [kwargs.pop(first)]
        if first in ("successes", "events"):
            args.append(kwargs.pop("trials"))
        with pytest.raises(InputError, match=match):
            fn(*args, **kwargs)
        return
    with pytest.raises(InputError, match=match):
        fn(**kwargs)
