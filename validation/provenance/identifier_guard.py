"""The check every run makes before it is sealed: no patient identifier in anything it wrote.

Two kinds of hit fail the run (:class:`~validation.errors.PrivacyError`, exit 2, nothing
sealed):

1. a value of a column the protocol declares in ``test_set.identifier_columns`` (whole token,
   case-insensitive, at least 3 characters; a JSON number equal to a value counts too);
2. an identifier-like pattern (:data:`PATTERNS`), a deliberately small and conservative set:

   ``mrn``
       a run of 8 to 12 digits standing alone (not part of a word, a hex string, a decimal
       number, a time, a DOI or a longer number with separators) in a text or a JSON
       *string*, other than a ``YYYYMMDD`` calendar date and the run's seed; JSON numbers
       (file sizes, counts) are not searched for it;
   ``dicom_uid``
       a DICOM UID: ``1.`` or ``2.`` followed by at least five more dot-separated numeric
       components (version numbers and IP addresses have fewer);
   ``email``
       an e-mail address other than those of the protocol lock's signers and the run's
       operator (signatures are meant to be in the dossier);
   ``birth_date``
       a date within 25 characters after a birth keyword (``dob``, ``date of birth``,
       ``birth date``, ``born``, ``birthdate``) or a JSON key naming a birth date.

   SHA-256 hashes, run ids (``20261204T040922Z-...``), ISO dates and times of the study
   period and the numbers of a report match none of them.

What is searched: every file's relative path (file and figure names); JSON key by key and
string by string (the hit names the JSON path); text files (Markdown, ``.qmd``, Typst, HTML,
SVG, CSV, YAML, ...) line by line (figure titles and captions live in the report sources);
Parquet cell by cell; PDF through ``pdftotext`` when installed, else through the source the
renderer typeset (the ``.qmd``/``.typ`` beside it, already searched). Images (PNG) are not
read; their names are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from validation.provenance.hashing import iter_files
from validation.provenance.phi_scan import TEXT_SUFFIXES, ZIP_SUFFIXES, _read_text

MIN_VALUE_LENGTH = 3
"""Shortest identifier value searched for (shorter values would match everywhere)."""

_B = r"(?<![0-9A-Za-z._:/+\-])"  # left boundary: not inside a word, number, path or time
_E = r"(?![0-9A-Za-z_:/+]|[.\-,][0-9])"  # right boundary: same, and no decimal continuation
PATTERNS: dict[str, re.Pattern[str]] = {
    "mrn": re.compile(_B + r"[0-9]{8,12}" + _E),
    "dicom_uid": re.compile(_B + r"[12](?:\.(?:0|[1-9][0-9]*)){5,}" + r"(?![0-9A-Za-z])"),
    "email": re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+"
                        r"(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9])"),
    "birth_date": re.compile(
        r"(?i)\b(?:dob|date[ _-]?of[ _-]?birth|birth[ _-]?date|born)\b.{0,25}?"
        r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{8})"),
}
"""The identifier-like patterns searched for in every output (see the module docstring)."""

_BIRTH_KEY = re.compile(r"(?i)^(?:dob|date[ _-]?of[ _-]?birth|birth[ _-]?date|birthdate"
                        r"|patient_?birth_?date)$")


_DOI = re.compile(r"(?i)\b10\.[0-9]{4,9}/\S+")


def _is_compact_date(digits: str) -> bool:
    """``YYYYMMDD`` of a plausible calendar date (a study date or a date-like seed)."""
    if len(digits) != 8 or digits[:2] not in ("19", "20"):
        return False
    month, day = int(digits[4:6]), int(digits[6:8])
    return 1 <= month <= 12 and 1 <= day <= 31


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentifierHit:
    """One identifier found: the file, where in it (JSON path, line or ``file name``), what
    kind (an identifier column or a pattern name) and the value masked."""

    file: str
    where: str
    kind: str
    masked: str

    def line(self) -> str:
        return f"{self.file}: {self.where}: {self.kind} {self.masked}"


def mask(value: str) -> str:
    """The first character and stars: what a hit shows (the terminal is an output too)."""
    return value[:1] + "*" * max(0, len(value) - 1)


class _Matcher:
    def __init__(self, identifiers: Mapping[str, Iterable[str]], allow: Iterable[str]) -> None:
        self.columns: list[tuple[str, re.Pattern[str], set[str]]] = []
        for column, values in identifiers.items():
            wanted = sorted({str(v).strip() for v in values
                             if len(str(v).strip()) >= MIN_VALUE_LENGTH}, key=len, reverse=True)
            if wanted:
                alt = "|".join(re.escape(v) for v in wanted)
                self.columns.append((column, re.compile(
                    r"(?<![0-9A-Za-z])(?:" + alt + r")(?![0-9A-Za-z])", re.IGNORECASE),
                    {v.casefold() for v in wanted}))
        self.allow = {a.strip().casefold() for a in allow if a and a.strip()}
        # whether an identifier value could be, or be a token of, a number's text (str() of an
        # int or float uses only these characters); else no number can be a hit
        self.numbers_can_hit = any(set(v) <= _NUMBER_CHARS for _, _, vs in self.columns for v in vs)

    def text(self, text: str) -> Iterator[tuple[str, str]]:
        for column, pattern, _ in self.columns:
            for m in pattern.finditer(text):
                yield column, m.group(0)
        text = _DOI.sub(" ", text)  # a DOI's digits (page ranges, dates) are no identifier
        for name, pattern in PATTERNS.items():
            for m in pattern.finditer(text):
                v = m.group(0)
                if v.casefold() in self.allow or (name == "mrn" and _is_compact_date(v)):
                    continue
                yield name, v

    def redact(self, text: str) -> str:
        """``text`` with every hit masked (a JSON path can hold the value as a key)."""
        for _, v in sorted(set(self.text(text)), key=lambda kv: -len(kv[1])):
            text = text.replace(v, mask(v))
        return text

    def number(self, value: float | int) -> Iterator[tuple[str, str]]:
        text = str(value)
        for column, _, values in self.columns:
            if text.casefold() in values:
                yield column, text

    def lines(self, text: str) -> list[tuple[str, str, str]]:
        """``(f"line {i}", kind, value)`` of every hit of :meth:`text` line by line.

        The same hits in the same order as calling :meth:`text` on each of ``text.splitlines()``,
        but only the lines some pattern touches are searched one by one: each pattern runs once
        over the whole text first (none of them matches a line break, and a match inside a line
        is found at the same place in the whole text unless an earlier match overlaps it, whose
        lines are then searched too), so a million-line file costs a few regex passes.
        """
        lines = text.splitlines()
        if len(lines) < 2000:
            return [(f"line {i}", k, v) for i, line in enumerate(lines, 1) for k, v in self.text(line)]
        wanted: set[int] = set()
        blanked = _DOI.sub(" ", text)
        for source, patterns in ((text, [pt for _, pt, _ in self.columns]),
                                 (blanked, list(PATTERNS.values()))):
            starts = np.cumsum([0] + [len(x) for x in source.splitlines(keepends=True)])
            for pattern in patterns:
                spans = [(m.start(), m.end()) for m in pattern.finditer(source)]
                if spans:
                    at = np.asarray(spans, dtype=np.int64)
                    first = np.searchsorted(starts, at[:, 0], side="right") - 1
                    last = np.searchsorted(starts, np.maximum(at[:, 1] - 1, at[:, 0]), side="right") - 1
                    for a, b in zip(first.tolist(), last.tolist(), strict=True):
                        wanted.update(range(a, b + 1))
        return [(f"line {i + 1}", k, v) for i in sorted(wanted) if i < len(lines)
                for k, v in self.text(lines[i])]


_NUMBER_CHARS = set("0123456789.e+-naif")  # casefolded text of Python ints and floats
_LINE_BREAK = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _parquet_hits(path: Path, m: _Matcher) -> list[tuple[str, str, str]] | None:
    """``m.lines`` of the Parquet file's text (column names, then each column's values, one a
    line), searching each column's distinct values once; None where a value breaks a line.

    Float columns are skipped when no identifier value could be a token of a float's text
    (the patterns cannot match one: see the tests).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    names = list(table.column_names)
    if any(_LINE_BREAK.search(n) for n in names):
        return None
    hits = [(f"line {i}", k, v) for i, name in enumerate(names, 1) for k, v in m.text(name)]
    before = len(names)
    for column in table.columns:
        n = len(column)
        if pa.types.is_floating(column.type) and not m.numbers_can_hit:
            before += n
            continue
        plain_text = pa.types.is_string(column.type) and column.null_count == 0
        texts: list[str] | None = None
        if plain_text:  # str(v) of a str is itself: the distinct values straight from Arrow
            distinct = column.unique().to_pylist()
        else:
            texts = ["" if v is None else str(v) for v in column.to_pylist()]
            distinct = list(dict.fromkeys(texts))
        joined = "\n".join(distinct)
        if _LINE_BREAK.search(joined.replace("\n", " ")):
            return None
        found: dict[str, list[tuple[str, str]]] = {}
        for where, k, v in m.lines(joined):
            found.setdefault(distinct[int(where.split()[1]) - 1], []).append((k, v))
        if found:
            if texts is None:
                texts = column.to_pylist()
            hits += [(f"line {before + r + 1}", k, v) for r, t in enumerate(texts) if t in found
                     for k, v in found[t]]
        before += n
    return hits


def _json_hits(node: Any, path: str, m: _Matcher) -> Iterator[tuple[str, str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f"{path}.{key}" if path else str(key)
            for kind, v in m.text(str(key)):
                yield sub + " (key)", kind, v
            if _BIRTH_KEY.match(str(key)) and value not in (None, "", [], {}):
                yield sub, "birth_date", str(value)
            yield from _json_hits(value, sub, m)
    elif isinstance(node, list):
        if not m.numbers_can_hit and all(v is None or type(v) in (int, float) for v in node):
            return  # numbers (or nulls) only, and no identifier value can be one
        for i, value in enumerate(node):
            yield from _json_hits(value, f"{path}[{i}]", m)
    elif isinstance(node, str):
        for kind, v in m.text(node):
            yield path or "(root)", kind, v
    elif isinstance(node, int | float) and not isinstance(node, bool):
        for kind, v in m.number(node):
            yield path or "(root)", kind, v


_BREAK = re.compile(r"</(?:w:p|w:tc|w:tr|a:p|text:p|text:h|row|c|si)>|<w:br/>|<w:tab/>")


def _zip_text(path: Path) -> str | None:
    """The document text of a DOCX/XLSX/ODT: paragraphs and cells on their own lines, markup
    (attributes such as revision ids) dropped, runs of one paragraph joined."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            parts = [archive.read(n).decode("utf-8", errors="replace")
                     for n in archive.namelist() if n.endswith(".xml")]
    except (zipfile.BadZipFile, OSError):
        return None
    import html

    return "\n".join(html.unescape(re.sub(r"<[^>]+>", "", _BREAK.sub("\n", t))) for t in parts)


def _file_hits(path: Path, m: _Matcher) -> tuple[list[tuple[str, str, str]], bool]:
    """Hits in one file and whether its content was read."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        raw = path.read_bytes().decode("utf-8", errors="replace")
        try:
            return list(_json_hits(json.loads(raw), "", m)), True
        except json.JSONDecodeError:
            pass  # searched as text below
    elif suffix == ".pdf":
        text = _read_text(path)
        if text is None:  # no pdftotext: the source the renderer typeset is searched instead
            return [], any(path.with_suffix(s).is_file() for s in (".qmd", ".typ", ".md"))
        return [(f"page text line {i}", k, v) for i, line in enumerate(text.splitlines(), 1)
                for k, v in m.text(line)], True
    if suffix in ZIP_SUFFIXES:
        text = _zip_text(path)
        if text is None:
            return [], False
        return [(f"text line {i}", k, v) for i, line in enumerate(text.splitlines(), 1)
                for k, v in m.text(line)], True
    if suffix not in TEXT_SUFFIXES | {".parquet", ".json"}:
        return [], False
    if suffix == ".parquet":
        found = _parquet_hits(path, m)
        if found is not None:
            return found, True
    text = path.read_bytes().decode("utf-8", errors="replace") \
        if suffix in TEXT_SUFFIXES else _read_text(path)
    if text is None:
        return [], False
    return m.lines(text), True


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardReport:
    """Outcome of :func:`guard_outputs`; ``ok`` when nothing was found."""

    hits: tuple[IdentifierHit, ...]
    scanned: tuple[str, ...]
    names_only: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.hits

    def by_file(self, shown: int = 3) -> list[str]:
        """One line per file: how many hits and the first ``shown`` of them."""
        files: dict[str, list[IdentifierHit]] = {}
        for h in self.hits:
            files.setdefault(h.file, []).append(h)
        out = []
        for name, hits in files.items():
            first = "; ".join(f"{h.where}: {h.kind} {h.masked}" for h in hits[:shown])
            more = f"; ... {len(hits) - shown} more" if len(hits) > shown else ""
            out.append(f"{name}: {len(hits)} hit(s): {first}{more}")
        return out


def guard_outputs(
    root: str | Path,
    identifiers: Mapping[str, Iterable[str]],
    *,
    allow: Iterable[str] = (),
) -> GuardReport:
    """Search every file under ``root`` (name and content) for identifiers.

    Parameters
    ----------
    root
        The run directory being built.
    identifiers
        ``{column: values}`` of the declared identifier columns.
    allow
        Strings that are meant to be in the dossier (the signers' and operator's e-mail
        addresses); a pattern hit equal to one of them is not reported.
    """
    base = Path(root)
    m = _Matcher(identifiers, allow)
    hits: list[IdentifierHit] = []
    scanned: list[str] = []
    names_only: list[str] = []
    for path in iter_files(base):
        rel = path.relative_to(base).as_posix()
        for kind, v in m.text(rel):
            hits.append(IdentifierHit(file=m.redact(rel), where="file name", kind=kind,
                                      masked=mask(v)))
        found, read = _file_hits(path, m)
        (scanned if read else names_only).append(rel)
        hits.extend(IdentifierHit(file=m.redact(rel), where=m.redact(w), kind=k,
                                  masked=mask(v)) for w, k, v in found)
    return GuardReport(hits=tuple(hits), scanned=tuple(scanned), names_only=tuple(names_only))
