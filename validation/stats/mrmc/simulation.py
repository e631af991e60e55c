"""Roe-Metz simulation of MRMC rating studies and the empirical size/power of the OR analysis.

Model (Roe and Metz 1997, with Hillis's 2012 constrained unequal-variance extension): the
rating of case ``k`` with truth ``t`` by reader ``j`` in modality ``i`` is

``X_ijk = mu_it + R_jt + C_kt + (tau R)_ijt + (tau C)_ikt + (R C)_jkt + E_ijkt``

with independent zero-mean normal effects of variances ``var_r``, ``var_tr`` (reader effects,
the same for both truth states) and ``var_c``, ``var_tc``, ``var_rc``, ``var_e`` for
non-diseased cases (``t = 0``), the case components divided by ``b**2`` for diseased cases
(``t = 1``; Hillis 2012 scales the components that involve cases only); effects of the two
truth states are independent (each truth state has its own cases, and reader effects per
state, as in Roe and Metz). ``mu_i0 = 0`` and ``mu_i1 = mu[i]``. ``b = 1`` is the original
equal-variance model. The expected empirical AUC of modality ``i`` over readers and cases is
``Phi(mu_i / sqrt((1 + 1/b^2) (var_c + var_tc + var_rc + var_e) + 2 (var_r + var_tr)))``.
:func:`validation.stats.mrmc.or_to_rm.or_to_rm` gives the parameters that reproduce a pilot
study's Obuchowski-Rockette parameters.

:func:`simulate_or_rejections` simulates ``n_studies`` studies and applies the
Obuchowski-Rockette RRRC test (jackknife covariance, Hillis df) to each: under ``mu`` equal
in both modalities the rejection rate estimates the type I error, otherwise the power. The
result carries the Clopper-Pearson interval of the rate and the binomial acceptance band of
the nominal ``alpha`` for ``n_studies`` studies.

References
----------
1. Roe CA, Metz CE (1997). Dorfman-Berbaum-Metz method for statistical analysis of
   multireader, multimodality receiver operating characteristic data: validation with
   computer simulation. Acad Radiol 4(4):298-303. doi:10.1016/S1076-6332(97)80032-3
2. Hillis SL (2012). Simulation of unequal-variance binormal multireader ROC decision data:
   an extension of the Roe and Metz simulation model. Acad Radiol 19(12):1518-1528.
   doi:10.1016/j.acra.2012.09.011
3. Hillis SL (2007). A comparison of denominator degrees of freedom methods for multiple
   observer ROC analysis. Stat Med 26(3):596-619. doi:10.1002/sim.2532
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from validation.constants import DEFAULT_SEED
from validation.errors import InputError
from validation.stats._checks import check_alpha, check_count
from validation.stats._result import Result
from validation.stats.mrmc.covariance import fom_covariance
from validation.stats.mrmc.or_analysis import or_analysis

SIM_REFERENCES = (
    "Roe CA, Metz CE (1997). Acad Radiol 4(4):298-303. doi:10.1016/S1076-6332(97)80032-3",
    "Hillis SL (2012). Acad Radiol 19(12):1518-1528. doi:10.1016/j.acra.2012.09.011",
    "Hillis SL (2007). Stat Med 26(3):596-619. doi:10.1002/sim.2532",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoeMetzComponents(Result):
    """Roe-Metz variance components (non-diseased scale) and the diseased-scale factor ``b``."""

    var_r: float = 0.0055
    var_c: float = 0.3
    var_tr: float = 0.0055
    var_tc: float = 0.3
    var_rc: float = 0.2
    var_e: float = 0.2
    b: float = 1.0
    method: str = "Roe-Metz (Hillis 2012 constrained unequal-variance) components"
    references: tuple[str, ...] = SIM_REFERENCES

    def total(self) -> float:
        return self.var_r + self.var_c + self.var_tr + self.var_tc + self.var_rc + self.var_e

    def difference_variance(self) -> float:
        """Variance of a diseased minus a non-diseased rating (random reader and cases)."""
        case = self.var_c + self.var_tc + self.var_rc + self.var_e
        return case * (1.0 + 1.0 / self.b**2) + 2.0 * (self.var_r + self.var_tr)


def expected_auc(mu: float, components: RoeMetzComponents) -> float:
    """Expected empirical AUC of a modality with separation ``mu`` under the model."""
    return float(stats.norm.cdf(mu / np.sqrt(components.difference_variance())))


def roe_metz_ratings(
    mu: tuple[float, float] | list[float], *, n_readers: int, n_nondiseased: int,
    n_diseased: int, components: RoeMetzComponents | None = None, n_studies: int = 1,
    seed: int | None = DEFAULT_SEED,
) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Simulate ratings of shape (n_studies, t, r, c) and the truth (c,) (negatives first).

    Parameters
    ----------
    mu : separation of the diseased mean in each modality (length t >= 1).
    n_readers, n_nondiseased, n_diseased : study size.
    components : :class:`RoeMetzComponents` (default: Roe and Metz's HL-like setting with
        ``var_c = var_tc = 0.3``, ``var_rc = var_e = 0.2``, small reader effects).
    n_studies : independent studies simulated at once.
    seed : seed of the generator.
    """
    comp = components or RoeMetzComponents()
    mu_arr = np.asarray(mu, dtype=np.float64)
    if mu_arr.ndim != 1 or mu_arr.size < 1 or not np.isfinite(mu_arr).all():
        raise InputError(f"'mu' must be finite separations, one per modality; got {mu!r}.")
    r = check_count(n_readers, "n_readers", minimum=1)
    n0 = check_count(n_nondiseased, "n_nondiseased", minimum=1)
    n1 = check_count(n_diseased, "n_diseased", minimum=1)
    ns = check_count(n_studies, "n_studies", minimum=1)
    vals = (comp.var_r, comp.var_c, comp.var_tr, comp.var_tc, comp.var_rc, comp.var_e)
    if any(not np.isfinite(v) or v < 0 for v in vals) or not comp.b > 0:
        raise InputError("the variance components must be finite and >= 0 and 'b' > 0; got "
                         f"{comp!r}.")
    t = mu_arr.size
    rng = np.random.default_rng(seed)
    blocks = []
    for state, n, scale, shift in ((0, n0, 1.0, np.zeros(t)), (1, n1, 1.0 / comp.b, mu_arr)):
        del state
        sd = np.sqrt(np.array(vals)) * np.array([1.0, scale, 1.0, scale, scale, scale])
        x = shift[None, :, None, None] + np.zeros((ns, t, r, n))
        x += sd[0] * rng.standard_normal((ns, 1, r, 1))        # reader
        x += sd[1] * rng.standard_normal((ns, 1, 1, n))        # case
        x += sd[2] * rng.standard_normal((ns, t, r, 1))        # modality x reader
        x += sd[3] * rng.standard_normal((ns, t, 1, n))        # modality x case
        x += sd[4] * rng.standard_normal((ns, 1, r, n))        # reader x case
        x += sd[5] * rng.standard_normal((ns, t, r, n))        # error
        blocks.append(x)
    truth = np.r_[np.zeros(n0, np.int8), np.ones(n1, np.int8)]
    return np.concatenate(blocks, axis=3), truth


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationResult(Result):
    """Empirical rejection rate of the OR RRRC test over simulated studies.

    ``ci`` is the Clopper-Pearson interval of the rate; ``band`` the central binomial range
    of the number of rejections, as a rate, expected with probability ``1 - band_alpha`` if
    the true rate were ``alpha`` (the acceptance band of a type I error check).
    """

    estimate: float
    rejections: int
    n_studies: int
    alpha: float
    ci: tuple[float, float]
    band: tuple[float, float]
    band_alpha: float
    expected_auc: tuple[float, ...]
    mean_auc: tuple[float, ...]
    method: str = "Roe-Metz simulation; OR RRRC F test with Hillis ddf, jackknife covariance"
    references: tuple[str, ...] = SIM_REFERENCES


def simulate_or_rejections(
    mu: tuple[float, float] | list[float], *, n_readers: int, n_nondiseased: int,
    n_diseased: int, n_studies: int = 2000, components: RoeMetzComponents | None = None,
    alpha: float = 0.05, band_alpha: float = 0.01, seed: int | None = DEFAULT_SEED,
    chunk: int = 250,
) -> SimulationResult:
    """Simulate ``n_studies`` two-modality studies and count OR RRRC rejections at ``alpha``.

    See the module docstring for the model. With ``mu[0] == mu[1]`` the rate estimates the
    type I error (it should lie in ``band``); otherwise it estimates the power.
    """
    alpha = check_alpha(alpha)
    band_alpha = check_alpha(band_alpha, "band_alpha")
    ns = check_count(n_studies, "n_studies", minimum=1)
    comp = components or RoeMetzComponents()
    mu_list = [float(x) for x in mu]
    if len(mu_list) != 2:
        raise InputError(f"'mu' must give two modalities; got {mu!r}.")
    rng = np.random.default_rng(seed)
    rejected = 0
    auc_sum = np.zeros(2)
    done = 0
    while done < ns:
        b = min(chunk, ns - done)
        x, truth = roe_metz_ratings(mu_list, n_readers=n_readers, n_nondiseased=n_nondiseased,
                                    n_diseased=n_diseased, components=comp, n_studies=b,
                                    seed=int(rng.integers(0, 2**63 - 1)))
        for s in range(b):
            fc = fom_covariance(x[s], truth)
            res = or_analysis(fc.fom, fc.cov, n_cases=truth.size, alpha=alpha)
            rejected += int(res.rrrc.p_value < alpha)
            auc_sum += fc.fom.mean(axis=1)
        done += b
    rate = rejected / ns
    lo = stats.beta.ppf(alpha / 2, rejected, ns - rejected + 1) if rejected > 0 else 0.0
    hi = stats.beta.ppf(1 - alpha / 2, rejected + 1, ns - rejected) if rejected < ns else 1.0
    k_lo, k_hi = stats.binom.ppf([band_alpha / 2, 1 - band_alpha / 2], ns, alpha)
    return SimulationResult(
        estimate=rate, rejections=rejected, n_studies=ns, alpha=alpha,
        ci=(float(lo), float(hi)), band=(float(k_lo) / ns, float(k_hi) / ns),
        band_alpha=band_alpha, expected_auc=tuple(expected_auc(m, comp) for m in mu_list),
        mean_auc=tuple(float(a) for a in auc_sum / ns))
