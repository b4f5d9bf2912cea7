"""Staff users: admins, credit officers and viewers of one company."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.models.base import Base, TimestampMixin, uuid_pk
from app.models.company import Company


class Role(StrEnum):
    ADMIN = "admin"
    CREDIT_OFFICER = "credit_officer"
    VIEWER = "viewer"


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[str] = uuid_pk()
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped on logout-everywhere and password change; part of the session id so old cookies die.
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set while the password is one an admin handed out; the user must replace it before doing anything.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())

    company: Mapped[Company] = relationship(lazy="joined")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str, method: str = "scrypt") -> None:
        # scrypt is memory-hard; the test suite passes a cheap method (PASSWORD_HASH_METHOD) for speed.
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, *roles: str) -> bool:
        return bool(set(self.roles) & set(roles))

    def __repr__(self) -> str:
        return f"<User {self.email}>"
