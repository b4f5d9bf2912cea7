"""SQLAlchemy models, one module per aggregate. Import from here so Alembic sees them all."""

from app.models.api_token import ApiToken
from app.models.approval import ApprovalDecision, ApprovalRequest
from app.models.audit import AuditEntry
from app.models.base import Base
from app.models.callback import CallbackEvent, CallbackToken
from app.models.checklist import Checklist, ChecklistItem, ChecklistTemplate
from app.models.company import Company
from app.models.customer import Customer
from app.models.document import Document, DocumentFile
from app.models.flow import DesignVersion, Flow
from app.models.idempotency import IdempotencyRecord
from app.models.mfa import RecoveryCode, SecurityPolicy, UserTotp
from app.models.otp import CustomerRefreshToken, OtpChallenge
from app.models.outbound import OutboundAllowEntry
from app.models.runner import ActivityEntry, Counter, Execution, Runner, Store, WorkItem
from app.models.secret import CompanySecret
from app.models.user import Role, User

__all__ = ["ActivityEntry", "ApiToken", "ApprovalDecision", "ApprovalRequest", "AuditEntry", "Base",
           "CallbackEvent", "CallbackToken", "Checklist", "ChecklistItem", "ChecklistTemplate", "Company",
           "CompanySecret", "Counter", "Customer", "CustomerRefreshToken", "DesignVersion", "Document",
           "DocumentFile", "Execution", "Flow", "IdempotencyRecord", "OtpChallenge", "OutboundAllowEntry",
           "RecoveryCode", "Role", "Runner", "SecurityPolicy", "Store", "User", "UserTotp", "WorkItem"]
