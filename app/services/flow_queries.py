"""Reading flows for the designer: pages of flows and versions with their counts, and the customer
applications a flow has under way."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import DesignVersion, Flow, Runner
from app.services import flows
from app.services.pagination import DEFAULT_LIMIT, Page
from app.services.principal import Principal


@dataclass(frozen=True)
class FlowSummary:
    flow: Flow
    versions: int
    current_version: int | None


@dataclass(frozen=True)
class VersionSummary:
    design: DesignVersion
    runners: int
    is_current: bool

    @property
    def locked(self) -> bool:
        """Runners use this version, so it can no longer change (see flows.update_design)."""
        return self.runners > 0


def list_flow_summaries(actor: Principal, *, limit: int = DEFAULT_LIMIT,
                        continuation_token: str | None = None) -> Page[FlowSummary]:
    """A page of flows (newest first) with how many versions each has and its current one's number."""
    page = flows.list_flows(actor, limit=limit, continuation_token=continuation_token)
    ids = [flow.id for flow in page.items]
    counts = dict(db.session.execute(select(DesignVersion.flow_id, func.count()).where(
        DesignVersion.flow_id.in_(ids)).group_by(DesignVersion.flow_id)).tuples().all()) if ids else {}
    current_ids = [flow.current_design_id for flow in page.items if flow.current_design_id]
    numbers = dict(db.session.execute(select(DesignVersion.id, DesignVersion.version).where(
        DesignVersion.id.in_(current_ids))).tuples().all()) if current_ids else {}
    return Page([FlowSummary(flow, counts.get(flow.id, 0), numbers.get(flow.current_design_id or ""))
                 for flow in page.items], page.continuation_token)


def list_versions(actor: Principal, flow_id: str) -> list[VersionSummary]:
    """Every version of a flow, newest first, with its runner count and whether it is current."""
    flow = flows.get_flow(actor, flow_id)
    designs = list(db.session.scalars(select(DesignVersion).where(DesignVersion.flow_id == flow.id)
                                      .order_by(DesignVersion.version.desc())))
    runners = dict(db.session.execute(select(Runner.design_id, func.count()).where(
        Runner.flow_id == flow.id).group_by(Runner.design_id)).tuples().all())
    return [VersionSummary(d, runners.get(d.id, 0), d.id == flow.current_design_id) for d in designs]


def has_runners(actor: Principal, design_id: str) -> bool:
    """True when runners use the version, which makes it read-only."""
    return flows.design_has_runners(flows.get_design(actor, design_id).id)


def startable_flows(actor: Principal) -> list[tuple[str, str]]:
    """(id, name) of the company's flows that have a current version, by name: what a runner can
    be started on. Whether that version still validates is create_runner's to say."""
    rows = db.session.execute(select(Flow.id, Flow.name).where(
        Flow.company_id == actor.company_id, Flow.current_design_id.is_not(None))
        .order_by(Flow.name, Flow.id))
    return [(row.id, row.name) for row in rows]


# After these a runner needs nothing more from the customer (`failed` is for staff to retry or close).
FINISHED_STATUSES = frozenset({"succeeded", "failed", "cancelled"})


def has_customer_runners(company_id: str, flow_id: str) -> bool:
    """Whether any customer has an application of the flow (no access check: for the onboarding
    pages, which must stay up on a closed flow for those who have one)."""
    return db.session.scalar(select(Runner.id).where(
        Runner.company_id == company_id, Runner.flow_id == flow_id,
        Runner.customer_id.is_not(None)).limit(1)) is not None


def count_unfinished_customer_runners(actor: Principal, flow_id: str) -> int:
    """How many of the flow's customer applications (runners with a customer) are not finished:
    the ones that carry on when the flow is closed to customers."""
    flow = flows.get_flow(actor, flow_id)
    return db.session.scalar(select(func.count()).select_from(Runner).where(
        Runner.company_id == flow.company_id, Runner.flow_id == flow.id, Runner.customer_id.is_not(None),
        Runner.status.not_in(FINISHED_STATUSES))) or 0
