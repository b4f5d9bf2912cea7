"""Who is acting: a staff user, an API token, a customer or the system, reduced to one value type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from app.models import ApiToken, User

PrincipalKind = Literal["staff", "api", "customer", "system"]


@dataclass(frozen=True)
class Principal:
    """The acting party every service takes as its first argument."""

    kind: PrincipalKind
    id: str
    company_id: str
    roles: frozenset[str]
    name: str

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @classmethod
    def for_user(cls, user: User) -> Principal:
        return cls("staff", user.id, user.company_id, frozenset(user.roles), user.name)

    @classmethod
    def for_token(cls, token: ApiToken) -> Principal:
        return cls("api", token.id, token.company_id, frozenset(token.roles), f"token {token.name}")

    @classmethod
    def system(cls, company_id: str) -> Principal:
        return cls("system", "system", company_id, frozenset(), "Flowdesk")
