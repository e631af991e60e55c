"""Rendered documents as a reader sees them: PDF pages, the HTML in a browser, the DOCX."""

from __future__ import annotations

import base64
import os
import re
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.report._text import html_sections, load

FIXTURES = Path(__file__).parent / "fixtures"


def _ink_fraction(png: Path) -> float:
    from PIL import Image

    with Image.open(png) as im:
        grey = im.convert("L")
        hist = grey.histogram()
    dark = sum(hist[:200])
    return dark / max(1, sum(hist))


def test_all_formats_written(rendered):
    names = sorted(p.name for p in rendered.outputs)
    assert names == sorted(["sar.html", "sar.pdf", "sar.docx", "sap.html", "sap.pdf", "sap.docx"])
    figures = rendered.run_dir / "report" / "figures"
    for stem in ("flow", "roc", "forest_sens", "forest_spec", "forest_auc"):
        assert (figures / f"{stem}.svg").stat().st_size > 1000
        assert (figures / f"{stem}.png").stat().st_size > 1000
    assert (rendered.run_dir / "report" / "_quarto.yml").is_file()


def test_pdf_pages_are_not_blank_and_numbered(rendered, tmp_path):
    for doc in ("sar.pdf", "sap.pdf"):
        pdf = rendered.doc(doc)
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
        pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
        assert pages >= 2
        subprocess.run(["pdftoppm", "-r", "24", "-png", str(pdf), str(tmp_path / doc)],
                       check=True)
        pngs = sorted(tmp_path.glob(f"{doc}-*.png"))
        assert len(pngs) == pages
        for png in pngs:
            assert _ink_fraction(png) > 0.01, f"{png.name} looks blank"
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        study = load(rendered.run_dir / "results.json")["protocol"]
        for i in range(1, pages + 1):
            assert f"Page {i} of {pages}" in text
        assert text.count(f"{study['study_id']} · version {study['version']}") >= pages


def test_docx_opens_with_title_and_header(rendered):
    study = load(rendered.run_dir / "results.json")["protocol"]
    with zipfile.ZipFile(rendered.doc("sar.docx")) as z:
        assert z.testzip() is None
        body = z.read("word/document.xml").decode("utf-8")
        header = z.read("word/header1.xml").decode("utf-8")
        footer = z.read("word/footer1.xml").decode("utf-8")
        media = [n for n in z.namelist() if n.startswith("word/media/")]
    assert study["title"][:40] in body
    assert study["study_id"] in header and study["version"] in header
    assert "NUMPAGES" in footer and "PAGE" in footer
    assert len(media) >= 4, "figures must be embedded in the DOCX"


def test_html_is_self_contained(rendered):
    html = rendered.doc("sar.html").read_text(encoding="utf-8")
    _, images = html_sections(rendered.doc("sar.html"))
    assert len(images) >= 4
    for src in images:
        assert src.startswith("data:image/"), src[:60]
        payload = src.split(",", 1)[1]
        raw = base64.b64decode(payload) if ";base64" in src.split(",", 1)[0] else payload.encode()
        assert b"<svg" in raw[:2000] or raw[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'<link[^>]+href="(?!data:)[^"#]+\.css"', html)


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("VALIDATION_REQUIRE_BROWSER") == "1":
        pytest.fail("VALIDATION_REQUIRE_BROWSER=1 but chromium is not installed")
    if found is None:
        pytest.skip("chromium is not installed")
    return found


BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--hide-scrollbars", "--virtual-time-budget=3000"]


@pytest.mark.browser
def test_html_screenshot_not_blank(standalone_report, tmp_path):
    rendered = standalone_report
    chromium = _chromium()
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                    f"--screenshot={shot}", "--window-size=1280,4000",
                    rendered.doc("sar.html").as_uri()], capture_output=True, timeout=120,
                   check=True)
    assert shot.is_file()
    assert _ink_fraction(shot) > 0.01


@pytest.mark.browser
def test_html_has_no_broken_image_in_browser(reader_report, tmp_path):
    rendered = reader_report
    chromium = _chromium()
    page = tmp_path / "probe.html"
    probe = ("<script>window.addEventListener('load', () => { const imgs = [...document.images];"
             "document.title = 'images ' + imgs.length + ' broken ' +"
             " imgs.filter(i => !i.complete || i.naturalWidth === 0).length; });</script>")
    page.write_text(rendered.doc("sar.html").read_text(encoding="utf-8")
                    .replace("</body>", probe + "</body>"), encoding="utf-8")
    out = subprocess.run([chromium, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    m = re.search(r"<title>images (\d+) broken (\d+)</title>", out)
    assert m, "the probe did not run"
    assert int(m.group(1)) >= 4 and int(m.group(2)) == 0


def test_quarto_path_command_line(tmp_path, monkeypatch):
    """With `quarto` on PATH the .qmd is rendered by `quarto render` in the report folder."""
    from validation.report import render_report

    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "quarto-args.txt"
    fake = bindir / "quarto"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$PWD|$*" >> "{log}"\n'
        'stem=$(basename "$2" .qmd)\n'
        'for f in html pdf docx; do echo fake > "$stem.$f"; done\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("VALIDATION_RENDERER", raising=False)
    import validation.report.figures as figures

    # the fake quarto does not read figures: skip drawing them to keep the test fast
    monkeypatch.setattr(figures, "make_figures",
                        lambda results, out, png=True: {"flow": "flow", "forest": {},
                                                        "roc": None, "readers": None})
    run_dir = tmp_path / "STANDALONE" / "20261128T101500Z-3fa9c1"
    shutil.copytree(FIXTURES / "standalone", run_dir)
    outputs = render_report(run_dir, "html,pdf")
    calls = log.read_text().splitlines()
    report = run_dir / "report"
    assert calls == [f"{report}|render sar.qmd --to html,typst",
                     f"{report}|render sap.qmd --to html,typst"]
    assert [p.name for p in outputs] == ["sar.html", "sar.pdf", "sap.html", "sap.pdf"]
    assert (report / "_quarto.yml").is_file() and (report / "styles" / "report.css").is_file()


def test_bad_inputs_are_refused(tmp_path):
    from validation.errors import InputError, RenderError
    from validation.report import render_report, render_sap

    with pytest.raises(InputError, match="'run_dir' must be an existing run directory"):
        render_report(tmp_path / "missing")
    with pytest.raises(RenderError, match="'results.json' must exist"):
        render_report(tmp_path)
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURES / "standalone", run_dir)
    with pytest.raises(InputError, match="'formats' must be one or more of html, pdf, docx"):
        render_report(run_dir, "html,odt")
    (run_dir / "results.json").write_text("{not json")
    with pytest.raises(RenderError, match="must be valid JSON"):
        render_report(run_dir, "html")
    with pytest.raises(InputError, match="'lock_path' must be an existing"):
        render_sap(tmp_path / "nope.lock.json", tmp_path / "out")


def test_cli_exit_codes(tmp_path):
    from validation.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["report", str(tmp_path), "--format", "pdf"])
    assert result.exit_code != 0
    assert "results.json" in str(result.exception or result.output)
    proc = subprocess.run(["python3", "-m", "validation", "report", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("error: 'results.json' must exist")


def test_cli_protocol_sap(tmp_path):
    proc = subprocess.run(["python3", "-m", "validation", "protocol", "sap",
                           str(FIXTURES / "standalone" / "protocol.lock.json"), "--out",
                           str(tmp_path / "sap"), "--format", "html"],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "VALIDATION_RENDERER": "pandoc"})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "sap" / "sap.html").is_file()
    assert proc.stdout.strip().endswith("sap.html")


def test_relative_output_folder(tmp_path):
    # pandoc runs inside the document folder: a relative --out once broke the DOCX reference
    proc = subprocess.run(["python3", "-m", "validation", "protocol", "sap",
                           str(FIXTURES / "standalone" / "protocol.lock.json"), "--out", "sap",
                           "--format", "docx"],
                          capture_output=True, text=True, check=False, cwd=tmp_path,
                          env={**os.environ, "VALIDATION_RENDERER": "pandoc"})
    assert proc.returncode == 0, proc.stderr
    assert zipfile.is_zipfile(tmp_path / "sap" / "sap.docx")
