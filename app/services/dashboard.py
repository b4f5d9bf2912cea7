"""The signed-in landing page's figures: what needs the acting user now, one small query per figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from app.engine import Status
from app.extensions import db
from app.models import DesignVersion, Flow, Runner
from app.services import approvals, checklists, clock, errors
from app.services.principal import Principal

LIST_SIZE = 10  # rows per "needs attention" and "recent" list
FLOW_LIMIT = 50  # flows listed for admins; the designer lists the rest
STALE_AFTER = timedelta(days=1)  # a runner waiting longer than this without a change needs a look
ACTIVE = (Status.QUEUED, Status.RUNNING, Status.WAITING)
ADMIN_ROLES = ("admin",)


@dataclass(frozen=True)
class RunnerCounts:
    """How many of the company's runners are in each status (every status present, 0 when none)."""

    by_status: dict[str, int]
    succeeded_today: int  # since 00:00 UTC
    # Those runners by their end's outcome ("Approved", "Not approved"), most first; None when the
    # end gave none. "Succeeded" is the lifecycle (it ran to an end), not the decision.
    outcomes_today: tuple[tuple[str | None, int], ...] = ()

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class RunnerRow:
    """One runner in a dashboard list: what a person reads before opening it."""

    id: str
    ref_id: str
    flow_name: str
    status: str
    stage: str | None
    node: str | None  # the failed node of a failed runner, else its first current node
    reason: str | None
    at: datetime  # failed/waiting lists: its last change; recent list: when it was created


@dataclass(frozen=True)
class InboxSummary:
    """What waits in the actor's inbox (the nav badge's figure) and how much of it is overdue."""

    approvals: int
    tasks: int
    overdue: int

    @property
    def total(self) -> int:
        return self.approvals + self.tasks


@dataclass(frozen=True)
class FlowRow:
    id: str
    name: str
    current_version: int | None  # None: no current version, so no runner can start
    runners: int
    active: int  # queued, running or waiting
    failed: int

    @property
    def startable(self) -> bool:
        return self.current_version is not None


@dataclass(frozen=True)
class Overview:
    counts: RunnerCounts
    failed: list[RunnerRow]  # newest failure first
    stale: list[RunnerRow]  # waiting longer than STALE_AFTER, oldest first
    recent: list[RunnerRow]  # newest first
    inbox: InboxSummary | None  # None: the actor has no inbox (viewers)
    flows: list[FlowRow] | None  # None: not an admin
    flow_count: int  # every flow of the company (admins only, else 0)

    @property
    def flows_without_version(self) -> list[FlowRow]:
        return [flow for flow in self.flows or [] if not flow.startable]


def _require_staff(actor: Principal) -> None:
    if actor.kind != "staff":
        raise errors.PermissionDenied("Only signed-in staff have a dashboard.")


def runner_counts(actor: Principal, *, now: datetime | None = None) -> RunnerCounts:
    """Runners per status (one grouped count) and those that succeeded since midnight UTC, by outcome."""
    _require_staff(actor)
    now = now or clock.now()
    grouped = dict(db.session.execute(
        select(Runner.status, func.count()).where(Runner.company_id == actor.company_id)
        .group_by(Runner.status)).tuples().all())
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    outcomes = db.session.execute(
        select(Runner.status_reason, func.count()).where(
            Runner.company_id == actor.company_id, Runner.status == Status.SUCCEEDED,
            Runner.finished_at >= midnight).group_by(Runner.status_reason)).tuples().all()
    ordered = tuple(sorted(outcomes, key=lambda row: (-row[1], row[0] is None, row[0] or "")))
    return RunnerCounts({status.value: grouped.get(status.value, 0) for status in Status},
                        sum(count for _, count in ordered), ordered)


# The columns a list shows, with the flow's name joined in: one statement per list, whatever its size.
_FAILED_NODE = Runner.state["failed_node"].as_string()
_ROW = (select(Runner.id, Runner.ref_id, Flow.name, Runner.status, Runner.stage, Runner.current_nodes,
               Runner.status_reason, _FAILED_NODE, Runner.created_at, Runner.updated_at)
        .join(Flow, and_(Flow.id == Runner.flow_id, Flow.company_id == Runner.company_id)))


def _rows(statement: Any, *, by_created: bool = False) -> list[RunnerRow]:
    rows = []
    for (runner_id, ref_id, flow_name, status, stage, current, reason, failed_node,
         created_at, updated_at) in db.session.execute(statement.limit(LIST_SIZE)):
        node = failed_node if status == Status.FAILED and failed_node else next(iter(current or []), None)
        at = created_at if by_created else (updated_at or created_at)
        rows.append(RunnerRow(runner_id, ref_id, flow_name, status, stage, node, reason, at))
    return rows


def _lists(actor: Principal, now: datetime) -> tuple[list[RunnerRow], list[RunnerRow], list[RunnerRow]]:
    mine = _ROW.where(Runner.company_id == actor.company_id)
    changed = func.coalesce(Runner.updated_at, Runner.created_at)
    failed = _rows(mine.where(Runner.status == Status.FAILED).order_by(changed.desc(), Runner.id.desc()))
    stale = _rows(mine.where(Runner.status == Status.WAITING, changed < now - STALE_AFTER)
                  .order_by(changed.asc(), Runner.id.asc()))
    recent = _rows(mine.order_by(Runner.created_at.desc(), Runner.id.desc()), by_created=True)
    return failed, stale, recent


def inbox_summary(actor: Principal, *, now: datetime | None = None) -> InboxSummary | None:
    """The actor's inbox as the nav badge counts it; None for those who decide nothing."""
    _require_staff(actor)
    if not actor.has_role(*approvals.DECIDER_ROLES):
        return None
    pending = approvals.actionable(actor)
    now = now or clock.now()
    return InboxSummary(approvals=len(pending), tasks=len(checklists.open_tasks(actor)),
                        overdue=sum(1 for request in pending if request.is_overdue(now)))


def flow_rows(actor: Principal) -> tuple[list[FlowRow], int] | None:
    """Up to FLOW_LIMIT flows by name, with their current version and runner counts, and how many
    flows there are in all; None for anyone but admins (flows are the designer's, admins only)."""
    _require_staff(actor)
    if not actor.has_role(*ADMIN_ROLES):
        return None
    company = actor.company_id
    total = db.session.scalar(select(func.count()).select_from(Flow).where(Flow.company_id == company)) or 0
    found = db.session.execute(
        select(Flow.id, Flow.name, DesignVersion.version)
        .outerjoin(DesignVersion, and_(DesignVersion.id == Flow.current_design_id,
                                       DesignVersion.company_id == company, DesignVersion.is_valid))
        .where(Flow.company_id == company).order_by(Flow.name, Flow.id).limit(FLOW_LIMIT)).all()
    counts: dict[str, dict[str, int]] = {}
    if found:
        for flow_id, status, count in db.session.execute(
                select(Runner.flow_id, Runner.status, func.count())
                .where(Runner.company_id == company, Runner.flow_id.in_([row[0] for row in found]))
                .group_by(Runner.flow_id, Runner.status)):
            counts.setdefault(flow_id, {})[status] = count

    def row(flow_id: str, name: str, version: int | None) -> FlowRow:
        by_status = counts.get(flow_id, {})
        return FlowRow(flow_id, name, version, runners=sum(by_status.values()),
                       active=sum(by_status.get(s.value, 0) for s in ACTIVE),
                       failed=by_status.get(Status.FAILED.value, 0))

    return [row(*found_row) for found_row in found], total


def company_overview(actor: Principal, *, now: datetime | None = None) -> Overview:
    """Everything the dashboard shows `actor`: runner figures and lists for all staff, the inbox for
    admins and credit officers, flows for admins. Only the actor's company is ever read."""
    _require_staff(actor)
    now = now or clock.now()
    failed, stale, recent = _lists(actor, now)
    flows = flow_rows(actor)
    return Overview(counts=runner_counts(actor, now=now), failed=failed, stale=stale, recent=recent,
                    inbox=inbox_summary(actor, now=now), flows=None if flows is None else flows[0],
                    flow_count=0 if flows is None else flows[1])
