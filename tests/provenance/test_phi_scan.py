"""Patient identifiers in outputs: found in every readable format, by whole token."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from typer.testing import CliRunner

from validation.cli import app
from validation.errors import InputError
from validation.provenance import identifier_values, scan_outputs

IDS = {"patient_name": {"Jane Roe", "Richard Miles", "Ann Lee"}, "mrn": {"MRN0012345"}}


def _clean_outputs(root):
    (root / "report" / "figures").mkdir(parents=True)
    (root / "results.json").write_text('{"case_id": "C001", "note": "Annual review"}\n')
    (root / "report" / "sar.qmd").write_text("Leesburg site, Jane Roebuck clinic.\n")
    (root / "report" / "figures" / "roc.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    buf = io.BytesIO()
    pd.DataFrame({"case_id": ["C001", "C002"], "score": [0.1, 0.9]}).to_parquet(buf)
    (root / "predictions.parquet").write_bytes(buf.getvalue())


def test_clean_outputs_pass_and_unreadable_files_are_listed(tmp_path):
    _clean_outputs(tmp_path)
    report = scan_outputs(tmp_path, IDS)
    assert report.ok, report.findings  # "Ann Lee" does not match "Annual" nor "Leesburg"
    assert report.not_scanned == ("report/figures/roc.png",)
    assert set(report.scanned) == {"predictions.parquet", "report/sar.qmd", "results.json"}


@pytest.mark.parametrize("fmt", ["json", "parquet", "docx", "html", "pdf"])
def test_an_identifier_is_found_in_each_format(tmp_path, fmt):
    _clean_outputs(tmp_path)
    target = tmp_path / "report" / f"leak.{fmt}"
    if fmt == "json":
        target.write_text('{"who": "jane roe"}')  # case does not hide it
    elif fmt == "html":
        target.write_text("<td>MRN0012345</td>")
    elif fmt == "parquet":
        buf = io.BytesIO()
        pd.DataFrame({"case_id": ["C1"], "name": ["Richard Miles"]}).to_parquet(buf)
        target.write_bytes(buf.getvalue())
    elif fmt == "docx":  # Word splits a name over two runs of text
        with zipfile.ZipFile(target, "w") as z:
            z.writestr("word/document.xml", '<w:p><w:r><w:t>Jane</w:t></w:r><w:r>'
                                            '<w:t xml:space="preserve"> Roe</w:t></w:r></w:p>')
    else:
        import shutil

        if shutil.which("pdftotext") is None:
            pytest.skip("pdftotext (poppler-utils) is not installed")
        import typst

        src = tmp_path / "leak.typ"
        src.write_text("Patient: Ann Lee\n")
        typst.compile(str(src), output=str(target))
        src.unlink()
    report = scan_outputs(tmp_path, IDS)
    assert [f.file for f in report.findings] == [f"report/leak.{fmt}"]


def test_short_values_are_reported_not_searched(tmp_path):
    (tmp_path / "a.txt").write_text("Li was here")
    report = scan_outputs(tmp_path, {"patient_name": {"Li", "Wu Chen"}})
    assert report.ok and report.too_short == ("patient_name='Li'",)
    report = scan_outputs(tmp_path, {"patient_name": {"Li"}}, min_length=2)
    assert [f.value for f in report.findings] == ["Li"]


def test_identifier_values_from_manifest(tmp_path):
    csv = tmp_path / "m.csv"
    csv.write_text("case_id,patient_name\nC1,Jane Roe\nC2, \nC3,Ann Lee\n")
    assert identifier_values(csv, ["patient_name"]) == {"patient_name": {"Jane Roe", "Ann Lee"}}
    with pytest.raises(InputError, match="'identifier_columns' must be columns"):
        identifier_values(csv, ["mrn"])
    with pytest.raises(InputError, match="'min_length' must be a positive integer"):
        scan_outputs(tmp_path, {}, min_length=0)


def test_scan_phi_command_masks_the_value(tmp_path):
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    (out_dir / "results.json").write_text('{"x": "Richard Miles"}')
    csv = tmp_path / "m.csv"
    csv.write_text("case_id,patient_name\nC1,Richard Miles\n")
    result = CliRunner().invoke(app, ["scan-phi", str(out_dir), "--manifest", str(csv),
                                      "--column", "patient_name"])
    assert result.exit_code == 1
    assert "results.json: patient_name value R************" in result.output
    assert "Richard Miles" not in result.output
