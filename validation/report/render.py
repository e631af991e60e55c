"""Render the dossier documents: Quarto when installed, otherwise pandoc + typst.

With ``quarto`` on PATH, ``quarto render <doc>.qmd --to html,typst,docx`` runs in the report
folder (``_quarto.yml`` and ``styles/`` are copied beside the ``.qmd``). Without it, the same
``.qmd`` is rendered with the engines Quarto itself uses:

- HTML: pandoc (``pypandoc-binary``) ``--standalone --embed-resources``: one self-contained file
  with the SVG figures inlined;
- PDF: pandoc to Typst with ``reports/styles/typst-template.typ`` (page header with study id and
  version, "Page x of y", numbered headings, tables and figures), then the ``typst`` wheel;
- DOCX: pandoc with native figure/table numbering, PNG figures and a reference document whose
  header and footer carry the study id, version and "Page x of y" fields.

Set ``VALIDATION_RENDERER=pandoc`` to force the built-in path even when Quarto is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from validation.errors import InputError, RenderError

FORMATS = ("html", "pdf", "docx")

#: seconds each format took in the last call of :func:`render_qmd` in this process
last_timings: dict[str, float] = {}


def check_formats(formats: Iterable[str] | str) -> tuple[str, ...]:
    """Validate a format list (``"html,pdf"`` or an iterable); returns them in a fixed order."""
    items = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats)]
    items = [f for f in items if f]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise InputError(f"'formats' must be one or more of {', '.join(FORMATS)}; got "
                         f"{(bad[0] if bad else ','.join(items))!r}.")
    return tuple(f for f in FORMATS if f in items)


def quarto_path() -> str | None:
    """The ``quarto`` executable to use, or ``None`` for the pandoc + typst path."""
    if os.environ.get("VALIDATION_RENDERER", "").lower() == "pandoc":
        return None
    return shutil.which("quarto")


def renderer_name() -> str:
    """A short description of the renderer, for environment.json and the report."""
    if quarto_path():
        return "quarto"
    return f"pandoc {_pandoc_version()} + typst {_typst_version()}"


def _pandoc() -> str:
    try:
        import pypandoc

        return str(pypandoc.get_pandoc_path())
    except (ImportError, OSError) as exc:
        found = shutil.which("pandoc")
        if found:
            return found
        raise RenderError("pandoc must be available to render reports (install the "
                          "'pypandoc-binary' package); got none.") from exc


def _pandoc_version() -> str:
    try:
        import pypandoc

        return str(pypandoc.get_pandoc_version())
    except (ImportError, OSError):
        return "unknown"


def _typst_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("typst")
    except PackageNotFoundError:
        return "unknown"


def _run(cmd: Sequence[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
        raise RenderError(f"{what} must succeed; got exit code {proc.returncode}: "
                          + " | ".join(tail))


def _header_text(folder: Path, stem: str) -> tuple[str, str, str]:
    """(study id, version, document kind) from the .qmd front matter."""
    import yaml

    text = (folder / f"{stem}.qmd").read_text(encoding="utf-8")
    meta: dict[str, object] = {}
    if text.startswith("---"):
        meta = yaml.safe_load(text.split("---", 2)[1]) or {}

    def plain(v: object) -> str:
        return str(v or "").replace("\\", "")

    return plain(meta.get("study-id")), plain(meta.get("study-version")), plain(meta.get("doc-kind"))


def reference_docx(folder: Path, stem: str) -> Path:
    """A DOCX reference document with the study header and a "Page x of y" footer."""
    from xml.sax.saxutils import escape

    study, version, kind = _header_text(folder, stem)
    base = folder / f".{stem}-reference-base.docx"
    _run([_pandoc(), "-o", str(base), "--print-default-data-file", "reference.docx"], folder,
         "pandoc (default reference.docx)")
    out = folder / f".{stem}-reference.docx"
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    run_pr = '<w:rPr><w:sz w:val="16"/><w:color w:val="5D6B78"/></w:rPr>'

    def field(code: str) -> str:
        return (f'<w:r>{run_pr}<w:fldChar w:fldCharType="begin"/></w:r>'
                f'<w:r>{run_pr}<w:instrText xml:space="preserve"> {code} </w:instrText></w:r>'
                f'<w:r>{run_pr}<w:fldChar w:fldCharType="separate"/></w:r>'
                f'<w:r>{run_pr}<w:t>1</w:t></w:r>'
                f'<w:r>{run_pr}<w:fldChar w:fldCharType="end"/></w:r>')

    def text_run(t: str) -> str:
        return f'<w:r>{run_pr}<w:t xml:space="preserve">{escape(t)}</w:t></w:r>'

    header = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:hdr {w}><w:p><w:pPr>'
              f'<w:tabs><w:tab w:val="right" w:pos="9000"/></w:tabs></w:pPr>'
              f'{text_run(f"{study} · version {version}")}<w:r><w:tab/></w:r>{text_run(kind)}'
              f'</w:p></w:hdr>')
    footer = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:ftr {w}><w:p><w:pPr>'
              f'<w:jc w:val="right"/></w:pPr>{text_run("Page ")}{field("PAGE")}'
              f'{text_run(" of ")}{field("NUMPAGES")}</w:p></w:ftr>')
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", (
                    b'<Override PartName="/word/header1.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>'
                    b'<Override PartName="/word/footer1.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/></Types>'))
            elif item.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", (
                    f'<Relationship Id="rIdValHdr" Type="{rel_ns}/header" Target="header1.xml"/>'
                    f'<Relationship Id="rIdValFtr" Type="{rel_ns}/footer" Target="footer1.xml"/>'
                    "</Relationships>").encode())
            elif item.filename == "word/document.xml":
                text = data.decode("utf-8")
                refs = ('<w:headerReference w:type="default" r:id="rIdValHdr"/>'
                        '<w:footerReference w:type="default" r:id="rIdValFtr"/>')
                start = text.rfind("<w:sectPr")
                if start < 0:
                    raise RenderError("the pandoc reference.docx must have a section; got none.")
                close = text.index(">", start)
                text = text[: close + 1] + refs + text[close + 1:]
                if "xmlns:r=" not in text[: text.index(">", text.index("<w:document")) + 1]:
                    text = text.replace("<w:document ", f'<w:document xmlns:r="{rel_ns}" ', 1)
                data = text.encode("utf-8")
            zout.writestr(item, data)
        zout.writestr("word/header1.xml", header)
        zout.writestr("word/footer1.xml", footer)
    base.unlink()
    return out


def _render_pandoc(folder: Path, stem: str, fmt: str) -> Path:
    pandoc = _pandoc()
    src = f"{stem}.qmd"
    common = [pandoc, src, "--from", "markdown", "--resource-path", ".", "--wrap=none"]
    if fmt == "html":
        out = folder / f"{stem}.html"
        _run(common + ["--to", "html5", "--standalone", "--embed-resources", "--number-sections",
                       "--toc", "--toc-depth=2", "--css", "styles/report.css",
                       "--default-image-extension=svg", "--output", out.name], folder,
             "pandoc (HTML)")
        return out
    if fmt == "pdf":
        typ = folder / f"{stem}.typ"
        _run(common + ["--to", "typst", "--standalone",
                       "--template", "styles/typst-template.typ",
                       "--default-image-extension=svg", "--output", typ.name], folder,
             "pandoc (Typst)")
        out = folder / f"{stem}.pdf"
        try:
            import typst
        except ImportError as exc:
            raise RenderError("the 'typst' package must be installed to render PDF; got none."
                              ) from exc
        try:
            typst.compile(str(typ), output=str(out), root=str(folder))
        except Exception as exc:  # typst raises its own error type with the diagnostics
            raise RenderError(f"typst must compile {typ.name}; got: {exc}") from exc
        return out
    if fmt == "docx":
        ref = reference_docx(folder, stem)
        out = folder / f"{stem}.docx"
        try:
            _run(common + ["--to", "docx+native_numbering", "--number-sections", "--toc",
                           "--toc-depth=2", "--reference-doc", ref.name,
                           "--default-image-extension=png", "--output", out.name], folder,
                 "pandoc (DOCX)")
        finally:
            ref.unlink(missing_ok=True)
        return out
    raise InputError(f"'format' must be one of {', '.join(FORMATS)}; got {fmt!r}.")


def _render_quarto(quarto: str, folder: Path, stem: str, formats: tuple[str, ...]) -> list[Path]:
    to = ",".join("typst" if f == "pdf" else f for f in formats)
    _run([quarto, "render", f"{stem}.qmd", "--to", to], folder, "quarto render")
    outs = [folder / f"{stem}.{f}" for f in formats]
    missing = [p.name for p in outs if not p.is_file()]
    if missing:
        raise RenderError(f"quarto render must write {', '.join(missing)}; got no such file.")
    return outs


def render_qmd(qmd: str | Path, formats: Iterable[str] | str = FORMATS) -> list[Path]:
    """Render one ``.qmd`` (figures and styles beside it) into each format, in place.

    Returns the rendered files in the order html, pdf, docx. The seconds each format took are
    left in :data:`last_timings`.
    """
    qmd = Path(qmd).absolute()  # pandoc and typst run inside the folder: no relative paths
    if not qmd.is_file():
        raise InputError(f"'qmd' must be an existing .qmd file; got {str(qmd)!r}.")
    fmts = check_formats(formats)
    folder, stem = qmd.parent, qmd.stem
    last_timings.clear()
    quarto = quarto_path()
    if quarto:
        start = time.perf_counter()
        outs = _render_quarto(quarto, folder, stem, fmts)
        last_timings["quarto"] = time.perf_counter() - start
        return outs
    outs = []
    for fmt in fmts:
        start = time.perf_counter()
        outs.append(_render_pandoc(folder, stem, fmt))
        last_timings[fmt] = time.perf_counter() - start
    return outs
