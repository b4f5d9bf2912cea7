"""The demo tenant that `flask demo load` creates: a company, an admin, two credit officers, a token."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, Company, Role, User
from app.models.api_token import hash_token
from app.services import accounts
from app.services.demo_flows import load_demo_onboarding
from app.services.tokens import TOKEN_PREFIX

DEMO_SLUG = "demo"
DEMO_USERS = (
    ("admin@demo.flowdesk.example", "Ada Admin", "demo-admin-password", (Role.ADMIN,)),
    ("officer1@demo.flowdesk.example", "Olu Officer", "demo-officer-password",
     (Role.CREDIT_OFFICER,)),
    ("officer2@demo.flowdesk.example", "Priya Officer", "demo-officer-password",
     (Role.CREDIT_OFFICER,)),
    ("viewer@demo.flowdesk.example", "Vic Viewer", "demo-viewer-password", (Role.VIEWER,)),
)
DEMO_TOKEN_NAME = "demo"


@dataclass
class DemoReport:
    company: Company
    credentials: list[tuple[str, str, str]] = field(default_factory=list)  # email, password, roles
    token: str = ""
    created: list[str] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)  # customer-facing entry points


def demo_token_value(secret_key: str) -> str:
    """The demo token is derived from SECRET_KEY, so reloading the demo can print it again."""
    digest = hmac.new(secret_key.encode(), b"flowdesk-demo-api-token", hashlib.sha256).hexdigest()
    return f"{TOKEN_PREFIX}demo_{digest[:40]}"


def load_demo(secret_key: str) -> DemoReport:
    """Create whatever of the demo is missing; running it again changes nothing."""
    company = db.session.scalar(select(Company).where(Company.slug == DEMO_SLUG))
    created: list[str] = []
    if company is None:
        company = accounts.create_company("Demo Lending", DEMO_SLUG)
        created.append("company")
    report = DemoReport(company=company, created=created)
    for email, name, password, roles in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            accounts.create_user(company, email=email, name=name, password=password, roles=roles)
            created.append(email)
        report.credentials.append((email, password, ", ".join(roles)))
    raw = demo_token_value(secret_key)
    if db.session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(raw))) is None:
        db.session.add(ApiToken(company_id=company.id, name=DEMO_TOKEN_NAME, prefix=raw[:10],
                                token_hash=hash_token(raw), roles=[Role.ADMIN.value]))
        db.session.commit()
        created.append("api token")
    report.token = raw
    flow = load_demo_onboarding(company)
    report.flows.append(f"/onboard/{flow.slug}")
    return report
