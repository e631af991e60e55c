"""The ROC figure's thinning: far fewer points, none moved by more than a pixel."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from validation.report.figures import PNG_DPI, ROC_FIGSIZE, ROC_LIMITS, roc_cell, thin_curve


def _distance_to_kept(x: np.ndarray, y: np.ndarray, keep_idx: np.ndarray) -> np.ndarray:
    """Distance of every original point to the kept segment that replaces it."""
    seg = np.clip(np.searchsorted(keep_idx, np.arange(x.size), side="right") - 1, 0, keep_idx.size - 2)
    ax, ay = x[keep_idx[seg]], y[keep_idx[seg]]
    bx, by = x[keep_idx[seg + 1]], y[keep_idx[seg + 1]]
    dx, dy = bx - ax, by - ay
    den = dx * dx + dy * dy
    u = np.clip(np.where(den > 0, ((x - ax) * dx + (y - ay) * dy) / np.where(den > 0, den, 1.0), 0.0), 0, 1)
    return np.hypot(x - (ax + u * dx), y - (ay + u * dy))


def _roc(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.random(n) < 0.3
    t[:2] = (True, False)  # both classes, whatever the draw (an ROC curve needs them)
    s = np.round(rng.normal(size=n) + 1.5 * t, 4)
    order = np.argsort(-s, kind="stable")
    tp = np.concatenate(([0], np.cumsum(t[order])))
    fp = np.concatenate(([0], np.cumsum(~t[order])))
    last = np.concatenate((np.diff(s[order]) != 0, [True]))  # distinct thresholds only
    idx = np.concatenate(([0], np.flatnonzero(last) + 1))
    return fp[idx] / fp[-1], tp[idx] / tp[-1]


def _check(x: np.ndarray, y: np.ndarray) -> tuple[int, int]:
    xt, yt = thin_curve(x, y, cell=roc_cell())
    keep_idx = np.flatnonzero(np.isin(np.arange(x.size), _kept_indices(x, y, xt, yt)))
    assert xt[0] == x[0] and yt[0] == y[0] and xt[-1] == x[-1] and yt[-1] == y[-1]
    pixel = (ROC_LIMITS[1] - ROC_LIMITS[0]) / (max(ROC_FIGSIZE) * PNG_DPI)  # at most one pixel
    assert np.max(_distance_to_kept(x, y, keep_idx)) <= pixel
    return x.size, xt.size


def _kept_indices(x: np.ndarray, y: np.ndarray, xt: np.ndarray, yt: np.ndarray) -> np.ndarray:
    # kept points are a subsequence of the original; match them in order
    out, j = [], 0
    for i in range(x.size):
        if j < xt.size and x[i] == xt[j] and y[i] == yt[j]:
            out.append(i)
            j += 1
    assert j == xt.size
    return np.asarray(out)


def test_a_large_curve_is_thinned_within_a_pixel() -> None:
    n, kept = _check(*_roc(60_000, 3))
    assert n > 10_000 and kept < n / 4


@settings(max_examples=30, deadline=None)
@given(st.integers(5, 3000), st.integers(0, 10_000))
def test_no_point_moves_more_than_a_pixel(n: int, seed: int) -> None:
    _check(*_roc(n, seed))


def test_short_curves_are_kept() -> None:
    x, y = thin_curve([0.0, 1.0], [0.0, 1.0], cell=roc_cell())
    assert x.tolist() == [0.0, 1.0] and y.tolist() == [0.0, 1.0]
