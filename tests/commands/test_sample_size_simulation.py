"""``validation protocol sample-size --simulate N``: Roe-Metz empirical power of an MRMC protocol.

The mapping from the protocol (planned readers and cases, AUCs, one-sided alpha) to the
simulation is checked against a direct call; the Clopper-Pearson interval against scipy's exact
binomial interval (independent implementation, to 1e-12); the slow test checks that under no
difference the empirical rejection rate lies in the 99% binomial band of the nominal level.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from scipy.stats import binomtest
from typer.testing import CliRunner

from validation.analysis.mrmc_simulated_power import _mu, parse_components
from validation.cli import app
from validation.stats.mrmc.simulation import expected_auc, simulate_or_rejections

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = "var_r=0.011,var_c=0.1,var_tr=0.011,var_tc=0.1,var_rc=0.2,var_e=0.6"


def _protocol(tmp_path: Path, *, expected: float = 0.94) -> Path:
    data = yaml.safe_load((ROOT / "protocols" / "reader_study.yaml").read_text())
    data["sample_size"].update(planned_positive=30, planned_negative=40)
    for a in data["sample_size"]["assumptions"]:
        a["expected"] = expected
    target = tmp_path / "reader_study.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def _simulate(path: Path, n: int, seed: int = 7) -> dict:  # type: ignore[type-arg]
    out = CliRunner().invoke(app, ["protocol", "sample-size", str(path), "--json", "--simulate",
                                   str(n), "--components", COMPONENTS, "--seed", str(seed)])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_simulated_power_matches_a_direct_simulation(tmp_path: Path) -> None:
    path = _protocol(tmp_path)
    plan = _simulate(path, 40)
    sup, ni = plan["simulated_power"]
    assert ni["hypothesis"] == "H1" and "noninferiority" in ni["note"]
    assert sup["hypothesis"] == "H2" and sup["n_readers"] == 5
    assert (sup["n_diseased"], sup["n_nondiseased"]) == (30, 40)
    comp = parse_components(COMPONENTS)
    direct = simulate_or_rejections([_mu(0.90, comp), _mu(0.94, comp)], n_readers=5,
                                    n_nondiseased=40, n_diseased=30, n_studies=40,
                                    components=comp, alpha=0.05, seed=7)
    assert sup["rejections"] == direct.rejections and sup["power"] == direct.estimate
    assert sup["expected_auc"] == pytest.approx([0.90, 0.94], abs=1e-12)
    ci = binomtest(direct.rejections, 40).proportion_ci(confidence_level=0.95, method="exact")
    assert sup["ci"] == pytest.approx([ci.low, ci.high], abs=1e-12)
    assert _simulate(path, 40) == plan  # seeded: the same numbers again


def test_separation_gives_the_stated_auc() -> None:
    comp = parse_components("var_c=0.2,b=0.8")
    for auc in (0.55, 0.75, 0.9, 0.97):
        assert expected_auc(_mu(auc, comp), comp) == pytest.approx(auc, abs=1e-12)


@pytest.mark.parametrize("bad", ["var_x=1", "var_r", "var_r=abc"])
def test_bad_components_exit_2(tmp_path: Path, bad: str, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from validation.cli import main

    monkeypatch.setattr(sys, "argv", ["validation", "protocol", "sample-size",
                                      str(_protocol(tmp_path)), "--simulate", "5",
                                      "--components", bad])
    with pytest.raises(SystemExit) as stop:
        main()
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "'--components' must be KEY=VALUE" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_no_difference_rejects_at_the_nominal_rate(tmp_path: Path) -> None:
    """1,000 studies with AUCs 0.90 and 0.90 + 1e-5 (the protocol checks require the expected
    AUC above the comparator's; a 1e-5 difference is null to within simulation error): the
    rejection rate at two-sided 0.05 lies in the 99% binomial band of 0.05; a real difference
    of 0.04 is rejected more often."""
    from scipy.stats import binom

    null = _simulate(_protocol(tmp_path, expected=0.90001), 1000)["simulated_power"][0]
    lo, hi = binom.ppf([0.005, 0.995], 1000, 0.05) / 1000
    assert lo <= null["power"] <= hi
    alt = _simulate(_protocol(tmp_path), 1000)["simulated_power"][0]
    assert alt["power"] > hi
