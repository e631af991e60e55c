"""``validation demo``'s segmentation part: the example is copied, locked, run, summarised."""

from __future__ import annotations

import json
from pathlib import Path

from validation.segmentation_demo import run_segmentation_demo


def test_the_demo_runs_the_segmentation_example_and_prints_its_numbers(tmp_path: Path) -> None:
    lines: list[str] = []
    run_dir = run_segmentation_demo(tmp_path, formats=(), echo=lines.append)
    assert run_dir.parent.parent == tmp_path / "segmentation" / "runs"
    assert (tmp_path / "segmentation" / "segmentation_example.yaml.lock.json").is_file()
    seg = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))["segmentation"]
    dice = seg["endpoints"]["organ_dice"]["pooled"]["mean"]
    ba = seg["endpoints"]["volume_agreement"]["pooled"]
    ccc = seg["endpoints"]["volume_ccc"]["pooled"]
    assert len(lines) == 4
    assert lines[0].startswith("segmentation: 38 cases of 30 patients; organ Dice mean ")
    assert f"{dice['estimate']:.3f} ({dice['ci'][0]:.3f} to {dice['ci'][1]:.3f})" in lines[0]
    assert "95% CI" in lines[0] and " mm " in lines[0]
    assert f"bias {ba['bias']:.3f}" in lines[1]
    assert f"limits {ba['lower']:.2f} ({ba['lower_ci_exact'][0]:.2f} to {ba['lower_ci_exact'][1]:.2f})" in lines[1]
    assert f"CCC {ccc['estimate']:.3f}" in lines[1]
    assert lines[2] == "segmentation hypotheses: S1 pass, S2 pass, S3 pass, S4 pass"
    assert lines[3] == f"segmentation run: {run_dir}"
    # a second demo in the same folder starts from a fresh copy and lock
    again = run_segmentation_demo(tmp_path, formats=(), echo=lambda _: None)
    assert (again / "results.json").read_bytes() == (run_dir / "results.json").read_bytes()
