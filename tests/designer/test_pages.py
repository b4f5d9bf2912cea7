"""Designer pages without a browser: flows, versions, the JSON editor form, validation, publishing, copies."""

from __future__ import annotations

import json

import pytest

from app.services import flow_queries, flows
from app.web.designer.editor import graph_data
from tests.designer.conftest import HTMX, form_design, post, textarea


def row(html: str, text: str) -> str:
    """The table row that contains `text`."""
    return next(part for part in html.split("<tr") if text in part)


def test_only_admins_open_the_designer(client, auth, make_user, admin):
    for role in ("credit_officer", "viewer"):
        auth.login(make_user(admin.company, roles=(role,)).email)
        assert client.get("/designs/").status_code == 403
        auth.logout()


def test_the_index_lists_flows_with_their_current_version_and_count(client, signed_in, actor, make_design):
    first = make_design(flow_name="Gold loan")
    make_design({"start_node": "nowhere", "nodes": []}, flow=flows.get_flow(actor, first.flow_id))
    flows.create_flow(actor, name="Empty flow")
    page = client.get("/designs/").get_data(as_text=True)
    assert "Gold loan" in page and "<code>gold-loan</code>" in page
    assert "Version 1" in row(page, "Gold loan") and "<td>2</td>" in row(page, "Gold loan")
    empty = row(page, "Empty flow")
    assert "None yet: make a valid version current" in empty and "<td>0</td>" in empty


def test_a_flow_whose_draft_was_fixed_is_not_said_to_have_no_valid_version(client, signed_in, actor,
                                                                         make_design):
    """Fixing the only (invalid) version makes it valid but not current: the list said it had no
    valid version while its row on the flow's page said Valid."""
    draft = make_design({"start_node": "start", "nodes": []}, flow_name="Gold loan")
    post(client, f"/designs/{draft.id}", {"name": "fixed", "document": json.dumps(form_design())},
         page=f"/designs/{draft.id}")
    assert flows.get_design(actor, draft.id).is_valid
    index = row(client.get("/designs/").get_data(as_text=True), "Gold loan")
    assert "no valid version" not in index and "None yet: make a valid version current" in index
    assert "no valid version" not in client.get("/").get_data(as_text=True)


def test_a_new_flow_opens_the_editor_on_a_valid_start_to_end_design(client, signed_in, actor):
    response = post(client, "/designs/flows", {"name": "Car loan", "description": "Used cars"},
                    page="/designs/")
    assert response.status_code == 302
    editor = client.get(response.headers["Location"])
    html = editor.get_data(as_text=True)
    assert "Car loan · version 1" in html and "Flow “Car loan” created" in html
    document = json.loads(textarea(html)[1])
    assert [n["type"] for n in document["nodes"]] == ["start", "end"]
    summary = flow_queries.list_flow_summaries(actor).items[0]
    assert (summary.flow.name, summary.flow.description) == ("Car loan", "Used cars")
    assert summary.current_version == 1


def test_a_new_flow_without_a_name_is_explained_and_keeps_the_description(client, signed_in):
    response = post(client, "/designs/flows", {"name": "  ", "description": "Kept text"}, page="/designs/")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This field is required." in html and "Kept text" in html


def test_a_second_flow_of_the_same_name_is_refused_at_the_name(client, signed_in, actor):
    post(client, "/designs/flows", {"name": "Personal loan"}, page="/designs/")
    response = post(client, "/designs/flows", {"name": "personal  Loan", "description": "Kept text"},
                    page="/designs/")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert ('id="name-errors"><li>There is already a flow named “Personal loan”; choose another name.'
            in html)
    assert 'value="personal  Loan"' in html and "Kept text" in html
    assert [s.flow.slug for s in flow_queries.list_flow_summaries(actor).items] == ["personal-loan"]


def test_saving_valid_json_updates_the_version(client, signed_in, actor, make_design):
    design = make_design()
    document = form_design()
    document["nodes"][1]["position"] = {"x": 400, "y": 60}
    response = post(client, f"/designs/{design.id}", {"name": "With a position",
                                                      "document": json.dumps(document)},
                    page=f"/designs/{design.id}")
    assert response.status_code == 302
    assert "Saved version 1." in client.get(response.headers["Location"]).get_data(as_text=True)
    saved = flows.get_design(actor, design.id)
    assert saved.name == "With a position" and saved.document["nodes"][1]["position"] == {"x": 400, "y": 60}


def test_invalid_json_keeps_the_text_and_says_where_it_breaks(client, signed_in, actor, make_design):
    design = make_design()
    typed = '{"start_node": "start",\n  "nodes": [oops]}'
    response = post(client, f"/designs/{design.id}", {"name": "v1", "document": typed},
                    page=f"/designs/{design.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This is not valid JSON: Expecting value (line 2, column 13)." in html
    assert textarea(html)[1] == typed
    # The text on screen is not what is stored: designer.js asks before the page is left.
    assert 'data-unsaved="true"' in html
    assert 'data-unsaved="false"' in client.get(f"/designs/{design.id}").get_data(as_text=True)
    assert flows.get_design(actor, design.id).document == design.document


def test_a_json_list_is_not_a_design(client, signed_in, make_design):
    design = make_design()
    response = post(client, f"/designs/{design.id}", {"name": "v1", "document": "[1, 2]"},
                    page=f"/designs/{design.id}")
    assert response.status_code == 422
    assert "A design is a JSON object" in response.get_data(as_text=True)


def test_a_locked_version_refuses_the_save_with_the_service_message(client, signed_in, actor, make_design,
                                                                    lock):
    design = make_design()
    editor = client.get(f"/designs/{design.id}").get_data(as_text=True)  # opened before the runner started
    lock(design)
    changed = json.dumps({**form_design(), "name": "Edited too late"})
    response = post(client, f"/designs/{design.id}", {"name": "v1", "document": changed},
                    page=f"/designs/{design.id}")
    html = response.get_data(as_text=True)
    assert "readonly" not in textarea(editor)[0]
    assert response.status_code == 409
    assert "Version 1 has runners and cannot change; duplicate it and edit the copy." in html
    assert textarea(html)[1] == changed and "Edit as a new version" in html
    assert f'formaction="/designs/{design.id}/save-as-new">Save as a new version' in html  # keeps the text
    assert flows.get_design(actor, design.id).document["name"] == "Personal loan"


def test_the_current_version_must_stay_valid(client, signed_in, actor, make_design):
    design = make_design()
    broken = {"start_node": "start", "nodes": [{"name": "start", "type": "start"}]}
    response = post(client, f"/designs/{design.id}", {"name": "v1", "document": json.dumps(broken)},
                    page=f"/designs/{design.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not saved." in html and "The current design must stay valid." in html
    # Listed as Validate lists them (not as document.nodes[...] paths), their nodes marked.
    assert "Its problems are listed under Validate below" in html
    assert "1 problem in version 1 as it is in the editor" in html and "the design</span>:" in html
    assert json.loads(textarea(html)[1]) == broken
    saved = flows.get_design(actor, design.id)
    assert saved.is_valid and len(saved.document["nodes"]) == 3  # the refused document was not kept


def test_a_refused_save_of_the_current_version_can_be_kept_as_the_next_version(client, signed_in, actor,
                                                                             make_design):
    """The first version of a new flow is current at once: work in progress on it was refused with
    nowhere to go but a copy made from the saved version, which lost the text."""
    design = make_design()
    score = {"name": "score", "type": "code_snippet"}  # no code yet: the current version refuses it
    unfinished = {**form_design(), "nodes": [*form_design()["nodes"], score]}
    refused = post(client, f"/designs/{design.id}", {"name": "v1", "document": json.dumps(unfinished)},
                   page=f"/designs/{design.id}").get_data(as_text=True)
    action = f'formaction="/designs/{design.id}/save-as-new">Save as a new version</button>'
    assert action in refused
    assert "Save as a new version" in client.get(f"/designs/{design.id}").get_data(as_text=True)
    response = post(client, f"/designs/{design.id}/save-as-new",
                    {"name": "With scoring", "document": json.dumps(unfinished)},
                    page=f"/designs/{design.id}")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved as version 2; version 1 is unchanged. It has problems: Validate lists them." in html
    assert "With scoring" in html and json.loads(textarea(html)[1])["nodes"][-1]["name"] == "score"
    assert flows.get_design(actor, design.id).document == form_design()
    assert flows.get_flow(actor, design.flow_id).current_design_id == design.id


def test_save_as_a_new_version_keeps_bad_json_on_the_page(client, signed_in, make_design):
    design = make_design()
    response = post(client, f"/designs/{design.id}/save-as-new", {"name": "v", "document": '{"nodes": ['},
                    page=f"/designs/{design.id}")
    assert response.status_code == 422
    assert textarea(response.get_data(as_text=True))[1] == '{"nodes": ['


def test_an_invalid_draft_is_saved_with_a_warning(client, signed_in, actor, make_design):
    draft = make_design(flow=flows.get_flow(actor, make_design().flow_id))
    response = post(client, f"/designs/{draft.id}", {"name": "draft", "document": '{"nodes": []}'},
                    page=f"/designs/{draft.id}")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved version 2. It has problems: Validate lists them." in html
    assert "Had problems when last saved" in html


BROKEN = {"start_node": "start", "nodes": [
    {"name": "start", "type": "start", "edges": [{"type": "goto", "target_node": "call"}]},
    {"name": "call", "type": "api_call", "config": {"method": "post"},
     "edges": [{"type": "goto", "target_node": "done", "config": {"condition": "data.ok ==="}}]},
    {"name": "orphan", "type": "end"},
    {"name": "done", "type": "end"}]}


def check(client, design, document: str, *, headers: dict[str, str] | None = None, name: str = "v"):
    """Press Validate with `document` typed in the editor (the fields Save posts)."""
    return post(client, f"/designs/{design.id}/validate", {"name": name, "document": document},
                headers=headers, page=f"/designs/{design.id}")


def test_validate_lists_every_problem_with_its_location(client, signed_in, actor, make_design):
    design = make_design(BROKEN, flow=flows.get_flow(actor, make_design().flow_id))
    fragment = check(client, design, json.dumps(BROKEN), headers=HTMX)
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="problems"')
    assert "problems in version 2 as it is in the editor" in html
    assert "node “orphan”</span>:" in html and "unreachable" in html
    assert "node “call” · edges[0] · config.condition</span>" in html and "bad_condition" in html
    assert "node “call” · config" in html and "bad_config" in html
    assert json.loads(html.split("data-nodes='")[1].split("'")[0]) == ["call", "orphan"]

    page = check(client, design, json.dumps(BROKEN))
    assert "<html" in page.get_data(as_text=True) and "unreachable" in page.get_data(as_text=True)


def test_validate_says_in_plain_words_what_to_fix(client, signed_in, make_design):
    """Validate showed jsonschema's and Python's wording: "{} is not valid under any of the given
    schemas", "config.join 'None' is not a join node", "'data' is a required property"."""
    design = make_design()
    edited = form_design()
    edited["nodes"][0]["edges"][0]["target_node"] = "fork"
    edited["nodes"][1:1] = [
        {"name": "fork", "type": "parallel", "config": {},
         "edges": [{"type": "goto", "target_node": "wait"}, {"type": "goto", "target_node": "shape"}]},
        {"name": "wait", "type": "timer", "config": {}, "edges": [{"type": "goto", "target_node": "apply"}]},
        {"name": "shape", "type": "transform", "config": {},
         "edges": [{"type": "goto", "target_node": "apply"}]}]
    html = check(client, design, json.dumps(edited), headers=HTMX).get_data(as_text=True)
    assert "node “wait” · config</span>:\na timer needs `duration` or `until` <code>bad_config</code>" in html
    assert ("node “fork” · config.join</span>:\nconfig.join is missing: name the join node where this "
            "parallel&#39;s branches meet <code>parallel_without_join</code>") in html
    assert "node “shape” · config</span>:\n`data` is required <code>bad_config</code>" in html
    for raw in ("not valid under any", "None", "is a required property"):
        assert raw not in html


def test_validate_says_when_there_is_nothing_to_fix(client, signed_in, make_design):
    design = make_design()
    response = check(client, design, json.dumps(form_design()), headers=HTMX)
    html = response.get_data(as_text=True)
    assert "No problems found in version 1 as it is in the editor" in html and "data-nodes='[]'" in html


def test_validate_checks_the_unsaved_edit_and_saves_nothing(client, signed_in, actor, make_design):
    draft = make_design(flow=flows.get_flow(actor, make_design().flow_id))
    edited = form_design()
    edited["nodes"].append({"name": "stray", "type": "end", "config": {"status": "succeeded"}})

    html = check(client, draft, json.dumps(edited), headers=HTMX).get_data(as_text=True)
    assert "1 problem in version 2 as it is in the editor" in html
    assert "node “stray”</span>:" in html and "unreachable" in html
    assert json.loads(html.split("data-nodes='")[1].split("'")[0]) == ["stray"]
    saved = flows.get_design(actor, draft.id)
    assert saved.document == draft.document and saved.name == draft.name and saved.is_valid

    edited["nodes"][1]["edges"].append({"action": "park", "type": "goto", "target_node": "stray"})
    html = check(client, draft, json.dumps(edited), headers=HTMX).get_data(as_text=True)
    assert "No problems found in version 2 as it is in the editor; Save keeps it." in html
    assert len(flows.get_design(actor, draft.id).document["nodes"]) == 3  # still nothing saved


def test_validate_without_javascript_keeps_the_typed_edit_on_the_page(client, signed_in, actor, make_design):
    design = make_design()
    edited = form_design()
    edited["nodes"][0]["edges"][0]["target_node"] = "nowhere"
    typed = json.dumps(edited, indent=1)
    response = check(client, design, typed, name="")  # a blank name does not stop the check
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "problems in version 1 as it is in the editor" in html and "missing_target" in html
    assert textarea(html)[1] == typed
    assert flows.get_design(actor, design.id).document == design.document


def test_validate_explains_bad_json_and_keeps_the_text(client, signed_in, actor, make_design):
    design = make_design()
    typed = '{"start_node": "start",\n  "nodes": [oops]}'
    response = check(client, design, typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not validated." in html and "This is not valid JSON: Expecting value (line 2, column 13)." in html
    assert textarea(html)[1] == typed
    assert flows.get_design(actor, design.id).document == design.document

    fragment = check(client, design, typed, headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="problems"')  # the editor's text is not replaced
    assert "Not validated." in fragment and "Expecting value (line 2, column 13)" in fragment
    assert "data-nodes='[]'" in fragment


def test_mark_current_publishes_a_valid_version_and_refuses_an_invalid_one(client, signed_in, actor,
                                                                           make_design):
    first = make_design()
    flow = flows.get_flow(actor, first.flow_id)
    second = make_design(flow=flow)
    broken = make_design({"nodes": []}, flow=flow)

    assert "Make version 2 current" in client.get(f"/designs/{second.id}").get_data(as_text=True)
    response = post(client, f"/designs/{second.id}/current", page=f"/designs/{second.id}")
    assert response.headers["Location"] == f"/designs/flows/{flow.id}"
    assert "Version 2 is now current" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert flows.get_flow(actor, flow.id).current_design_id == second.id
    assert "Make version 2 current" not in client.get(f"/designs/{second.id}").get_data(as_text=True)

    # A version with problems is not offered for publishing, on its flow's page or in the editor.
    flow_html = client.get(f"/designs/flows/{flow.id}").get_data(as_text=True)
    assert "Make current" not in row(flow_html, 'id="version-3"')
    assert "Can be made current once its problems are fixed" in row(flow_html, 'id="version-3"')
    editor = client.get(f"/designs/{broken.id}").get_data(as_text=True)
    assert "Make version 3 current" not in editor and "once it is saved without problems" in editor

    # Asked anyway (a page from before it broke): refused where the admin stands, problems listed.
    response = post(client, f"/designs/{broken.id}/current", page=f"/designs/flows/{flow.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<h1>Personal loan</h1>" in html
    assert "Version 3 was not made current. Only a valid design can be current." in html
    assert "Open it and use Validate" not in html
    assert "the design · nodes</span>:" in html and "`nodes` needs at least 1 item" in html
    assert f'href="/designs/{broken.id}">Open version 3</a>' in html
    assert flows.get_flow(actor, flow.id).current_design_id == second.id


def test_make_current_refused_in_the_editor_keeps_the_admin_in_the_editor(client, signed_in, actor,
                                                                          make_design):
    first = make_design()
    checklist = {**form_design(), "nodes": [
        *form_design()["nodes"][:2],
        {"name": "done", "type": "checklist", "config": {},
         "edges": [{"action": "complete", "type": "goto", "target_node": "end"}]},
        {"name": "end", "type": "end"}]}
    broken = make_design(checklist, flow=flows.get_flow(actor, first.flow_id))
    response = post(client, f"/designs/{broken.id}/current", {"from": "editor"}, page=f"/designs/{broken.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Personal loan · version 2" in html
    assert "Version 2 was not made current. Only a valid design can be current." in html
    assert 'id="problems"' in html and "node “done”" in html
    assert "a checklist needs `template_id` or `items`" in html
    assert "data-nodes='[\"done\"]'" in html  # the drawing marks the node
    assert flows.get_flow(actor, first.flow_id).current_design_id == first.id


def test_duplicate_opens_the_copy_in_the_editor(client, signed_in, actor, make_design):
    design = make_design()
    response = post(client, f"/designs/{design.id}/duplicate", page=f"/designs/flows/{design.flow_id}")
    copy = flow_queries.list_versions(actor, design.flow_id)[0].design
    assert copy.version == 2 and copy.document == design.document
    assert response.headers["Location"] == f"/designs/{copy.id}"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Version 2 is a copy of version 1" in html and "Personal loan · version 2" in html


def test_a_version_with_runners_opens_read_only(client, signed_in, make_design, lock):
    design = make_design()
    lock(design)
    html = client.get(f"/designs/{design.id}").get_data(as_text=True)
    assert "This version is read-only" in html and "Edit as a new version" in html
    assert "readonly" in textarea(html)[0] and 'data-readonly="true"' in html
    assert 'value="Save"' not in html and 'id="add-node"' not in html


def test_the_flow_page_shows_each_versions_state(client, signed_in, actor, make_design, lock):
    first = make_design()
    lock(first)
    flow = flows.get_flow(actor, first.flow_id)
    make_design({"nodes": []}, flow=flow)
    html = client.get(f"/designs/flows/{flow.id}").get_data(as_text=True)
    v1, v2 = row(html, 'id="version-1"'), row(html, 'id="version-2"')
    assert "Current" in v1 and "Read-only: 1 runner" in v1 and "Valid" in v1 and "Make current" not in v1
    assert "Has problems" in v2 and "Editable" in v2 and "Make current" not in v2
    assert html.index('id="version-2"') < html.index('id="version-1"')  # newest first
    # Each row's links say which version to screen readers, in text hidden from sight (not moved
    # 999px left by the skip link's class, where a long text still showed).
    assert '>Edit<span class="visually-hidden"> version 2</span></a>' in v2
    assert 'class="skip"' not in html.split('id="main"')[1]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/designs/{design}"), ("GET", "/designs/flows/{flow}"), ("POST", "/designs/{design}"),
    ("POST", "/designs/{design}/validate"), ("POST", "/designs/{design}/current"),
    ("POST", "/designs/{design}/duplicate")])
def test_another_companys_flows_and_designs_are_not_found(client, auth, make_user, make_design, method, path):
    design = make_design()
    auth.login(make_user(roles=("admin",)).email)  # an admin of another company
    url = path.format(design=design.id, flow=design.flow_id)
    response = client.get(url) if method == "GET" else post(client, url, {"name": "x", "document": "{}"})
    assert response.status_code == 404
    assert "Personal loan" not in response.get_data(as_text=True)


@pytest.mark.parametrize("odd", [
    {"edges": [{"type": "goto", "target_node": ["done"]}]},
    {"edges": [{"type": "goto", "target_node": {"name": "done"}}]},
    {"position": {"x": "left", "y": None}},
])
def test_a_draft_with_an_odd_edge_target_or_position_still_opens_and_validates(client, signed_in, actor,
                                                                             make_design, odd):
    """A draft keeps whatever JSON was saved: an edge aimed at a list, or a position that is not two
    numbers, made the editor answer 500 on every visit (and Validate too), so the version could not
    be fixed here."""
    draft = make_design({"start_node": "start", "nodes": [{"name": "start", "type": "start", **odd},
                                                          {"name": "done", "type": "end"}]})
    page = client.get(f"/designs/{draft.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Had problems when last saved" in html
    raw = html.split("data-graph='", 1)[1].split("'", 1)[0]
    assert "NaN" not in raw and "Infinity" not in raw  # a browser's JSON.parse refuses both
    assert set(json.loads(raw.replace("&#34;", '"'))["positions"]) == {"start", "done"}
    checked = post(client, f"/designs/{draft.id}/validate",
                   {"name": "x", "document": json.dumps(draft.document)}, page=f"/designs/{draft.id}",
                   headers=HTMX)
    assert checked.status_code == 200 and "problem" in checked.get_data(as_text=True)


def test_a_nan_position_saved_before_saves_refused_it_is_laid_out_not_drawn_as_nan():
    """SQLite kept NaN and Infinity before saving refused them (PostgreSQL never did), and a page
    whose data-graph holds NaN does not parse in a browser."""
    data = graph_data({"start_node": "start", "nodes": [
        {"name": "start", "type": "start", "position": {"x": float("nan"), "y": float("inf")}},
        {"name": "done", "type": "end", "position": {"x": 300, "y": 40}}]})
    text = json.dumps(data)
    assert "NaN" not in text and "Infinity" not in text
    assert data["positions"]["done"] == {"x": 300.0, "y": 40.0}
    assert set(data["positions"]) == {"start", "done"}


def test_a_broken_more_flows_link_lists_the_first_flows_and_says_so(client, signed_in, make_design):
    """A "More flows" address cut short answered an error page with only a way to the dashboard."""
    make_design(flow_name="Gold loan")
    response = client.get("/designs/?after=not-a-token")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "These are the flows from the first." in html and "Gold loan" in html
    assert "New flow" in html  # the page, not an error page


@pytest.mark.parametrize("text", ['{"start_node": "s\\u0000", "nodes": []}',
                                  '{"start_node": "s", "nodes": [{"name": "s", "position": {"x": NaN}}]}',
                                  '{"start_node": "s", "nodes": [], "params": {"cap": Infinity}}'])
def test_json_the_database_cannot_keep_is_refused_at_the_field(client, signed_in, actor, make_design, text):
    """Python reads NaN and \\u0000, PostgreSQL stores neither (a 500 there), and a saved NaN left a
    page whose JSON no browser parses."""
    draft = make_design(flow=flows.get_flow(actor, make_design().flow_id))
    response = post(client, f"/designs/{draft.id}", {"name": "v", "document": text},
                    page=f"/designs/{draft.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "This cannot be stored:" in html
    assert textarea(html)[1] == text and flows.get_design(actor, draft.id).document == form_design()


@pytest.mark.parametrize("name", ["\u200b", "a\x00b"])
def test_a_flow_name_with_nothing_visible_or_a_control_character_is_refused(client, signed_in, name):
    response = post(client, "/designs/flows", {"name": name}, page="/designs/")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at least one visible character" in html or "may not contain control characters" in html


def test_an_admin_renames_a_flow_on_its_page_and_a_taken_name_keeps_the_text(client, signed_in, actor,
                                                                            make_design):
    """A typo in a flow's name could not be fixed in the browser: nothing on its page edited it."""
    design = make_design(flow_name="Persnal loan")
    make_design(flow_name="Gold loan")
    url = f"/designs/flows/{design.flow_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Rename or describe this flow" in page and 'value="Persnal loan"' in page
    taken = post(client, f"{url}/details", {"name": "gold LOAN", "description": "Typed"}, page=url)
    html = taken.get_data(as_text=True)
    assert taken.status_code == 409 and "There is already a flow named “Gold loan”" in html
    assert 'value="gold LOAN"' in html and "Typed" in html
    assert '<details class="card narrow-form flow-details" open>' in html
    done = post(client, f"{url}/details", {"name": "Personal loan", "description": "Salaried"}, page=url)
    assert done.status_code == 302
    assert "Saved the name and description of “Personal loan”." in client.get(url).get_data(as_text=True)
    flow = flows.get_flow(actor, design.flow_id)
    assert (flow.name, flow.description, flow.slug) == ("Personal loan", "Salaried", "persnal-loan")
    blank = post(client, f"{url}/details", {"name": "  "}, page=url)
    assert blank.status_code == 422 and "This field is required." in blank.get_data(as_text=True)
