"""dashboard.company_overview: figures per status, lists, inbox and flows, by role and per company."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import Customer
from app.services import clock, dashboard
from app.services.errors import PermissionDenied
from app.services.principal import Principal
from tests.web_home.conftest import INSTANT, WAITS, Rival, overdue
from tests.web_runners.conftest import Lender

ENDS_DECLINED = {"name": "Declines", "start_node": "start", "nodes": [
    {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "declined"}]},
    {"name": "declined", "type": "end", "config": {"status": "succeeded", "message": "Not approved"}}]}


def officer(lender: Lender) -> Principal:
    return Principal.for_user(lender.users["credit_officer"])


def viewer(lender: Lender) -> Principal:
    return Principal.for_user(lender.users["viewer"])


def test_counts_every_status_and_what_succeeded_today(lender: Lender, world: dict[str, Any],
                                                      rival: Rival) -> None:
    counts = dashboard.runner_counts(viewer(lender))
    assert counts.by_status == {"queued": 0, "running": 0, "waiting": 4, "failed": 1, "succeeded": 1,
                                "cancelled": 1}
    assert counts.total == 7 and counts.succeeded_today == 1
    tomorrow = clock.now() + timedelta(days=1)
    assert dashboard.runner_counts(viewer(lender), now=tomorrow).succeeded_today == 0


def test_what_succeeded_today_is_told_by_outcome(lender: Lender, world: dict[str, Any],
                                                   rival: Rival) -> None:
    declined = lender.flow(ENDS_DECLINED, name="Instant declines")
    lender.start(declined), lender.start(declined)
    counts = dashboard.runner_counts(viewer(lender))
    # A rejected application "succeeded" (it ran to its end): the outcome tells it from an approval.
    assert counts.succeeded_today == 3
    assert counts.outcomes_today == (("Not approved", 2), (None, 1))


def test_failed_runners_say_where_and_why(lender: Lender, world: dict[str, Any], rival: Rival) -> None:
    failed = dashboard.company_overview(viewer(lender)).failed
    assert [(r.id, r.flow_name, r.node, r.status) for r in failed] == [
        (world["failed"].id, "Gate checks", "start", "failed")]
    assert "no 'auto' edge" in (failed[0].reason or "")


def test_runners_waiting_over_a_day_come_oldest_first(lender: Lender, world: dict[str, Any],
                                                      rival: Rival) -> None:
    now = dashboard.company_overview(viewer(lender)).stale
    assert [(r.ref_id, r.node, r.stage) for r in now] == [(world["old"].ref_id, "apply", "application")]
    later = dashboard.company_overview(viewer(lender), now=clock.now() + timedelta(days=2)).stale
    waiting = [world[k].id for k in ("old", "fresh", "approval", "checklist")]
    assert [r.id for r in later] == waiting  # the aged one first, then in the order they started


def test_recent_runners_are_the_last_ten_newest_first(lender: Lender, world: dict[str, Any],
                                                      rival: Rival) -> None:
    instant = lender.flow(INSTANT, name="More top-ups")
    started = [lender.start(instant) for _ in range(5)]
    recent = dashboard.company_overview(viewer(lender)).recent
    assert len(recent) == dashboard.LIST_SIZE
    assert [r.id for r in recent[:5]] == [r.id for r in reversed(started)]
    assert {r.flow_name for r in recent} <= {"More top-ups", "Disbursals", "Credit approvals", "Home loans",
                                             "Instant top-ups", "Gate checks"}


def test_inbox_counts_what_the_actor_may_act_on(lender: Lender, world: dict[str, Any], rival: Rival) -> None:
    mine = dashboard.company_overview(officer(lender)).inbox
    assert mine is not None and (mine.approvals, mine.tasks, mine.overdue, mine.total) == (1, 1, 0, 2)
    overdue(world["approval"])
    assert dashboard.inbox_summary(officer(lender)).overdue == 1  # type: ignore[union-attr]
    # The admin started the runners: four eyes, so no approval of theirs to decide; checklists yes.
    admins = dashboard.company_overview(lender.admin).inbox
    assert admins is not None and (admins.approvals, admins.tasks) == (0, 1)
    assert dashboard.company_overview(viewer(lender)).inbox is None


def test_admins_see_flows_with_versions_and_runner_counts(lender: Lender, world: dict[str, Any],
                                                          rival: Rival) -> None:
    overview = dashboard.company_overview(lender.admin)
    rows = {f.name: (f.current_version, f.runners, f.active, f.failed) for f in overview.flows or []}
    assert rows == {"Credit approvals": (1, 1, 1, 0), "Disbursals": (1, 1, 1, 0),
                    "Draft flow": (None, 0, 0, 0), "Gate checks": (1, 1, 0, 1), "Home loans": (1, 3, 2, 0),
                    "Instant top-ups": (1, 1, 0, 0)}
    assert [f.name for f in overview.flows or []] == sorted(rows)
    assert [f.name for f in overview.flows_without_version] == ["Draft flow"]
    assert overview.flow_count == 6
    for actor in (officer(lender), viewer(lender)):
        seen = dashboard.company_overview(actor)
        assert seen.flows is None and seen.flows_without_version == [] and seen.flow_count == 0


def test_another_company_is_never_counted(lender: Lender, world: dict[str, Any], rival: Rival) -> None:
    theirs = dashboard.company_overview(Principal.for_user(rival.admin), now=clock.now() + timedelta(days=2))
    assert theirs.counts.by_status["waiting"] == 3 and theirs.counts.total == 5
    assert {r.flow_name for r in theirs.recent + theirs.failed + theirs.stale} <= {
        "Rival mortgages", "Rival gate", "Rival instant"}
    assert {f.name for f in theirs.flows or []} == {"Rival mortgages", "Rival gate", "Rival instant"}
    assert theirs.inbox is not None and theirs.inbox.total == 0


def test_an_empty_company_has_zeros_and_empty_lists(lender: Lender) -> None:
    overview = dashboard.company_overview(lender.admin)
    assert overview.counts.total == 0 and set(overview.counts.by_status.values()) == {0}
    assert overview.failed == overview.stale == overview.recent == overview.flows == []
    assert overview.inbox is not None and overview.inbox.total == 0


@pytest.mark.parametrize("kind", ["api", "customer", "system"])
def test_only_staff_have_a_dashboard(lender: Lender, kind: str) -> None:
    actor = Principal(kind, "x", lender.company.id, frozenset({"admin"}), "x")  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        dashboard.company_overview(actor)
    with pytest.raises(PermissionDenied):
        dashboard.runner_counts(actor)


def _statements(run: Any) -> int:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_the_number_of_queries_does_not_grow_with_runners_or_flows(lender: Lender,
                                                                   world: dict[str, Any]) -> None:
    def read() -> None:
        db.session.expire_all()
        dashboard.company_overview(lender.admin, now=clock.now() + timedelta(days=2))

    before = _statements(read)
    customer = Customer(company_id=lender.company.id, email="a@example.com")
    db.session.add(customer)
    db.session.commit()
    for n in range(4):
        flow = lender.flow(WAITS, name=f"Extra {n}")
        for _ in range(3):
            lender.start(flow, customer=customer)
    assert _statements(read) == before
