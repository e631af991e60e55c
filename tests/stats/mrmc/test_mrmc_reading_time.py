"""Reading-time mixed model against lme4 (R) on a simulated crossed study.

Reference: tests/reference/mrmc/reading_time_lme4.R simulates reading_time_sim.csv (seeded)
and fits ``lmer(log(time_s) ~ modality + (1|reader) + (1|case), REML = TRUE)``; its results
are in reading_time_lme4.json. Both programs maximise the same REML criterion with different
optimisers: the fixed effect and its SE agree to 1e-6, the variance components to 0.5 %.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from validation.errors import DesignError, InputError
from validation.stats.mrmc.reading_time import reading_time_ratio


@pytest.fixture(scope="module")
def sim(reference_dir):
    return pd.read_csv(reference_dir / "mrmc" / "reading_time_sim.csv")


@pytest.fixture(scope="module")
def res(sim):
    return reading_time_ratio(sim, time="time_s", modalities=("unaided", "aided"))


def test_matches_lme4(res, reference_dir):
    ref = json.loads((reference_dir / "mrmc" / "reading_time_lme4.json").read_text())
    assert res.converged
    assert res.log_ratio == pytest.approx(ref["log_ratio"], abs=1e-6)
    assert res.se == pytest.approx(ref["se_log_ratio"], rel=1e-4)
    assert res.estimate == pytest.approx(np.exp(ref["log_ratio"]), rel=1e-6)
    assert res.geometric_means["unaided"] == pytest.approx(np.exp(ref["intercept"]), rel=1e-6)
    assert res.var_reader == pytest.approx(ref["var_reader"], rel=5e-3)
    assert res.var_case == pytest.approx(ref["var_case"], rel=5e-3)
    assert res.var_residual == pytest.approx(ref["var_residual"], rel=5e-3)
    assert res.ci[0] < res.estimate < res.ci[1]
    assert res.comparison == "aided / unaided"


def test_swapping_modalities_inverts_ratio(sim, res):
    inv = reading_time_ratio(sim, time="time_s", modalities=("aided", "unaided"))
    assert inv.estimate == pytest.approx(1 / res.estimate, rel=1e-5)
    assert inv.ci[0] == pytest.approx(1 / res.ci[1], rel=1e-5)


def test_bad_times(sim):
    bad = sim.copy()
    bad.loc[3, "time_s"] = 0
    with pytest.raises(InputError, match="positive number of seconds"):
        reading_time_ratio(bad, time="time_s")
    with pytest.raises(DesignError, match="'CAD' is not in column"):
        reading_time_ratio(sim, time="time_s", modalities=("unaided", "CAD"))
    with pytest.raises(InputError, match="missing 'time'"):
        reading_time_ratio(sim)
