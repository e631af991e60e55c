"""`validation demo`'s localization block: the detection example run from its generated data."""

from __future__ import annotations

from pathlib import Path

import pytest

from validation.localization_demo import localization_lines, print_localization_demo, run_localization_demo

EXAMPLE = Path(__file__).resolve().parents[2] / "protocols" / "examples" / "detection_study"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return run_localization_demo(tmp_path_factory.mktemp("demo"), formats=())


def test_demo_data_are_the_detection_examples(demo) -> None:  # type: ignore[no-untyped-def]
    inputs = demo.protocol.parent
    for name in ("manifest", "predictions", "lesions", "marks"):
        assert (inputs / f"{name}.csv").read_bytes() == (EXAMPLE / f"{name}.csv").read_bytes()


def test_demo_prints_design_wafroc_difference_and_decisions(demo) -> None:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    print_localization_demo(demo, lines.append)
    assert lines == localization_lines(demo) and len(lines) == 4
    res = demo.results
    block = res["localization"]["by_endpoint"]["mrmc_wafroc"]
    mods = block["modalities"]
    assert lines[0].startswith("localization: fully crossed design (5 readers x 120 cases, 93 lesions")
    assert lines[1] == (f"wAFROC (primary): unaided {mods['unaided']['estimate']:.3f} (95% CI "
                        f"{mods['unaided']['ci'][0]:.3f} to {mods['unaided']['ci'][1]:.3f}), aided "
                        f"{mods['aided']['estimate']:.3f} (95% CI {mods['aided']['ci'][0]:.3f} to "
                        f"{mods['aided']['ci'][1]:.3f})")
    diff = res["endpoints"]["mrmc_wafroc"]["pooled"]["estimate"]
    rrrc = block["rrrc"]
    assert f"aided - unaided: {diff:+.3f} (95% CI {rrrc['ci'][0]:.3f} to {rrrc['ci'][1]:.3f}, " \
           f"RRRC p = {rrrc['p_value']:.4f})" in lines[2]
    decisions = {h["id"]: h["decision"] for h in res["hypotheses"]}
    assert set(decisions) == {"H1", "H2"}
    for hid, word in (("H1", "noninferiority"), ("H2", "superiority")):
        assert f"{hid} {word} {decisions[hid].upper()}" in lines[2]
    assert lines[3] == f"LOCALIZATION dossier: {demo.run_dir}"
    assert (demo.run_dir / "results.json").is_file()
    assert set(res["endpoints"]) == {"mrmc_wafroc", "standalone_auc"}
