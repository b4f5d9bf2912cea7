"""SQLite connection settings: WAL for concurrent readers, enforced foreign keys, a busy timeout."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, event


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Checkpoint the WAL less often (default 1,000 pages): each automatic checkpoint stalls the commit
    # that triggers it, which showed up as the p99 of Execute Runner (bench/README.md).
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()
