"""Scratch databases (SQLite WAL file, PostgreSQL database created and dropped), apps and seed data."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import engine_options
from app.extensions import db
from app.models import Base, DesignVersion, Flow
from app.services import accounts
from app.services.principal import Principal

POSTGRES_ADMIN = os.environ.get("BENCH_POSTGRES_URL",
                                "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SECRET_KEY = "bench-secret-key-that-is-long-enough-for-anything"  # noqa: S105  scratch apps only


def postgres_reachable() -> bool:
    engine = create_engine(POSTGRES_ADMIN, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not here": the PostgreSQL figures are skipped
        return False
    finally:
        engine.dispose()


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A URL of an empty database with our tables: a SQLite file (WAL, synchronous=NORMAL, set by
    app.models.sqlite on connect) or a PostgreSQL database of our own, dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="flowdesk-bench-") as directory:
            url = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
            _create_schema(url)
            yield url
        return
    name = f"flowdesk_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)
    try:
        _create_schema(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _create_schema(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


def make_app(url: str, **extra: Any) -> Flask:
    """The real app on `url`, quiet (warnings only) so logging is not what gets measured."""
    # The production engine options, plus room for the parallel benchmark's threads on PostgreSQL.
    pool = engine_options(url) | ({} if url.startswith("sqlite") else {"pool_size": 20})
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY,
                       "RATELIMIT_STORAGE_URI": "memory://", "LOG_LEVEL": "WARNING",
                       "SQLALCHEMY_ENGINE_OPTIONS": pool, **extra})


def make_company() -> Principal:
    """A company, as a system principal acting for it (permissions are not what we measure)."""
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    return Principal.system(accounts.create_company(f"Bench {slug}", slug).id)


def make_flow(company_id: str, document: dict[str, Any], slug: str) -> DesignVersion:
    """A flow whose current (valid) design version is `document`."""
    flow = Flow(company_id=company_id, name=slug, slug=slug)
    db.session.add(flow)
    db.session.flush()
    checksum = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    version = DesignVersion(company_id=company_id, flow_id=flow.id, version=1, name="v1",
                            document=document, checksum=checksum, is_valid=True)
    db.session.add(version)
    db.session.flush()
    flow.current_design_id = version.id
    db.session.commit()
    return version


def kinds() -> list[str]:
    """The databases to measure: SQLite always, PostgreSQL when reachable."""
    return ["sqlite", "postgresql"] if postgres_reachable() else ["sqlite"]
