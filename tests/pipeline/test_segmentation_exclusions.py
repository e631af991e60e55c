"""An unreadable or invalid mask: refused (the default, the case named) or, when the protocol's
segmentation section says ``unreadable: exclude``, a STARD exclusion counted with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.pipeline.test_segmentation_example import _locked_copy
from validation.demo_data import DEMO_APPROVER, DEMO_MEANING
from validation.errors import DataError
from validation.pipeline import run_protocol


def _break_masks(path: Path) -> None:
    """SEG-005's prediction is not a NIfTI file; SEG-012's reference holds a probability map."""
    import gzip

    import nibabel as nib

    masks = path.parent / "examples" / "segmentation" / "masks"
    (masks / "SEG-005_pred.nii.gz").write_bytes(b"not a NIfTI file")
    ref = nib.load(str(masks / "SEG-012_ref.nii.gz"))
    data = np.asarray(ref.dataobj).astype(np.float32) * 0.5
    img = nib.Nifti1Image(data, ref.affine)
    (masks / "SEG-012_ref.nii.gz").write_bytes(gzip.compress(img.to_bytes(), mtime=0))


def test_by_default_an_unreadable_mask_stops_the_run_naming_the_case(tmp_path: Path) -> None:
    path = _locked_copy(tmp_path)
    _break_masks(path)
    with pytest.raises(DataError) as exc:
        run_protocol(path, out_dir=tmp_path / "runs", progress=False, formats=())
    text = "\n".join(exc.value.problems)
    assert "case 'SEG-005' label 1: cannot read the prediction mask 'SEG-005_pred.nii.gz'" in text
    assert "case 'SEG-012' label 1: the reference mask 'SEG-012_ref.nii.gz' holds non-integer values" in text
    assert str(tmp_path) not in text


def test_with_unreadable_exclude_the_cases_are_stard_exclusions(tmp_path: Path) -> None:
    from validation.protocol import lock_path_for, lock_protocol

    path = _locked_copy(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  tolerance_mm: 2.0\n", "  tolerance_mm: 2.0\n  unreadable: exclude\n"),
                    encoding="utf-8")
    lock_path_for(path).unlink()
    lock_protocol(path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    _break_masks(path)
    run = run_protocol(path, out_dir=tmp_path / "runs", progress=False, formats=("html",))
    seg = json.loads((run / "results.json").read_text(encoding="utf-8"))["segmentation"]
    flow = seg["flow"]
    assert flow["unreadable"] == "exclude"
    assert (flow["eligible"], flow["excluded_total"], flow["analysed"]) == (38, 2, 36)
    assert flow["excluded"] == {"unreadable or invalid mask": 2}
    # every label of an excluded case is left out (labelled masks: both labels read one file)
    assert [(e["case_id"], e["label"]) for e in flow["excluded_cases"]] == [
        ("SEG-005", 1), ("SEG-005", 2), ("SEG-012", 1), ("SEG-012", 2)]
    assert flow["excluded_cases"][0]["reason"].startswith("cannot read the prediction mask 'SEG-005_pred.nii.gz'")
    assert "non-integer values" in flow["excluded_cases"][2]["reason"]
    assert str(tmp_path) not in json.dumps(flow)
    dice = seg["endpoints"]["organ_dice"]["pooled"]
    assert dice["n"] == 36 and seg["cases"]["n_cases"] == 36 and seg["cases"]["n_masks"] == 72
    # the measurement endpoints keep every case
    assert seg["endpoints"]["volume_agreement"]["pooled"]["n"] == 38
    html = (run / "report" / "sar.html").read_text(encoding="utf-8")
    assert "STARD flow of the mask endpoints: 38 cases in the mask index, 2 excluded" in html
    assert "36 analysed" in html and "case SEG-012 label 1:" in html


def test_the_default_run_records_an_empty_mask_flow() -> None:
    from validation.analysis.segmentation import mask_flow

    flow = mask_flow({"A", "B"}, [], "refuse")
    assert flow == {"unit": "case", "unreadable": "refuse", "eligible": 2,
                    "excluded": {"unreadable or invalid mask": 0}, "excluded_total": 0, "analysed": 2,
                    "excluded_cases": []}
