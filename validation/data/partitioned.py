"""A table read and checked in row partitions, each on a worker, with the local path's messages.

``validation run --dask`` reads the test-set manifest and the precomputed predictions here.
The client streams the file once (1 MiB chunks): it computes the file's sha256 (the lock and
``inputs.json`` use it), finds row boundaries near every ``partition_bytes`` and hashes the
header and each byte range. Each partition is then one task: the worker reads its byte range
(and the header) from the file itself, checks both hashes, parses them with the options of
:func:`~validation.data.specs.read_table_bytes`, and runs the row checks of
:func:`~validation.data.specs.validate_table` on them (type conversion, pandera value checks).
It returns its typed rows, its row count, the cells that could not be converted and pandera's
failure cases of each check, with partition-local row positions.

The client then offsets the positions by the rows of the partitions before, so every message
names the file's own row and line, and rebuilds pandera's table of failure cases exactly as
pandera builds it for the whole file (its checks in schema order, the same joining and
ordering), so the list of problems is the local path's, byte for byte. The checks that need
the whole table run on the client over the gathered typed columns: the header (missing or
undeclared columns, from the header alone) and duplicate keys.

Only files without a quote character are cut into several byte ranges: a newline is then
always a row boundary. A file holding a quote (a quoted field may hold a newline) is read as
one partition, still on a worker. A partition that cannot be parsed (or whose first row has more
fields than the header) sends the client back to the whole-file path, so a malformed file gets
the local path's message.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from validation.data.specs import (
    TableSpec,
    _coerce,
    is_csv_source,
    key_problems,
    pandera_problems,
    prepare_columns,
    quiet_concat,
    raise_problems,
    read_table,
    read_table_bytes,
    require_file,
    to_pandera,
    type_problem,
    validate_table,
)
from validation.errors import DataError

PARTITION_BYTES = 8 << 20
"""Target size of one partition's byte range (a partition ends at the first row end after it)."""
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FileParts:
    """Where the row partitions of a text table lie, and the hashes of every piece."""

    path: str
    size: int
    sha256: str
    header: tuple[int, str]  # (end of the header line, sha256 of bytes [0, end))
    ranges: tuple[tuple[int, int, str], ...]  # (start, end, sha256 of bytes [start, end))


@dataclass(frozen=True, slots=True)
class PartCheck:
    """What a worker returns for one partition (row positions local to the partition)."""

    n_rows: int
    frame: pd.DataFrame
    bad_cells: tuple[tuple[int, int, Any], ...]  # (spec column position, row, value as read)
    failures: tuple[tuple[tuple[int, int], pd.DataFrame], ...]  # ((column, check), pandera cases)
    parse_error: bool = False


def file_parts(path: str | os.PathLike[str], partition_bytes: int | None = None) -> FileParts:
    """Stream ``path`` once: its sha256, the header line and row-aligned byte ranges, hashed.

    A range ends just after the first newline at or after ``partition_bytes`` (default
    :data:`PARTITION_BYTES`) from its start. A file with a quote character anywhere gets one
    range (all its rows).
    """
    p = Path(path)
    partition_bytes = int(partition_bytes or PARTITION_BYTES)
    whole, rows = hashlib.sha256(), hashlib.sha256()
    head = hashlib.sha256()
    header_end: int | None = None
    ranges: list[tuple[int, int, str]] = []
    cur, start = hashlib.sha256(), 0
    quotes = False
    pos = 0
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            whole.update(chunk)
            quotes = quotes or b'"' in chunk
            j = 0  # bytes of this chunk already given to a hasher
            if header_end is None:
                nl = chunk.find(b"\n")
                j = len(chunk) if nl < 0 else nl + 1
                head.update(chunk[:j])
                if nl >= 0:
                    header_end = start = pos + j
            if header_end is not None:
                rows.update(chunk[j:])
                while True:
                    nl = chunk.find(b"\n", max(j, start + partition_bytes - 1 - pos))
                    if nl < 0:
                        break
                    cur.update(chunk[j:nl + 1])
                    ranges.append((start, pos + nl + 1, cur.hexdigest()))
                    cur, start, j = hashlib.sha256(), pos + nl + 1, nl + 1
                cur.update(chunk[j:])
            pos += len(chunk)
    if header_end is None:
        header_end = start = pos
    if pos > start:
        ranges.append((start, pos, cur.hexdigest()))
    if quotes and len(ranges) > 1:
        ranges = [(header_end, pos, rows.hexdigest())]
    return FileParts(path=str(p), size=pos, sha256=whole.hexdigest(),
                     header=(header_end, head.hexdigest()), ranges=tuple(ranges))


def _read_range(path: Path, start: int, end: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(start)
        return fh.read(end - start)


def _part_bytes(parts: FileParts, i: int) -> bytes:
    """The header and the ``i``-th range as the worker reads them, each hash-checked."""
    p = Path(parts.path)
    head_end, head_sha = parts.header
    head = _read_range(p, 0, head_end)
    start, end, sha = parts.ranges[i]
    body = _read_range(p, start, end)
    if hashlib.sha256(head).hexdigest() != head_sha or hashlib.sha256(body).hexdigest() != sha:
        raise DataError(f"{p.name} changed while it was being read (bytes {start}-{end} no longer "
                        "have the hash the run recorded); run again on a file that stays put.")
    return head + body


def check_part(parts: FileParts, i: int, spec: TableSpec, source: str, what: str,
               rename: tuple[str, str] | None = None) -> PartCheck:
    """One partition on a worker: read, convert and check its rows (see the module notes)."""
    data = _part_bytes(parts, i)
    try:
        raw = read_table_bytes(data, name=source, what=what)
    except DataError:
        raw = None
    # a row with more fields than the header, first in a partition, is read by pandas as an
    # index (where the whole file fails to parse): such a partition is not trusted
    if raw is None or not isinstance(raw.index, pd.RangeIndex) or raw.index.start != 0:
        return PartCheck(n_rows=0, frame=pd.DataFrame(), bad_cells=(), failures=(),
                         parse_error=True)
    raw.columns = [str(c).strip() for c in raw.columns]
    if rename is not None:
        raw = _renamed(raw, *rename)
    df, present, _ = prepare_columns(raw, spec)
    bad_cells: list[tuple[int, int, Any]] = []
    for k, c in enumerate(spec.columns):
        if c.name not in present:
            continue
        column = df[c.name]
        typed, bad = _coerce(column, c.type)
        bad_cells += [(k, i_row, column.iloc[i_row]) for i_row in bad]
        df[c.name] = typed
    failures: list[tuple[tuple[int, int], pd.DataFrame]] = []
    if len(df):
        import pandera.pandas as pa
        from pandera.backends.pandas.error_formatters import consolidate_failure_cases

        order = {c.name: k for k, c in enumerate(spec.columns)}
        try:
            with quiet_concat():
                to_pandera(spec, present).validate(df, lazy=True)
        except pa.errors.SchemaErrors as exc:
            for err in exc.schema_errors:
                with quiet_concat():
                    # one check alone: pandera's own table of it, back in row order
                    cases = consolidate_failure_cases([err]).sort_index()
                rank = (order.get(str(err.column_name), len(order)),
                        -1 if err.check_index is None else int(err.check_index))
                failures.append((rank, cases))
    return PartCheck(n_rows=len(df), frame=df, bad_cells=tuple(bad_cells),
                     failures=tuple(failures))


def _renamed(df: pd.DataFrame, score_column: str, to: str) -> pd.DataFrame:
    if score_column in df.columns:
        if to in df.columns:
            df = df.drop(columns=[to])
        df = df.rename(columns={score_column: to})
    return df


def header_columns(parts: FileParts, source: str, what: str) -> list[str]:
    """The stripped column names of the file's header (the whole-file parse's names)."""
    head_end, _ = parts.header
    raw = read_table_bytes(_read_range(Path(parts.path), 0, head_end), name=source, what=what)
    return [str(c).strip() for c in raw.columns]


def load_table_parts(path: str | os.PathLike[str], spec: TableSpec, *, executor: Any,
                     what: str, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """:func:`~validation.data.specs.load_table` in row partitions on ``executor`` (a text
    table; same table, same messages)."""
    p = require_file(path, what)
    return validate_parts(file_parts(p), spec, executor=executor, source=p.name, what=what,
                          progress=progress)


def validate_parts(parts: FileParts, spec: TableSpec, *, executor: Any, source: str,
                   what: str, rename: tuple[str, str] | None = None,
                   progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Read and check the table of ``parts`` partition by partition on ``executor``.

    Returns the typed table and raises the :class:`DataError` that
    :func:`~validation.data.specs.validate_table` raises on the whole file, with the same
    problems in the same order.
    """
    n = len(parts.ranges)
    results: list[PartCheck] = executor.map(
        check_part, [parts] * n, range(n), [spec] * n, [source] * n, [what] * n, [rename] * n,
        progress=progress) if n else []
    if any(r.parse_error for r in results):
        # a malformed file: the whole-file path gives the message (and its line numbers)
        raw = read_table(parts.path, what=what)
        raw.columns = [str(c).strip() for c in raw.columns]
        return validate_table(raw if rename is None else _renamed(raw, *rename), spec,
                              source=source)
    return merge_checks(results, spec, source=source, header=header_columns(parts, source, what),
                        rename=rename)


def merge_checks(results: Sequence[PartCheck], spec: TableSpec, *, source: str,
                 header: list[str], rename: tuple[str, str] | None = None) -> pd.DataFrame:
    """The client's half: the problems of every partition in the whole-file order, the key
    check over the gathered rows, and the typed table (one 0..n-1 index)."""
    csv = is_csv_source(source)
    columns = pd.DataFrame(columns=header)
    if rename is not None:
        columns = _renamed(columns, *rename)
    _, present, problems = prepare_columns(columns, spec)
    offsets = np.concatenate([[0], np.cumsum([r.n_rows for r in results])]).astype(int)
    if offsets[-1] == 0:
        raise DataError(f"{source}: the table has no data rows (spec {spec.name}).")
    seen: set[tuple[int, str]] = set()
    cells = sorted((k, int(off) + i, v) for r, off in zip(results, offsets, strict=False)
                   for k, i, v in r.bad_cells)
    for k, i, value in cells:
        col = spec.columns[k]
        seen.add((i, col.name))
        problems.append(type_problem(i, csv, col, value))
    frames = [r.frame for r in results if r.n_rows]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    problems += key_problems(df, spec, present)
    pieces = sorted(((rank, j, cases) for j, r in enumerate(results) for rank, cases in r.failures),
                    key=lambda t: (t[0], t[1]))
    if pieces:
        shifted = [_shift(cases, int(offsets[j])) for _, j, cases in pieces]
        with quiet_concat():  # pandera's join and order of its failure cases
            fc = pd.concat(shifted).reset_index(drop=True).sort_values("schema_context",
                                                                       ascending=False)
        problems += pandera_problems(fc, spec, csv, seen)
    raise_problems(problems, spec, source)
    return df


def _shift(cases: pd.DataFrame, offset: int) -> pd.DataFrame:
    if offset == 0 or "index" not in cases.columns:
        return cases
    out = cases.copy()
    idx = out["index"]
    if pd.api.types.is_integer_dtype(idx.dtype):
        out["index"] = idx + offset
    else:
        out["index"] = [v if v is None or pd.isna(v) else int(v) + offset for v in idx]
    return out
