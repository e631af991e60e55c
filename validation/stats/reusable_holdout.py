"""Thresholdout: answering development-time queries from a reusable holdout.

During development an analyst asks many questions of a held-out set (the accuracy of this
feature set, of that threshold, ...), each chosen after seeing the earlier answers. Answered
exactly, such adaptive queries overfit the holdout as they overfit the training set.
Thresholdout (Dwork et al. 2015, reference 1) answers each query with its training value when
the training and holdout values agree within a noisy threshold, and otherwise with the holdout
value plus Laplace noise, spending one unit of a budget; when the budget is spent it stops
answering. The noisy threshold is redrawn after every answer from the holdout.

For a query, with ``T`` the threshold, ``sigma`` the noise scale, ``Lap(b)`` a Laplace draw of
scale ``b`` (density ``exp(-|x| / b) / (2 b)``) and ``T_hat = T + Lap(2 sigma)`` drawn at the
start and after every holdout answer:

- budget left < 1: no answer (the mechanism has halted);
- ``|holdout - train| > T_hat + Lap(4 sigma)``: answer ``holdout + Lap(sigma)``, spend one unit,
  redraw ``T_hat``;
- otherwise: answer ``train``.

This is a development tool, not the confirmatory analysis: the sequestered test set of a
locked protocol is opened only under its own access budget (the registry's governance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from validation.errors import InputError
from validation.stats._checks import check_count
from validation.stats._result import Result

REF_DWORK_2015 = (
    "Dwork C, Feldman V, Hardt M, Pitassi T, Reingold O, Roth A (2015). The reusable holdout: "
    "preserving validity in adaptive data analysis. Science 349(6248):636-638. "
    "doi:10.1126/science.aaa9375"
)
METHOD = "Thresholdout (reusable holdout, Laplace noise)"


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdoutResult(Result):
    """The answers to a sequence of queries (``estimate``), in order, up to the halt.

    ``from_holdout[i]`` says whether answer ``i`` came from the holdout (noisy; it spent one
    unit of the budget). ``exhausted`` is true when queries were left unanswered because the
    budget was spent (``n_answered < n_queries``).
    """

    estimate: tuple[float, ...]
    from_holdout: tuple[bool, ...]
    n_queries: int
    n_answered: int
    budget: int
    budget_left: int
    exhausted: bool
    threshold: float
    sigma: float
    seed: int
    method: str
    references: tuple[str, ...]


def _values(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float) if not isinstance(values, str) else np.array([])
    if arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all() or (
            (arr < 0).any() or (arr > 1).any()):
        raise InputError(f"'{name}' must be a non-empty 1-D sequence of query values in "
                         f"[0, 1] (means of a [0, 1]-valued statistic); got {values!r}. "
                         "Give one value per query, oldest first.")
    return arr


def _positive(value: float, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"'{name}' must be a finite number > 0; got {value!r}. "
                         "Choose it before the first query (reference 1 of the module).")
    return v


def thresholdout(train_values: Sequence[float] | np.ndarray,
                 holdout_values: Sequence[float] | np.ndarray, *, threshold: float,
                 sigma: float, budget: int, seed: int) -> ThresholdoutResult:
    """Answer a sequence of queries with Thresholdout (reference 1).

    Pure and replayable: the noise is drawn from one generator seeded with ``seed``, in query
    order, so calling again with the same history plus a new query reproduces every earlier
    answer exactly and answers the new one. An analyst who asks adaptively passes the whole
    history each time. The mechanism is run by the holdout's custodian, who computes the
    holdout values and returns only the answers; the seed is fixed once per holdout and kept
    from the analyst (knowing it, or the holdout values, removes the protection).

    Parameters
    ----------
    train_values, holdout_values : array_like, shape (m,)
        Each query's value on the training set and on the holdout set, oldest first: means of
        a statistic with values in [0, 1] (accuracy, a detection indicator, ...).
    threshold : float
        ``T`` > 0: the disagreement tolerated before the holdout is consulted.
    sigma : float
        ``sigma`` > 0: the noise scale (threshold noise ``Lap(2 sigma)``, comparison noise
        ``Lap(4 sigma)``, answer noise ``Lap(sigma)``).
    budget : int
        ``B`` >= 1: how many answers may come from the holdout before the mechanism halts.
    seed : int
        >= 0, the noise's seed.

    Returns
    -------
    ThresholdoutResult
        ``estimate`` holds the ``n_answered`` answers; queries after the halt are not
        answered (``exhausted``).

    Notes
    -----
    Hypothesis: each query is a mean of a [0, 1]-valued function over the cases; the
    guarantee of reference 1 (answers within a tolerance of the population means with high
    probability, for a number of queries exponential in the holdout size given the budget)
    holds for such queries. Small samples: with a small holdout, ``threshold`` and ``sigma``
    must be at least of the order of ``1 / sqrt(n_holdout)`` for the answers to be useful;
    the function does not know ``n`` and does not choose them.

    References
    ----------
    1. Dwork C, Feldman V, Hardt M, Pitassi T, Reingold O, Roth A (2015). The reusable
       holdout: preserving validity in adaptive data analysis. Science 349(6248):636-638.
       doi:10.1126/science.aaa9375
    """
    train = _values(train_values, "train_values")
    hold = _values(holdout_values, "holdout_values")
    if train.size != hold.size:
        raise InputError(f"'holdout_values' must have one value per query, as "
                         f"'train_values' ({train.size}); got {hold.size}. Pair them by query.")
    t = _positive(threshold, "threshold")
    s = _positive(sigma, "sigma")
    b = check_count(budget, "budget", minimum=1)
    sd = check_count(seed, "seed", minimum=0)
    rng = np.random.default_rng(sd)
    t_hat = t + float(rng.laplace(0.0, 2.0 * s))
    left = b
    answers: list[float] = []
    noisy: list[bool] = []
    for tr, ho in zip(train.tolist(), hold.tolist(), strict=True):
        if left < 1:
            break
        eta = float(rng.laplace(0.0, 4.0 * s))
        if abs(ho - tr) > t_hat + eta:
            answers.append(ho + float(rng.laplace(0.0, s)))
            noisy.append(True)
            left -= 1
            t_hat = t + float(rng.laplace(0.0, 2.0 * s))
        else:
            answers.append(tr)
            noisy.append(False)
    return ThresholdoutResult(
        estimate=tuple(answers), from_holdout=tuple(noisy), n_queries=int(train.size),
        n_answered=len(answers), budget=b, budget_left=left,
        exhausted=len(answers) < train.size, threshold=t, sigma=s, seed=sd, method=METHOD,
        references=(REF_DWORK_2015,))
