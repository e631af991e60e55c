"""Obuchowski-Rockette (OR) parameters <-> Roe-Metz (Hillis 2012) simulation parameters.

The constrained unequal-variance Roe-Metz model (RMH; Roe and Metz 1997, Hillis 2012) gives the
rating of case ``k`` (truth ``t``) by reader ``j`` in test ``i`` as

``X_ijkt = t delta_i + R_jt + (tau R)_ijt + C_kt + (tau C)_ikt + (R C)_jkt + E_ijkt``

with independent zero-mean normal effects: ``var_r`` and ``var_tr`` for the reader effects (the
same for both truth states), ``var_c``, ``var_tc``, ``var_rc``, ``var_e`` for the case effects of
non-diseased cases and the same divided by ``b**2`` for diseased cases. Effects of the two
truth states are independent. Only ratios matter to the empirical AUC, so the case components
are reported scaled to ``var_c + var_tc + var_rc + var_e = 1`` (the Roe-Metz convention).

Forward map, RM -> OR (Hillis 2018): with ``V = 1 + b**-2 + 2 (var_r + var_tr)`` (variance of a
diseased-minus-non-diseased rating difference), ``x_i = delta_i / sqrt(V)``,
``x3 = 2 var_r / V``, ``x4 = 2 (var_r + var_tr) / V`` and ``u = 1 - x4``:

* expected empirical AUC ``AUC_i = Phi(x_i)``;
* ``var_R(OR) = Phi2(x1, x2; x3) - Phi(x1) Phi(x2)``;
* ``var_TR(OR) = mean_i [Phi2(x_i, x_i; x4) - Phi(x_i)^2] - var_R(OR)``;
* an error (co)variance of two readings is ``sum_m c_m Phi2(h, k; rho_m s u + g)`` with
  ``c = (1, n1 - 1, n0 - 1, 1 - n0 - n1) / (n0 n1)`` (the four ways two case pairs can share
  cases: both, the non-diseased case only, the diseased case only, none),
  ``rho = (1, b^2 / (1 + b^2), 1 / (1 + b^2), 0)``, ``s`` the share of the case variance the
  two readings have in common and ``g`` their common reader share:
  ``var_error``: ``s = 1, g = x4`` (same reader and test), ``cov1``: ``s = var_c + var_rc,
  g = x3`` (same reader, other test), ``cov2``: ``s = var_c + var_tc, g = 0`` (other reader,
  same test), ``cov3``: ``s = var_c, g = 0``; same-test quantities are averaged over the tests.

Reverse map, OR -> RM (Hillis 2020/2022): solve in turn for ``x1, x2`` (the AUCs), ``x3``
(``var_R``), ``x4 = max(x3, .)`` (``var_TR``), ``b`` (see ``b_method``), then with
``cov_m = corr_m var_error(b)`` for ``x5 = var_c`` (``cov3``), ``x6 = var_c + var_tc`` (``cov2``;
``max(x5, .)``) and ``x7 = var_c + var_rc`` (``cov1``; ``min(max(x5, .), 1 - x6 + x5)``). Each
quantity is increasing in the unknown it determines (``Phi2`` increases with its correlation),
so each step is a one-dimensional root search; there is at most one solution. Where an input
cannot be matched (``corr2 < corr3``, or ``corr1`` too large for ``var_e >= 0``) the nearest
admissible value is used and a note says so, as Hillis prescribes.

``b_method``: ``"unspecified"`` solves ``var_error(b) = var_error`` (the largest root in
``[0.001, 1]``, else the smallest in ``[1, 4]``); ``"mean_to_sigma"`` sets ``b`` so the median
reader's mean-to-sigma ratio ``delta / (1/b - 1)`` equals the given ratio for the test with the
lower AUC (Hillis and Berbaum 2011; ``var_error`` is then not used); ``"specified"`` uses the
given ``b`` (``b = 1``: the original equal-variance model).

``Phi2`` is computed from Plackett's identity ``Phi2(h, k; rho) - Phi(h) Phi(k) =
int_0^asin(rho) exp(-(h^2 - 2 h k sin t + k^2) / (2 cos^2 t)) dt / (2 pi)`` by 48-point
Gauss-Legendre quadrature (smooth integrand; accurate to about 1e-15 here), which also avoids
the cancellation of the small differences the map is made of.

References
----------
1. Hillis SL (2018). Relationship between Roe and Metz simulation model for multireader
   diagnostic data and Obuchowski-Rockette model parameters. Stat Med 37(13):2067-2093.
   doi:10.1002/sim.7616
2. Hillis SL (2020). Determining Roe and Metz model parameters for simulating multireader
   multicase confidence-of-disease rating data based on real-data or conjectured
   Obuchowski-Rockette parameter estimates. Proc SPIE 11316, Medical Imaging 2020.
   doi:10.1117/12.2550541; journal version: J Med Imaging 9(4):045501 (2022).
   doi:10.1117/1.JMI.9.4.045501
3. Hillis SL (2012). Simulation of unequal-variance binormal multireader ROC decision data:
   an extension of the Roe and Metz simulation model. Acad Radiol 19(12):1518-1528.
   doi:10.1016/j.acra.2012.09.011
4. Roe CA, Metz CE (1997). Dorfman-Berbaum-Metz method for statistical analysis of
   multireader, multimodality receiver operating characteristic data: validation with
   computer simulation. Acad Radiol 4(4):298-303. doi:10.1016/S1076-6332(97)80032-3
5. Hillis SL, Berbaum KS (2011). Using the mean-to-sigma ratio as a measure of the
   improperness of binormal ROC curves. Acad Radiol 18(2):143-154.
   doi:10.1016/j.acra.2010.09.002
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

from validation.errors import InputError
from validation.stats._checks import check_choice, check_count
from validation.stats._result import Result
from validation.stats.mrmc.simulation import RoeMetzComponents

CONVERT_REFERENCES = (
    "Hillis SL (2018). Stat Med 37(13):2067-2093. doi:10.1002/sim.7616",
    "Hillis SL (2022). J Med Imaging 9(4):045501 (Proc SPIE 11316, 2020). "
    "doi:10.1117/1.JMI.9.4.045501",
    "Hillis SL (2012). Acad Radiol 19(12):1518-1528. doi:10.1016/j.acra.2012.09.011",
    "Roe CA, Metz CE (1997). Acad Radiol 4(4):298-303. doi:10.1016/S1076-6332(97)80032-3",
)
B_METHODS = ("unspecified", "mean_to_sigma", "specified")
B_RANGE = (0.001, 4.0)  # the search range of b_method="unspecified" (Hillis 2022, Table 10)
_X_MAX = 1.0 - 1e-9     # a correlation share of 1 leaves no case variance: not a solution

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)


def bvn_excess(h: float, k: float, rho: Any) -> NDArray[np.float64]:
    """``Phi2(h, k; rho) - Phi(h) Phi(k)`` for each correlation in ``rho`` (|rho| <= 1)."""
    r = np.clip(np.atleast_1d(np.asarray(rho, dtype=np.float64)), -1.0, 1.0)
    top = np.arcsin(r)                                   # (m,)
    t = 0.5 * top[:, None] * (_NODES[None, :] + 1.0)     # (m, 48) nodes on [0, asin rho]
    s, c2 = np.sin(t), np.cos(t) ** 2
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        expo = -(h * h - 2.0 * h * k * s + k * k) / (2.0 * c2)
    f = np.where(c2 > 0, np.exp(np.where(c2 > 0, expo, -np.inf)), 0.0)
    if h == k:  # the integrand tends to exp(-h^2 / 2) at t = pi/2, not to 0
        f = np.where(c2 > 0, f, math.exp(-h * h / 2.0))
    out: NDArray[np.float64] = (0.5 * top) * (f @ _WEIGHTS) / (2.0 * math.pi)
    return out


def _case_cov(h: float, k: float, share: Any, reader: float, b: float, n0: int, n1: int,
              u: float) -> NDArray[np.float64]:
    """``sum_m c_m Phi2(h, k; rho_m share u + reader)`` for each ``share`` (vectorised)."""
    sh = np.atleast_1d(np.asarray(share, dtype=np.float64))
    c = np.array([1.0, n1 - 1.0, n0 - 1.0, 1.0 - n0 - n1]) / (n0 * n1)
    rho = np.array([1.0, b * b / (1.0 + b * b), 1.0 / (1.0 + b * b), 0.0])
    corr = rho[None, :] * sh[:, None] * u + reader      # (m, 4)
    ex = bvn_excess(h, k, corr.ravel()).reshape(corr.shape)
    out: NDArray[np.float64] = ex @ c
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ORParameters(Result):
    """OR parameters of the empirical AUC of two tests read by random readers (Hillis 2018).

    ``auc`` the expected empirical AUC of each test (over readers and cases); ``var_r``,
    ``var_tr`` the OR reader and test-by-reader variance components; ``var_error`` the error
    (case-sampling) variance of one reader's AUC and ``cov1``, ``cov2``, ``cov3`` the error
    covariances (same reader / other test, other reader / same test, other reader and test),
    ``corr1..3`` their ratios to ``var_error``; for ``n0`` non-diseased and ``n1`` diseased
    cases. ``b`` and ``mean_to_sigma`` (per test; ``None`` when ``b = 1``) describe the readers'
    ROC curves.
    """

    auc: tuple[float, float]
    var_r: float
    var_tr: float
    var_error: float
    cov1: float
    cov2: float
    cov3: float
    corr1: float
    corr2: float
    corr3: float
    n0: int
    n1: int
    b: float
    mean_to_sigma: tuple[float | None, float | None]
    method: str = "Roe-Metz (Hillis 2012) parameters to OR parameters (Hillis 2018)"
    references: tuple[str, ...] = CONVERT_REFERENCES

    def pilot_components(self) -> dict[str, float]:
        """The OR components in the form of ``MRMCResult.variance_components``."""
        return {"var_r": self.var_r, "var_tr": self.var_tr, "var": self.var_error,
                "cov1": self.cov1, "cov2": self.cov2, "cov3": self.cov3,
                "n_cases": float(self.n0 + self.n1)}


@dataclass(frozen=True, slots=True, kw_only=True)
class RMParameters(Result):
    """Roe-Metz (Hillis 2012) parameters; case components scaled to sum to 1.

    ``delta`` the separation of the diseased and non-diseased mean ratings of each test;
    ``var_r``, ``var_tr`` reader and test-by-reader components; ``var_c``, ``var_tc``,
    ``var_rc``, ``var_e`` case, test-by-case, reader-by-case and error components of
    non-diseased cases (diseased: divided by ``b**2``). ``x`` holds Hillis's alternative
    parameters ``x1..x7``; ``notes`` any input that could not be matched exactly.
    """

    delta: tuple[float, float]
    var_r: float
    var_tr: float
    var_c: float
    var_tc: float
    var_rc: float
    var_e: float
    b: float
    b_method: str
    n0: int
    n1: int
    mean_to_sigma: tuple[float | None, float | None]
    x: dict[str, float]
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = "OR parameters to Roe-Metz (Hillis 2012) parameters (Hillis 2020/2022)"
    references: tuple[str, ...] = CONVERT_REFERENCES

    def components(self) -> RoeMetzComponents:
        """The variance components and ``b`` for :func:`roe_metz_ratings`."""
        return RoeMetzComponents(var_r=self.var_r, var_c=self.var_c, var_tr=self.var_tr,
                                 var_tc=self.var_tc, var_rc=self.var_rc, var_e=self.var_e,
                                 b=self.b)


def _real(x: Any, name: str, *, low: float | None = None, high: float | None = None,
          low_open: bool = False, high_open: bool = False, what: str = "") -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be a number; got {x!r}.") from None
    bad = not math.isfinite(v)
    if low is not None:
        bad |= v <= low if low_open else v < low
    if high is not None:
        bad |= v >= high if high_open else v > high
    if bad:
        rng = (f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
               if low is not None and high is not None else
               f"{'>' if low_open else '>='} {low:g}" if low is not None else "and finite")
        raise InputError(f"'{name}' must be {what or 'a number'} {rng}; got {x!r}.")
    return v


def _mean_to_sigma(delta: tuple[float, float], b: float) -> tuple[float | None, float | None]:
    if b == 1.0:
        return (None, None)
    return (delta[0] / (1.0 / b - 1.0), delta[1] / (1.0 / b - 1.0))


def rm_to_or(
    *, delta1: float, delta2: float, var_r: float, var_tr: float, var_c: float,
    var_tc: float, var_rc: float, var_e: float, b: float = 1.0, n0: int, n1: int,
) -> ORParameters:
    """OR parameters of the empirical AUC under Roe-Metz (Hillis 2012) parameters.

    The forward map of Hillis (2018); see the module docstring for the model and the
    formulas. The components may be on any scale (they are divided by the case total
    ``var_c + var_tc + var_rc + var_e``, which must be positive).

    Parameters
    ----------
    delta1, delta2 : separation of the diseased mean rating for test 1 and test 2.
    var_r, var_tr, var_c, var_tc, var_rc, var_e : variance components (>= 0).
    b : ratio of the non-diseased to the diseased standard deviation (> 0; the binormal slope).
    n0, n1 : numbers of non-diseased and diseased cases (>= 1).

    Returns
    -------
    ORParameters

    Examples
    --------
    >>> p = rm_to_or(delta1=0.75, delta2=0.75, var_r=0.0055, var_tr=0.0055, var_c=0.3,
    ...              var_tc=0.3, var_rc=0.2, var_e=0.2, b=1, n0=50, n1=50)
    >>> round(p.auc[0], 4)
    0.7002
    """
    n0 = check_count(n0, "n0", minimum=1)
    n1 = check_count(n1, "n1", minimum=1)
    d = (_real(delta1, "delta1"), _real(delta2, "delta2"))
    names = ("var_r", "var_tr", "var_c", "var_tc", "var_rc", "var_e")
    vals = [_real(v, nm, low=0.0, what="a variance component") for nm, v in
            zip(names, (var_r, var_tr, var_c, var_tc, var_rc, var_e), strict=True)]
    bb = _real(b, "b", low=0.0, low_open=True, what="the binormal slope")
    scale = sum(vals[2:])
    if not scale > 0:
        raise InputError("the case components 'var_c + var_tc + var_rc + var_e' must be "
                         f"positive; got {scale!r}. Give the model some case variation.")
    vr, vtr, vc, vtc, vrc, _ = (v / scale for v in vals)
    d = (d[0] / math.sqrt(scale), d[1] / math.sqrt(scale))
    v_big = 1.0 + bb**-2 + 2.0 * (vr + vtr)
    x1, x2 = d[0] / math.sqrt(v_big), d[1] / math.sqrt(v_big)
    x3, x4 = 2.0 * vr / v_big, 2.0 * (vr + vtr) / v_big
    u = 1.0 - x4
    auc = (float(stats.norm.cdf(x1)), float(stats.norm.cdf(x2)))
    var_r_or = float(bvn_excess(x1, x2, x3)[0])
    var_tr_or = float(0.5 * (bvn_excess(x1, x1, x4)[0] + bvn_excess(x2, x2, x4)[0]) - var_r_or)

    def same_test(share: float, reader: float) -> float:
        return float(0.5 * (_case_cov(x1, x1, share, reader, bb, n0, n1, u)[0]
                            + _case_cov(x2, x2, share, reader, bb, n0, n1, u)[0]))

    var_error = same_test(1.0, x4)
    if not var_error > 0:
        raise InputError("the Roe-Metz parameters give no case-sampling variance of the AUC "
                         f"(every reader's expected AUC is 0 or 1 with separations {d!r}); "
                         "give separations and components that leave the readers imperfect.")
    cov1 = float(_case_cov(x1, x2, vc + vrc, x3, bb, n0, n1, u)[0])
    cov2 = same_test(vc + vtc, 0.0)
    cov3 = float(_case_cov(x1, x2, vc, 0.0, bb, n0, n1, u)[0])
    return ORParameters(
        auc=auc, var_r=var_r_or, var_tr=var_tr_or, var_error=var_error, cov1=cov1, cov2=cov2,
        cov3=cov3, corr1=cov1 / var_error, corr2=cov2 / var_error, corr3=cov3 / var_error,
        n0=n0, n1=n1, b=bb, mean_to_sigma=_mean_to_sigma(d, bb))


def _root(fn: Any, target: float, name: str, fix: str) -> float:
    """The x in [0, 1) with ``fn(x) = target`` (``fn`` increasing, ``fn(0) <= target``)."""
    top = fn(_X_MAX)
    if target > top:
        raise InputError(f"'{name}' is larger than the Roe-Metz model can give with these AUCs "
                         f"(at most {top:.6g}); {fix}")
    if target <= fn(0.0):
        return 0.0
    return float(optimize.brentq(lambda x: fn(x) - target, 0.0, _X_MAX, xtol=1e-15,
                                 rtol=4 * np.finfo(float).eps, maxiter=200))


def or_to_rm(
    *, auc1: float, auc2: float, var_r: float, var_tr: float, corr1: float, corr2: float,
    corr3: float, var_error: float | None = None, n0: int, n1: int,
    b_method: str = "unspecified", mean_to_sigma: float | None = None, b: float | None = None,
) -> RMParameters:
    """Roe-Metz (Hillis 2012) parameters whose empirical AUCs have the given OR parameters.

    The reverse algorithm of Hillis (2020/2022); see the module docstring. Inputs are the OR
    description of a (pilot or conjectured) study of ``n0`` non-diseased and ``n1`` diseased
    cases; the returned parameters simulate studies of any size.

    Parameters
    ----------
    auc1, auc2 : expected empirical AUC of test 1 and test 2, in (0.5, 1).
    var_r, var_tr : OR reader and test-by-reader variance components (>= 0; truncate negative
        ANOVA estimates at 0 first, as Hillis, Obuchowski and Berbaum (2011) do for power).
    corr1, corr2, corr3 : OR error correlations, in [0, 1].
    var_error : OR error variance (> 0); needed for ``b_method="unspecified"`` only.
    n0, n1 : numbers of non-diseased and diseased cases behind the OR parameters.
    b_method : "unspecified" (b from ``var_error``), "mean_to_sigma" (b from the
        ``mean_to_sigma`` ratio, e.g. 4.5) or "specified" (the given ``b``).

    Returns
    -------
    RMParameters
        With ``notes`` where an input was moved to the nearest value the model can give.

    Raises
    ------
    InputError
        Inputs outside their ranges, or OR parameters no Roe-Metz model reproduces (the
        message names the input to change).

    Examples
    --------
    >>> rm = or_to_rm(auc1=0.897, auc2=0.941, var_r=0.00154, var_tr=0.000208, corr1=0.433,
    ...               corr2=0.430, corr3=0.299, var_error=0.000788, n0=69, n1=45)
    >>> 0 < rm.b < 1
    True
    """
    check_choice(b_method, "b_method", B_METHODS)
    n0 = check_count(n0, "n0", minimum=1)
    n1 = check_count(n1, "n1", minimum=1)
    a = (_real(auc1, "auc1", low=0.5, high=1.0, low_open=True, high_open=True,
               what="an expected AUC"),
         _real(auc2, "auc2", low=0.5, high=1.0, low_open=True, high_open=True,
               what="an expected AUC"))
    vr, vtr = (_real(v, nm) for nm, v in (("var_r", var_r), ("var_tr", var_tr)))
    for nm, v in (("var_r", vr), ("var_tr", vtr)):
        if v < 0:
            raise InputError(f"'{nm}' must be a variance component >= 0; got {v!r}. Truncate a "
                             "negative ANOVA estimate at 0 (Hillis, Obuchowski and Berbaum "
                             "2011) before the conversion.")
    corr = tuple(_real(c, nm, low=0.0, high=1.0, what="an error correlation")
                 for nm, c in (("corr1", corr1), ("corr2", corr2), ("corr3", corr3)))
    notes: list[str] = []
    x1, x2 = (float(stats.norm.ppf(v)) for v in a)

    x3 = _root(lambda x: float(bvn_excess(x1, x2, x)[0]), vr, "var_r", "reduce var_r.")

    def same_reader(x: float) -> float:
        return float(0.5 * (bvn_excess(x1, x1, x)[0] + bvn_excess(x2, x2, x)[0]))

    x4 = _root(same_reader, vr + vtr, "var_r + var_tr", "reduce var_tr.")
    if x4 < x3:
        notes.append("var_tr is below what var_r implies for two tests with these AUCs; "
                     "the test-by-reader component is set to 0 (x4 = x3).")
        x4 = x3
    u = 1.0 - x4

    def err_var(bv: Any) -> NDArray[np.float64]:
        bs = np.atleast_1d(np.asarray(bv, dtype=np.float64))
        return np.array([0.5 * (_case_cov(x1, x1, 1.0, x4, q, n0, n1, u)[0]
                                + _case_cov(x2, x2, 1.0, x4, q, n0, n1, u)[0]) for q in bs])

    if b_method == "unspecified":
        if var_error is None:
            raise InputError("'var_error' must be given for b_method='unspecified'; or use "
                             "b_method='mean_to_sigma' or 'specified'.")
        ve = _real(var_error, "var_error", low=0.0, low_open=True, what="an error variance")
        bval = _solve_b(err_var, ve)
    elif b_method == "mean_to_sigma":
        if mean_to_sigma is None:
            raise InputError("'mean_to_sigma' must be given for b_method='mean_to_sigma' "
                             "(4.5 is typical of real readers; Hillis and Berbaum 2011).")
        ratio = _real(mean_to_sigma, "mean_to_sigma", low=0.0, low_open=True,
                      what="a mean-to-sigma ratio")
        q = min(x1, x2) ** 2 / u
        if not ratio**2 > q:
            raise InputError(f"'mean_to_sigma' must exceed {math.sqrt(q):.4g} (the probit of "
                             f"the lower AUC for the median reader) to give a binormal slope "
                             f"below 1; got {mean_to_sigma!r}.")
        # (q - r^2) w^2 + 2 r^2 w + (q - r^2) = 0 in w = 1/b; the root above 1 gives b < 1
        w = (ratio**2 + math.sqrt(max(2.0 * ratio**2 * q - q * q, 0.0))) / (ratio**2 - q)
        bval = 1.0 / w
    else:
        if b is None:
            raise InputError("'b' must be given for b_method='specified' (1 gives the "
                             "equal-variance Roe-Metz model).")
        bval = _real(b, "b", low=0.0, low_open=True, what="the binormal slope")
    ve_model = float(err_var(bval)[0])
    cov1, cov2, cov3 = (c * ve_model for c in corr)

    def cross(share: float, reader: float) -> float:
        return float(_case_cov(x1, x2, share, reader, bval, n0, n1, u)[0])

    def same_test(share: float) -> float:
        return float(0.5 * (_case_cov(x1, x1, share, 0.0, bval, n0, n1, u)[0]
                            + _case_cov(x2, x2, share, 0.0, bval, n0, n1, u)[0]))

    x5 = _root(lambda s: cross(s, 0.0), cov3, "corr3", "reduce corr3.")
    x6 = _root(same_test, cov2, "corr2", "reduce corr2.")
    if x6 < x5:
        notes.append(f"corr2 ({corr[1]:.4g}) is below what corr3 implies (a Roe-Metz model "
                     "cannot give it); the test-by-case component is set to 0, which gives "
                     "the smallest corr2 the model allows with this corr3.")
        x6 = x5
    top1 = cross(_X_MAX, x3)
    x7 = _X_MAX if cov1 > top1 else _root(lambda s: cross(s, x3), cov1, "corr1", "")
    if x7 < x5:
        notes.append("corr1 is below what corr3 implies; the reader-by-case component is set "
                     "to 0.")
        x7 = x5
    if x7 > 1.0 - x6 + x5:
        notes.append(f"corr1 ({corr[0]:.4g}) is too large for a non-negative error component "
                     "given corr2 and corr3; the error component is set to 0 (the model's "
                     "corr1 is then the largest it can be).")
        x7 = 1.0 - x6 + x5
    v_big = (1.0 + bval**-2) / u
    delta = (x1 * math.sqrt(v_big), x2 * math.sqrt(v_big))
    return RMParameters(
        delta=delta, var_r=0.5 * x3 * v_big, var_tr=0.5 * (x4 - x3) * v_big, var_c=x5,
        var_tc=x6 - x5, var_rc=x7 - x5, var_e=max(1.0 - x6 - x7 + x5, 0.0), b=bval,
        b_method=b_method, n0=n0, n1=n1, mean_to_sigma=_mean_to_sigma(delta, bval),
        x={"x1": x1, "x2": x2, "x3": x3, "x4": x4, "x5": x5, "x6": x6, "x7": x7},
        notes=tuple(notes))


def _solve_b(err_var: Any, target: float) -> float:
    """``b`` with ``err_var(b) = target``: the largest root in [0.001, 1], else the smallest in
    [1, 4] (Hillis 2022, Table 10), bracketed on a grid of step 0.001 and then solved."""
    lo, hi = B_RANGE
    down = np.linspace(1.0, lo, int(round((1.0 - lo) / 0.001)) + 1)
    up = np.linspace(1.0, hi, int(round((hi - 1.0) / 0.001)) + 1)
    for grid in (down, up):
        g = err_var(grid) - target
        if abs(g[0]) <= 1e-10 * target:  # b = 1 (also where 1 is a double root, a minimum)
            return 1.0
        change = np.flatnonzero(np.sign(g[1:]) != np.sign(g[:-1]))
        if change.size:
            i = int(change[0])
            return float(optimize.brentq(lambda q: float(err_var(q)[0]) - target,
                                         float(min(grid[i], grid[i + 1])),
                                         float(max(grid[i], grid[i + 1])), xtol=1e-14,
                                         maxiter=200))
    both = np.concatenate([err_var(down), err_var(up)])
    raise InputError(
        f"'var_error' = {target:.6g} cannot be reached by a binormal slope b in [{lo:g}, {hi:g}] "
        f"with these AUCs and reader components (the model gives {both.min():.6g} to "
        f"{both.max():.6g}); check var_error and the case numbers n0, n1, or use "
        "b_method='mean_to_sigma' (e.g. 4.5) or 'specified'.")


__all__ = ["ORParameters", "RMParameters", "bvn_excess", "or_to_rm", "rm_to_or"]
