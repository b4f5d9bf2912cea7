"""Readiness: is the database reachable and migrated to the head revision?"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import MIGRATIONS_DIR, db

log = logging.getLogger(__name__)



@cache
def migration_heads() -> frozenset[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(value == "ok" for value in self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.ready else "unavailable", "checks": self.checks}


def readiness() -> Readiness:
    report = Readiness()
    try:
        db.session.execute(text("SELECT 1"))
        report.checks["database"] = "ok"
    except SQLAlchemyError as error:
        log.warning("readiness: database unreachable", extra={"error_type": type(error).__name__})
        db.session.rollback()
        report.checks["database"] = "unreachable"
        report.checks["migrations"] = "unknown"
        return report
    try:
        current = {row[0] for row in db.session.execute(text("SELECT version_num FROM alembic_version"))}
    except SQLAlchemyError:
        db.session.rollback()
        current = set()
    report.checks["migrations"] = "ok" if current == migration_heads() else "pending"
    return report
