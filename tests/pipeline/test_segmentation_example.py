"""protocols/segmentation_example.yaml runs from the locked protocol to a rendered dossier.

The numbers of ``results.json['segmentation']`` are checked against values recomputed here from
the example's files with independent code (NumPy Dice on the NIfTI labels, MONAI's HD95, base
formulas for the Bland-Altman limits), and bad masks stop ``validation run`` with exit 2 and
the case named.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from validation.demo_data import DEMO_APPROVER, DEMO_MEANING
from validation.pipeline import run_protocol

REPO = Path(__file__).resolve().parents[2]
PROTOCOLS = REPO / "protocols"
DATA = PROTOCOLS / "examples" / "segmentation"


def _locked_copy(tmp_path: Path) -> Path:
    from validation.protocol import lock_path_for, lock_protocol

    root = tmp_path / "protocols"
    shutil.copytree(PROTOCOLS, root)
    path = root / "segmentation_example.yaml"
    lock = lock_path_for(path)
    if lock.exists():
        lock.unlink()
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("seg")
    return run_protocol(_locked_copy(tmp), out_dir=tmp / "runs", progress=False, formats=("html",))


def _labels(name: str) -> np.ndarray:
    return np.asarray(nib.load(str(DATA / "masks" / name)).dataobj)


def test_dossier_is_rendered_with_the_segmentation_section(run: Path) -> None:
    html = (run / "report" / "sar.html").read_text(encoding="utf-8")
    assert "Segmentation and measurement agreement" in html
    assert "Decisions on the segmentation hypotheses" in html
    sap = (run / "report" / "sap.html").read_text(encoding="utf-8")
    assert "Segmentation and measurement endpoints" in sap
    figures = {p.name for p in (run / "report" / "figures").iterdir()}
    assert {"seg_box_organ_dice.svg", "seg_ba_volume_agreement.svg"} <= figures
    inputs = json.loads((run / "inputs.json").read_text())["inputs"]
    # the masks folder (76 masks and the example's 4 tables) is a hashed input
    assert inputs["segmentation_masks"]["n_files"] == 80


def test_mean_dice_matches_numpy_on_the_files(run: Path) -> None:
    seg = json.loads((run / "results.json").read_text())["segmentation"]
    manifest = pd.read_csv(DATA / "manifest.csv")
    dice = []
    for case in manifest["case_id"]:
        r, p = _labels(f"{case}_ref.nii.gz") == 1, _labels(f"{case}_pred.nii.gz") == 1
        dice.append(2 * np.sum(r & p) / (r.sum() + p.sum()))
    pooled = seg["endpoints"]["organ_dice"]["pooled"]
    assert pooled["mean"]["estimate"] == pytest.approx(np.mean(dice), rel=1e-12)
    assert pooled["median"]["estimate"] == pytest.approx(np.median(dice), rel=1e-12)
    assert pooled["proportion"]["successes"] == int(np.sum(np.array(dice) >= 0.8))
    assert pooled["n"] == 38 and pooled["n_patients"] == 30
    lo, hi = pooled["mean"]["ci"]
    assert lo < pooled["mean"]["estimate"] < hi
    assert seg["cases"] == {"both_empty": 1, "labels": [1, 2], "n_cases": 38, "n_masks": 76,
                            "prediction_empty": 1, "reference_empty": 0}
    lesion = seg["endpoints"]["lesion_dice"]["pooled"]
    assert lesion["substituted_worst"] == 1  # the missed lesion: worst distance, counted


@pytest.mark.filterwarnings("ignore::FutureWarning")  # a deprecated argument inside MONAI
def test_hd95_matches_monai(run: Path) -> None:
    torch = pytest.importorskip("torch")
    metrics = pytest.importorskip("monai.metrics")
    seg = json.loads((run / "results.json").read_text())["segmentation"]
    manifest = pd.read_csv(DATA / "manifest.csv")
    values = []
    for case in manifest["case_id"]:
        r = torch.tensor((_labels(f"{case}_ref.nii.gz") == 1)[None, None].astype(np.float32))
        p = torch.tensor((_labels(f"{case}_pred.nii.gz") == 1)[None, None].astype(np.float32))
        values.append(metrics.compute_hausdorff_distance(p, r, percentile=95, spacing=[1.0, 1.0, 2.5]).item())
    got = seg["endpoints"]["organ_hd95"]["pooled"]["mean"]["estimate"]
    assert got == pytest.approx(np.mean(values), rel=1e-5)  # MONAI works in float32


def test_bland_altman_and_hypotheses(run: Path) -> None:
    seg = json.loads((run / "results.json").read_text())["segmentation"]
    m = pd.read_csv(DATA / "measurements.csv")
    d = m["organ_volume_device"] - m["organ_volume_reference"]
    ba = seg["endpoints"]["volume_agreement"]["pooled"]
    assert ba["bias"] == pytest.approx(d.mean(), rel=1e-12)
    assert ba["upper"] == pytest.approx(d.mean() + 1.959963984540054 * d.std(ddof=1), rel=1e-12)
    assert seg["endpoints"]["volume_agreement"]["repeated"]["n_subjects"] == 30
    decisions = {h["id"]: h["decision"] for h in seg["hypotheses"]}
    assert decisions == {"S1": "pass", "S2": "pass", "S3": "pass", "S4": "pass"}
    s3 = next(h for h in seg["hypotheses"] if h["id"] == "S3")
    assert s3["ci"] == [ba["lower_ci_exact"][0], ba["upper_ci_exact"][1]]  # exact (Carkeet) bounds
    assert set(seg["endpoints"]["organ_dice"]["by_subgroup"]) == {"site", "sex", "age_band"}


def test_results_are_byte_identical_on_rerun(run: Path, tmp_path: Path) -> None:
    again = run_protocol(_locked_copy(tmp_path), out_dir=tmp_path / "runs", progress=False)
    assert (again / "results.json").read_bytes() == (run / "results.json").read_bytes()


def test_reordered_tables_give_the_same_bytes(run: Path, tmp_path: Path) -> None:
    path = _locked_copy(tmp_path)
    folder = path.parent / "examples" / "segmentation"
    for name in ("manifest.csv", "masks_index.csv", "measurements.csv"):
        df = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        df.iloc[::-1].to_csv(folder / name, index=False)
    again = run_protocol(path, out_dir=tmp_path / "runs", progress=False)
    seg_then = json.loads((run / "results.json").read_text())["segmentation"]
    seg_now = json.loads((again / "results.json").read_text())["segmentation"]
    assert json.dumps(seg_now, sort_keys=True) == json.dumps(seg_then, sort_keys=True)


def _cli(path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "validation", "run", str(path), "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


def test_a_bad_mask_stops_the_run_with_exit_2_and_names_the_case(tmp_path: Path) -> None:
    path = _locked_copy(tmp_path)
    masks = path.parent / "examples" / "segmentation" / "masks"
    img = nib.Nifti1Image(np.zeros((32, 32, 15), np.uint8), np.diag([1.0, 1.0, 2.5, 1.0]))
    (masks / "SEG-005_pred.nii.gz").write_bytes(gzip.compress(img.to_bytes(), mtime=0))
    (masks / "SEG-009_ref.nii.gz").unlink()
    done = _cli(path, tmp_path / "runs")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "case 'SEG-009' (row 17): mask file 'masks/SEG-009_ref.nii.gz' does not exist" in done.stderr
    # the shape problem is found when the masks are read, after the index is fixed
    (masks / "SEG-009_ref.nii.gz").write_bytes((DATA / "masks" / "SEG-009_ref.nii.gz").read_bytes())
    done = _cli(path, tmp_path / "runs2")
    assert done.returncode == 2, done.stderr
    assert ("case 'SEG-005' label 1: shape mismatch, reference (32, 32, 16) and prediction (32, 32, 15)"
            in done.stderr)
