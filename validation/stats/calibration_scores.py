"""Scores and tests of calibration over bins: Brier decomposition, expected calibration error,
Spiegelhalter's z-test and the Hosmer-Lemeshow test.

Binning (``strategy``): ``"uniform"`` cuts [0, 1] into ``bins`` equal-width intervals
``[0, 1/k), [1/k, 2/k), ..., [(k-1)/k, 1]`` (the last closed); ``"quantile"`` cuts at the
``j/k`` quantiles of the predictions (numpy's linear interpolation, R's ``quantile`` type 7),
each interval right-closed and the lowest one closed on the left too (R:
``cut(p, quantile(p, 0:k/k), include.lowest = TRUE)``). Empty bins are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_choice, check_count
from validation.stats._result import Result
from validation.stats.calibration import BRIER_1950, binary_inputs

MURPHY_1973 = (
    "Murphy AH. A new vector partition of the probability score. J Appl Meteorol 1973;12:595-600. "
    "doi:10.1175/1520-0450(1973)012<0595:ANVPOT>2.0.CO;2"
)
SPIEGELHALTER_1986 = (
    "Spiegelhalter DJ. Probabilistic prediction in patient management and clinical trials. "
    "Stat Med 1986;5:421-433. doi:10.1002/sim.4780050506"
)
NAEINI_2015 = (
    "Naeini MP, Cooper GF, Hauskrecht M. Obtaining well calibrated probabilities using Bayesian "
    "binning. AAAI 2015;2901-2907. doi:10.1609/aaai.v29i1.9602"
)
HOSMER_1980 = (
    "Hosmer DW, Lemeshow S. Goodness of fit tests for the multiple logistic regression model. "
    "Commun Stat Theory Methods 1980;9:1043-1069. doi:10.1080/03610928008827941"
)
HOSMER_1997 = (
    "Hosmer DW, Hosmer T, Le Cessie S, Lemeshow S. A comparison of goodness-of-fit tests for the "
    "logistic regression model. Stat Med 1997;16:965-980. "
    "doi:10.1002/(SICI)1097-0258(19970515)16:9<965::AID-SIM509>3.0.CO;2-O"
)
STRATEGIES = ("uniform", "quantile")
HL_CAVEAT = (
    "The Hosmer-Lemeshow statistic depends on the number and the cut points of the groups, has "
    "little power in small samples and rejects trivial miscalibration in large ones; it says "
    "nothing about the direction of miscalibration. Read it beside the calibration slope, "
    "intercept and curve, never alone."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationBins(Result):
    """Per-bin counts: the lower and upper edge, cases, mean prediction and event rate."""

    low: tuple[float, ...]
    high: tuple[float, ...]
    n: tuple[int, ...]
    events: tuple[int, ...]
    mean_predicted: tuple[float, ...]
    observed_rate: tuple[float, ...]
    strategy: str


def bin_index(p: NDArray[np.float64], bins: int, strategy: str) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Bin of each prediction (0-based) and the ``bins + 1`` edges, as the module docstring says."""
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, bins + 1)
        idx = np.searchsorted(edges, p, side="right") - 1
        return np.clip(idx, 0, bins - 1), edges
    edges = np.quantile(p, np.arange(bins + 1) / bins)
    idx = np.searchsorted(edges, p, side="left") - 1  # right-closed intervals
    return np.clip(idx, 0, bins - 1), edges


def calibration_bins(
    truth: Any, probability: Any, *, bins: int = 10, strategy: str = "uniform"
) -> CalibrationBins:
    """Observed event rate against mean prediction per bin (the points of a reliability diagram).

    Parameters
    ----------
    truth, probability : array_like of shape (n,)
        Outcome (0/1) and predicted probability in [0, 1].
    bins : int
        Number of bins (>= 2).
    strategy : {"uniform", "quantile"}
        Equal-width or equal-count bins (module docstring).

    Returns
    -------
    CalibrationBins
    """
    y, p = binary_inputs(truth, probability)
    k = check_count(bins, "bins", minimum=2)
    s = check_choice(strategy, "strategy", STRATEGIES)
    return _bins(y, p, k, s)


def _bins(y: NDArray[np.int8], p: NDArray[np.float64], k: int, s: str) -> CalibrationBins:
    idx, edges = bin_index(p, k, s)
    n = np.bincount(idx, minlength=k)
    ev = np.bincount(idx, weights=y, minlength=k)
    sp = np.bincount(idx, weights=p, minlength=k)
    keep = np.flatnonzero(n > 0)
    return CalibrationBins(
        low=tuple(float(edges[i]) for i in keep),
        high=tuple(float(edges[i + 1]) for i in keep),
        n=tuple(int(n[i]) for i in keep),
        events=tuple(int(ev[i]) for i in keep),
        mean_predicted=tuple(float(sp[i] / n[i]) for i in keep),
        observed_rate=tuple(float(ev[i] / n[i]) for i in keep),
        strategy=s,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ECEResult(Result):
    """Expected calibration error ``sum_k (n_k / N) |o_k - pbar_k|`` over stated bins."""

    estimate: float
    bins: CalibrationBins
    method: str
    references: tuple[str, ...]


def expected_calibration_error(
    truth: Any, probability: Any, *, bins: int = 10, strategy: str = "uniform"
) -> ECEResult:
    """Expected calibration error over stated bins.

    ``ECE = sum_k (n_k / N) |o_k - pbar_k|`` with ``o_k`` the event rate and ``pbar_k`` the
    mean prediction of bin ``k`` [1]_.

    Parameters
    ----------
    truth, probability : array_like of shape (n,)
        Outcome (0/1) and predicted probability in [0, 1].
    bins : int
        Number of bins (>= 2); the value depends on it, so the protocol states it.
    strategy : {"uniform", "quantile"}
        Equal-width or equal-count bins.

    Returns
    -------
    ECEResult

    Notes
    -----
    The ECE is biased upward in small bins (sampling noise adds to ``|o_k - pbar_k|``) and has
    no interval here; compare models on the same bins only.

    References
    ----------
    .. [1] Naeini MP et al. AAAI 2015;2901-2907. doi:10.1609/aaai.v29i1.9602
    """
    b = calibration_bins(truth, probability, bins=bins, strategy=strategy)
    n = np.asarray(b.n, dtype=np.float64)
    gap = np.abs(np.asarray(b.observed_rate) - np.asarray(b.mean_predicted))
    return ECEResult(
        estimate=float(np.sum(n / n.sum() * gap)),
        bins=b,
        method=f"expected calibration error, {len(b.n)} non-empty {b.strategy} bins of {bins}",
        references=(NAEINI_2015,),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class BrierResult(Result):
    """Brier score, its scaled version and Murphy's decomposition over bins, with Spiegelhalter's z."""

    estimate: float
    scaled: float
    """``1 - brier / uncertainty`` (0: no better than the event rate; 1: perfect)."""
    reliability: float
    resolution: float
    uncertainty: float
    within_bin: float
    """``brier - (reliability - resolution + uncertainty)``: the within-bin terms that binning
    leaves (0 when every bin holds one distinct prediction)."""
    spiegelhalter_z: float
    spiegelhalter_p: float
    bins: int
    strategy: str
    method: str
    references: tuple[str, ...]


def spiegelhalter_z(y: NDArray[np.int8], p: NDArray[np.float64]) -> float:
    """``sum (y - p)(1 - 2p) / sqrt(sum (1 - 2p)^2 p (1 - p))`` (Spiegelhalter 1986)."""
    var = float(np.sum((1.0 - 2.0 * p) ** 2 * p * (1.0 - p)))
    if var <= 0.0:
        raise InputError(
            "Spiegelhalter's z is undefined when every prediction is 0, 1/2 or 1 (zero variance); "
            "report the Brier score alone."
        )
    return float(np.sum((y - p) * (1.0 - 2.0 * p)) / np.sqrt(var))


def brier_score(truth: Any, probability: Any, *, bins: int = 10, strategy: str = "uniform") -> BrierResult:
    """Brier score with Murphy's decomposition and Spiegelhalter's z-test.

    ``BS = mean((p_i - y_i)^2)`` [1]_. Over bins ``k`` with ``n_k`` cases, mean prediction
    ``pbar_k`` and event rate ``o_k`` (overall rate ``obar``), Murphy's partition [2]_ is
    ``REL = sum n_k (pbar_k - o_k)^2 / N``, ``RES = sum n_k (o_k - obar)^2 / N``,
    ``UNC = obar (1 - obar)``, and ``BS = REL - RES + UNC + within-bin terms``. Spiegelhalter's
    z [3]_ tests ``H0``: the predictions are the true probabilities,
    ``z = sum (y - p)(1 - 2p) / sqrt(sum (1 - 2p)^2 p (1 - p))`` ~ N(0, 1), two-sided.

    Parameters
    ----------
    truth, probability : array_like of shape (n,)
        Outcome (0/1, both present) and predicted probability in [0, 1].
    bins : int
        Bins of the decomposition (>= 2).
    strategy : {"uniform", "quantile"}

    Returns
    -------
    BrierResult

    Notes
    -----
    The z-test's normal approximation needs a reasonable number of cases with predictions away
    from 0 and 1; it is a test of the whole calibration and cannot say where it fails.

    References
    ----------
    .. [1] Brier GW. Mon Weather Rev 1950;78:1-3. doi:10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2
    .. [2] Murphy AH. J Appl Meteorol 1973;12:595-600. doi:10.1175/1520-0450(1973)012<0595:ANVPOT>2.0.CO;2
    .. [3] Spiegelhalter DJ. Stat Med 1986;5:421-433. doi:10.1002/sim.4780050506
    """
    y, p = binary_inputs(truth, probability)
    k = check_count(bins, "bins", minimum=2)
    s = check_choice(strategy, "strategy", STRATEGIES)
    b = _bins(y, p, k, s)
    n = np.asarray(b.n, dtype=np.float64)
    o = np.asarray(b.observed_rate)
    pb = np.asarray(b.mean_predicted)
    big_n = float(y.size)
    obar = float(y.mean())
    bs = float(np.mean((p - y) ** 2))
    rel = float(np.sum(n * (pb - o) ** 2) / big_n)
    res = float(np.sum(n * (o - obar) ** 2) / big_n)
    unc = obar * (1.0 - obar)
    z = spiegelhalter_z(y, p)
    return BrierResult(
        estimate=bs,
        scaled=1.0 - bs / unc,
        reliability=rel,
        resolution=res,
        uncertainty=unc,
        within_bin=bs - (rel - res + unc),
        spiegelhalter_z=z,
        spiegelhalter_p=float(2.0 * sps.norm.sf(abs(z))),
        bins=k,
        strategy=s,
        method="Brier score; Murphy decomposition over bins; Spiegelhalter z (two-sided)",
        references=(BRIER_1950, MURPHY_1973, SPIEGELHALTER_1986),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HosmerLemeshowTest(Result):
    """Hosmer-Lemeshow chi-square over groups of predicted risk, with its caveat."""

    statistic: float
    df: int
    p_value: float
    groups: CalibrationBins
    setting: str
    caveat: str
    method: str
    references: tuple[str, ...]


def hosmer_lemeshow_test(
    truth: Any, probability: Any, *, groups: int = 10, setting: str = "external"
) -> HosmerLemeshowTest:
    """Hosmer-Lemeshow goodness-of-fit test over groups cut at quantiles of the prediction.

    ``C = sum_g (O_g - E_g)^2 / (E_g (1 - E_g / n_g))`` with ``O_g`` events, ``E_g`` the sum of
    predictions and ``n_g`` cases of group ``g`` [1]_. ``H0``: the predictions are calibrated.
    On data that did not fit the model (``setting="external"``, a locked model on a new test
    set) ``C`` is referred to chi-square with ``G`` degrees of freedom; on the development data
    (``"development"``) with ``G - 2`` [1]_.

    Parameters
    ----------
    truth, probability : array_like of shape (n,)
    groups : int
        Number of quantile groups (>= 3; 10 is customary).
    setting : {"external", "development"}

    Returns
    -------
    HosmerLemeshowTest
        ``caveat`` states the test's known weaknesses [2]_, for the report.

    References
    ----------
    .. [1] Hosmer DW, Lemeshow S. Commun Stat Theory Methods 1980;9:1043-1069. doi:10.1080/03610928008827941
    .. [2] Hosmer DW et al. Stat Med 1997;16:965-980.
       doi:10.1002/(SICI)1097-0258(19970515)16:9<965::AID-SIM509>3.0.CO;2-O
    """
    y, p = binary_inputs(truth, probability)
    g = check_count(groups, "groups", minimum=3)
    st = check_choice(setting, "setting", ("external", "development"))
    b = _bins(y, p, g, "quantile")
    n = np.asarray(b.n, dtype=np.float64)
    obs = np.asarray(b.events, dtype=np.float64)
    exp = np.asarray(b.mean_predicted) * n
    denom = exp * (1.0 - exp / n)
    if np.any(denom <= 0.0):
        raise InputError(
            "A Hosmer-Lemeshow group has every prediction 0 or 1 (no variance); use fewer "
            "'groups' or report the calibration curve."
        )
    stat = float(np.sum((obs - exp) ** 2 / denom))
    ng = len(b.n)
    df = ng if st == "external" else ng - 2
    return HosmerLemeshowTest(
        statistic=stat,
        df=df,
        p_value=float(sps.chi2.sf(stat, df)),
        groups=b,
        setting=st,
        caveat=HL_CAVEAT,
        method=f"Hosmer-Lemeshow, {ng} quantile groups, chi-square with {df} df ({st})",
        references=(HOSMER_1980, HOSMER_1997),
    )
