"""Flow, Design and Utility endpoints, as a client of seed 000's pages would use them."""

from __future__ import annotations

import hashlib
import json

from app.extensions import db
from app.models import Runner, Store
from app.services import runners
from app.services.principal import Principal
from tests.api.conftest import (
    BROKEN,
    SEED_001_PARAMS,
    assert_problem,
    error_paths,
    loan,
    tiny,
    with_subflow,
)

AUDIT_FIELDS = {"id", "company_id", "created_by", "updated_by", "created_at", "updated_at"}


def canonical_sha256(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


# --- flows ----------------------------------------------------------------------------------------
def test_create_flow_answers_the_seed_fields(client, admin, company):
    response = client.post("/v1/rego/flows/", headers=admin, json={
        "name": "Personal Loan", "description": "Retail", "tags": ["retail"]})
    assert response.status_code == 201
    flow = response.get_json()
    assert set(flow) >= AUDIT_FIELDS
    assert flow["company_id"] == company.id
    assert (flow["name"], flow["slug"], flow["tags"]) == ("Personal Loan", "personal-loan", ["retail"])
    assert flow["current_design_id"] is None and flow["updated_at"] is None


def test_slugs_made_from_names_never_clash_but_a_chosen_taken_slug_is_409(client, admin, make_flow):
    assert make_flow("Home loan")["slug"] == "home-loan"
    assert make_flow("Home  Loan!")["slug"] == "home-loan-2"
    body = assert_problem(client.post("/v1/rego/flows/", headers=admin,
                                      json={"name": "x", "slug": "home-loan"}), 409)
    assert error_paths(body) == {"slug"}


def test_a_name_another_flow_of_the_company_has_is_409_on_name(client, admin, make_flow, make_token):
    loan = make_flow("Personal loan")
    for name in ("Personal loan", "  personal   LOAN "):
        body = assert_problem(client.post("/v1/rego/flows/", headers=admin, json={"name": name}), 409)
        assert body["errors"] == [{"path": "name", "message": "There is already a flow named "
                                   "“Personal loan”; choose another name."}]  # as it is written
    gold = make_flow("Gold loan")
    body = assert_problem(client.put(f"/v1/rego/flows/{gold['id']}/", headers=admin,
                                     json={"name": "PERSONAL LOAN"}), 409)
    assert error_paths(body) == {"name"}
    assert client.get(f"/v1/rego/flows/{gold['id']}/", headers=admin).get_json()["name"] == "Gold loan"
    # A flow keeps its own name (in another case, too); another company may use the name.
    renamed = client.put(f"/v1/rego/flows/{loan['id']}/", headers=admin, json={"name": "Personal Loan"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Personal Loan"
    elsewhere = {"Authorization": f"Bearer {make_token(roles=('admin',), name='other')[1]}"}
    theirs = client.post("/v1/rego/flows/", headers=elsewhere, json={"name": "Personal loan"})
    assert theirs.status_code == 201
    names = [f["name"] for f in client.get("/v1/rego/flows/", headers=admin).get_json()["items"]]
    assert sorted(names) == ["Gold loan", "Personal Loan"]


def test_get_list_and_update_flow(client, admin, make_flow):
    flow = make_flow("Gold loan", tags=["a"])
    assert client.get(f"/v1/rego/flows/{flow['id']}/", headers=admin).get_json() == flow
    listed = client.get("/v1/rego/flows/", headers=admin).get_json()
    assert [f["id"] for f in listed["items"]] == [flow["id"]]
    assert listed["continuation_token"] is None

    response = client.put(f"/v1/rego/flows/{flow['id']}/", headers=admin, json={"description": "new"})
    assert response.status_code == 200
    updated = response.get_json()
    assert (updated["name"], updated["description"], updated["tags"]) == ("Gold loan", "new", ["a"])
    assert updated["updated_at"] is not None


def test_a_flow_is_opened_to_customers_through_update_flow(client, admin, make_flow):
    flow = make_flow("Gold loan")
    assert flow["customer_onboarding"] is False  # staff-only until an admin opens it
    opened = client.put(f"/v1/rego/flows/{flow['id']}/", headers=admin,
                        json={"customer_onboarding": True}).get_json()
    assert opened["customer_onboarding"] is True and opened["name"] == "Gold loan"
    assert runners.open_to_customers(flow["id"])
    bad = client.put(f"/v1/rego/flows/{flow['id']}/", headers=admin, json={"customer_onboarding": "maybe"})
    assert bad.status_code == 422
    again = client.get(f"/v1/rego/flows/{flow['id']}/", headers=admin).get_json()
    assert again["customer_onboarding"] is True


# --- designs --------------------------------------------------------------------------------------
def test_create_design_keeps_the_document_and_its_checksum(client, admin, make_flow):
    flow = make_flow()
    document = loan()
    response = client.post("/v1/rego/designs/", headers=admin,
                           json={"flow_id": flow["id"], "document": document})
    assert response.status_code == 201
    design = response.get_json()
    assert set(design) >= AUDIT_FIELDS
    assert (design["flow_id"], design["version"], design["is_valid"]) == (flow["id"], 1, True)
    assert design["name"] == document["name"]
    # id/version inside the document belong to the server: the row carries them.
    stored = {k: v for k, v in document.items() if k not in ("id", "version")}
    assert design["document"] == stored
    assert design["checksum"] == canonical_sha256(stored)
    current = client.get(f"/v1/rego/flows/{flow['id']}/", headers=admin).get_json()["current_design_id"]
    assert current == design["id"]  # a flow's first valid design becomes current


def test_the_seed_001_params_block_is_a_valid_design(make_design):
    design = make_design(loan() | {"params": SEED_001_PARAMS})
    assert design["is_valid"] is True
    assert design["document"]["params"] == SEED_001_PARAMS


def test_invalid_drafts_are_kept_but_not_made_current(client, admin, make_flow, make_design):
    flow = make_flow()
    draft = make_design(BROKEN, flow=flow)
    assert draft["is_valid"] is False
    assert client.get(f"/v1/rego/flows/{flow['id']}/", headers=admin).get_json()["current_design_id"] is None


def test_versions_count_up_per_flow_and_list_filters_by_flow(client, admin, make_flow, make_design):
    first, other = make_flow("One"), make_flow("Two")
    versions = [make_design(tiny(), flow=first)["version"] for _ in range(3)]
    make_design(tiny(), flow=other)
    assert versions == [1, 2, 3]
    listed = client.get(f"/v1/rego/designs/?flow_id={first['id']}", headers=admin).get_json()
    assert [d["version"] for d in listed["items"]] == [3, 2, 1]


def test_get_and_update_design(client, admin, make_design):
    design = make_design()
    url = f"/v1/rego/designs/{design['id']}/"
    assert client.get(url, headers=admin).get_json() == design
    response = client.put(url, headers=admin, json={"name": "Renamed", "document": tiny()})
    assert response.status_code == 200
    updated = response.get_json()
    assert updated["name"] == "Renamed"
    assert updated["document"] == tiny()
    assert updated["checksum"] == canonical_sha256(tiny()) != design["checksum"]


def test_a_design_with_runners_is_immutable(app, client, admin, company, make_design):
    design = make_design()
    store = Store(company_id=company.id)
    db.session.add(store)
    db.session.flush()
    db.session.add(Runner(company_id=company.id, ref_id="RUNNER-2601-1", flow_id=design["flow_id"],
                          design_id=design["id"], store_id=store.id))
    db.session.commit()
    body = assert_problem(client.put(f"/v1/rego/designs/{design['id']}/", headers=admin,
                                     json={"document": tiny()}), 409)
    assert "duplicate" in body["detail"]
    assert client.get(f"/v1/rego/designs/{design['id']}/", headers=admin).get_json() == design


def test_the_current_design_cannot_be_made_invalid(client, admin, make_design):
    design = make_design()
    body = assert_problem(client.put(f"/v1/rego/designs/{design['id']}/", headers=admin,
                                     json={"document": BROKEN}), 422)
    assert any(p.startswith("document") for p in error_paths(body))
    assert client.get(f"/v1/rego/designs/{design['id']}/", headers=admin).get_json() == design


def test_mark_as_current_design(client, admin, make_flow, make_design):
    flow = make_flow()
    first = make_design(tiny(), flow=flow)
    second = make_design(loan(), flow=flow)
    response = client.put(f"/v1/rego/designs/{second['id']}/mark-current/", headers=admin)
    assert response.status_code == 200 and response.get_json()["id"] == second["id"]
    current = client.get(f"/v1/rego/flows/{flow['id']}/", headers=admin).get_json()["current_design_id"]
    assert current == second["id"] != first["id"]


def test_an_invalid_design_cannot_become_current(client, admin, make_flow, make_design):
    flow = make_flow()
    good, broken = make_design(tiny(), flow=flow), make_design(BROKEN, flow=flow)
    body = assert_problem(client.put(f"/v1/rego/designs/{broken['id']}/mark-current/", headers=admin), 422)
    assert body["errors"]
    current = client.get(f"/v1/rego/flows/{flow['id']}/", headers=admin).get_json()["current_design_id"]
    assert current == good["id"]


def test_duplicate_design_makes_the_next_version(client, admin, make_design):
    source = make_design()
    response = client.post(f"/v1/rego/designs/{source['id']}/duplicate/", headers=admin)
    assert response.status_code == 201
    copy = response.get_json()
    assert (copy["version"], copy["flow_id"], copy["document"], copy["checksum"]) == (
        2, source["flow_id"], source["document"], source["checksum"])
    assert copy["name"] == f"{source['name']} (copy)" and copy["id"] != source["id"]
    named = client.post(f"/v1/rego/designs/{source['id']}/duplicate/", headers=admin, json={"name": "v3"})
    assert (named.get_json()["version"], named.get_json()["name"]) == (3, "v3")


def test_expanded_design_inlines_subflows_recursively(client, admin, make_flow, make_design):
    leaf_flow, middle_flow = make_flow("Leaf"), make_flow("Middle")
    leaf = make_design(tiny(), flow=leaf_flow)
    make_design(with_subflow(leaf_flow["slug"]), flow=middle_flow)
    top = make_design(with_subflow(middle_flow["id"]))
    response = client.get(f"/v1/rego/designs/{top['id']}/expanded/", headers=admin)
    assert response.status_code == 200
    node = next(n for n in response.get_json()["document"]["nodes"] if n["name"] == "child")
    assert node["expanded"]["flow_id"] == middle_flow["id"]
    inner = next(n for n in node["expanded"]["document"]["nodes"] if n["name"] == "child")
    assert inner["expanded"]["design_id"] == leaf["id"]
    assert [n["name"] for n in inner["expanded"]["document"]["nodes"]] == ["start", "done"]
    # Read-only: the stored design is unchanged.
    stored = client.get(f"/v1/rego/designs/{top['id']}/", headers=admin).get_json()
    assert stored["document"] == top["document"]


def test_expanded_design_marks_missing_and_looping_subflows(client, admin, make_flow, make_design):
    flow = make_flow("Loop")
    looping = make_design(with_subflow(flow["slug"]), flow=flow)  # runs itself
    missing = make_design(with_subflow("no-such-flow"))
    for design in (looping, missing):
        body = client.get(f"/v1/rego/designs/{design['id']}/expanded/", headers=admin).get_json()
        node = next(n for n in body["document"]["nodes"] if n["name"] == "child")
        assert node["expanded"] is None and node["expand_error"]


def test_graph_validation_lists_the_engines_problems(client, admin, make_design):
    assert client.get(f"/v1/rego/designs/{make_design()['id']}/validate/", headers=admin).get_json() == {
        "valid": True, "problems": []}
    body = client.get(f"/v1/rego/designs/{make_design(BROKEN)['id']}/validate/", headers=admin).get_json()
    assert body["valid"] is False
    assert {(p["code"], p["node"]) for p in body["problems"]} >= {("no_start", None),
                                                                   ("unknown_type", "beam")}
    assert set(body["problems"][0]) == {"code", "message", "node", "edge", "field"}


def test_graph_validation_problems_say_what_to_fix(client, admin, make_design):
    """Clients match on code, node, edge and field; the message is for the admin to read."""
    document = {"name": "Plain", "start_node": "start", "nodes": [
        {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "fork"}]},
        {"name": "fork", "type": "parallel", "config": {},
         "edges": [{"type": "goto", "target_node": "wait"}, {"type": "goto", "target_node": "shape"}]},
        {"name": "wait", "type": "timer", "config": {}, "edges": [{"type": "goto", "target_node": "done"}]},
        {"name": "shape", "type": "transform", "config": {},
         "edges": [{"type": "goto", "target_node": "done"}]},
        {"name": "done", "type": "end"}]}
    body = client.get(f"/v1/rego/designs/{make_design(document)['id']}/validate/", headers=admin).get_json()
    found = {(p["code"], p["node"], p["edge"], p["field"], p["message"]) for p in body["problems"]}
    assert found == {
        ("bad_config", "fork", None, "config", "`join` is required"),
        ("parallel_without_join", "fork", None, "config.join",
         "config.join is missing: name the join node where this parallel's branches meet"),
        ("bad_config", "wait", None, "config", "a timer needs `duration` or `until`"),
        ("bad_config", "shape", None, "config", "`data` is required")}


def test_graph_validation_reports_subflows_that_lead_nowhere(client, admin, make_design):
    design = make_design(with_subflow("ghost", version=4))
    problems = client.get(f"/v1/rego/designs/{design['id']}/validate/", headers=admin).get_json()["problems"]
    assert [(p["code"], p["node"]) for p in problems] == [("missing_flow", "child")]


# --- utility --------------------------------------------------------------------------------------
def test_get_schema_of_a_form_node_of_the_design_format_and_of_a_node_type(client, admin, make_design):
    design = make_design()
    url = "/v1/rego/utility/schema/"
    node = client.get(f"{url}?design_id={design['id']}&node=application", headers=admin).get_json()
    assert node["kind"] == "node_data"
    assert node["schema"]["required"] == ["pan", "email", "amount", "tenure_months"]
    fmt = client.get(url, headers=admin).get_json()
    assert fmt["kind"] == "design" and fmt["schema"]["required"] == ["start_node", "nodes"]
    config = client.get(f"{url}?node_type=api_call", headers=admin).get_json()
    assert config["kind"] == "node_config" and "url" in config["schema"]["required"]
    assert_problem(client.get(f"{url}?design_id={design['id']}&node=nope", headers=admin), 404)
    assert error_paths(assert_problem(client.get(f"{url}?node_type=teleport", headers=admin), 422)) == {
        "node_type"}


def test_services_take_the_system_principal_too(company, app):
    from app.services import flows

    flow = flows.create_flow(Principal.system(company.id), name="Made by a job")
    assert flows.get_flow(Principal.system(company.id), flow.id).created_by == "system"
