"""The demo's segmentation study (``validation demo``, folder ``segmentation/`` of its output).

The example ``protocols/segmentation_example.yaml`` and its small synthetic NIfTI set are
copied into the demo folder, locked by the demo approver and run with the demo's report
formats; a few lines summarise the organ Dice and HD95, the agreement of the organ volume
with the reference reader's (Bland-Altman, CCC) and the decisions on the segmentation
hypotheses.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from validation._resources import resource

EXAMPLE = "protocols/segmentation_example.yaml"
EXAMPLE_DATA = "protocols/examples/segmentation"


def _ci(d: Mapping[str, Any], digits: int = 3) -> str:
    lo, hi = d["ci"]
    return f"{d['estimate']:.{digits}f} ({lo:.{digits}f} to {hi:.{digits}f})"


def _pair(v: Sequence[float], digits: int = 2) -> str:
    return f"{v[0]:.{digits}f} to {v[1]:.{digits}f}"


def segmentation_lines(seg: Mapping[str, Any]) -> list[str]:
    """Summary lines of ``results.json['segmentation']`` of the example protocol."""
    eps = seg["endpoints"]
    level = f"{100 * float(seg['ci_level']):g}% CI"
    dice, hd95 = eps["organ_dice"]["pooled"], eps["organ_hd95"]["pooled"]
    ba, ccc = eps["volume_agreement"]["pooled"], eps["volume_ccc"]["pooled"]
    exact = ba.get("limits_ci") == "exact"
    lo_ci = ba["lower_ci_exact"] if exact else ba["lower_ci"]
    hi_ci = ba["upper_ci_exact"] if exact else ba["upper_ci"]
    decisions = ", ".join(f"{h['id']} {h['decision']}" for h in seg["hypotheses"])
    return [
        f"segmentation: {dice['n']} cases of {dice['n_patients']} patients; organ Dice mean "
        f"{_ci(dice['mean'])}, HD95 mean {_ci(hd95['mean'], 2)} mm ({level}, patient bootstrap)",
        f"organ volume agreement: Bland-Altman bias {ba['bias']:.3f} ({_pair(ba['bias_ci'], 3)}), "
        f"limits {ba['lower']:.2f} ({_pair(lo_ci)}) to {ba['upper']:.2f} ({_pair(hi_ci)}"
        f"{', exact' if exact else ''}); CCC {_ci(ccc)}",
        f"segmentation hypotheses: {decisions}",
    ]


def run_segmentation_demo(out: Path, *, formats: Sequence[str], echo: Callable[[str], Any]) -> Path:
    """Copy the segmentation example into ``out/segmentation``, lock it, run it with ``formats``
    and print its summary and dossier paths through ``echo``. Returns the run folder."""
    from validation.analysis.results import load_results
    from validation.constants import RESULTS_FILE
    from validation.demo_data import DEMO_APPROVER, DEMO_MEANING
    from validation.pipeline import run_protocol
    from validation.protocol import lock_path_for, lock_protocol

    folder = Path(out) / "segmentation"
    protocol = folder / Path(EXAMPLE).name
    data = folder / "examples" / "segmentation"
    if data.exists():
        shutil.rmtree(data)
    shutil.copytree(resource(EXAMPLE_DATA), data)
    shutil.copyfile(resource(EXAMPLE), protocol)
    lock = lock_path_for(protocol)
    if lock.exists():
        lock.unlink()
    lock_protocol(protocol, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    run_dir = run_protocol(protocol, out_dir=folder / "runs", formats=tuple(formats), progress=False,
                           operator="demo")
    for line in segmentation_lines(load_results(run_dir / RESULTS_FILE)["segmentation"]):
        echo(line)
    report = run_dir / "report"
    docs = sorted(p for p in report.glob("sar.*") if p.suffix in (".html", ".pdf", ".docx")) \
        if report.is_dir() else []
    for doc in docs:
        echo(f"SEGMENTATION {doc.suffix[1:]}: {doc}")
    if not docs:
        echo(f"segmentation run: {run_dir}")
    return run_dir
