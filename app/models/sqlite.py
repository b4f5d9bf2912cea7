"""SQLite connection settings: WAL for concurrent readers, enforced foreign keys, a busy timeout, and a
queue for writers so that a process waiting to write starts as soon as the writer before it is done.

SQLite lets one writer in at a time. A connection that finds the write lock taken retries from its
busy handler, which sleeps 1, 2, 5, 10, 15... ms between tries, while a transition holds the lock for
a few hundred µs (three statements and a commit). With two gunicorn workers writing, the one that
lost slept through several releases with a core idle: Execute Runner served 22% fewer requests at
8 and 32 concurrent clients than with this queue (bench/README.md). So each connection takes an OS
lock (`flock` on `<database>-writer`) before its first write statement and drops it when its
transaction ends, polling for it in steps of at most 0.2 ms. The OS lock only orders writers;
SQLite's own locking still guarantees correctness, and a writer that waited the whole busy timeout
goes ahead and lets SQLite decide, as it did before.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

BUSY_TIMEOUT_S = 30
# This process checkpoints the WAL itself every so many write commits, after leaving the queue (see
# `commit`); SQLite's own automatic checkpoint stays on at a larger size as a backstop. The WAL holds
# every process's commits, so the count is kept low enough that a few processes writing ~8 pages a
# commit checkpoint well before the backstop's 10,000 pages.
CHECKPOINT_EVERY_COMMITS = 250
AUTO_CHECKPOINT_PAGES = 10000
FIRST_PAUSE_S, LONGEST_PAUSE_S = 0.00002, 0.0002
# Statements that only read (and our PRAGMAs) never queue for the writer lock.
_READ_ONLY = ("SELECT", "PRAGMA", "EXPLAIN")
_held = threading.local()  # how many writer locks this thread holds, over all its connections
_commits_lock = threading.Lock()
_commits_since_checkpoint = 0


def _checkpoint_due() -> bool:
    global _commits_since_checkpoint  # noqa: PLW0603  one count per process, over its connections
    with _commits_lock:
        _commits_since_checkpoint += 1
        if _commits_since_checkpoint < CHECKPOINT_EVERY_COMMITS:
            return False
        _commits_since_checkpoint = 0
        return True


class QueuedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection that queues for its database's writer lock before writing."""

    _writer_fd: int | None = None
    _holds_writer_lock = False

    def open_writer_lock(self, database_path: str) -> None:
        self._writer_fd = os.open(f"{database_path}-writer", os.O_RDWR | os.O_CREAT, 0o600)

    @property
    def holds_writer_lock(self) -> bool:
        return self._holds_writer_lock

    def queue_for_write(self) -> None:
        """Wait until no other connection, in any process, is inside a write transaction."""
        fd = self._writer_fd
        if fd is None or self._holds_writer_lock:
            return
        if getattr(_held, "count", 0):
            # This thread is already writing through another connection: waiting for our own
            # lock would never end. SQLite's busy handling decides, as without the queue.
            return
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        pause = FIRST_PAUSE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                # Polled, not a blocking flock: that one has no timeout, and a writer that never
                # ends its transaction would then stall every other writer forever.
                if time.monotonic() >= deadline:
                    return
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE_S)
                continue
            self._holds_writer_lock = True
            _held.count = getattr(_held, "count", 0) + 1
            return

    def leave_write_queue(self) -> None:
        if not self._holds_writer_lock:
            return
        self._holds_writer_lock = False
        _held.count = max(getattr(_held, "count", 1) - 1, 0)
        if self._writer_fd is not None:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        wrote = self._holds_writer_lock
        try:
            super().commit()
        finally:
            self.leave_write_queue()
        if wrote and _checkpoint_due():
            # SQLite's automatic checkpoint runs inside the commit, so every writer queued behind
            # it waited too: at 32 clients that stall was most of Execute Runner's p99. A passive
            # checkpoint after leaving the queue holds up only this request. One that cannot run now
            # (another is running) is simply skipped: the next one, or the backstop, catches up.
            with contextlib.suppress(sqlite3.OperationalError):
                self.execute("PRAGMA wal_checkpoint(PASSIVE)").close()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_write_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_write_queue()
            if self._writer_fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._writer_fd)
                self._writer_fd = None


def connect_args() -> dict[str, Any]:
    """`connect_args` for a SQLite engine (see `app.config.engine_options`)."""
    return {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False, "factory": QueuedWriterConnection}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    # The backstop for the checkpoints `commit` runs (default 1,000 pages): an automatic checkpoint
    # stalls the commit that triggers it, and every writer queued behind it (bench/README.md).
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTO_CHECKPOINT_PAGES}")
    path = next((row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"), "")
    cursor.close()
    if isinstance(dbapi_connection, QueuedWriterConnection) and path:  # not for :memory:
        dbapi_connection.open_writer_lock(path)


@event.listens_for(Engine, "before_cursor_execute")
def _queue_before_writing(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    dbapi_connection = conn.connection.dbapi_connection
    if (isinstance(dbapi_connection, QueuedWriterConnection)
            and not statement.lstrip()[:7].upper().startswith(_READ_ONLY)):
        dbapi_connection.queue_for_write()


@event.listens_for(Engine, "after_cursor_execute")
def _leave_after_autocommit(conn: Any, _cursor: Any, *_: Any) -> None:
    # A write outside a transaction (DDL, or autocommit mode) is done once it returns.
    dbapi_connection = conn.connection.dbapi_connection
    if isinstance(dbapi_connection, QueuedWriterConnection) and not dbapi_connection.in_transaction:
        dbapi_connection.leave_write_queue()


@event.listens_for(Engine, "savepoint")
def _begin_before_savepoint(conn: Any, _name: Any) -> None:
    """Open the transaction a savepoint nests in. Python's sqlite3 begins one only before a write,
    so after reads alone SAVEPOINT would itself be the outermost transaction, and releasing it
    would commit: `begin_nested()` around an insert committed it with whatever the request did
    before, even when the request then failed."""
    dbapi_connection = conn.connection.dbapi_connection
    if isinstance(dbapi_connection, sqlite3.Connection) and not dbapi_connection.in_transaction:
        if isinstance(dbapi_connection, QueuedWriterConnection):
            dbapi_connection.queue_for_write()  # as before any write: the savepoint is for one
        dbapi_connection.execute("BEGIN").close()
