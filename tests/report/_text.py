"""Number extraction and the allowed-number sets of the report traceability tests."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from validation.report.context import FORMATTERS

REPORTS = Path(__file__).resolve().parents[2] / "reports"

# A number: not glued to a word, a dot, a dash or a slash before it; not followed by a word
# character or a decimal part. Typographic minus sign allowed.
NUMBER = re.compile(r"(?<![\w.\-\u2212/])([\u2212-]?\d+(?:\.\d+)?)(?!\w|\.\d)")
HEX = re.compile(r"\b[0-9a-f]{40}\b|\b[0-9a-f]{64}\b")
ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def numbers(text: str) -> list[str]:
    return [m.group(1).replace("-", "\u2212") for m in NUMBER.finditer(text)]


def leaves(obj: Any) -> tuple[list[float], list[str]]:
    """All numeric and string leaves (keys included as strings) of a JSON object."""
    nums: list[float] = []
    strs: list[str] = []

    def walk(o: Any) -> None:
        if isinstance(o, bool):
            strs.append(str(o).lower())
        elif isinstance(o, (int, float)):
            nums.append(o)
        elif isinstance(o, str):
            strs.append(o)
        elif isinstance(o, dict):
            for k, v in o.items():
                strs.append(str(k))
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(obj)
    return nums, strs


def allowed_from_json(obj: Any) -> set[str]:
    """Every number of ``obj`` under every declared rounding rule, plus numbers in its strings."""
    nums, strs = leaves(obj)
    out: set[str] = set()
    for x in nums:
        for fmt in FORMATTERS.values():
            try:
                out.update(numbers(fmt(x)))
            except (ValueError, OverflowError):
                continue
    for s in strs:
        out.update(numbers(s))
    return out


def strings_from_json(obj: Any) -> set[str]:
    _, strs = leaves(obj)
    out: set[str] = set()
    for s in strs:
        out.update(numbers(s))
    return out


def template_numbers(*names: str) -> set[str]:
    """Numbers written in the static template text (citation years, 'STARD 2015', ...).

    The declared rounding rules' own wording (``ROUNDING``), which both documents print, counts
    as template text.
    """
    from validation.report.context import ROUNDING

    out: set[str] = set()
    for text in ROUNDING.values():
        out.update(numbers(text))
    for name in names:
        for path in sorted(REPORTS.glob(name)):
            out.update(numbers(path.read_text(encoding="utf-8")))
    return out


def hashes_in(*objs: Any) -> set[str]:
    found: set[str] = set()
    for obj in objs:
        found.update(HEX.findall(json.dumps(obj)))
    return found


def strip_hashes(text: str, hashes: set[str]) -> tuple[str, set[str]]:
    """Remove every known hash (possibly wrapped or broken by zero-width spaces)."""
    seen: set[str] = set()
    for h in sorted(hashes, key=len, reverse=True):
        pattern = re.compile(r"\s*".join(h))
        text, n = pattern.subn(" HASH ", text)
        if n:
            seen.add(h)
    return text, seen


def strip_structure(text: str, headings: list[str]) -> str:
    """Remove numbering that is document structure, not data."""
    text = re.sub(r"\b(Table|Figure|Page) \d+( of \d+)?", r"\1", text)
    text = re.sub(r"(?m)^\s*\d+\.\s", " ", text)  # numbered list markers
    for title in headings:
        text = re.sub(r"(?m)^\s*\d+(\.\d+)*\s+(?=" + re.escape(title) + ")", "", text)
    return text


def qmd_headings(qmd: Path) -> list[str]:
    titles = []
    for line in qmd.read_text(encoding="utf-8").splitlines():
        m = re.match(r"#+ (.+?)(\s*\{.*\})?$", line)
        if m:
            titles.append(m.group(1).replace("\\", ""))
    return titles


class _HTMLText(HTMLParser):
    """Visible text of a pandoc HTML page, by top-level section id; section numbers skipped."""

    SKIP_TAGS = {"style", "script", "title"}
    SKIP_CLASSES = {"header-section-number", "toc-section-number"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.section = "front"
        self.parts: dict[str, list[str]] = {"front": []}
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        skip = tag in self.SKIP_TAGS or bool(classes & self.SKIP_CLASSES) or (
            bool(self.stack) and self.stack[-1][1])
        if tag == "h1" and a.get("id"):
            self.section = a["id"]
            self.parts.setdefault(self.section, [])
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag not in {"img", "br", "hr", "meta", "link", "input", "col"}:
            self.stack.append((tag, skip))
        if tag in {"p", "div", "tr", "li", "h1", "h2", "h3", "table", "caption", "figcaption"}:
            self.parts[self.section].append("\n")

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break
        if tag in {"td", "th"}:
            self.parts[self.section].append(" \t ")

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][1]:
            return
        self.parts[self.section].append(data)


def html_sections(path: Path) -> tuple[dict[str, str], list[str]]:
    parser = _HTMLText()
    parser.feed(path.read_text(encoding="utf-8"))
    return {k: ZERO_WIDTH.sub("", "".join(v)) for k, v in parser.parts.items()}, parser.images


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"],
                         capture_output=True, text=True, check=True).stdout
    return ZERO_WIDTH.sub("", out)


def split_pdf(text: str, markers: list[str]) -> list[str]:
    """Cut ``text`` at the lines that are exactly the given headings (in order)."""
    parts = []
    rest = text
    for marker in markers:
        m = re.search(r"(?m)^\s*" + re.escape(marker) + r"\s*$", rest)
        if not m:
            parts.append(rest)
            rest = ""
            continue
        parts.append(rest[: m.start()])
        rest = rest[m.end():]
    parts.append(rest)
    return parts


def checklist_numbers() -> set[str]:
    data = yaml.safe_load((REPORTS / "checklists.yaml").read_text(encoding="utf-8"))
    out: set[str] = set()
    for cl in data["checklists"]:
        out.update(numbers(cl["name"]))
        for item in cl["items"]:
            out.update(numbers(str(item.get("item", ""))))
            out.update(numbers(item.get("topic", "")))
            out.update(numbers(item.get("outside", "")))
    return out


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
