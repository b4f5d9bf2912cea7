"""Every page and API endpoint, for every role and a second company: allowed, refused, never leaking."""

from __future__ import annotations

import pytest

from tests.security.world import (
    BODY_NAMES_TENANT,
    ROLES,
    bodies,
    build_tenant,
    caller_for,
    is_api,
    routes,
    send,
    url_for_rule,
)

ADMIN = frozenset({"admin"})
OPS = frozenset({"admin", "credit_officer"})
STAFF = frozenset({"admin", "credit_officer", "viewer"})
CUSTOMER = frozenset({"customer"})
EVERYONE = frozenset(ROLES) - {"other_admin"}  # other_admin is derived, see allowed_roles
# Endpoint -> roles that may use it on company A's objects. A method suffix narrows it to one method.
ALLOWED: dict[str, frozenset[str]] = {
    "ops.healthz": EVERYONE, "ops.readyz": EVERYONE, "auth.login": EVERYONE,
    "api_v1.docs_page": EVERYONE, "api_v1.openapi_json": EVERYONE,
    "home.index": STAFF, "auth.logout": STAFF,
    "auth.verify": frozenset(),  # only between password and second factor: redirects everyone else
    "security.index": STAFF, "security.password": STAFF, "security.enrol": STAFF,
    "security.disable": STAFF, "security.recovery_codes": STAFF, "security.end_sessions": STAFF,
    # Viewers read a request and its files (READERS) but decide nothing and have no inbox.
    "inbox.index": OPS, "inbox.approval": STAFF, "inbox.decide": frozenset({"credit_officer"}),
    "inbox.tick": OPS, "inbox.file": STAFF, "inbox.reupload": OPS, "inbox.verify": OPS,
    "settings.audit": ADMIN, "settings.audit_export": ADMIN, "settings.secrets": ADMIN,
    "settings.delete_secret": ADMIN, "settings.sign_in_policy": ADMIN, "settings.system": ADMIN,
    "settings.tokens": ADMIN, "settings.revoke_token": ADMIN, "settings.outbound": ADMIN,
    "settings.remove_outbound_entry": ADMIN,
    # Settings → Team: admins list, add and manage their own company's staff users.
    "settings.team": ADMIN, "settings.team_member": ADMIN, "settings.deactivate_member": ADMIN,
    "settings.reactivate_member": ADMIN, "settings.reset_member_password": ADMIN,
    "settings.reset_member_second_factor": ADMIN,
    # code and resend need a code sent in this browser first: without one they send you back.
    "onboarding.start": EVERYONE, "onboarding.code": frozenset(), "onboarding.progress": CUSTOMER,
    "onboarding.resend": frozenset(), "onboarding.sign_out": EVERYONE, "onboarding.step": CUSTOMER,
    "onboarding.submit": CUSTOMER, "onboarding.validate_field": CUSTOMER, "onboarding.upload_again": CUSTOMER,
    "flow_api.create_customer_runner": OPS,
    "api_v1.whoami": STAFF, "api_v1.get_schema": STAFF,
    "api_v1.approval_list": STAFF, "api_v1.get_approval": STAFF, "api_v1.pending_approval": STAFF,
    "api_v1.current_user_approval_list": STAFF, "api_v1.get_approval_by_resource": STAFF,
    "api_v1.create_approvals": OPS, "api_v1.update_approvals": OPS,
    # The admin started the runner: a maker never decides their own request (four eyes).
    "api_v1.approve_approval": frozenset({"credit_officer"}),
    "api_v1.reject_approval": frozenset({"credit_officer"}),
    "api_v1.list_checklist_templates": STAFF, "api_v1.get_checklist_template": STAFF,
    "api_v1.create_checklist_template": ADMIN, "api_v1.update_checklist_template": ADMIN,
    "api_v1.delete_checklist_template": ADMIN,
    "api_v1.list_checklist": STAFF, "api_v1.get_checklist": STAFF, "api_v1.update_check_list_item": OPS,
    # Public, but their credential is in the body: a made-up challenge or refresh token opens nothing.
    "api_v1.send_otp": EVERYONE, "api_v1.verify_otp": frozenset(), "api_v1.refresh_token": frozenset(),
    "api_v1.exchange_token": OPS, "api_v1.auth_ping": CUSTOMER,
    "api_v1.list_designs": STAFF, "api_v1.get_design": STAFF, "api_v1.get_expanded_design": STAFF,
    "api_v1.graph_validation": STAFF, "api_v1.create_design": ADMIN, "api_v1.update_design": ADMIN,
    "api_v1.duplicate_design": ADMIN, "api_v1.mark_current_design": ADMIN,
    "api_v1.create_document": OPS, "api_v1.get_storage_document": STAFF, "api_v1.list_documents": STAFF,
    "api_v1.add_files_to_document": OPS, "api_v1.download_files": STAFF,
    "api_v1.request_document_reupload": OPS, "api_v1.verify_document": OPS,
    "api_v1.list_flows": STAFF, "api_v1.get_flow": STAFF, "api_v1.create_flow": ADMIN,
    "api_v1.update_flow": ADMIN,
    "api_v1.list_runners": STAFF, "api_v1.get_runner": STAFF | CUSTOMER,
    "api_v1.get_current_nodes": STAFF | CUSTOMER, "api_v1.execute_runner": OPS | CUSTOMER,
    "api_v1.runner_activity": STAFF, "api_v1.runner_executions": STAFF, "api_v1.parse_template": STAFF,
    # Seed 000's "No Auth Runner Flow info": the runner's unguessable id is the credential.
    "api_v1.runner_flow_info": EVERYONE,
    "api_v1.get_checklist_at_runner_stage": STAFF, "api_v1.runner_store": STAFF,
    "api_v1.create_runner": OPS, "api_v1.create_and_execute_runner": OPS, "api_v1.cancel_runner": OPS,
    "api_v1.retry_runner": OPS, "api_v1.update_runner_design": OPS, "api_v1.update_store": OPS,
    "api_v1.runner_callback": frozenset(),  # signed per runner: a made-up token is refused
    "api_v1.list_stores": STAFF, "api_v1.get_store": STAFF, "api_v1.create_store": OPS,
    "api_v1.query_warehouse": STAFF,
    # Runner dashboards: staff read every runner page; admins and credit officers cancel and retry.
    "runners.index": STAFF, "runners.show": STAFF, "runners.live": STAFF, "runners.activity": STAFF,
    "runners.executions": STAFF, "runners.cancel": OPS, "runners.retry": OPS,
    # Starting a runner and submitting at a waiting node: operators, as create/execute_runner say.
    "runners.new": OPS, "runners.act": OPS,
    # Designer pages: only admins draw, validate, publish and copy designs.
    "designer.index": ADMIN, "designer.create_flow": ADMIN, "designer.flow": ADMIN, "designer.edit": ADMIN,
    "designer.save": ADMIN, "designer.validate": ADMIN, "designer.mark_current": ADMIN,
    "designer.set_onboarding": ADMIN,
    "designer.duplicate": ADMIN, "designer.save_as_new": ADMIN, "designer.flow_details": ADMIN,
    # Dashboard and settings: the Settings page lists the company settings pages, for admins only.
    "settings.index": ADMIN,
}
# URL arguments that are not one of company A's objects: a second company reaching a route with
# only these is on its own data.
NOT_TENANT_ARGS = frozenset({"fmt", "flow_slug", "token", "resource_type", "key"})
PUBLIC = frozenset(e for e, roles in ALLOWED.items() if roles >= EVERYONE)
DENIED = frozenset({401, 403, 404})


def allowed_roles(endpoint: str, arguments: set[str]) -> frozenset[str]:
    roles = ALLOWED[endpoint]
    if "admin" in roles and arguments <= NOT_TENANT_ARGS and endpoint not in BODY_NAMES_TENANT:
        roles |= {"other_admin"}
    if endpoint in PUBLIC:
        roles |= {"other_admin"}
    return roles


SIGN_OUTS = frozenset({"auth.logout", "security.end_sessions", "onboarding.sign_out"})


# Refusals a page shows as a form error, the service's PermissionDenied kept for the message.
FORM_REFUSALS = {"inbox.decide": 422}


def _refused(response, endpoint: str, api: bool, may: bool, slug: str) -> bool:
    if response.status_code in DENIED or FORM_REFUSALS.get(endpoint) == response.status_code:
        return True
    if api or (may and endpoint in SIGN_OUTS):  # signing out sends you to sign in: that is success
        return False
    location = response.headers.get("Location", "").split("?")[0]
    return response.status_code in (302, 303) and location in ("/login", f"/onboard/{slug}")


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_the_table_says(app, role, make_company, make_user, make_token,
                                                          tmp_path):
    app.config["FLOWDESK_STORAGE_ROOT"] = str(tmp_path / "uploads")
    app.extensions.pop("flowdesk_storage", None)
    tenant = build_tenant(make_company, make_user, make_token)
    caller = caller_for(role, app, tenant, make_company, make_user, make_token)
    slug, payloads = tenant.params["flow_slug"], bodies(tenant.params)
    wrong, unlisted = [], []
    for rule, method in routes(app):
        if rule.endpoint not in ALLOWED:
            unlisted.append(rule.endpoint)
            continue
        url = url_for_rule(rule, tenant.params)
        response = send(caller, rule, method, url, payloads.get(rule.endpoint))
        status, body = response.status_code, response.get_data(as_text=True)
        may = role in allowed_roles(rule.endpoint, set(rule.arguments))
        refused = _refused(response, rule.endpoint, is_api(rule), may, slug)
        if rule.endpoint == "ops.readyz":
            continue  # answers 503 here (no migration table in tests); public either way
        if status >= 500:
            wrong.append(f"{method} {rule.rule}: {status}")
        elif may and (refused or (method == "GET" and status >= 400)):
            wrong.append(f"{method} {rule.rule}: {status} but {role} may use it")
        elif not may and not refused:
            wrong.append(f"{method} {rule.rule}: {status} but {role} may not use it")
        if role == "other_admin" and rule.endpoint not in PUBLIC:
            leaked = [n for n in tenant.names if n in body]
            leaked += [v for k, v in tenant.params.items() if k not in NOT_TENANT_ARGS and v in body
                       and v not in url]
            if leaked:
                wrong.append(f"{method} {rule.rule}: shows company A's {leaked}")
    assert not unlisted, f"add these endpoints to ALLOWED: {sorted(set(unlisted))}"
    assert not wrong, "\n".join(wrong)
