"""Scan a run's outputs for values of the manifest's identifier columns.

Reports and results must carry pseudonymous case ids only. The protocol declares which
manifest columns identify patients (``test_set.identifier_columns``); this module collects
their values and searches every output file for them: text files (JSON, Markdown, ``.qmd``,
HTML, SVG, CSV, Typst, ...) as text, Parquet through pyarrow (every cell), DOCX/XLSX/ODT through
their XML parts, PDF through ``pdftotext`` (poppler) when it is installed. Files that cannot
be read as text (PNG, ...) are listed as not scanned, never silently passed.

A value matches when it occurs as a whole token, case-insensitively (``Ann`` does not match
``Annual``). Values shorter than ``min_length`` characters are too short to search for
without flooding the report with false hits; they are returned in ``too_short``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from validation.errors import InputError
from validation.provenance.hashing import iter_files

TEXT_SUFFIXES = frozenset({
    ".json", ".md", ".qmd", ".html", ".htm", ".svg", ".csv", ".tsv", ".txt", ".typ", ".tex",
    ".yaml", ".yml", ".xml", ".log", ".css", ".js",
})
ZIP_SUFFIXES = frozenset({".docx", ".xlsx", ".pptx", ".odt"})


@dataclass(frozen=True, slots=True, kw_only=True)
class PhiFinding:
    """One identifier value found in one output file."""

    file: str
    column: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PhiScanReport:
    """Outcome of :func:`scan_outputs`; ``ok`` when nothing was found."""

    findings: tuple[PhiFinding, ...]
    scanned: tuple[str, ...]
    not_scanned: tuple[str, ...]
    too_short: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.findings


def identifier_values(
    manifest_csv: str | os.PathLike[str], columns: Iterable[str]
) -> dict[str, set[str]]:
    """``{column: set of non-empty values}`` of the identifier columns of a manifest CSV."""
    import pandas as pd

    cols = list(columns)
    frame = pd.read_csv(manifest_csv, dtype=str, keep_default_na=False)
    unknown = [c for c in cols if c not in frame.columns]
    if unknown:
        raise InputError(
            f"'identifier_columns' must be columns of the manifest; got {unknown!r} "
            f"(manifest columns: {list(frame.columns)})."
        )
    return {c: {v.strip() for v in frame[c] if v.strip()} for c in cols}


def _read_text(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return path.read_bytes().decode("utf-8", errors="replace")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        parts = list(table.column_names)
        for column in table.columns:
            parts.extend("" if v is None else str(v) for v in column.to_pylist())
        return "\n".join(parts)
    if suffix in ZIP_SUFFIXES:
        try:
            with zipfile.ZipFile(path) as archive:
                texts = [archive.read(n).decode("utf-8", errors="replace")
                         for n in archive.namelist() if n.endswith(".xml")]
        except zipfile.BadZipFile:
            return None
        # Word splits runs of text across XML tags; join the text nodes too.
        joined = [re.sub(r"<[^>]+>", "", t) for t in texts]
        return "\n".join(texts + joined)
    if suffix == ".pdf":
        tool = shutil.which("pdftotext")
        if tool is None:
            return None
        try:
            done = subprocess.run([tool, "-q", str(path), "-"], capture_output=True,
                                  timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else None
    return None


def scan_outputs(
    root: str | os.PathLike[str],
    identifiers: Mapping[str, Iterable[str]],
    *,
    min_length: int = 3,
) -> PhiScanReport:
    """Search every file under ``root`` for any identifier value.

    Parameters
    ----------
    root
        A run directory (or any output folder).
    identifiers
        ``{column: values}``, e.g. from :func:`identifier_values`.
    min_length
        Shortest value searched for (characters).
    """
    if isinstance(min_length, bool) or not isinstance(min_length, int) or min_length < 1:
        raise InputError(f"'min_length' must be a positive integer; got {min_length!r}.")
    patterns: list[tuple[str, dict[str, str], re.Pattern[str]]] = []
    too_short: list[str] = []
    for column, values in identifiers.items():
        wanted: dict[str, str] = {}
        for value in sorted({str(v).strip() for v in values if str(v).strip()}):
            if len(value) < min_length:
                too_short.append(f"{column}={value!r}")
            else:
                wanted.setdefault(value.casefold(), value)
        if wanted:
            alternatives = "|".join(re.escape(v) for v in sorted(wanted.values(), key=len,
                                                                 reverse=True))
            patterns.append((column, wanted, re.compile(
                r"(?<![0-9A-Za-z])(?:" + alternatives + r")(?![0-9A-Za-z])", re.IGNORECASE)))
    base = Path(root)
    findings: list[PhiFinding] = []
    scanned: list[str] = []
    not_scanned: list[str] = []
    for path in iter_files(base):
        rel = path.relative_to(base).as_posix()
        text = _read_text(path)
        if text is None:
            not_scanned.append(rel)
            continue
        scanned.append(rel)
        for column, wanted, pattern in patterns:
            hits = {wanted.get(m.group(0).casefold(), m.group(0))
                    for m in pattern.finditer(text)}
            findings.extend(PhiFinding(file=rel, column=column, value=v) for v in sorted(hits))
    return PhiScanReport(findings=tuple(findings), scanned=tuple(scanned),
                         not_scanned=tuple(not_scanned), too_short=tuple(too_short))
