"""aggregate_cases: counts checked against a row-by-row oracle; the Dask path (an in-process
LocalCluster) gives the same frame as pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from validation.errors import InputError
from validation.surveillance.aggregate import COUNTS, aggregate_cases


def _cases(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.choice([0.0, 1.0, np.nan], size=n, p=[0.5, 0.3, 0.2])
    return pd.DataFrame({
        "period": rng.choice(["2027-01", "2027-02", "2027-03"], size=n),
        "site": rng.choice(["S01", "S02"], size=n),
        "score": rng.random(n),
        "truth": pd.array([None if np.isnan(t) else int(t) for t in truth], dtype="Int8"),
        "sex": rng.choice(["F", "M", None], size=n),
        "manufacturer": rng.choice(["A", "B", "C"], size=n),
    })


def _oracle(df: pd.DataFrame, threshold: float, period: str, site: str | None,
            factor: str | None, level: str | None) -> dict[str, int]:
    """Counts by walking the rows one by one."""
    out = dict.fromkeys(COUNTS, 0)
    for r in df.itertuples(index=False):
        if r.period != period or (site is not None and r.site != site):
            continue
        if factor is not None and getattr(r, factor) != level:
            continue
        called = r.score >= threshold
        t = None if pd.isna(r.truth) else int(r.truth)
        out["n"] += 1
        out["called_pos"] += int(called)
        if t is None:
            continue
        out["n_labelled"] += 1
        out["n_pos"] += t
        out["n_neg"] += 1 - t
        out["tp"] += int(t == 1 and called)
        out["fn"] += int(t == 1 and not called)
        out["tn"] += int(t == 0 and not called)
        out["fp"] += int(t == 0 and called)
    return out


def test_counts_equal_a_row_by_row_oracle() -> None:
    df = _cases(400, 1)
    agg = aggregate_cases(df, threshold=0.6, factors=["sex", "manufacturer"])
    # pooled, per site, factor pooled over sites, factor per site
    expected_rows = 3 * (1 + 2 + (2 + 3) + 2 * (2 + 3))
    assert len(agg) == expected_rows
    for row in agg.itertuples(index=False):
        want = _oracle(df, 0.6, row.period, row.site, row.factor, row.level)
        got = {c: int(getattr(row, c)) for c in COUNTS}
        assert got == want, (row.period, row.site, row.factor, row.level)
    pooled = agg[agg["site"].isna() & agg["factor"].isna()]
    assert pooled["n"].sum() == len(df)
    assert agg["factor"].isna().equals(agg["level"].isna())


def test_threshold_is_inclusive() -> None:
    df = pd.DataFrame({"period": ["p"] * 2, "site": ["S"] * 2, "score": [0.5, 0.49],
                       "truth": pd.array([1, 0], dtype="Int8")})
    agg = aggregate_cases(df, threshold=0.5, factors=[])
    pooled = agg.iloc[0]
    assert (pooled["tp"], pooled["tn"], pooled["called_pos"]) == (1, 1, 1)


def test_dask_local_cluster_gives_the_same_frame() -> None:
    df = _cases(3000, 2)
    local = aggregate_cases(df, threshold=0.5, factors=["sex", "manufacturer"])
    on_dask = aggregate_cases(df, threshold=0.5, factors=["sex", "manufacturer"], dask="local")
    pd.testing.assert_frame_equal(local, on_dask)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"factors": ["nope"]}, "'factors' must name columns"),
    ({"factors": [], "threshold": float("nan")}, "'threshold' must be finite"),
])
def test_bad_input(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    args = {"threshold": 0.5, **kwargs}
    with pytest.raises(InputError, match=match):
        aggregate_cases(_cases(10, 3), **args)


def test_missing_columns_refused() -> None:
    with pytest.raises(InputError, match="missing truth"):
        aggregate_cases(pd.DataFrame({"period": ["p"], "site": ["S"], "score": [0.1]}),
                        threshold=0.5, factors=[])
