"""What the sample-size modules share: the result type, the references and the input checks.

Private to :mod:`validation.stats` (like ``_checks``); the public names are re-exported by
:mod:`validation.stats.sample_size`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from validation.errors import InputError
from validation.stats._result import Result

REF_CHERNICK_2002 = (
    "Chernick MR, Liu CY (2002). The saw-toothed behavior of power versus sample size and "
    "software solutions: single binomial proportion using exact methods. Am Stat 56(2):149-155. "
    "doi:10.1198/000313002317572835"
)
REF_BUDERER_1996 = (
    "Buderer NM (1996). Statistical methodology: I. Incorporating the prevalence of disease into "
    "the sample size calculation for sensitivity and specificity. Acad Emerg Med 3(9):895-900. "
    "doi:10.1111/j.1553-2712.1996.tb03538.x"
)
REF_CONNOR_1987 = (
    "Connor RJ (1987). Sample size for testing differences in proportions for the paired-sample "
    "design. Biometrics 43(1):207-211. doi:10.2307/2531961"
)
REF_NAM_1997 = (
    "Nam J (1997). Establishing equivalence of two treatments and sample size requirements in "
    "matched-pairs design. Biometrics 53(4):1422-1430. doi:10.2307/2533508"
)
REF_LIU_2002 = (
    "Liu JP, Hsueh HM, Hsieh E, Chen JJ (2002). Tests for equivalence or non-inferiority for "
    "paired binary data. Stat Med 21(2):231-245. doi:10.1002/sim.1012"
)
REF_FM_1990 = (
    "Farrington CP, Manning G (1990). Test statistics and sample size formulae for comparative "
    "binomial trials with null hypothesis of non-zero risk difference or non-unity relative "
    "risk. Stat Med 9(12):1447-1454. doi:10.1002/sim.4780091208"
)
REF_HANLEY_MCNEIL_1982 = (
    "Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver operating "
    "characteristic (ROC) curve. Radiology 143(1):29-36. doi:10.1148/radiology.143.1.7063747"
)
REF_OBUCHOWSKI_1994 = (
    "Obuchowski NA (1994). Computing sample size for receiver operating characteristic studies. "
    "Invest Radiol 29(2):238-243. doi:10.1097/00004424-199402000-00020"
)
REF_OBUCHOWSKI_MCCLISH_1997 = (
    "Obuchowski NA, McClish DK (1997). Sample size determination for diagnostic accuracy studies "
    "involving binormal ROC curve indices. Stat Med 16(13):1529-1542. "
    "doi:10.1002/(SICI)1097-0258(19970715)16:13<1529::AID-SIM565>3.0.CO;2-H"
)
REF_OBUCHOWSKI_1998 = (
    "Obuchowski NA (1998). Sample size calculations in studies of test accuracy. Stat Methods "
    "Med Res 7(4):371-392. doi:10.1177/096228029800700405"
)

_N_MAX = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleSizeResult(Result):
    """A sample-size requirement with the assumptions and the justification text.

    ``n`` is the requirement in ``unit`` (cases with the condition, pairs, subjects in group
    1, positive cases); ``n_total`` the total number of cases to enrol (after the prevalence
    inflation, or both groups together), or ``None``; ``power`` the power achieved at ``n``
    (exact for the exact binomial design, otherwise from the same normal approximation);
    ``n_unrounded`` the closed-form value before rounding up (``None`` for searches);
    ``justification`` is the paragraph a reviewer expects in the protocol.
    """

    design: str
    n: int
    n_unrounded: float | None
    unit: str
    n_total: int | None
    groups: dict[str, int]
    power: float
    target_power: float
    alpha: float
    assumptions: dict[str, Any]
    formula: str
    justification: str
    method: str
    references: tuple[str, ...]


# --------------------------------------------------------------------------- checks


def _prob(value: Any, name: str, *, open_low: bool = True, open_high: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be a probability; got {value!r}.") from None
    lo_ok = v > 0.0 if open_low else v >= 0.0
    hi_ok = v < 1.0 if open_high else v <= 1.0
    if not (math.isfinite(v) and lo_ok and hi_ok):
        rng = f"{'(' if open_low else '['}0, 1{')' if open_high else ']'}"
        raise InputError(f"'{name}' must be in {rng}; got {value!r}.")
    return v


def _power(power: Any) -> float:
    p = _prob(power, "power")
    if p <= 0.5:
        raise InputError(f"'power' must be above 0.5 (e.g. 0.8 or 0.9); got {power!r}.")
    return p


def _ceil(x: float) -> int:
    # guard against 100.00000000001 -> 101 from rounding error
    if not x <= _N_MAX:
        raise InputError(
            f"the requirement exceeds {_N_MAX:,} units ({x:.4g}): the assumed value is too close "
            "to the null boundary (or the power too high) for any feasible study."
        )
    return int(math.ceil(x - 1e-9))


def _inflate(n: int, prevalence: float | None, endpoint: str) -> tuple[int | None, str]:
    if prevalence is None:
        return None, ""
    prev = _prob(prevalence, "prevalence")
    frac = prev if endpoint == "sensitivity" else 1.0 - prev
    total = int(math.ceil(n / frac - 1e-9))
    who = "with" if endpoint == "sensitivity" else "without"
    return total, (f" With an expected prevalence of {prev:.4g}, {total} cases in total are "
                   f"needed so that about {n} are {who} the condition (Buderer 1996).")
