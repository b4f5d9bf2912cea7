"""SQLite writers queue on an OS lock: a waiting writer starts as soon as the one before it ends."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.models import sqlite
from app.models.sqlite import QueuedWriterConnection


def _engine(path: Path):  # type: ignore[no-untyped-def]
    return create_engine(f"sqlite:///{path}", connect_args=sqlite.connect_args())


def test_a_writer_waits_for_the_transaction_before_it_then_goes_at_once(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "q.sqlite3")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT, at REAL)"))
    events: list[str] = []
    first_wrote = threading.Event()

    def second() -> None:
        first_wrote.wait()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES ('second', :at)"), {"at": time.monotonic()})
            events.append("second wrote")

    waiter = threading.Thread(target=second)
    waiter.start()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES ('first', :at)"), {"at": time.monotonic()})
        assert conn.connection.dbapi_connection.holds_writer_lock
        first_wrote.set()
        time.sleep(0.2)  # the second writer is queued meanwhile, not failing or writing
        events.append("first commits")
    committed = time.monotonic()
    waiter.join(5)
    assert events == ["first commits", "second wrote"]
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT who, at FROM t")).all())
    assert rows["second"] - committed < 0.05  # woken within a few polls, not SQLite's 1-100 ms sleeps
    assert (tmp_path / "q.sqlite3-writer").exists()


def test_the_lock_is_held_only_while_writing(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "r.sqlite3")
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert isinstance(dbapi, QueuedWriterConnection)
        conn.execute(text("CREATE TABLE t (x)"))  # DDL commits by itself
        assert not dbapi.holds_writer_lock
        conn.execute(text("SELECT * FROM t")).all()
        assert not dbapi.holds_writer_lock
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert dbapi.holds_writer_lock
        conn.rollback()
        assert not dbapi.holds_writer_lock
        conn.execute(text("INSERT INTO t VALUES (2)"))
        conn.commit()
        assert not dbapi.holds_writer_lock


def test_a_thread_writing_on_two_connections_never_waits_for_itself(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "s.sqlite3")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x)"))
    with engine.connect() as one, engine.connect() as two:
        one.execute(text("INSERT INTO t VALUES (1)"))
        began = time.monotonic()
        two.connection.dbapi_connection.queue_for_write()
        assert time.monotonic() - began < 0.5
        assert not two.connection.dbapi_connection.holds_writer_lock
        one.commit()


def test_in_memory_databases_have_no_lock_file() -> None:
    engine = create_engine("sqlite://", connect_args=sqlite.connect_args())
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert not conn.connection.dbapi_connection.holds_writer_lock
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_the_wal_is_checkpointed_after_leaving_the_queue(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY_COMMITS", 3)
    monkeypatch.setattr(sqlite, "_commits_since_checkpoint", 0)
    engine = _engine(tmp_path / "c.sqlite3")
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        conn.execute(text("CREATE TABLE t (x)"))
        seen: list[tuple[str, bool]] = []
        dbapi.set_trace_callback(lambda sql: seen.append((sql, dbapi.holds_writer_lock)))
        for value in range(6):
            conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": value})
            conn.commit()
        conn.execute(text("SELECT count(*) FROM t")).scalar()  # reads never count
        conn.commit()
        checkpoints = [held for sql, held in seen if "wal_checkpoint" in sql]
        assert checkpoints == [False, False]  # after the 3rd and 6th write, never holding the lock
        frames = conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)")).one()
        assert frames[1] == frames[2]  # everything written is already in the database file


def test_a_savepoint_after_only_reads_nests_in_the_transaction_and_rolls_back_with_it(
        tmp_path: Path) -> None:
    """sqlite3 begins a transaction only before a write, so a SAVEPOINT after reads alone was
    the outermost transaction and releasing it committed: the insert outlived the rollback."""
    from sqlalchemy.orm import Session

    engine = _engine(tmp_path / "s.sqlite3")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    with Session(engine) as session:
        session.execute(text("SELECT count(*) FROM t"))  # a read first, as a lookup does
        with session.begin_nested():
            session.execute(text("INSERT INTO t VALUES (1)"))
        session.rollback()  # the request failed after the savepoint
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
