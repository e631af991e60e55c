"""Table specifications (``data_specs/*.yaml``) and their enforcement with pandera.

A specification names each column of an input table with its type, whether it is required,
whether it may be empty, its allowed values or range, its unit and a description, plus the key
(columns that identify a row). :func:`validate_table` checks a data frame against it and
reports **every** violation at once, each naming file, row and column, as one
:class:`~validation.errors.DataError`:

1. missing required columns, with a did-you-mean for misspelt ones;
2. values that cannot be read as the column's type (e.g. ``"yes"`` in an integer column);
3. duplicate keys, naming every row that shares a key;
4. pandera value checks run lazily (``lazy=True``): empty cells in non-nullable columns,
   values outside the allowed set or range, pattern mismatches.

Rows are numbered from 1 for the first data row; for CSV files the file line (header = line 1)
is given too.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml
from numpy.typing import NDArray

from validation._yaml import safe_load
from validation.errors import DataError, InputError, did_you_mean

TYPES = ("string", "integer", "number", "boolean", "date")
"""Column types a specification may declare."""

_PANDAS_DTYPE = {
    "string": "string",
    "integer": "Int64",
    "number": "float64",
    "boolean": "boolean",
    "date": "datetime64[ns]",
}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_COLUMN_KEYS = {
    "name", "type", "required", "nullable", "allowed", "min", "max", "unit", "description",
    "default", "pattern",
}
_SPEC_KEYS = {"name", "version", "description", "key", "extra_columns", "columns"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnSpec:
    """One column of a table specification."""

    name: str
    type: str
    required: bool = True
    nullable: bool = False
    allowed: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    unit: str | None = None
    default: Any = None
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TableSpec:
    """A table specification loaded from ``data_specs/<name>.yaml``."""

    name: str
    version: str
    description: str
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    extra_columns: bool = True
    source: str = field(default="", compare=False)

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def spec_dir() -> Path:
    """The ``data_specs/`` folder shipped with the suite.

    ``VALIDATION_DATA_SPECS`` overrides it (a folder holding ``<name>.yaml`` files).
    """
    from validation._resources import data_spec_dir

    return data_spec_dir()


def available_specs() -> list[str]:
    """Names of the specifications in :func:`spec_dir`."""
    return sorted(p.stem for p in spec_dir().glob("*.yaml"))


def load_spec(name_or_path: str | os.PathLike[str]) -> TableSpec:
    """Load a table specification by name (``"test_set_manifest"``) or by path.

    Raises
    ------
    InputError
        If the specification does not exist or is itself malformed.
    """
    p = Path(name_or_path)
    if p.suffix not in (".yaml", ".yml"):
        p = spec_dir() / f"{name_or_path}.yaml"
    if not p.is_file():
        names = available_specs()
        raise InputError(
            f"'data_spec' must name a file in data_specs/ ({', '.join(names)}); "
            f"got {str(name_or_path)!r}.{did_you_mean(str(name_or_path), names)}"
        )
    try:
        raw = safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"data specification {p.name} is not valid YAML: {exc}") from None
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise InputError(
            f"data specification {p.name} must be a mapping; got {type(raw).__name__}."
        )
    for k in raw:
        if k not in _SPEC_KEYS:
            problems.append(f"unknown key {k!r}.{did_you_mean(str(k), sorted(_SPEC_KEYS))}")
    columns: list[ColumnSpec] = []
    for i, c in enumerate(raw.get("columns") or []):
        if not isinstance(c, dict) or "name" not in c or "type" not in c:
            problems.append(f"columns[{i}] must be a mapping with 'name' and 'type'.")
            continue
        for k in c:
            if k not in _COLUMN_KEYS:
                problems.append(
                    f"columns[{i}] ({c['name']}): unknown key {k!r}."
                    f"{did_you_mean(str(k), sorted(_COLUMN_KEYS))}"
                )
        if c["type"] not in TYPES:
            problems.append(
                f"columns[{i}] ({c['name']}): 'type' must be one of {', '.join(TYPES)}; "
                f"got {c['type']!r}."
            )
        allowed = c.get("allowed")
        columns.append(
            ColumnSpec(
                name=str(c["name"]),
                type=str(c["type"]),
                required=bool(c.get("required", True)),
                nullable=bool(c.get("nullable", False)),
                allowed=tuple(allowed) if allowed is not None else None,
                min=c.get("min"),
                max=c.get("max"),
                pattern=c.get("pattern"),
                unit=c.get("unit"),
                default=c.get("default"),
                description=str(c.get("description", "")).strip(),
            )
        )
    names = [c.name for c in columns]
    key = tuple(raw.get("key") or ())
    for k in key:
        if k not in names:
            problems.append(f"key column {k!r} is not among the columns.")
    if problems:
        raise InputError(
            f"data specification {p.name} is malformed:\n" + "\n".join(f"  - {m}" for m in problems)
        )
    extra = raw.get("extra_columns", "allow")
    return TableSpec(
        name=str(raw.get("name", p.stem)),
        version=str(raw.get("version", "")),
        description=str(raw.get("description", "")).strip(),
        key=key,
        columns=tuple(columns),
        extra_columns=(extra == "allow" or extra is True),
        source=str(p),
    )


def to_pandera(spec: TableSpec, present: set[str] | None = None,
               categorical: Collection[str] = ()) -> pa.DataFrameSchema:
    """The pandera schema of ``spec`` (value checks on already typed columns).

    Columns absent from ``present`` are left out (their absence is reported separately).
    Text columns named in ``categorical`` are checked as categoricals of their text (no dtype
    check: the values are checked once per category).
    """
    cols: dict[str, pa.Column] = {}
    for c in spec.columns:
        if present is not None and c.name not in present:
            continue
        checks: list[pa.Check] = []
        if c.allowed is not None:
            checks.append(pa.Check.isin(list(c.allowed)))
        if c.min is not None:
            checks.append(pa.Check.ge(c.min))
        if c.max is not None:
            checks.append(pa.Check.le(c.max))
        if c.pattern is not None:
            checks.append(pa.Check.str_matches(c.pattern))
        cols[c.name] = pa.Column(
            None if c.name in categorical and c.type == "string" else _PANDAS_DTYPE[c.type],
            checks=checks,
            nullable=c.nullable,
            required=c.required,
        )
    return pa.DataFrameSchema(cols, strict=False, name=spec.name)


def _row_label(i: int, csv: bool) -> str:
    return f"row {i + 1} (line {i + 2})" if csv else f"row {i + 1}"


def _distinct_text(series: pd.Series) -> tuple[NDArray[np.intp], NDArray[Any]] | None:
    """``(codes, values)`` of a text column: its distinct values, stripped, with ``pd.NA`` for
    blanks and a trailing ``pd.NA`` that code ``-1`` (a missing cell) selects.

    None when the column is not all ``str`` (the general path then converts it). Every
    conversion below is a function of the value alone, so it is done once per distinct value
    and spread back to the rows by the codes: the same result as converting every row.
    """
    if series.dtype != object:
        return None
    codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    if len(uniques) and pd.api.types.infer_dtype(uniques, skipna=False) != "string":
        return None  # (infer_dtype: every value a str, checked in C)
    values = np.array([u.strip() for u in uniques] + [pd.NA], dtype=object)
    values[np.array([v == "" for v in values[:-1]] + [False], dtype=bool)] = pd.NA
    return codes, values


def _coerce(series: pd.Series, ctype: str, *, by_value: bool = True, categorical: bool = False
            ) -> tuple[pd.Series, list[int]]:
    """Convert ``series`` to the spec type; return it and the positions that failed.

    ``categorical``: a text column comes back as a categorical of its stripped text (sorted
    categories) rather than ``string``.
    """
    distinct = _distinct_text(series) if by_value else None
    if distinct is not None:
        codes, uniq = distinct
        if ctype == "string" and categorical:
            ucodes, cats = pd.factorize(uniq, use_na_sentinel=True, sort=True)
            return pd.Series(pd.Categorical.from_codes(ucodes[codes], categories=cats),
                             index=series.index), []
        if ctype == "string":
            return pd.Series(pd.array(uniq[codes], dtype="string"), index=series.index), []
        typed, bad = _coerce(pd.Series(uniq, dtype=object), ctype, by_value=False)
        out = typed.iloc[codes]  # code -1 takes the trailing missing value
        out.index = series.index
        rows = np.flatnonzero(np.isin(codes, bad)) if bad else np.zeros(0, dtype=np.intp)
        return out, [int(i) for i in rows]
    if ctype == "boolean" and series.dtype == bool:  # already booleans, none missing
        return series.astype("boolean"), []
    present = series.notna() & ~(series.astype("string").str.strip() == "").fillna(False)
    if ctype == "string":
        out = series.astype("string").str.strip()
        out[~present] = pd.NA
        return (out.astype("category") if categorical else out), []
    if ctype in ("integer", "number"):
        num = pd.to_numeric(series.where(present), errors="coerce")
        bad = present & num.isna()
        if ctype == "integer":
            # a fraction, or a whole number beyond the 64-bit range (e.g. 1e100), is not one
            frac = num.notna() & ((num % 1 != 0) | (num.abs() >= 2.0**63))
            bad = bad | frac
            num = num.where(~frac)
            out = num.astype("Int64")
        else:
            out = num.astype("float64")
        return out, [int(i) for i in bad.to_numpy().nonzero()[0]]
    if ctype == "boolean":
        values: list[Any] = []
        bad_pos: list[int] = []
        for i, (v, has) in enumerate(zip(series.tolist(), present.tolist(), strict=True)):
            if not has:
                values.append(pd.NA)
            elif isinstance(v, bool):
                values.append(v)
            else:
                s = str(v).strip().lower()
                if s.endswith(".0"):
                    s = s[:-2]
                if s in _TRUE:
                    values.append(True)
                elif s in _FALSE:
                    values.append(False)
                else:
                    values.append(pd.NA)
                    bad_pos.append(i)
        return pd.Series(pd.array(values, dtype="boolean"), index=series.index), bad_pos
    if ctype == "date":
        dt = pd.to_datetime(series.where(present), errors="coerce", format="mixed")
        bad = present & dt.isna()
        return dt.astype("datetime64[ns]"), [int(i) for i in bad.to_numpy().nonzero()[0]]
    raise InputError(f"'type' must be one of {', '.join(TYPES)}; got {ctype!r}.")


_EXPECT = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true/false (also yes/no, 1/0)",
    "date": "a date (YYYY-MM-DD)",
}


def _describe_check(check: str, col: ColumnSpec) -> str:
    if check == "not_nullable":
        return "must not be empty"
    if check.startswith("isin"):
        return f"must be one of {', '.join(map(str, col.allowed or ()))}"
    if check.startswith("greater_than_or_equal_to"):
        return f"must be >= {col.min}" + (f" {col.unit}" if col.unit else "")
    if check.startswith("less_than_or_equal_to"):
        return f"must be <= {col.max}" + (f" {col.unit}" if col.unit else "")
    if check.startswith("str_matches"):
        return f"must match the pattern {col.pattern}"
    return f"fails {check}"


def validate_table(df: pd.DataFrame, spec: TableSpec, *, source: str,
                   categorical: Collection[str] = ()) -> pd.DataFrame:
    """Check ``df`` against ``spec`` and return it with every column converted to its type.

    Parameters
    ----------
    df : DataFrame as read from the file (any dtypes; a fresh 0..n-1 index is used).
    spec : the table specification.
    source : file name shown in the messages.
    categorical : text columns to return as categoricals of their text (sorted categories)
        instead of ``string``: for columns with few distinct values in large tables, whose
        checks then run once per category.

    Returns
    -------
    DataFrame with typed columns (``string``, ``Int64``, ``float64``, ``boolean``,
    ``datetime64``, ``category`` for ``categorical``); optional columns that are absent but
    declare a ``default`` are added filled with it.

    Raises
    ------
    DataError
        Listing every violation, each with row and column.
    """
    csv = is_csv_source(source)
    df, present, problems = prepare_columns(df, spec)
    if len(df) == 0:
        raise DataError(f"{source}: the table has no data rows (spec {spec.name}).")

    # 2. types
    seen: set[tuple[int, str]] = set()
    for c in spec.columns:
        if c.name not in present:
            continue
        raw = df[c.name]
        typed, bad = _coerce(raw, c.type, categorical=c.name in categorical)
        for i in bad:
            seen.add((i, c.name))
            problems.append(type_problem(i, csv, c, raw.iloc[i]))
        df[c.name] = typed

    # 3. keys
    problems += key_problems(df, spec, present)

    # 4. pandera value checks (lazy: all failures at once)
    schema = to_pandera(spec, present, categorical)
    try:
        with quiet_concat():
            schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        problems += pandera_problems(exc.failure_cases, spec, csv, seen)
    raise_problems(problems, spec, source)
    return df


def is_csv_source(source: str) -> bool:
    """Whether messages about ``source`` give file lines beside rows (text tables)."""
    return source.lower().endswith((".csv", ".tsv", ".txt"))


def prepare_columns(df: pd.DataFrame, spec: TableSpec) -> tuple[pd.DataFrame, set[str], list[str]]:
    """Step 1 of :func:`validate_table` on a frame as read: ``(frame, present, problems)``.

    The frame gets a fresh 0..n-1 index and stripped column names; optional columns that are
    absent but declare a ``default`` are added filled with it. The problems (missing required
    columns, undeclared ones where the spec forbids them) depend on the header alone.
    """
    df = df.reset_index(drop=True).copy()
    df.columns = [str(c).strip() for c in df.columns]
    problems: list[str] = []
    present = set(df.columns)
    declared = spec.column_names
    for c in spec.columns:
        if c.name in present:
            continue
        if c.required:
            extra_cols = [x for x in df.columns if x not in declared]
            hint = did_you_mean(c.name, extra_cols or list(df.columns))
            problems.append(
                f"column {c.name!r} ({_EXPECT[c.type]}) is required but missing; "
                f"the file has {', '.join(map(repr, df.columns))}.{hint}"
            )
        elif c.default is not None:
            df[c.name] = c.default
            present.add(c.name)
    if not spec.extra_columns:
        for x in df.columns:
            if x not in declared:
                problems.append(
                    f"column {x!r} is not in spec {spec.name}.{did_you_mean(x, list(declared))}"
                )
    return df, present, problems


def type_problem(i: int, csv: bool, col: ColumnSpec, value: Any) -> str:
    """The message of a cell (row position ``i``) that cannot be read as its column's type."""
    return f"{_row_label(i, csv)}, column {col.name!r}: must be {_EXPECT[col.type]}; got {value!r}."


def key_problems(df: pd.DataFrame, spec: TableSpec, present: Collection[str]) -> list[str]:
    """Step 3: one problem per duplicated key, naming every row (from 1) that shares it."""
    key = [k for k in spec.key if k in present]
    problems: list[str] = []
    if key and len(key) == len(spec.key):
        dup = df.duplicated(subset=key, keep=False) & df[key].notna().all(axis=1)
        if dup.any():
            groups = df[dup].groupby(key, sort=True, dropna=True).groups
            for value, idx in groups.items():
                rows = ", ".join(str(int(i) + 1) for i in sorted(idx))
                kv = value if len(key) > 1 else (value[0] if isinstance(value, tuple) else value)
                problems.append(
                    f"duplicate {'/'.join(key)} {kv!r} at rows {rows}; "
                    f"each {'/'.join(key)} must appear once."
                )
    return problems


@contextmanager
def quiet_concat() -> Iterator[None]:
    """pandera joins its failure cases with ``pd.concat``, which warns (FutureWarning) when one
    check's failures are all empty cells; the joined table is the same either way."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning,
                                message="The behavior of DataFrame concatenation with empty")
        yield


def pandera_problems(fc: pd.DataFrame, spec: TableSpec, csv: bool, seen: set[tuple[int, str]]
                     ) -> list[str]:
    """Step 4: the messages of pandera's failure cases ``fc`` (in its order), leaving out cells
    in ``seen`` (already reported) and adding each reported cell to it."""
    problems: list[str] = []
    declared = spec.column_names
    for rec in fc.to_dict("records"):
        col_name = rec.get("column")
        check = str(rec.get("check"))
        idx = rec.get("index")
        if col_name not in declared or idx is None or pd.isna(idx):
            problems.append(f"column {col_name!r}: {check}.")
            continue
        i = int(idx)
        if (i, col_name) in seen or check.startswith("dtype") or check.startswith("coerce"):
            continue
        seen.add((i, col_name))
        col = spec.column(col_name)
        value = rec.get("failure_case")
        shown = "empty" if value is None or (not isinstance(value, str) and pd.isna(value)) \
            else repr(value)
        problems.append(
            f"{_row_label(i, csv)}, column {col_name!r}: {_describe_check(check, col)}; "
            f"got {shown}."
        )
    return problems


def raise_problems(problems: list[str], spec: TableSpec, source: str) -> None:
    """Raise the one :class:`DataError` listing every problem (nothing when there is none)."""
    if problems:
        n = len(problems)
        raise DataError(
            f"{source} violates data spec {spec.name} ({n} problem{'s' if n > 1 else ''}):",
            problems=problems,
        )


def read_table(path: str | os.PathLike[str], *, what: str = "table") -> pd.DataFrame:
    """Read a CSV, TSV or Parquet file as raw strings/values (types come from the spec).

    Raises
    ------
    DataError
        If the file is missing, empty or unreadable.
    """
    p = require_file(path, what)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataError(f"{p.name}: the {what} file cannot be read ({exc}).") from None
    return read_table_bytes(data, name=p.name, what=what)


def require_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a Path; a :class:`DataError` saying why when it is not a readable file."""
    p = Path(path)
    if not p.is_file():
        from validation.preflight import why_not_a_file

        raise DataError(f"{what} file {str(p)!r} {why_not_a_file(p)}.")
    return p


def is_text_table(path: str | os.PathLike[str]) -> bool:
    """Whether :func:`read_table_bytes` reads ``path`` as delimited text (not Parquet)."""
    return Path(path).suffix.lower() not in (".parquet", ".pq")


def read_table_bytes(data: bytes, *, name: str, what: str = "table") -> pd.DataFrame:
    """Parse the bytes of a CSV, TSV or Parquet file named ``name`` (the suffix decides).

    Lets a caller hash exactly the bytes it parses (locked files).
    """
    suffix = Path(name).suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(io.BytesIO(data))
        sep = "\t" if suffix in (".tsv", ".tab") else ","
        return pd.read_csv(io.BytesIO(data), sep=sep, dtype=str, keep_default_na=False,
                           na_values=[""])
    except pd.errors.EmptyDataError:
        raise DataError(f"{name}: the {what} file is empty.") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{name}: the {what} file cannot be read ({first}).") from None


def load_table(
    path: str | os.PathLike[str], spec: str | TableSpec, *, what: str | None = None
) -> pd.DataFrame:
    """Read ``path`` and validate it against ``spec`` (a name in data_specs/ or a TableSpec)."""
    ts = spec if isinstance(spec, TableSpec) else load_spec(spec)
    df = read_table(path, what=what or ts.name.replace("_", " "))
    return validate_table(df, ts, source=Path(path).name)

