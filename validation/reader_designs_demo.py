"""The demo's reader-study designs block (``validation demo``): split plot and a pilot-driven
simulation, both from the example data shipped with the protocols.

* The split-plot example (``protocols/examples/split_plot/ratings.csv``: two reader groups,
  each reading its own block of the Van Dyke cases in both modalities) is analysed the two
  ways a split plot admits: the U-statistic variance (Gallas 2006, 2009; the default for the
  AUC) and the Obuchowski-Rockette split-plot form (Hillis 2014).
* The fully crossed Van Dyke pilot (``protocols/examples/reader_study/ratings.csv``) gives OR
  variance components, converted to Roe-Metz parameters (Hillis 2018, 2020) at planned AUCs of
  0.90 and 0.94, and a small simulation gives the power of a 5-reader, 140-case study with
  its exact interval (``validation protocol sample-size --simulate`` runs the full 2,000).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

MODALITIES = ("unaided", "aided")
PLANNED_AUCS = (0.90, 0.94)
PLAN = {"n_readers": 5, "n_nondiseased": 80, "n_diseased": 60}
N_STUDIES = 200
SEED = 20261204


def _example(ratings: str) -> pd.DataFrame:
    from validation._resources import resource

    r = pd.read_csv(resource(f"protocols/examples/{ratings}"))
    truth = pd.read_csv(resource("protocols/examples/reader_study/manifest.csv"))
    df = r.merge(truth[["case_id", "truth"]], on="case_id", how="left", validate="many_to_one")
    return df.rename(columns={"reader_id": "reader", "case_id": "case"})


def reader_design_lines() -> list[str]:
    """The block's lines: the split plot analysed two ways, the pilot converted and simulated."""
    from validation.analysis.localization import choose_analysis
    from validation.analysis.mrmc_pilot import convert_pilot, pilot_from_ratings
    from validation.stats.mrmc.simulation import simulate_or_rejections

    split = _example("split_plot/ratings.csv")
    design, ustat = choose_analysis(split, method="auto", endpoint="auc", modalities=MODALITIES)
    _, orsp = choose_analysis(split, method="or", endpoint="auc", modalities=MODALITIES)
    groups = " and ".join(f"{len(g['readers'])} readers x {g['n_cases']} cases"
                          for g in design["groups"])
    u, o = ustat.difference, orsp.rrrc
    lines = [
        f"reader designs: split plot ({groups}), AUC aided - unaided {u.estimate:+.3f}: "
        f"U-statistics (Gallas) p = {u.p_value:.3f} (df {u.df:.1f}); OR split-plot form "
        f"(Hillis 2014) {orsp.difference.estimate:+.3f}, p = {o.p_value:.3f} (df {o.df_den:.1f})",
    ]
    pilot = pilot_from_ratings(_example("reader_study/ratings.csv"), MODALITIES,
                               name="reader_study/ratings.csv")
    rm, _, _ = convert_pilot(pilot, PLANNED_AUCS, b_method="unspecified", b_value=None)
    sim = simulate_or_rejections(list(rm.delta), n_studies=N_STUDIES, components=rm.components(),
                                 seed=SEED, **PLAN)
    lines.append(
        f"pilot to Roe-Metz (Hillis 2018, 2020): Van Dyke OR components at AUC "
        f"{PLANNED_AUCS[0]:.2f} vs {PLANNED_AUCS[1]:.2f} give b {rm.b:.3f}, delta "
        f"{rm.delta[0]:.3f} / {rm.delta[1]:.3f}; simulated power with {PLAN['n_readers']} readers "
        f"and {PLAN['n_nondiseased'] + PLAN['n_diseased']} cases {sim.estimate:.3f} "
        f"(95% CI {sim.ci[0]:.3f} to {sim.ci[1]:.3f}, {N_STUDIES} studies)")
    return lines


def print_reader_designs_demo(echo: Callable[[str], Any]) -> None:
    for line in reader_design_lines():
        echo(line)


__all__ = ["print_reader_designs_demo", "reader_design_lines"]
