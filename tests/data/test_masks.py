"""The mask-index reader: NIfTI and .npy masks, spacing, multi-label, and every bad case named."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from validation.data.masks import load_pairs, read_mask_index, read_measurements
from validation.errors import DataError


def nifti(path: Path, data: np.ndarray, spacing=(1.0, 1.0, 2.5)) -> str:
    img = nib.Nifti1Image(data.astype(np.uint8), np.diag([*spacing, 1.0]))
    img.header.set_zooms(spacing)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(img.to_bytes(), mtime=0))
    return path.name


def cube(shape=(8, 8, 4), lo=2, hi=6, value=1) -> np.ndarray:
    a = np.zeros(shape, np.uint8)
    a[lo:hi, lo:hi, 1:3] = value
    return a


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    m = tmp_path / "masks"
    ref = cube()
    ref[3:5, 3:5, 1:3] = 2  # label 2 inside label 1
    nifti(m / "c1_ref.nii.gz", ref)
    nifti(m / "c1_pred.nii.gz", np.roll(ref, 1, axis=0))
    nifti(m / "c2_ref.nii.gz", cube())
    nifti(m / "c2_pred.nii.gz", cube())
    return tmp_path


def index(folder: Path, rows: list[dict]) -> Path:
    p = folder / "index.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def row(case: str, label: int = 1, ref: str | None = None, pred: str | None = None, **extra) -> dict:
    return {"case_id": case, "annotator_id": "A", "label": label, "mask": ref or f"{case}_ref.nii.gz",
            "prediction": pred or f"{case}_pred.nii.gz", **extra}


def read(folder: Path, rows: list[dict], cases=("c1", "c2"), fmt="labelled"):
    pairs = read_mask_index(index(folder, rows), masks_root=folder / "masks", case_ids=list(cases))
    return list(load_pairs(pairs, mask_format=fmt))


def test_reads_nifti_labels_with_header_spacing(folder: Path) -> None:
    got = read(folder, [row("c1", 1), row("c1", 2), row("c2", 1)])
    assert [(p.case_id, p.label) for p in got] == [("c1", 1), ("c1", 2), ("c2", 1)]
    assert got[0].spacing == (1.0, 1.0, 2.5)
    # a labelled mask holds one label per voxel: label 1 is the cube less the label-2 core
    assert int(got[1].reference.sum()) == 8 and int(got[0].reference.sum()) == 32 - 8


def test_npy_masks_take_spacing_from_the_index(folder: Path) -> None:
    m = folder / "masks"
    np.save(m / "c3_ref.npy", cube().astype(bool))
    np.save(m / "c3_pred.npy", cube().astype(bool))
    got = read(folder, [row("c3", ref="c3_ref.npy", pred="c3_pred.npy", spacing_mm=0.7, slice_spacing_mm=3.0)],
               cases=("c3",), fmt="binary")
    assert got[0].spacing == (0.7, 0.7, 3.0)


def expect(folder: Path, rows: list[dict], pattern: str, *, cases=("c1", "c2"), fmt="labelled") -> None:
    with pytest.raises(DataError, match=pattern):
        read(folder, rows, cases=cases, fmt=fmt)


def test_shape_mismatch_names_the_case(folder: Path) -> None:
    nifti(folder / "masks" / "c2_pred.nii.gz", cube(shape=(8, 8, 5)))
    expect(folder, [row("c1"), row("c2")], r"case 'c2' label 1: shape mismatch, reference \(8, 8, 4\)")


def test_spacing_mismatch_names_the_case(folder: Path) -> None:
    nifti(folder / "masks" / "c2_pred.nii.gz", cube(), spacing=(1.0, 1.0, 3.0))
    expect(folder, [row("c1"), row("c2")], r"case 'c2' label 1: spacing mismatch")


def test_missing_file_names_the_case(folder: Path) -> None:
    expect(folder, [row("c1"), row("c2", pred="nothing.nii.gz")],
           r"case 'c2' \(row 2\): prediction file 'nothing.nii.gz' does not exist")


def test_non_binary_mask_declared_binary_names_the_case(folder: Path) -> None:
    expect(folder, [row("c1"), row("c2")], r"case 'c1' label 1: the reference mask .* declared binary but holds "
           r"values \[2\]", fmt="binary")


def test_all_problems_are_collected_and_analysed_cases_without_masks_are_named(folder: Path) -> None:
    with pytest.raises(DataError) as info:
        read(folder, [row("c1", ref="../outside.nii.gz"), row("c2", pred="gone.nii.gz")], cases=("c1", "c2", "c9"))
    text = str(info.value)
    assert "'mask' '../outside.nii.gz' must be a path inside the masks folder" in text
    assert "prediction file 'gone.nii.gz' does not exist" in text
    assert "1 analysed case(s) have no masks in the index: 'c9'" in text


def test_excluded_cases_rows_are_not_read(folder: Path) -> None:
    got = read(folder, [row("c1"), row("c2", pred="gone.nii.gz")], cases=("c1",))
    assert [p.case_id for p in got] == ["c1"]


def test_changed_reference_mask_fails_its_sha256(folder: Path) -> None:
    expect(folder, [row("c1", mask_sha256="0" * 64), row("c2")], r"does not match its mask_sha256")


def test_several_annotators_need_a_choice(folder: Path) -> None:
    rows = [row("c1"), {**row("c1"), "annotator_id": "B"}, row("c2")]
    expect(folder, rows, r"several annotators; set segmentation.reference_annotator")
    pairs = read_mask_index(index(folder, rows), masks_root=folder / "masks", case_ids=["c1"],
                            reference_annotator="B")
    assert {p.annotator_id for p in pairs if p.case_id == "c1"} == {"B"}


def test_nan_measurement_names_case_and_column(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text("case_id,dev,ref,g1,g2\nc1,1.0,1.1,1,2\nc2,,2.0,2,\nc3,3.0,abc,1,1\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_measurements(p, case_ids=["c1", "c2", "c3", "c4"], numeric=["dev", "ref"], categorical=["g1", "g2"])
    text = str(info.value)
    assert "case 'c2': measurement 'dev' is missing or not a finite number" in text
    assert "case 'c3': measurement 'ref' is missing or not a finite number ('abc')" in text
    assert "case 'c2': categorical read 'g2' is missing" in text
    assert "'c4'" in text


def test_measurements_keep_ordered_grades_numeric(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text("case_id,dev,ref,g1\nc1,1.0,1.1,1\nc2,2,2.0,3\n", encoding="utf-8")
    df = read_measurements(p, case_ids=["c2", "c1"], numeric=["dev", "ref"], categorical=["g1"])
    assert df["case_id"].tolist() == ["c2", "c1"] and df["g1"].tolist() == [3, 1]
