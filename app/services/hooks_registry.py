"""Imports every feature module that registers effect hooks, so the runtime sees them all."""

import app.services.approvals  # OpenApproval, Withdraw
import app.services.checklists  # OpenChecklist, Withdraw
import app.services.documents  # noqa: F401  RequestDocuments, Withdraw (registers on import)
