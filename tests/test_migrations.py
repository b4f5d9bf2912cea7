"""Alembic migrations build the same schema as the models, on an empty SQLite file and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.models import Base
from tests import databases

ROOT = Path(__file__).resolve().parent.parent


def flask_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "wsgi.py"}
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def assert_upgrade_matches_models(url: str) -> None:
    result = flask_cli("db", "upgrade", database_url=url)
    assert result.returncode == 0, result.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {"companies", "users", "api_tokens", "customers", "alembic_version"} <= tables
    check = flask_cli("db", "check", database_url=url)
    assert check.returncode == 0, check.stdout + check.stderr


def test_upgrade_on_empty_sqlite_matches_models(tmp_path):
    assert_upgrade_matches_models(f"sqlite:///{tmp_path}/empty.sqlite3")


def test_downgrade_to_base_and_back(tmp_path):
    url = f"sqlite:///{tmp_path}/roundtrip.sqlite3"
    assert flask_cli("db", "upgrade", database_url=url).returncode == 0
    assert flask_cli("db", "downgrade", "base", database_url=url).returncode == 0
    assert_upgrade_matches_models(url)


@pytest.mark.postgres
def test_upgrade_on_empty_postgres_matches_models(require_postgres):
    with databases.scratch_postgres_database(require_postgres, schema=False) as url:
        assert_upgrade_matches_models(url)
