"""Input checks and references shared by the surveillance statistics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError
from validation.stats._checks import check_scores

REF_PAGE_1954 = (
    "Page ES (1954). Continuous inspection schemes. Biometrika 41(1/2):100-115. "
    "doi:10.1093/biomet/41.1-2.100"
)
REF_BROOK_EVANS_1972 = (
    "Brook D, Evans DA (1972). An approach to the probability distribution of cusum run "
    "length. Biometrika 59(3):539-549. doi:10.1093/biomet/59.3.539"
)
REF_REYNOLDS_STOUMBOS_1999 = (
    "Reynolds MR Jr, Stoumbos ZG (1999). A CUSUM chart for monitoring a proportion when "
    "inspecting continuously. J Qual Technol 31(1):87-108. doi:10.1080/00224065.1999.11979900"
)
REF_STEINER_2000 = (
    "Steiner SH, Cook RJ, Farewell VT, Treasure T (2000). Monitoring surgical performance "
    "using risk-adjusted cumulative sum charts. Biostatistics 1(4):441-452. "
    "doi:10.1093/biostatistics/1.4.441"
)
REF_GAN_1993 = (
    "Gan FF (1993). An optimal design of CUSUM control charts for binomial counts. J Appl "
    "Stat 20(4):445-460. doi:10.1080/02664769300000045"
)
REF_VANCE_1986 = (
    "Vance LC (1986). Average run lengths of cumulative sum control charts for controlling "
    "normal means. J Qual Technol 18(3):189-193. doi:10.1080/00224065.1986.11979011"
)
REF_KNOTH_2005 = (
    "Knoth S (2005). Accurate ARL computation for EWMA-S^2 control charts. Stat Comput "
    "15(4):341-352. doi:10.1007/s11222-005-3393-z"
)
REF_AIMCU = (
    "US FDA, CDRH Division of Imaging, Diagnostics and Software Reliability (2024). AIM-CU: "
    "a CUSUM-based tool for AI performance monitoring. https://github.com/DIDSR/AIM-CU"
)
REF_ROBERTS_1959 = (
    "Roberts SW (1959). Control chart tests based on geometric moving averages. "
    "Technometrics 1(3):239-250. doi:10.1080/00401706.1959.10489860"
)
REF_LUCAS_SACCUCCI_1990 = (
    "Lucas JM, Saccucci MS (1990). Exponentially weighted moving average control schemes: "
    "properties and enhancements. Technometrics 32(1):1-12. doi:10.1080/00401706.1990.10484583"
)


def check_rate(value: Any, name: str) -> float:
    """A probability strictly inside (0, 1)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be a probability in (0, 1); got {value!r}.") from None
    if not (0.0 < v < 1.0) or math.isnan(v):
        raise InputError(
            f"'{name}' must be a probability strictly between 0 and 1; got {value!r}. "
            "A rate of exactly 0 or 1 gives an infinite log-likelihood-ratio weight."
        )
    return v


def check_upward(p0: float, p1: float) -> tuple[float, float]:
    """``p0 < p1`` (an upward chart: the bad event becomes more frequent)."""
    a = check_rate(p0, "p0")
    b = check_rate(p1, "p1")
    if not a < b:
        raise InputError(
            f"'p1' must be above 'p0' for an upward chart; got p0={p0!r}, p1={p1!r}. Chart the "
            "complementary event (e.g. misses instead of hits) to watch for a drop."
        )
    return a, b


def check_positive(value: Any, name: str, *, hint: str = "") -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be a positive number; got {value!r}.") from None
    if not (v > 0.0) or not math.isfinite(v):
        raise InputError(f"'{name}' must be a positive finite number; got {value!r}.{hint}")
    return v


def check_arl0(value: Any) -> float:
    v = check_positive(value, "arl0", hint=" Give the in-control average run length, e.g. 500.")
    if v <= 1.0:
        raise InputError(
            f"'arl0' must be above 1 (an average run length in observations); got {value!r}."
        )
    return v


def check_binary(values: Any, name: str) -> NDArray[np.int8]:
    """A 1-D array of 0/1 outcomes (bools allowed); NaN and other values refused."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"'{name}' must be one-dimensional; got shape {arr.shape}.")
    if arr.size == 0:
        raise InputError(f"'{name}' must not be empty.")
    if arr.dtype == bool:
        return arr.astype(np.int8)
    try:
        f = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must hold 0 and 1; got values of type {arr.dtype}.") from None
    bad = ~np.isin(f, (0.0, 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"'{name}' must hold only 0 (no event) and 1 (event); got {arr[i].item()!r} at "
            f"position {i}. Drop cases without an outcome before charting."
        )
    return f.astype(np.int8)


def check_counts(successes: Any, trials: Any, *, s_name: str = "successes",
                 n_name: str = "trials") -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per-period counts: whole numbers, ``0 <= successes <= trials``, ``trials >= 1``."""
    out = []
    for values, name in ((successes, s_name), (trials, n_name)):
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise InputError(f"'{name}' must be one-dimensional; got shape {arr.shape}.")
        if arr.size == 0:
            raise InputError(f"'{name}' must not be empty.")
        try:
            f = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise InputError(f"'{name}' must hold whole numbers; got type {arr.dtype}.") from None
        bad = ~np.isfinite(f) | (f != np.round(f)) | (f < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"'{name}' must hold whole numbers >= 0; got {arr[i].item()!r} at position {i}."
            )
        out.append(f.astype(np.int64))
    x, n = out
    if x.size != n.size:
        raise InputError(
            f"'{s_name}' and '{n_name}' must have the same length; got {x.size} and {n.size}."
        )
    zero = n < 1
    if zero.any():
        i = int(np.flatnonzero(zero)[0])
        raise InputError(
            f"'{n_name}' must be at least 1 in every period; got {int(n[i])} at position {i}. "
            "Leave periods without cases out of the chart."
        )
    over = x > n
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise InputError(
            f"'{s_name}' must not exceed '{n_name}'; got {int(x[i])} > {int(n[i])} at position {i}."
        )
    return x, n


def check_finite(values: Any, name: str) -> NDArray[np.float64]:
    """``values`` as a non-empty, finite float64 1-D array (the one score check of the stats
    layer, :func:`validation.stats._checks.check_scores`, plus emptiness)."""
    arr = check_scores(values, None, name)
    if arr.size == 0:
        raise InputError(f"'{name}' must not be empty.")
    return arr


def first_index(mask: NDArray[np.bool_]) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None
