"""Write the dossier's Quarto sources (``sar.qmd``, ``sap.qmd``) from the Jinja templates.

The templates live in the repository's ``reports/`` folder (``sar.qmd.j2``, ``sap.qmd.j2``,
``partials/``, ``styles/``, ``_quarto.yml``, ``checklists.yaml``, ``methods.yaml``). Every value
inserted into Markdown is escaped, so text from a protocol (a title with ``*`` or ``|``) cannot
change the document's structure.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from validation._atomic import write_text_atomic
from validation.errors import RenderError
from validation.report.context import humanize, lcfirst

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|@$~^&\"'])")


class Raw(str):
    """Markdown that the template inserts as is (already escaped or built by a helper)."""

    __slots__ = ()


def templates_dir() -> Path:
    """The ``reports/`` folder holding the templates (``$VALIDATION_REPORTS_DIR`` overrides)."""
    from validation._resources import resource

    folder = resource("reports", env="VALIDATION_REPORTS_DIR")
    if (folder / "sar.qmd.j2").is_file():
        return folder
    raise RenderError("the report templates must be in the repository's 'reports/' folder, in "
                      "the package's assets/reports/ or in $VALIDATION_REPORTS_DIR; "
                      f"{str(folder)!r} has no sar.qmd.j2.")


def md_escape(value: Any) -> str:
    """Escape text for Pandoc Markdown (one line; every punctuation that could be syntax)."""
    if isinstance(value, Raw):
        return value
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def _code(value: Any) -> Raw:
    text = " ".join(str(value).split())
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Raw(f"{fence}{pad}{text}{pad}{fence}")


def _yq(value: Any) -> Raw:
    return Raw(json.dumps(md_escape(value), ensure_ascii=False))


def _html(value: Any) -> Raw:
    import html

    return Raw(html.escape(str(value)))


def _decision(value: str) -> Raw:
    cls = {"PASS": "decision-pass", "FAIL": "decision-fail"}.get(str(value).upper())
    text = md_escape(value)
    return Raw(f"[**{text}**]{{.{cls}}}" if cls else text)


def _link(title: str, key: str) -> Raw:
    return Raw(f"[{md_escape(title)}](#sec-{md_escape(key)})")


def _environment(folder: Path) -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(folder)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=md_escape,
        # ``{#id}`` is Pandoc/Quarto attribute syntax, so Jinja comments use ``{##`` ... ``##}``
        comment_start_string="{##",
        comment_end_string="##}",
    )
    env.globals.update(code=_code, yq=_yq, html=_html, decision=_decision, link=_link)
    env.filters["lcfirst"] = lambda text: lcfirst(str(text))
    env.filters["humanize"] = lambda text: humanize(str(text))
    return env


def _load_yaml(path: Path) -> Any:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def copy_styles(out_dir: Path) -> None:
    """Copy ``_quarto.yml`` and ``styles/`` beside the .qmd so Quarto can render it in place."""
    src = templates_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / "_quarto.yml", out_dir / "_quarto.yml")
    (out_dir / "styles").mkdir(exist_ok=True)
    for item in sorted((src / "styles").iterdir()):
        if item.is_file():
            shutil.copyfile(item, out_dir / "styles" / item.name)


def write_sar_qmd(context: dict[str, Any], figures: dict[str, Any], out_dir: Path) -> Path:
    """Render ``sar.qmd`` into ``out_dir`` from the report view model and figure names."""
    folder = templates_dir()
    checklists = _load_yaml(folder / "checklists.yaml")
    goals: dict[str, Any] = {}
    for h in context["hypotheses"]:
        if h["target"].startswith("goal"):
            goals.setdefault(h["endpoint"], True)
    sections = dict(checklists["sections"])
    if not context.get("reader"):
        sections.pop("reader", None)
    items = []
    for cl in checklists["checklists"]:
        kept = [it for it in cl["items"] if it.get("section") is None or it["section"] in sections]
        items.append({"name": cl["name"], "items": kept})
    text = _environment(folder).get_template("sar.qmd.j2").render(
        **context, fig=figures, goals=goals, S=checklists["sections"], checklists=items,
        trace=context["traceability"], doc_kind="Performance report")
    return write_text_atomic(out_dir / "sar.qmd", _tidy(text))


def write_sap_qmd(context: dict[str, Any], out_dir: Path) -> Path:
    """Render ``sap.qmd`` into ``out_dir`` from the SAP view model (locked protocol only)."""
    folder = templates_dir()
    methods = _load_yaml(folder / "methods.yaml")
    text = _environment(folder).get_template("sap.qmd.j2").render(
        **context, methods=methods, doc_kind="Statistical analysis plan")
    return write_text_atomic(out_dir / "sap.qmd", _tidy(text))


def _tidy(text: str) -> str:
    """Blank line before every table, list and figure block; no runs of blank lines."""
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        prev = out[-1] if out else ""
        starts_block = (line.startswith("|") and not prev.startswith("|")) or (
            re.match(r"(- |\d+\. |!\[)", line) and prev.strip()
            and not re.match(r"(- |\d+\. )", prev))
        if starts_block and prev.strip() and not prev.startswith("---"):
            out.append("")
        elif (line.strip() and not line.startswith((" ", "-", "|")) and not re.match(r"\d+\. ", line)
              and re.match(r"(- |\d+\. )", prev)):
            out.append("")  # end a list before the next paragraph
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).rstrip() + "\n"
