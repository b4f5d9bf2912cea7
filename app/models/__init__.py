"""SQLAlchemy models, one module per aggregate. Import from here so Alembic sees them all."""

from app.models.api_token import ApiToken
from app.models.base import Base
from app.models.company import Company
from app.models.customer import Customer
from app.models.user import Role, User

__all__ = ["ApiToken", "Base", "Company", "Customer", "Role", "User"]
