"""What this deployment runs with, for the admins' System page (no secrets, no per-tenant data)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.effects.code_snippet import isolation_level
from app.extensions import db
from app.services.errors import PermissionDenied
from app.services.health import readiness
from app.services.principal import Principal
from app.services.storage import describe as describe_storage


@dataclass(frozen=True)
class SystemReport:
    snippet_isolation: str
    executor: str
    database: str
    migrations: str
    storage: str
    outbound_allow_hosts: str
    outbound_allow_networks: str


def system_report(actor: Principal) -> SystemReport:
    """Only admins see how the deployment is configured."""
    if not actor.has_role("admin"):
        raise PermissionDenied("Only admins see the system settings.")
    config = current_app.config
    return SystemReport(
        snippet_isolation=isolation_level(),
        executor=config.get("FLOWDESK_EXECUTOR", "inline"),
        database=db.engine.dialect.name,
        migrations=readiness().checks.get("migrations", "unknown"),
        storage=describe_storage(current_app),
        outbound_allow_hosts=config.get("FLOWDESK_OUTBOUND_ALLOW_HOSTS") or "none",
        outbound_allow_networks=config.get("FLOWDESK_OUTBOUND_ALLOW_NETWORKS") or "none",
    )
