"""Clusters coded from patient ranks are the clusters coded from patient ids, in the same order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.analysis.endpoints import patient_ranks, unit_data
from validation.stats.clustered import cluster_codes


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["P10", "P9", "P1", "p1", "A-3", "Z", "P100", "é"]), min_size=2, max_size=40),
       st.integers(0, 10_000), st.sampled_from(["finding", "patient"]))
def test_ranks_give_the_same_units_and_clusters(ids: list[str], seed: int, unit: str) -> None:
    rng = np.random.default_rng(seed)
    n = len(ids)
    cases = pd.DataFrame({"patient_id": ids, "truth": rng.integers(0, 2, n), "score": rng.random(n),
                          "indeterminate": rng.random(n) < 0.2})
    ranks = patient_ranks(cases)
    rows = np.sort(rng.choice(n, size=max(1, n // 2), replace=False))
    for sub, rk in ((cases, ranks), (cases.iloc[rows], ranks[rows])):
        for scenario in ("determinate", "worst_case"):
            a = unit_data(sub, unit=unit, operating_point=0.5, scenario=scenario)
            b = unit_data(sub, unit=unit, operating_point=0.5, scenario=scenario, patient_rank=rk)
            for f in ("truth", "score", "called"):
                assert np.array_equal(getattr(a, f), getattr(b, f))
            if unit == "finding":
                ca, cb = cluster_codes(a.cluster, a.truth.size), cluster_codes(b.cluster, b.truth.size)
                assert np.array_equal(ca[0], cb[0]) and ca[1] == cb[1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=60), st.sampled_from([np.int64, np.int32, np.uint16]))
def test_integer_labels_are_ranked_as_sorted_factorisation(labels: list[int], dtype: type) -> None:
    arr = np.asarray(labels, dtype=dtype)
    codes, n = cluster_codes(arr, arr.size)
    want, uniques = pd.factorize(arr, sort=True)
    assert np.array_equal(codes, want) and n == len(uniques)
