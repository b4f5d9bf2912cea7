"""Alembic migrations build the same schema as the models, on an empty SQLite file and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

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


def _flows_sharing_names_survive_0008(url: str) -> None:
    """Flows already named alike before 0008 keep the oldest name; later ones are numbered."""
    assert flask_cli("db", "upgrade", "0007", database_url=url).returncode == 0
    engine = create_engine(url)
    rows = [("f1", "c1", "Home loans", "2026-01-01"), ("f2", "c1", "home  LOANS", "2026-02-01"),
            ("f3", "c1", "Home loans (2)", "2026-03-01"), ("f4", "c2", "Home loans", "2026-01-01"),
            ("f5", "c1", "Home loans", "2026-04-01")]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO companies (id, name, slug, created_at) VALUES "
                          "('c1', 'One', 'one', '2026-01-01'), ('c2', 'Two', 'two', '2026-01-01')"))
        for flow_id, company, name, created in rows:
            conn.execute(text(
                "INSERT INTO flows (id, company_id, name, slug, description, tags, created_at, "
                "customer_onboarding) VALUES (:id, :company, :name, :id, '', '[]', :created, false)"),
                {"id": flow_id, "company": company, "name": name, "created": created})
    result = flask_cli("db", "upgrade", database_url=url)
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        names = dict(conn.execute(text("SELECT id, name FROM flows")).all())
    engine.dispose()
    # The oldest keeps its name, the company's other flows get the first free number, and
    # another company's flow of the same name is left alone.
    assert names == {"f1": "Home loans", "f2": "home  LOANS (3)", "f3": "Home loans (2)",
                     "f4": "Home loans", "f5": "Home loans (4)"}


def test_0008_numbers_flows_that_already_share_a_name_sqlite(tmp_path):
    _flows_sharing_names_survive_0008(f"sqlite:///{tmp_path}/names.sqlite3")


@pytest.mark.postgres
def test_0008_numbers_flows_that_already_share_a_name_postgres(require_postgres):
    with databases.scratch_postgres_database(require_postgres, schema=False) as url:
        _flows_sharing_names_survive_0008(url)
