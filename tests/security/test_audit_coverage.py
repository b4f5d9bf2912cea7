"""Design changes, decisions, store edits, operator actions, ticks, document checks and team changes reach
the audit log."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from app.services import approvals, checklists, documents, flows, runners, stores, team
from app.services.principal import Principal
from tests.inbox.conftest import APPROVAL, CHECKLIST, DOCUMENTS, chain
from tests.security.test_secret_use import call_design
from tests.security.world import FORM_DESIGN, PDF


def test_every_audited_use_case_leaves_its_row(app, make_company, make_user, tmp_path):
    app.config["FLOWDESK_STORAGE_ROOT"] = str(tmp_path / "uploads")
    app.extensions.pop("flowdesk_storage", None)
    company = make_company()
    admin = Principal.for_user(make_user(company, name="Ada Admin"))
    officer = Principal.for_user(make_user(company, roles=("credit_officer",), name="Oli Officer"))

    def start(document, data=None):
        flow = flows.create_flow(admin, name=f"Flow {len(document['nodes'])} {id(document)}")
        design = flows.create_design(admin, flow_id=flow.id, document=document)
        runner = runners.create_runner(admin, flow_id=flow.id, data=data or {"amount": 1000}).runner
        return flow, design, runner

    flow, design, form_runner = start(FORM_DESIGN)
    flows.update_design(admin, flows.duplicate_design(admin, design.id).id, name="v2")
    copy = flows.list_designs(admin, flow_id=flow.id).items[-1]
    flows.mark_current_design(admin, copy.id)
    runners.move_runner_design(officer, form_runner.id, copy.id)
    stores.update_runner_store(officer, form_runner.id, {"note": "called the customer"})
    runners.cancel_runner(officer, form_runner.id, reason="duplicate application")

    _, _, failed = start(call_design({"url": "http://127.0.0.1:9/down"}))  # loopback: refused, fails
    assert failed.status == "failed"
    runners.retry_runner(officer, failed.id)

    _, _, waiting = start(chain(APPROVAL), {"amount": 1000})
    approvals.decide(officer, approvals.get_by_resource(admin, "runner", waiting.id).id, decision="approve")

    template = checklists.create_template(admin, name="Checks", items=[{"key": "kyc", "title": "KYC"}])
    _, _, ticking = start(chain(CHECKLIST, template_id=template.id))
    checklists.set_item(officer, checklists.checklist_at_stage(officer, ticking.id).id, "kyc", done=True)

    _, _, collecting = start(chain(DOCUMENTS))
    document = documents.list_documents(officer, collecting.id)[0]
    documents.add_file(officer, document.id, filename="pan.pdf", data=PDF)
    documents.verify(officer, document.id)
    documents.request_reupload(officer, document.id, note="blurry")

    teammate = team.invite_user(admin, name="Tia Teammate", email="tia@example.com", roles=["viewer"]).member
    team.update_user_roles(admin, teammate.id, ["credit_officer"])
    team.reset_user_password(admin, teammate.id)
    team.deactivate_user(admin, teammate.id)
    team.reactivate_user(admin, teammate.id)

    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.company_id == company.id)).all()
    seen = {(e.action, e.actor_name) for e in rows}
    expected = {
        ("flow.created", "Ada Admin"), ("design.created", "Ada Admin"), ("design.duplicated", "Ada Admin"),
        ("design.updated", "Ada Admin"),
        ("design.marked_current", "Ada Admin"), ("runner.design_moved", "Oli Officer"),
        ("store.updated", "Oli Officer"), ("runner.cancelled", "Oli Officer"),
        ("runner.retried", "Oli Officer"),
        ("approval.approved", "Oli Officer"), ("checklist.item_ticked", "Oli Officer"),
        ("document.uploaded", "Oli Officer"), ("document.verified", "Oli Officer"),
        ("document.reupload_requested", "Oli Officer"),
        ("user.created", "Ada Admin"), ("user.roles_changed", "Ada Admin"),
        ("user.password_reset", "Ada Admin"), ("user.deactivated", "Ada Admin"),
        ("user.reactivated", "Ada Admin"),
    }
    assert expected <= seen, sorted(expected - seen)
    by_action = {e.action: e for e in rows}
    assert by_action["runner.cancelled"].target_id == form_runner.id
    assert by_action["runner.cancelled"].details == {"reason": "duplicate application"}
    assert by_action["document.verified"].target_id == document.id
    assert by_action["design.marked_current"].target_id == copy.id
    assert by_action["user.roles_changed"].target_id == teammate.id
    assert by_action["user.roles_changed"].details == {"before": ["viewer"], "after": ["credit_officer"]}
