"""SQLAlchemy models, one module per aggregate. Import from here so Alembic sees them all."""

from app.models.api_token import ApiToken
from app.models.base import Base
from app.models.company import Company
from app.models.customer import Customer
from app.models.flow import DesignVersion, Flow
from app.models.runner import ActivityEntry, Counter, Execution, Runner, Store, WorkItem
from app.models.secret import CompanySecret
from app.models.user import Role, User

__all__ = ["ActivityEntry", "ApiToken", "Base", "Company", "CompanySecret", "Counter", "Customer",
           "DesignVersion", "Execution", "Flow", "Role", "Runner", "Store", "User", "WorkItem"]
