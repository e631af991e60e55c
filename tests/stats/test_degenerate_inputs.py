"""Meta-test: every public statistics function survives degenerate data (issue 23).

Degenerate but valid data (n = 1 or 2 per class, all ties, perfect separation, constant or
identical scores, zero variance, a single cluster or stratum) must give finite numbers or an
:class:`~validation.errors.InputError`: never another exception, never NaN or infinity.

Functions are found automatically in ``validation.stats.__all__`` and the public functions of
``validation.stats.mrmc``; each is matched to an input builder by its required parameters
(``BUILDERS``). A new public function whose required parameters have no builder fails
``test_every_public_function_has_a_builder`` with the key to add.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import validation.stats as stats
import validation.stats.mrmc as mrmc
from validation.errors import InputError
from validation.stats.localization import LocalizationData

# small resampling counts keep the examples fast; the degenerate cases do not need more
FAST = {"n_boot": 50, "n_bootstrap": 50, "seed": 1}


def public_functions() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for module in (stats, mrmc):
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                found[name] = obj
    return found


def required(fn: Callable[..., Any]) -> tuple[str, ...]:
    """Names of the parameters without a default (``*arrays`` as ``*arrays``)."""
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            out.append("*" + p.name)
        elif p.default is p.empty and p.kind is not p.VAR_KEYWORD:
            out.append(p.name)
    return tuple(out)


@dataclass(frozen=True)
class Case:
    """One degenerate data set: binary truth and a score (or a second score)."""

    truth: np.ndarray
    score: np.ndarray
    score_b: np.ndarray
    cluster: np.ndarray


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n0 = draw(st.integers(1, 3))
    n1 = draw(st.integers(1, 3))
    truth = np.array([0] * n0 + [1] * n1)
    kind = draw(st.sampled_from(["ties", "separated", "reversed", "constant", "binary", "any"]))
    n = n0 + n1
    if kind == "ties":
        score = np.full(n, 0.5)
    elif kind == "separated":
        score = truth.astype(float)
    elif kind == "reversed":
        score = 1.0 - truth
    elif kind == "constant":
        score = np.zeros(n)
    elif kind == "binary":
        score = np.array(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)))
    else:
        score = np.array(draw(st.lists(st.sampled_from([0.1, 0.4, 0.9]), min_size=n,
                                       max_size=n)))
    same = draw(st.booleans())
    score_b = score.copy() if same else draw(st.sampled_from([np.full(n, 0.5), truth * 1.0]))
    one_cluster = draw(st.booleans())
    cluster = np.zeros(n, int) if one_cluster else np.arange(n) // 2
    return Case(truth=truth, score=score, score_b=score_b, cluster=cluster)


def reader_frame(c: Case) -> pd.DataFrame:
    rows = []
    for r in (1, 2):
        for m, s in (("A", c.score), ("B", c.score_b)):
            for k, (t, v) in enumerate(zip(c.truth, s, strict=True)):
                rows.append({"reader": r, "modality": m, "case": k, "truth": int(t),
                             "rating": float(v), "time": 1.0 + float(v)})
    return pd.DataFrame(rows)


def ratings_cube(c: Case) -> np.ndarray:
    return np.stack([np.stack([c.score, c.score]), np.stack([c.score_b, c.score_b])])


def localization_data(c: Case) -> LocalizationData:
    """Two modalities x two readers; each case's score is its highest NL rating and, on a
    diseased case, its single lesion's rating."""
    pos = c.truth == 1
    fp = np.stack([np.stack([c.score, c.score]), np.stack([c.score_b, c.score_b])])
    ll = fp[:, :, pos][..., None]
    return LocalizationData(fp=fp, ll=ll, weights=np.ones((int(pos.sum()), 1)),
                            n_lesions=np.ones(int(pos.sum()), np.int64), diseased=pos,
                            cases=tuple(str(k) for k in range(c.truth.size)),
                            modalities=("A", "B"), readers=("1", "2"),
                            nl=((c.score, c.score), (c.score_b, c.score_b)))


Call = Callable[[Callable[..., Any]], Any]
OR_ZERO = {"var_tr": 0.0, "var": 0.0, "cov1": 0.0, "cov2": 0.0, "cov3": 0.0, "pilot_cases": 2}


def _calls(c: Case) -> dict[tuple[str, ...], list[Call]]:
    t, s, s2, cl = c.truth, c.score, c.score_b, c.cluster
    called = s >= 0.5
    pos = int(t.sum())
    cube = ratings_cube(c)
    fom = np.array([[0.5, 0.5], [0.5, 0.5]])
    return {
        ("truth", "score"): [lambda f: f(t, s)],
        ("truth", "rating"): [lambda f: f(t, s)],
        ("truth", "score", "threshold"): [lambda f: f(t, s, 0.5), lambda f: f(t, s, 2.0)],
        ("truth", "called_positive"): [lambda f: f(t, called)],
        ("truth", "score_a", "score_b"): [lambda f: f(t, s, s2)],
        ("truth_a", "score_a", "truth_b", "score_b"): [lambda f: f(t, s, t, s2)],
        ("outcome",): [lambda f: f(t), lambda f: f(np.ones(len(t), int))],
        ("outcome", "cluster"): [lambda f: f(t, cl), lambda f: f(np.zeros(len(t), int), cl)],
        ("successes", "n"): [lambda f: f(0, 1), lambda f: f(1, 1), lambda f: f(pos, len(t))],
        ("a", "b", "c", "d"): [lambda f: f(0, 0, 0, 1), lambda f: f(pos, 0, 0, 0),
                               lambda f: f(1, 1, 1, 1)],
        ("x1", "n1", "x2", "n2"): [lambda f: f(0, 1, 0, 1), lambda f: f(1, 1, 1, 1),
                                   lambda f: f(pos, len(t), 0, 2)],
        ("statistic", "*arrays"): [lambda f: f(np.mean, s), lambda f: f(np.mean, s, strata=t)],
        ("data",): [lambda f: f(reader_frame(c))],
        ("effect", "n_readers", "n_cases", "var_tr", "var", "cov1", "cov2", "cov3",
         "pilot_cases"): [lambda f: f(effect=0.05, n_readers=2, n_cases=2, **OR_ZERO)],
        ("effect", "n_readers", "var_tr", "var", "cov1", "cov2", "cov3", "pilot_cases"): [
            lambda f: f(effect=0.05, n_readers=2, max_cases=50, **OR_ZERO)],
        # OR <-> Roe-Metz parameters: one case per class, zero components, extreme correlations
        ("auc1", "auc2", "var_r", "var_tr", "corr1", "corr2", "corr3", "n0", "n1"): [
            lambda f: f(auc1=0.8, auc2=0.8, var_r=0.0, var_tr=0.0, corr1=0.0, corr2=0.0,
                        corr3=0.0, n0=1, n1=1, b_method="specified", b=1.0),
            lambda f: f(auc1=0.9, auc2=0.95, var_r=0.0, var_tr=0.0, corr1=1.0, corr2=1.0,
                        corr3=1.0, var_error=1e-3, n0=2, n1=2),
            lambda f: f(auc1=0.999, auc2=0.999, var_r=1e-6, var_tr=0.0, corr1=0.5, corr2=0.4,
                        corr3=0.3, n0=pos or 1, n1=max(len(t) - pos, 1),
                        b_method="mean_to_sigma", mean_to_sigma=4.5)],
        ("delta1", "delta2", "var_r", "var_tr", "var_c", "var_tc", "var_rc", "var_e", "n0", "n1"): [
            lambda f: f(delta1=0.0, delta2=0.0, var_r=0.0, var_tr=0.0, var_c=0.0, var_tc=0.0,
                        var_rc=0.0, var_e=1.0, n0=1, n1=1),
            lambda f: f(delta1=5.0, delta2=5.0, var_r=0.0, var_tr=0.0, var_c=1.0, var_tc=0.0,
                        var_rc=0.0, var_e=0.0, b=0.5, n0=2, n1=1),
            lambda f: f(delta1=1.0, delta2=1.0, var_r=0.0, var_tr=0.0, var_c=0.0, var_tc=0.0,
                        var_rc=0.0, var_e=0.0, n0=2, n1=2)],
        ("pseudo",): [lambda f: f(cube)],
        ("ratings", "truth"): [lambda f: f(cube, t)],
        ("difference", "se", "df", "margin"): [lambda f: f(0.0, 0.0, 1.0, margin=0.05),
                                               lambda f: f(0.0, 0.01, 1.0, margin=0.05)],
        ("fom", "cov", "n_cases"): [lambda f: f(fom, np.zeros((4, 4)), n_cases=len(t))],
        ("fom", "jackknife"): [lambda f: f(fom, np.full((2, 2, len(t)), 0.5))],
        ("fom", "cov", "reader_groups"): [lambda f: f(fom, np.zeros((4, 4)), reader_groups=[1, 2]),
                                          lambda f: f(fom, np.eye(4) * 1e-3, reader_groups=[1, 1])],
        ("blocks", "t", "r"): [lambda f: f([([0], np.zeros((2, 2))), ([1], np.eye(2))], t=2, r=2)],
        ("jackknife", "reader_groups", "case_groups"): [
            lambda f: f(np.full((2, 2, len(t)), 0.5), [1, 2], np.arange(len(t)) % 2 + 1),
            lambda f: f(np.full((2, 2, len(t)), 0.5), [1, 1], np.ones(len(t), int))],
        # meta-analysis: two or three studies, identical or extreme
        ("tp", "fn", "tn", "fp"): [lambda f: f([pos, pos], [0, 0], [len(t) - pos] * 2, [0, 0]),
                                   lambda f: f([1, 2, 1], [1, 0, 1], [2, 1, 2], [0, 1, 0])],
        ("aucs", "variances"): [lambda f: f([0.8, 0.8], [0.01, 0.01]),
                                lambda f: f([0.5, 0.9, 0.7], [0.02, 0.001, 0.01])],
        ("successes", "totals"): [lambda f: f([0, 0], [2, 3]), lambda f: f([2, 3], [2, 3]),
                                  lambda f: f([pos, 1], [len(t), 2])],
        ("estimates", "variances"): [lambda f: f([0.1, 0.1], [0.01, 0.01]),
                                     lambda f: f([0.0, 1.0, 0.5], [0.1, 0.1, 0.1])],
        ("truth", "called", "factor"): [lambda f: f(t, called, cl % 2),
                                        lambda f: f(t, called, np.zeros(len(t), int))],
        # surveillance: constant outcomes, single periods, extreme rates, tied scores
        ("p_values",): [lambda f: f([0.0, 1.0]), lambda f: f([1.0])],
        ("outcomes", "p0", "p1", "limit"): [lambda f: f(t, p0=0.1, p1=0.2, limit=1.0),
                                           lambda f: f(np.zeros(len(t), int), p0=0.01, p1=0.99,
                                                       limit=0.5)],
        ("events", "trials", "p0", "p1", "limit"): [
            lambda f: f([0], [1], p0=0.1, p1=0.2, limit=1.0),
            lambda f: f([pos, 0], [len(t), 1], p0=0.5, p1=0.9, limit=2.0)],
        ("limit", "p0", "p1", "p", "n"): [lambda f: f(1.0, p0=0.1, p1=0.2, p=0.1, n=1),
                                          lambda f: f(0.5, p0=0.01, p1=0.99, p=0.99, n=2)],
        ("p0", "p1", "n", "arl0"): [lambda f: f(p0=0.1, p1=0.2, n=1, arl0=2.0)],
        ("baseline", "current"): [lambda f: f(s, s), lambda f: f(np.full(len(t), 0.5), s2),
                                  lambda f: f(t, 1 - t)],
        ("limit", "p0", "p1", "p"): [lambda f: f(1.0, p0=0.1, p1=0.2, p=0.1),
                                     lambda f: f(0.5, p0=0.01, p1=0.99, p=0.999)],
        ("p0", "p1", "arl0"): [lambda f: f(p0=0.1, p1=0.2, arl0=2.0),
                               lambda f: f(p0=0.01, p1=0.99, arl0=1e6)],
        ("probability", "threshold"): [lambda f: f(s, threshold=0.5), lambda f: f(np.zeros(len(t)), threshold=0.5),
                                       lambda f: f(np.ones(len(t)), threshold=1.0)],
        ("successes", "trials", "target", "lam", "width"): [
            lambda f: f([0], [1], target=0.5, lam=1.0, width=3.0),
            lambda f: f([pos, 0], [len(t), 1], target=0.01, lam=0.1, width=3.0)],
        ("scores", "truth"): [lambda f: f(s, t), lambda f: f(np.full(len(t), 0.5), t)],
        ("values", "mean", "sd", "shift"): [lambda f: f([0.5], mean=0.5, sd=0.1, shift=0.1),
                                            lambda f: f(s, mean=0.0, sd=1e-9, shift=-1.0)],
        ("limit", "k"): [lambda f: f(0.5, k=0.0), lambda f: f(5.0, k=2.0)],
        ("shift", "arl0"): [lambda f: f(shift=0.1, arl0=2.0), lambda f: f(shift=3.0, arl0=1e5)],
        # agreement, kappa and segmentation (issue 19): constant, identical or tied reads
        ("a", "b"): [lambda f: f(s, s2), lambda f: f(s, s), lambda f: f(t * 1.0, s)],
        ("a", "b", "subject"): [lambda f: f(s, s2, cl), lambda f: f(s, s, np.arange(len(t)) // 2)],
        ("ratings",): [lambda f: f(np.c_[s, s2]), lambda f: f(np.c_[t, t, t]), lambda f: f(np.c_[s, s])],
        ("r1", "r2"): [lambda f: f(t, called.astype(int)), lambda f: f(t, t), lambda f: f(t, 1 - t)],
        ("reference", "prediction", "spacing", "tolerance_mm"): [
            lambda f: f(t.reshape(1, -1), called.reshape(1, -1), spacing=(1.0, 0.5), tolerance_mm=0.0),
            lambda f: f(np.zeros((2, 2)), np.zeros((2, 2)), spacing=(1.0, 1.0), tolerance_mm=1.0)],
        # calibration and prognostic (issue 18): the score read as a probability; times 1..n or
        # all tied, the truth as the event indicator, clusters as risk groups
        ("truth", "probability"): [lambda f: f(t, s), lambda f: f(t, np.clip(s, 0.01, 0.99))],
        ("time", "event", "score"): [lambda f: f(np.arange(1.0, len(t) + 1), t, s),
                                     lambda f: f(np.ones(len(t)), t, s)],
        ("time", "event", "score", "horizons"): [
            lambda f: f(np.arange(1.0, len(t) + 1), t, s, horizons=[len(t) / 2])],
        ("time", "event"): [lambda f: f(np.arange(1.0, len(t) + 1), t), lambda f: f(np.ones(len(t)), t)],
        ("time", "event", "group"): [lambda f: f(np.arange(1.0, len(t) + 1), t, cl % 2),
                                     lambda f: f(np.ones(len(t)), t, np.zeros(len(t), int))],
        # localization: case scores as highest NL ratings, diseased cases' scores as lesions
        ("fp", "ll", "weights", "diseased"): [
            lambda f: f(s, s[t == 1][:, None], np.ones((pos, 1)), t == 1),
            lambda f: f(np.full(len(t), -np.inf), np.full((pos, 1), -np.inf), np.ones((pos, 1)),
                        t == 1)],
        ("marks",): [lambda f: f(localization_data(c))],
        ("score", "read", "truth"): [lambda f: f(cube, np.ones(cube.shape, bool), t)],
        ("decision", "read", "truth"): [
            lambda f: f((cube >= 0.5) * 1.0, np.ones(cube.shape, bool), t),
            lambda f: f(np.zeros(cube.shape), np.ones(cube.shape, bool), t, endpoint="specificity")],
        # reusable holdout: identical, opposite and constant query values
        ("train_values", "holdout_values", "threshold", "sigma", "budget", "seed"): [
            lambda f: f(s, s, threshold=0.04, sigma=0.01, budget=1, seed=0),
            lambda f: f(t * 1.0, 1.0 - t, threshold=0.04, sigma=0.01, budget=2, seed=1),
            lambda f: f(np.zeros(len(t)), np.zeros(len(t)), threshold=1e-9, sigma=1e-9,
                        budget=1, seed=2)],
    }


BUILDER_KEYS = set(_calls(Case(np.array([0, 1]), np.array([0.0, 1.0]), np.array([0.0, 1.0]),
                              np.array([0, 1]))))


def finite_problems(value: Any, where: str = "result") -> Iterator[str]:
    """Paths of NaN or infinite numbers in a result (``to_dict()`` when it has one)."""
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, float | np.floating):
        if not math.isfinite(float(value)):
            yield f"{where} = {value!r}"
    elif isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            yield f"{where} holds non-finite values"
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from finite_problems(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from finite_problems(v, f"{where}[{i}]")


def _with_fast_options(fn: Callable[..., Any], call: Call) -> Any:
    params = inspect.signature(fn).parameters
    fast = {k: v for k, v in FAST.items() if k in params}

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **{**fast, **kwargs})

    return call(wrapped)


# Fields where an infinite bound is the right answer (a one-sided interval, an unbounded df).
ALLOWED_INFINITE = ("df", "ci[1]", "ci[0]")


def test_every_public_function_has_a_builder() -> None:
    missing = {name: required(fn) for name, fn in public_functions().items()
               if required(fn) not in BUILDER_KEYS}
    assert not missing, (
        "public statistics functions without a degenerate-input builder; add their required "
        f"parameters as a key of _calls() in this file: {missing}"
    )


@pytest.mark.parametrize("name", sorted(public_functions()))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_degenerate_inputs_give_finite_numbers_or_input_error(name: str, case: Case) -> None:
    fn = public_functions()[name]
    calls = _calls(case).get(required(fn))
    if calls is None:
        pytest.skip("no builder (see test_every_public_function_has_a_builder)")
    for call in calls:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                result = _with_fast_options(fn, call)
        except InputError:
            continue
        bad = [p for p in finite_problems(result)
               if not any(p.startswith(f"result.{a}") or f".{a}" in p for a in ALLOWED_INFINITE)
               or "nan" in p.lower()]
        assert not bad, f"{name}: {bad}"


def test_jackknife_auc_covariance_with_one_diseased_case_is_an_input_error() -> None:
    """Was a divide by zero (m - 1 = 0) and a NaN covariance."""
    cube = np.full((2, 2, 2), 0.5)
    with pytest.raises(InputError, match="at least 2 diseased and 2 non-diseased"):
        mrmc.fom_covariance(cube, np.array([0, 1]))
    with pytest.raises(InputError, match="at least 2 diseased"):
        stats.mrmc_analysis(reader_frame(Case(np.array([0, 1]), np.full(2, 0.5), np.full(2, 0.5),
                                              np.zeros(2, int))))


def test_reading_times_that_never_vary_are_an_input_error() -> None:
    """Was a RuntimeWarning from statsmodels and a NaN standard error."""
    frame = reader_frame(Case(np.array([0, 1, 1]), np.full(3, 0.5), np.full(3, 0.5),
                              np.zeros(3, int)))
    with pytest.raises(InputError, match="must vary within a modality"):
        stats.reading_time_ratio(frame)
