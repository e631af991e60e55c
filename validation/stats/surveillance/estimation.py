"""Performance estimated without labels from calibrated probabilities (confidence-based
performance estimation, CBPE), and the calibrator fitted on the baseline.

With ``p_i`` the calibrated probability that case ``i`` is positive and ``c_i = 1[p_i >=
threshold]`` its call, the expected confusion matrix is ``E[TP] = sum p_i c_i``, ``E[FN] =
sum p_i (1 - c_i)``, ``E[FP] = sum (1 - p_i) c_i``, ``E[TN] = sum (1 - p_i)(1 - c_i)``, and the
estimated figures are ratios of expected counts (as NannyML defines CBPE):

* sensitivity ``sum p c / sum p``, specificity ``sum (1-p)(1-c) / sum (1-p)``,
* PPV ``sum p c / sum c``, NPV ``sum (1-p)(1-c) / sum (1-c)``,
* AUC: the area under the expected ROC curve, ranking by ``p`` (ties as one half):
  ``sum_g P_g (N_<g + N_g / 2) / (P N)`` over the groups ``g`` of equal ``p``, with ``P_g =
  sum p``, ``N_g = sum (1 - p)`` in the group, ``N_<g`` over lower groups.

The sampling band is the variability of the figure the labels would give if the labels were
drawn independently as ``Y_i ~ Bernoulli(p_i)`` (the Poisson-binomial model of CBPE): for a
ratio ``sum a_i Y_i / sum b_i Y_i`` the delta method gives ``Var = sum p_i (1 - p_i) (a_i -
R b_i)^2 / (sum b_i p_i)^2``; for PPV and NPV the denominator is fixed. The band is the
estimate +/- 1.96 SE clipped to [0, 1]. For the AUC the band uses the Hanley-McNeil (1982)
standard error at the estimated AUC with ``round(P)`` positives and ``round(N)`` negatives.
The figures are only as good as the calibration: they assume the baseline calibration still
holds (no concept shift), which labels, when they arrive, check. They are always labelled
*estimated*.

References
----------
1. NannyML (2023). Confidence-based performance estimation (CBPE). NannyML documentation,
   https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html
2. Zadrozny B, Elkan C (2002). Transforming classifier scores into accurate multiclass
   probability estimates. KDD '02:694-699. doi:10.1145/775047.775151
3. Platt JC (1999). Probabilistic outputs for support vector machines and comparisons to
   regularized likelihood methods. In: Advances in Large Margin Classifiers, MIT Press,
   61-74. ISBN 0-262-19448-1
4. Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating
   characteristic (ROC) curve. Radiology 143(1):29-36. doi:10.1148/radiology.143.1.7063747
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from validation.errors import InputError
from validation.stats._checks import check_binary_truth, check_choice, check_scores, check_two_classes
from validation.stats._result import Result

REF_CBPE = (
    "NannyML (2023). Confidence-based performance estimation (CBPE). "
    "https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html"
)
REF_ZADROZNY_2002 = (
    "Zadrozny B, Elkan C (2002). Transforming classifier scores into accurate multiclass "
    "probability estimates. KDD '02:694-699. doi:10.1145/775047.775151"
)
REF_PLATT_1999 = (
    "Platt JC (1999). Probabilistic outputs for support vector machines and comparisons to "
    "regularized likelihood methods. In: Advances in Large Margin Classifiers, MIT Press, "
    "61-74."
)
REF_HANLEY_MCNEIL_1982 = (
    "Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating "
    "characteristic (ROC) curve. Radiology 143(1):29-36. doi:10.1148/radiology.143.1.7063747"
)
CALIBRATION_METHODS = ("isotonic", "platt")
Z95 = float(sps.norm.ppf(0.975))


@dataclass(frozen=True, slots=True, kw_only=True)
class EstimatedFigure(Result):
    """One estimated figure: ``estimate`` and its sampling ``band`` (95%), ``se``; the
    ``method`` always says *estimated*."""

    estimate: float
    band: tuple[float, float]
    se: float
    method: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EstimatedPerformance(Result):
    """CBPE figures (each an :class:`EstimatedFigure`, or None when undefined, e.g. no
    expected positives), the expected confusion matrix and the number of cases."""

    sensitivity: EstimatedFigure | None
    specificity: EstimatedFigure | None
    ppv: EstimatedFigure | None
    npv: EstimatedFigure | None
    auc: EstimatedFigure | None
    expected_tp: float
    expected_fn: float
    expected_fp: float
    expected_tn: float
    n: int
    threshold: float
    label: str
    method: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibrator(Result):
    """A score-to-probability map fitted on the baseline.

    ``method`` "isotonic" (``x``/``y``: the isotonic step knots, linear interpolation between
    them and clipped outside, as scikit-learn predicts) or "platt" (``coef``, ``intercept``:
    ``p = 1 / (1 + exp(-(coef s + intercept)))``). Call :meth:`predict` on new scores.
    """

    method: str
    x: NDArray[np.float64] | None
    y: NDArray[np.float64] | None
    coef: float | None
    intercept: float | None
    n: int
    references: tuple[str, ...]

    def predict(self, scores: object) -> NDArray[np.float64]:
        """Calibrated probabilities of ``scores`` (finite numbers), shape as given."""
        s = check_scores(scores, name="scores")
        if self.x is not None and self.y is not None:  # isotonic
            return np.asarray(np.interp(s, self.x, self.y), dtype=np.float64)
        if self.coef is None or self.intercept is None:
            raise InputError(f"'calibrator' must be fitted by fit_calibrator; got {self!r}.")
        return np.asarray(1.0 / (1.0 + np.exp(-(self.coef * s + self.intercept))),
                          dtype=np.float64)


def fit_calibrator(scores: object, truth: object, *, method: str = "isotonic") -> Calibrator:
    """Fit the calibration of the baseline scores against the baseline truth.

    Parameters
    ----------
    scores : array, shape (n,)
        The deployed model's scores on the baseline (pivotal) cases.
    truth : array of 0/1, shape (n,)
        Reference standard (both classes present).
    method : {"isotonic", "platt"}
        Isotonic regression (scikit-learn ``IsotonicRegression``, increasing, clipped out of
        range; Zadrozny and Elkan 2002) or Platt scaling (unpenalised logistic regression of
        truth on score, scikit-learn ``LogisticRegression``; Platt 1999).

    Returns
    -------
    Calibrator

    References
    ----------
    Zadrozny and Elkan (2002), doi:10.1145/775047.775151; Platt (1999).
    """
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    how = check_choice(method, "method", CALIBRATION_METHODS)
    t = check_binary_truth(truth)
    s = check_scores(scores, n=t.size, name="scores")
    check_two_classes(t)
    if how == "isotonic":
        iso = IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=0.0, y_max=1.0)
        iso.fit(s, t.astype(np.float64))
        return Calibrator(method="isotonic", x=np.asarray(iso.X_thresholds_, dtype=np.float64),
                          y=np.asarray(iso.y_thresholds_, dtype=np.float64), coef=None,
                          intercept=None, n=int(t.size), references=(REF_ZADROZNY_2002,))
    lr = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-12, max_iter=1000)
    lr.fit(s.reshape(-1, 1), t)
    return Calibrator(method="platt", x=None, y=None, coef=float(lr.coef_[0, 0]),
                      intercept=float(lr.intercept_[0]), n=int(t.size),
                      references=(REF_PLATT_1999,))


def _figure(est: float, se: float, what: str) -> EstimatedFigure:
    lo = max(0.0, est - Z95 * se)
    hi = min(1.0, est + Z95 * se)
    return EstimatedFigure(estimate=est, band=(lo, hi), se=se,
                           method=f"estimated (CBPE); band: {what}")


def _ratio(p: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64],
           *, fixed_denominator: bool) -> EstimatedFigure | None:
    """``sum a p / sum b p`` style figure for labels Y ~ Bernoulli(p): a, b select cases."""
    v = p * (1.0 - p)
    if fixed_denominator:  # PPV/NPV: the denominator is the number of calls, known
        den = float(b.sum())
        if den <= 0:
            return None
        est = float((a * p).sum() / den)
        se = math.sqrt(float((a * v).sum())) / den
        return _figure(est, se, "delta method, Poisson-binomial labels")
    den = float((b * p).sum())
    if den <= 0:
        return None
    est = float((a * p).sum() / den)
    se = math.sqrt(float((v * (a - est * b) ** 2).sum())) / den
    return _figure(est, se, "delta method, Poisson-binomial labels")


def _auc(p: NDArray[np.float64]) -> EstimatedFigure | None:
    order = np.argsort(p, kind="stable")
    ps = p[order]
    starts = np.flatnonzero(np.concatenate(([True], np.diff(ps) != 0)))
    pg = np.add.reduceat(ps, starts)
    ng = np.add.reduceat(1.0 - ps, starts)
    P, N = float(pg.sum()), float(ng.sum())
    if P <= 0 or N <= 0:
        return None
    below = np.concatenate(([0.0], np.cumsum(ng)[:-1]))
    a = float(np.sum(pg * (below + ng / 2.0)) / (P * N))
    n1, n0 = max(1, round(P)), max(1, round(N))
    q1, q2 = a / (2.0 - a), 2.0 * a * a / (1.0 + a)
    var = (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0)
    return _figure(a, math.sqrt(max(var, 0.0)), "Hanley-McNeil SE at the expected counts")


def estimated_performance(probability: object, *, threshold: float) -> EstimatedPerformance:
    """Sensitivity, specificity, PPV, NPV and AUC estimated without labels (CBPE).

    Parameters
    ----------
    probability : array, shape (n,)
        Calibrated probabilities of the positive class, in [0, 1] (e.g.
        ``fit_calibrator(...).predict(scores)``).
    threshold : float
        A case is called positive when its probability is at least ``threshold`` (in [0, 1]).

    Returns
    -------
    EstimatedPerformance
        Each figure with a 95% sampling band, labelled *estimated*; a figure whose expected
        denominator is zero is None.

    Notes
    -----
    Valid when the calibration fitted on the baseline still holds in the period (covariate
    shift only); a change in the score-outcome relation (concept shift) is invisible to it.

    References
    ----------
    NannyML CBPE; Hanley and McNeil (1982), doi:10.1148/radiology.143.1.7063747.

    Examples
    --------
    >>> r = estimated_performance([0.9, 0.8, 0.2, 0.1], threshold=0.5)
    >>> round(r.sensitivity.estimate, 4)
    0.8500
    """
    p = check_scores(probability, name="probability")
    if p.size == 0:
        raise InputError("'probability' must not be empty.")
    bad = (p < 0) | (p > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"'probability' must be in [0, 1] (calibrate the scores first); got "
                         f"{p[i]!r} at position {i}.")
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise InputError(f"'threshold' must be a number in [0, 1]; got {threshold!r}.") from None
    if not (0.0 <= t <= 1.0):
        raise InputError(f"'threshold' must be in [0, 1]; got {threshold!r}.")
    c = (p >= t).astype(np.float64)
    nc = 1.0 - c
    q = 1.0 - p
    sens = _ratio(p, c, np.ones_like(p), fixed_denominator=False)
    spec = _ratio(q, nc, np.ones_like(p), fixed_denominator=False)
    ppv = _ratio(p, c, c, fixed_denominator=True)
    npv = _ratio(q, nc, nc, fixed_denominator=True)
    return EstimatedPerformance(
        sensitivity=sens, specificity=spec, ppv=ppv, npv=npv, auc=_auc(p),
        expected_tp=float((p * c).sum()), expected_fn=float((p * nc).sum()),
        expected_fp=float((q * c).sum()), expected_tn=float((q * nc).sum()), n=int(p.size),
        threshold=t, label="estimated", method="confidence-based performance estimation (CBPE)",
        references=(REF_CBPE, REF_HANLEY_MCNEIL_1982))
