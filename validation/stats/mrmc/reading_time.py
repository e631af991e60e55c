"""Reading time: ratio of geometric mean reading times (second / first modality).

Model: ``log(time) = mu + beta [modality = second] + R_j + C_k + e``, with crossed random
intercepts for readers (``R_j``) and cases (``C_k``), fitted by REML with statsmodels'
``MixedLM`` (crossed effects written as variance components within a single group). The
ratio of geometric mean reading times is ``exp(beta)``; its CI is ``exp(beta +- z SE)``
(Wald, as the large-sample likelihood theory of the mixed model gives).

References
----------
1. Baayen RH, Davidson DJ, Bates DM (2008). Mixed-effects modeling with crossed random
   effects for subjects and items. J Mem Lang 59(4):390-412. doi:10.1016/j.jml.2007.12.005
2. Seabold S, Perktold J (2010). statsmodels: econometric and statistical modeling with
   Python. Proc 9th Python in Science Conference. doi:10.25080/Majora-92bf1922-011
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from validation.errors import DesignError, InputError
from validation.stats._checks import check_alpha
from validation.stats._result import Result
from validation.stats.mrmc._design import _label, _sorted_levels

RT_REFERENCES = (
    "Baayen RH, Davidson DJ, Bates DM (2008). J Mem Lang 59(4):390-412. "
    "doi:10.1016/j.jml.2007.12.005",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingTimeResult(Result):
    """Ratio of geometric mean reading times (second / first modality) from a mixed model."""

    estimate: float
    ci: tuple[float, float]
    log_ratio: float
    se: float
    p_value: float
    comparison: str
    geometric_means: dict[str, float]
    var_reader: float
    var_case: float
    var_residual: float
    n_readings: int
    converged: bool
    method: str = ("linear mixed model on log time (REML; crossed random reader and case "
                   "intercepts; statsmodels MixedLM); Wald CI")
    references: tuple[str, ...] = RT_REFERENCES


def reading_time_ratio(
    data: pd.DataFrame,
    *,
    time: str = "time",
    reader: str = "reader",
    modality: str = "modality",
    case: str = "case",
    modalities: tuple[Any, ...] | list[Any] | None = None,
    alpha: float = 0.05,
) -> ReadingTimeResult:
    """Ratio of geometric mean reading times, second modality over first, with its CI.

    H0: ``beta = 0`` (equal geometric mean times); the p-value is the two-sided Wald test.

    Parameters
    ----------
    data : long-format DataFrame, one row per reading, with a positive time column.
    time, reader, modality, case : column names.
    modalities : (first, second); by default the two modalities in sorted order.
    alpha : level of the two-sided CI.

    Returns
    -------
    ReadingTimeResult
    """
    alpha = check_alpha(alpha)
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"'data' must be a pandas DataFrame; got {type(data).__name__}.")
    missing = [c for c in (time, reader, modality, case) if c not in data]
    if missing:
        raise InputError(f"'data' must have the columns {time!r}, {reader!r}, {modality!r}, "
                         f"{case!r}; missing {', '.join(map(repr, missing))}.")
    df = data[[time, reader, modality, case]].copy()
    df.columns = ["time", "reader", "modality", "case"]
    levels = _sorted_levels(df["modality"])
    labels = [_label(m) for m in levels]
    if modalities is None:
        chosen = labels
    else:
        chosen = [str(m) for m in modalities]
        unknown = [m for m in chosen if m not in labels]
        if unknown:
            raise DesignError(f"modality {unknown[0]!r} is not in column {modality!r}; the "
                              f"data hold {', '.join(map(repr, labels))}.")
    if len(chosen) != 2:
        raise DesignError(f"the reading-time comparison needs exactly 2 modalities; got "
                          f"{len(chosen)} ({', '.join(map(repr, chosen))}). Pass 'modalities'.")
    df["mod_label"] = df["modality"].map(_label)
    df = df[df["mod_label"].isin(chosen)]
    t = pd.to_numeric(df["time"], errors="coerce")
    bad = ~(np.isfinite(t) & (t > 0))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"'{time}' must be a positive number of seconds; got "
                         f"{df['time'].iloc[row]!r} at row {row}.")
    if df["reader"].nunique() < 2:
        raise DesignError("the reading-time model needs at least 2 readers.")
    df = df.assign(log_time=np.log(t.astype(float)),
                   second=(df["mod_label"] == chosen[1]).astype(float),
                   reader=df["reader"].map(_label), case=df["case"].map(_label), group=1)

    if float(np.ptp(df["log_time"] - df.groupby("second")["log_time"].transform("mean"))) == 0:
        raise InputError(f"'{time}' must vary within a modality for the mixed model to estimate "
                         "its variances; every reading of a modality took the same time.")

    from statsmodels.regression.mixed_linear_model import MixedLM

    model = MixedLM.from_formula(
        "log_time ~ second", groups="group", re_formula="0",
        vc_formula={"reader": "0 + C(reader)", "case": "0 + C(case)"}, data=df)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model.fit(reml=True, method=["lbfgs", "bfgs"])
    converged = bool(fit.converged) and not any(
        "converge" in str(w.message).lower() for w in caught)
    beta = float(fit.fe_params["second"])
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        se = float(fit.bse_fe["second"])
    if not (np.isfinite(se) and se > 0):
        raise InputError(f"'{time}' leaves the mixed model without a standard error for the "
                         "modality effect (singular fit: too few readings, or times that do "
                         "not vary); collect more readings.")
    q = float(stats.norm.ppf(1 - alpha / 2))
    names = list(model.exog_vc.names)
    vcs = dict(zip(names, (float(v) for v in fit.vcomp), strict=True))
    mu = float(fit.fe_params["Intercept"])
    return ReadingTimeResult(
        estimate=float(np.exp(beta)), ci=(float(np.exp(beta - q * se)),
                                          float(np.exp(beta + q * se))),
        log_ratio=beta, se=se, p_value=float(2 * stats.norm.sf(abs(beta / se))),
        comparison=f"{chosen[1]} / {chosen[0]}",
        geometric_means={chosen[0]: float(np.exp(mu)), chosen[1]: float(np.exp(mu + beta))},
        var_reader=vcs["reader"], var_case=vcs["case"], var_residual=float(fit.scale),
        n_readings=int(len(df)), converged=converged,
    )
