"""Case-level surveillance data as Parquet files beside the registry, addressed by hash.

Layout (``ROOT`` is :func:`store_root`)::

    ROOT/<plan-id>/cases/<sha256>.parquet    one file per batch (the batch's checked rows)
    ROOT/<plan-id>/labels/<sha256>.parquet   one file per labels file (case_id, truth, ...)
    ROOT/<plan-id>/periods/<period>/alarms.json

A file's name is the SHA-256 of its bytes, so writing the same rows twice writes the same
file, a file left behind by a killed ingest (written, never recorded) is harmless and is
reused by the next attempt, and a reader checks the bytes against the name. Only the files
the registry records count; :func:`read_frame` refuses a file whose bytes changed.

The folder is queryable with any Parquet reader, e.g. ``pandas.read_parquet(ROOT /
"PLAN" / "cases")`` or DuckDB's ``read_parquet('ROOT/PLAN/cases/*.parquet')`` (remember to
take only the files the registry lists, and to apply the labels files in order).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.engine import make_url

from validation._atomic import write_bytes_atomic
from validation.errors import ProvenanceError
from validation.provenance.hashing import sha256_bytes

KINDS = ("cases", "labels")


def store_root(registry_url: str) -> Path:
    """Where case-level data lives: ``$VALIDATION_SURVEILLANCE_STORE``, else a folder
    ``surveillance`` beside a SQLite registry, else ``$VALIDATION_HOME/surveillance``."""
    env = os.environ.get("VALIDATION_SURVEILLANCE_STORE")
    if env:
        return Path(env)
    url = make_url(registry_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).expanduser().parent / "surveillance"
    home = Path(os.environ.get("VALIDATION_HOME") or Path.home() / ".validation")
    return home / "surveillance"


def frame_bytes(df: pd.DataFrame) -> bytes:
    """Deterministic Parquet bytes of ``df`` (no index; same rows give the same bytes)."""
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def write_frame(root: Path, plan_id: str, kind: str, df: pd.DataFrame) -> str:
    """Write ``df`` as ``root/plan_id/kind/<sha256>.parquet`` (atomic); return the sha256."""
    data = frame_bytes(df)
    sha = sha256_bytes(data)
    target = frame_path(root, plan_id, kind, sha)
    if not target.is_file() or target.stat().st_size != len(data):
        write_bytes_atomic(target, data)
    return sha


def frame_path(root: Path, plan_id: str, kind: str, sha: str) -> Path:
    if kind not in KINDS:
        raise ValueError(kind)
    return root / plan_id / kind / f"{sha}.parquet"


def read_frame(root: Path, plan_id: str, kind: str, sha: str) -> pd.DataFrame:
    """Read a recorded file, checking its bytes against its hash."""
    path = frame_path(root, plan_id, kind, sha)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProvenanceError(
            f"the surveillance store lacks {path} ({exc.strerror}); the registry records it. "
            "Restore the store folder from backup (it must sit beside the registry).") from None
    got = sha256_bytes(data)
    if got != sha:
        raise ProvenanceError(f"{path} was altered: its bytes hash to {got}, not {sha}.")
    return pd.read_parquet(io.BytesIO(data))
