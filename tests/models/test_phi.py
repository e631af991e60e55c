"""PHI scan of DICOM headers: names, dates, IDs, institution, free text; values never shown."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from validation.demo_images import to_dicom_bytes
from validation.errors import DataError, InputError
from validation.models.phi import PhiWarning, scan_header, scan_images


def _write(path: Path, **attrs) -> Path:
    data = to_dicom_bytes(
        np.zeros((4, 4)), case_id=path.stem, patient_id="PX1", manufacturer="m", sex="F", seed=0
    )
    ds = dcmread(io.BytesIO(data))
    for k, v in attrs.items():
        setattr(ds, k, v)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    path.write_bytes(buf.getvalue())
    return path


def test_demo_dicom_is_clean_and_patient_id_pseudonym_is_accepted(tmp_path: Path) -> None:
    p = _write(tmp_path / "a.dcm")
    assert scan_header(p.read_bytes(), patient_id="PX1") == ((), ())
    attrs, cats = scan_header(p.read_bytes(), patient_id="OTHER")
    assert attrs == ("PatientID",) and cats == ("identifier",)


def test_patient_name_is_flagged_refused_without_showing_the_value(tmp_path: Path) -> None:
    p = _write(tmp_path / "b.dcm", PatientName="Doe^Jane")
    items = [("B1", p, "PX1")]
    with pytest.raises(DataError) as err:
        scan_images(items, policy="refuse")
    msg = str(err.value)
    assert "case 'B1' (b.dcm): PatientName" in msg and "1 of 1 DICOM" in msg
    assert "Doe" not in msg and "Jane" not in msg


def test_each_category_is_counted_and_warn_policy_continues(tmp_path: Path) -> None:
    files = [
        ("C1", _write(tmp_path / "c1.dcm", PatientBirthDate="19600101"), "PX1"),
        ("C2", _write(tmp_path / "c2.dcm", InstitutionName="General Hospital"), "PX1"),
        ("C3", _write(tmp_path / "c3.dcm", ImageComments="pt is a 56yo teacher"), "PX1"),
        (
            "C4",
            _write(tmp_path / "c4.dcm", OtherPatientIDs="12345", BurnedInAnnotation="YES"),
            "PX1",
        ),
        ("C5", _write(tmp_path / "c5.dcm"), "PX1"),
        ("C6", tmp_path / "c6.png", "PX1"),  # not DICOM: skipped
    ]
    with pytest.warns(PhiWarning, match="4 of 5 DICOM image"):
        report = scan_images(files, policy="warn")
    assert (report.scanned, report.flagged) == (5, 4)
    assert report.by_category == {
        "birth_date": 1,
        "institution": 1,
        "free_text": 1,
        "identifier": 1,
        "burned_in_text": 1,
    }
    d = report.to_dict()
    assert [f["case_id"] for f in d["flagged_cases"]] == ["C1", "C2", "C3", "C4"]
    assert "General Hospital" not in str(d) and "19600101" not in str(d)


def test_unknown_policy() -> None:
    with pytest.raises(InputError, match="'phi_policy' must be one of refuse, warn; got 'ignore'"):
        scan_images([], policy="ignore")


def test_a_name_in_a_private_tag_is_flagged_by_its_tag(tmp_path: Path) -> None:
    """PS3.15 Annex E basic profile removes private attributes; a vendor tag with a name."""
    p = _write(tmp_path / "p.dcm")
    ds = dcmread(p)
    block = ds.private_block(0x0009, "ACME 1.1", create=True)
    block.add_new(0x01, "PN", "Roe^Richard")
    seq_item = dcmread(io.BytesIO(p.read_bytes()))  # a private tag nested in a sequence too
    ds.ReferencedImageSequence = [seq_item]
    ds.save_as(p, enforce_file_format=True)
    attrs, cats = scan_header(p.read_bytes(), patient_id="PX1")
    assert "private (0009,1001)" in attrs and "private (0009,0010)" in attrs
    assert cats == ("private",)
    with pytest.raises(DataError) as err:
        scan_images([("P1", p, "PX1")], policy="refuse")
    assert "private (0009,1001)" in str(err.value) and "Roe" not in str(err.value)


def test_scan_phi_cli_missing_images_root_is_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    manifest = tmp_path / "m.csv"
    manifest.write_text("case_id,image\nA,a.dcm\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "validation", "model", "scan-phi", str(manifest),
                           "--images-root", str(tmp_path / "nope")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "'--images-root' must be an existing folder" in proc.stderr
    assert "Traceback" not in proc.stderr
