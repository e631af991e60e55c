"""Shared input checks of the statistics layer (one place, one wording).

Messages follow the house style: ``'{name}' must be {expectation}; got {value!r}.`` plus what
to do instead. Every check raises :class:`validation.errors.InputError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from validation.errors import InputError

ALTERNATIVES = ("two-sided", "greater", "less")


def check_alpha(alpha: float, name: str = "alpha") -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be a number in (0, 1); got {alpha!r}.") from None
    if not (0.0 < a < 1.0):
        raise InputError(f"'{name}' must be in (0, 1), e.g. 0.05; got {alpha!r}.")
    return a


def check_one_sided_alpha(alpha: float, name: str = "alpha") -> float:
    """A one-sided test level: in (0, 0.5), so that the ``1 - 2 alpha`` interval exists."""
    a = check_alpha(alpha, name)
    if a >= 0.5:
        raise InputError(
            f"'{name}' is a one-sided level and must be below 0.5 (e.g. 0.025); got {alpha!r}."
        )
    return a


def check_alternative(alternative: str) -> str:
    if alternative not in ALTERNATIVES:
        raise InputError(
            f"'alternative' must be one of {', '.join(ALTERNATIVES)}; got {alternative!r}."
        )
    return alternative


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InputError(f"'{name}' must be one of {', '.join(choices)}; got {value!r}.")
    return str(value)


def check_binary_truth(truth: Any, name: str = "truth") -> NDArray[np.int8]:
    """Return ``truth`` as an int8 array of 0/1; refuse anything else, and a single class."""
    arr = np.asarray(truth)
    if arr.ndim != 1:
        raise InputError(f"'{name}' must be one-dimensional; got shape {arr.shape}.")
    if arr.size == 0:
        raise InputError(f"'{name}' must not be empty.")
    if arr.dtype == bool:
        out = arr.astype(np.int8)
    else:
        try:
            f = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise InputError(
                f"'{name}' must hold 0 (negative) and 1 (positive); got values of type "
                f"{arr.dtype}. Map your labels to 0/1 or declare the positive label."
            ) from None
        bad = ~np.isin(f, (0.0, 1.0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"'{name}' must hold only 0 and 1; got {arr[i].item()!r} at position {i}."
            )
        out = f.astype(np.int8)
    return out


def check_two_classes(truth: NDArray[np.int8], name: str = "truth") -> tuple[int, int]:
    n_pos = int(truth.sum())
    n_neg = int(truth.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        cls = "positive (1)" if n_pos == 0 else "negative (0)"
        raise InputError(
            f"'{name}' has no {cls} cases; an AUC needs both classes "
            f"(got {n_pos} positive, {n_neg} negative)."
        )
    return n_pos, n_neg


def check_scores(score: Any, n: int | None = None, name: str = "score") -> NDArray[np.float64]:
    """Return ``score`` as a finite float64 1-D array (of length ``n`` if given)."""
    try:
        arr = np.asarray(score, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be numeric.") from None
    if arr.ndim != 1:
        raise InputError(f"'{name}' must be one-dimensional; got shape {arr.shape}.")
    if n is not None and arr.size != n:
        raise InputError(f"'{name}' must have the same length as truth ({n}); got {arr.size}.")
    finite = np.isfinite(arr)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise InputError(
            f"'{name}' must be finite; got {arr[i].item()!r} at position {i}. "
            "Remove or impute missing scores before the analysis."
        )
    return arr


def check_count(value: Any, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise InputError(f"'{name}' must be a whole number >= {minimum}; got {value!r}.")
    v = int(value)
    if v < minimum:
        raise InputError(f"'{name}' must be a whole number >= {minimum}; got {value!r}.")
    return v


def check_roc_inputs(truth: Any, score: Any, name: str = "score") -> tuple[
    NDArray[np.bool_], NDArray[np.float64], int, int
]:
    """``truth`` as booleans, ``score`` checked against it, and the class counts (both > 0)."""
    t = check_binary_truth(truth)
    s = check_scores(score, t.size, name=name)
    n_pos, n_neg = check_two_classes(t)
    return t.astype(bool), s, n_pos, n_neg
