"""Every number in the rendered report and SAP comes from its source file.

The report layer must never compute a statistic. These tests extract every number from the
rendered HTML text and from the PDF text (``pdftotext``) and find each one among the source's
numbers passed through the declared rounding rules (``validation.report.context.FORMATTERS``):
``results.json`` for the report body, the traceability files for Appendix A (checked against
their own files), ``reports/checklists.yaml`` for Appendix B, and the locked protocol for the SAP.
Numbers written in the templates' own prose (citation years, "STARD 2015") are allowed too;
section, table, figure and page numbering is removed first.
"""

from __future__ import annotations

import re

import pytest

from tests.report._text import (
    allowed_from_json,
    checklist_numbers,
    hashes_in,
    html_sections,
    load,
    numbers,
    pdf_text,
    qmd_headings,
    split_pdf,
    strings_from_json,
    strip_hashes,
    strip_structure,
    template_numbers,
)

APPENDIX_A = "Appendix A: Traceability"
APPENDIX_B = "Appendix B: Reporting checklists"


def _sources(run_dir):
    results = load(run_dir / "results.json")
    lock = load(run_dir / "protocol.lock.json")
    files = {name: load(run_dir / name) for name in
             ("inputs.json", "environment.json", "test_set_usage.json")}
    return results, lock, files


def _body_allowed(results, lock):
    return (allowed_from_json(results) | strings_from_json(lock)
            | template_numbers("sar.qmd.j2", "partials/*.j2"))


def _unexplained(text, allowed):
    return sorted({n for n in numbers(text) if n not in allowed})


def test_html_numbers_are_in_results(rendered):
    results, lock, files = _sources(rendered.run_dir)
    sections, _ = html_sections(rendered.doc("sar.html"))
    hashes = hashes_in(results, lock, *files.values())
    body_allowed = _body_allowed(results, lock)
    checked = 0
    for sid, text in sections.items():
        text, _ = strip_hashes(text, hashes)
        if sid == "sec-traceability":
            allowed = body_allowed | allowed_from_json(files) | {rendered.run_dir.name}
            allowed |= set(numbers(rendered.run_dir.name))
        elif sid == "sec-checklist":
            allowed = checklist_numbers() | template_numbers("partials/checklist.md.j2")
        else:
            allowed = body_allowed
        bad = _unexplained(text, allowed)
        assert not bad, f"numbers in section {sid!r} not found in the sources: {bad}"
        checked += len(numbers(text))
    assert checked > 150, "the report should show many numbers"


def test_pdf_numbers_are_in_results(rendered):
    results, lock, files = _sources(rendered.run_dir)
    text = pdf_text(rendered.doc("sar.pdf"))
    hashes = hashes_in(results, lock, *files.values())
    text, seen = strip_hashes(text, hashes)
    assert results["protocol"]["sha256"] in seen and results["model"]["sha256"] in seen
    text = strip_structure(text, qmd_headings(rendered.doc("sar.qmd")))
    body, appendix_a, appendix_b = split_pdf(text, [APPENDIX_A, APPENDIX_B])
    assert appendix_a and appendix_b, "both appendices must be in the PDF"
    body_allowed = _body_allowed(results, lock)
    bad = _unexplained(body, body_allowed)
    assert not bad, f"numbers in the PDF body not found in results.json: {bad}"
    trace_allowed = body_allowed | allowed_from_json(files) | set(numbers(rendered.run_dir.name))
    assert not _unexplained(appendix_a, trace_allowed)
    check_allowed = checklist_numbers() | template_numbers("partials/checklist.md.j2")
    # the running page header repeats the protocol version on every page of the appendix
    check_allowed |= set(numbers(str(results["protocol"].get("version", ""))))
    assert not _unexplained(appendix_b, check_allowed)
    assert len(numbers(body)) > 150


def test_key_results_are_shown(rendered):
    """The other direction: the primary results and decisions appear, correctly rounded."""
    results, _, _ = _sources(rendered.run_dir)
    text = pdf_text(rendered.doc("sar.pdf"))
    for h in results["hypotheses"]:
        assert f"{h['estimate']:.3f}".replace("-", "\u2212") in text
        assert h["decision"].upper() in text
    flow = results["flow"]
    for key in ("eligible", "analysed", "indeterminate"):
        assert re.search(rf"\b{flow[key]}\b", text)
    conf = results["confusion"]["pooled"]
    for key in ("tp", "fp", "fn", "tn"):
        assert f"{conf[key]} ({key.upper()})" in text


def test_traceability_appendix_matches_its_files(rendered):
    results, lock, files = _sources(rendered.run_dir)
    sections, _ = html_sections(rendered.doc("sar.html"))
    trace = sections["sec-traceability"]
    compact = re.sub(r"\s+", "", trace)
    assert results["protocol"]["sha256"] in compact
    assert lock["yaml_sha256"] in compact
    assert results["model"]["sha256"] in compact
    for entry in files["inputs.json"]["files"]:
        assert entry["sha256"] in compact and entry["path"] in trace
    env = files["environment.json"]
    for key in ("git_commit", "suite_version", "python", "created_utc", "operator"):
        assert env[key] in trace, key
    assert rendered.run_dir.name in trace
    assert lock["approvals"][-1]["name"] in trace and lock["approvals"][-1]["time_utc"] in trace
    assert str(files["test_set_usage.json"]["uses"]) in trace


def test_reference_standard_wording(rendered):
    """CLAIM 2024: 'reference standard', never 'ground truth' (outside the checklist's note)."""
    sections, _ = html_sections(rendered.doc("sar.html"))
    for sid, text in sections.items():
        if sid == "sec-checklist":
            continue
        assert "ground truth" not in text.lower(), sid
    assert "reference standard" in sections["sec-study"].lower()


def test_reader_study_sections(reader_report, standalone_report):
    sections, images = html_sections(reader_report.doc("sar.html"))
    assert "sec-reader" in sections
    results = load(reader_report.run_dir / "results.json")
    text = sections["sec-reader"]
    for modality in results["reader_study"]["modalities"].values():
        for value in modality["readers"].values():
            assert f"{value:.3f}" in text
    assert any("readers" in s or s.startswith("data:image/svg") for s in images)
    plain, _ = html_sections(standalone_report.doc("sar.html"))
    assert "sec-reader" not in plain


def test_deviations_listed_or_none(reader_report, standalone_report):
    sections, _ = html_sections(reader_report.doc("sar.html"))
    assert "Reader 3 read 4 cases" in sections["sec-deviations"]
    sections, _ = html_sections(standalone_report.doc("sar.html"))
    assert sections["sec-deviations"].strip().splitlines()[-2:] and "None." in sections[
        "sec-deviations"]


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_sap_numbers_come_from_the_locked_protocol(standalone_report, fmt):
    run_dir = standalone_report.run_dir
    lock = load(run_dir / "protocol.lock.json")
    allowed = (allowed_from_json(lock) | template_numbers("sap.qmd.j2", "methods.yaml")
               | set(numbers(str(lock))))
    path = standalone_report.doc(f"sap.{fmt}")
    if fmt == "html":
        sections, _ = html_sections(path)
        text = "\n".join(sections.values())
    else:
        text = strip_structure(pdf_text(path), qmd_headings(standalone_report.doc("sap.qmd")))
    text, seen = strip_hashes(text, hashes_in(lock))
    assert lock["protocol_sha256"] in seen
    bad = _unexplained(text, allowed)
    assert not bad, f"numbers in the SAP not found in the locked protocol: {bad}"


def test_sap_first_page_has_hash_and_approval(standalone_report):
    import subprocess

    lock = load(standalone_report.run_dir / "protocol.lock.json")
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-enc", "UTF-8",
                            str(standalone_report.doc("sap.pdf")), "-"],
                           capture_output=True, text=True, check=True).stdout
    compact = re.sub(r"[\s\u200b]+", "", first)
    assert lock["protocol_sha256"] in compact
    assert lock["approvals"][-1]["name"] in first
    assert lock["approvals"][-1]["meaning"] in first
    assert lock["approvals"][-1]["time_utc"] in compact


def test_traceability_lists_the_roles_of_a_real_inputs_file(tmp_path):
    """inputs.json as the pipeline writes it ({"inputs": {role: entry}}) gives one row per role
    with its path, size and hash, never the file's own keys."""
    import json

    from validation.report.context import traceability

    inputs = {"schema_version": "1.1", "paths_relative_to": "run", "host_sha256": "0" * 64,
              "inputs": {
                  "manifest": {"kind": "file", "path": "manifest.csv", "size": 120,
                               "sha256": "a" * 64},
                  "images": {"kind": "folder", "path": "images", "size": 9000, "n_files": 3,
                             "sha256": "b" * 64, "files": {"x.png": {"sha256": "c" * 64,
                                                                     "size": 3000}}},
                  "robustness_plan": {"kind": "record", "sha256": "d" * 64, "content": {}}}}
    (tmp_path / "inputs.json").write_text(json.dumps(inputs))
    rows = traceability(tmp_path, None)["files"]
    assert [(r["role"], r["path"], r["sha256"]) for r in rows] == [
        ("manifest", "manifest.csv", "a" * 64), ("images", "images", "b" * 64),
        ("robustness_plan", "", "d" * 64)]
