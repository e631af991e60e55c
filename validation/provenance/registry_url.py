"""Where the registry lives and how its database connection behaves under concurrency."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError

from validation.errors import InputError


def default_registry_url() -> str:
    """``$VALIDATION_REGISTRY``, else ``sqlite:///$VALIDATION_HOME/registry.sqlite``."""
    env = os.environ.get("VALIDATION_REGISTRY")
    if env:
        return env
    home = Path(os.environ.get("VALIDATION_HOME") or Path.home() / ".validation")
    return f"sqlite:///{home / 'registry.sqlite'}"


def normalize_url(url: str) -> str:
    """Check a registry URL; ``postgresql://`` and ``postgres://`` become psycopg 3 URLs."""
    if not isinstance(url, str) or not url.strip():
        raise InputError(f"'registry' must be a database URL; got {url!r}.")
    text = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if text.startswith(prefix):
            text = "postgresql+psycopg://" + text[len(prefix):]
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise InputError(
            f"'registry' must be a database URL such as sqlite:///path/registry.sqlite or "
            f"postgresql+psycopg://user@host:5432/db; got {url!r}."
        ) from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(
            f"'registry' must be a SQLite or PostgreSQL URL; got {url!r}."
        )
    return text


def is_retryable(exc: DBAPIError) -> bool:
    """A lost race: a unique key taken by a concurrent writer, a busy SQLite file, a
    PostgreSQL serialization failure or deadlock. Anything else is a real error."""
    text = str(exc.orig if exc.orig is not None else exc).lower()
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(exc, IntegrityError):
        return sqlstate == "23505" or "unique" in text or "duplicate key" in text
    if sqlstate in ("40001", "40P01"):
        return True
    return isinstance(exc, OperationalError) and (
        "database is locked" in text or "busy" in text or "deadlock" in text
    )


def sqlite_immediate_transactions(engine: Engine) -> None:
    """Make pysqlite take the write lock when a transaction begins (``BEGIN IMMEDIATE``).

    Without it two processes can both read the chain head under shared locks and then
    deadlock upgrading; with it the second waits (busy timeout) and then reads the new head.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event emit BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
