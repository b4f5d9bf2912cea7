"""The visual editor in a real browser: add, connect, move, save, validate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.extensions import db
from app.services import flows
from tests.conftest import browser_sign_in


def open_editor(browser: Any, base: str, email: str, design_id: str) -> Any:
    page = browser_sign_in(browser, base, email)
    page.goto(f"{base}/designs/{design_id}")
    return page


def drag(page: Any, locator: Any, dx: float, dy: float) -> None:
    box = locator.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 40 + dx, box["y"] + 20 + dy, steps=5)
    page.mouse.up()


@pytest.mark.browser
def test_an_admin_draws_a_node_saves_it_and_validates(live_server: str, chromium: Any, admin, actor,
                                                      make_design) -> None:
    from playwright.sync_api import expect

    current = make_design()
    design = make_design(flow=flows.get_flow(actor, current.flow_id))  # a draft: it may be invalid
    page = open_editor(chromium, live_server, admin.email, design.id)
    canvas = page.locator("#canvas")
    expect(canvas.locator("g.node")).to_have_count(3)
    expect(page.locator("#source")).not_to_have_attribute("open", "")  # the drawing leads

    # Add a form node from the palette: it is selected and its panel opens.
    page.get_by_label("Node type", exact=True).first.select_option("form")
    page.get_by_role("button", name="Add node").click()
    node = canvas.locator('g.node[data-name="form_1"]')
    expect(node).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_label("Node name")).to_have_value("form_1")

    # Connect it to `done` on the `submit` action.
    page.get_by_label("Target node").select_option("done")
    page.get_by_label("Action", exact=True).fill("submit")
    page.get_by_role("button", name="Add edge").click()
    expect(canvas.locator("g.edge")).to_have_count(3)
    edge = {"action": "submit", "type": "goto", "target_node": "done"}
    expect(page.get_by_label("Edges (JSON)")).to_have_value(json.dumps([edge], indent=2))

    # Bad JSON in a panel field is explained and does not reach the document.
    page.get_by_label("Config (JSON)").fill('{"title": ')
    expect(page.locator("#node-config-error")).to_contain_text("Not valid JSON yet")
    page.get_by_label("Config (JSON)").fill('{"title": "Documents"}')
    expect(page.locator("#node-config-error")).to_be_hidden()

    before = node.bounding_box()
    drag(page, node, 100, 100)
    after = node.bounding_box()
    assert before and after and after["x"] > before["x"] + 80 and after["y"] > before["y"] + 80
    expect(page.locator("#dirty")).to_be_visible()

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Saved version 2. It has problems")
    db.session.expire_all()
    saved = {n["name"]: n for n in flows.get_design(actor, design.id).document["nodes"]}
    assert saved["form_1"]["type"] == "form" and saved["form_1"]["config"] == {"title": "Documents"}
    assert saved["form_1"]["edges"] == [edge]
    assert saved["form_1"]["position"]["x"] >= 100 and saved["form_1"]["position"]["y"] >= 100
    assert "position" not in saved["apply"]  # only what the admin moved gets a position

    # Nothing leads to form_1 yet: validation says so and the drawing marks it.
    validate = page.get_by_role("button", name="Validate", exact=True)
    validate.click()
    expect(page.locator("#problems")).to_contain_text("node “form_1”")
    expect(page.locator("#problems")).to_contain_text("unreachable")
    expect(canvas.locator('g.node[data-name="form_1"]')).to_have_class("node type-form has-problem")

    # Break something more without saving: Validate checks what is on screen, and saves nothing.
    page.get_by_label("Node type", exact=True).first.select_option("end")
    page.get_by_role("button", name="Add node").click()
    expect(canvas.locator('g.node[data-name="end_1"]')).to_have_count(1)
    validate.click()
    expect(page.locator("#problems")).to_contain_text("node “end_1”")
    expect(canvas.locator('g.node[data-name="end_1"]')).to_have_class("node type-end selected has-problem")
    expect(page.locator("#dirty")).to_be_visible()  # still the same page, edit unsaved
    db.session.expire_all()
    assert "end_1" not in {n["name"] for n in flows.get_design(actor, design.id).document["nodes"]}
    assert page.problems == []


@pytest.mark.browser
def test_leaving_with_unsaved_edits_asks_first_but_not_after_save(live_server: str, chromium: Any, admin,
                                                                  actor, make_design) -> None:
    from playwright.sync_api import expect

    current = make_design()
    design = make_design(flow=flows.get_flow(actor, current.flow_id))
    page = open_editor(chromium, live_server, admin.email, design.id)
    editor_url = page.url
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.dismiss()  # "stay on the page"

    page.on("dialog", answer)
    crumb = page.locator(".crumbs").get_by_role("link", name="Designs")

    # Untouched: leaving is silent.
    page.get_by_label("Version name").click()
    crumb.click()
    expect(page).to_have_url(f"{live_server}/designs/")
    assert asked == []

    # An edit nobody saved: the browser asks, and staying keeps the edit on screen.
    page.goto(editor_url)
    page.get_by_label("Node type", exact=True).first.select_option("notify")
    page.get_by_role("button", name="Add node").click()
    expect(page.locator("#dirty")).to_be_visible()
    crumb.click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    assert page.url == editor_url
    expect(page.locator('#canvas g.node[data-name="notify_1"]')).to_have_count(1)

    # Save keeps it without asking; the saved page leaves silently again.
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Saved version 2.")
    crumb.click()
    expect(page).to_have_url(f"{live_server}/designs/")
    assert asked == ["beforeunload"]
    db.session.expire_all()
    assert "notify_1" in {n["name"] for n in flows.get_design(actor, design.id).document["nodes"]}
    assert page.problems == []


@pytest.mark.browser
def test_make_current_with_unsaved_edits_says_they_are_not_in_it(live_server: str, chromium: Any, admin,
                                                                actor, make_design) -> None:
    from playwright.sync_api import expect

    current = make_design()
    design = make_design(flow=flows.get_flow(actor, current.flow_id))
    page = open_editor(chromium, live_server, admin.email, design.id)
    asked: list[tuple[str, str]] = []
    decision = {"accept": False}

    def answer(dialog: Any) -> None:
        asked.append((dialog.type, dialog.message))
        dialog.accept() if decision["accept"] else dialog.dismiss()

    page.on("dialog", answer)
    page.get_by_label("Node type", exact=True).first.select_option("notify")
    page.get_by_role("button", name="Add node").click()
    make = page.get_by_role("button", name=f"Make version {design.version} current")
    make.click()  # declined: nothing happens, the edit stays on screen
    page.wait_for_timeout(300)
    assert [kind for kind, _ in asked] == ["confirm"]
    assert "your unsaved changes are not in it and will be lost" in asked[0][1]
    expect(page.locator('#canvas g.node[data-name="notify_1"]')).to_have_count(1)
    db.session.expire_all()
    assert flows.get_flow(actor, design.flow_id).current_design_id == current.id

    decision["accept"] = True  # accepted: made current as saved, with no second "Leave site?"
    make.click()
    expect(page.locator(".flash")).to_contain_text("current")
    assert [kind for kind, _ in asked] == ["confirm", "confirm"]
    db.session.expire_all()
    assert flows.get_flow(actor, design.flow_id).current_design_id == design.id
    assert "notify_1" not in {n["name"] for n in flows.get_design(actor, design.id).document["nodes"]}


@pytest.mark.browser
def test_picking_a_target_ends_with_escape_from_the_button_or_a_click_beside_the_nodes(
        live_server: str, chromium: Any, admin, actor, make_design) -> None:
    """After "or pick the target on the drawing" focus is on that button, where Escape did nothing,
    and a click beside the nodes did nothing either: the next node clicked got an edge."""
    from playwright.sync_api import expect

    current = make_design()
    design = make_design(flow=flows.get_flow(actor, current.flow_id))
    page = open_editor(chromium, live_server, admin.email, design.id)
    canvas = page.locator("#canvas")
    canvas.locator('g.node[data-name="apply"]').click()
    pick = page.get_by_role("button", name="or pick the target on the drawing")

    pick.click()
    expect(canvas.locator("g.node.picking")).to_have_count(2)
    page.keyboard.press("Escape")  # focus is still on the button
    expect(canvas.locator("g.node.picking")).to_have_count(0)
    expect(page.locator("#announce")).to_have_text("Stopped picking a target.")

    pick.click()
    canvas.click(position={"x": 5, "y": 5})  # the margin beside every node
    expect(canvas.locator("g.node.picking")).to_have_count(0)
    expect(canvas.locator('g.node[data-name="apply"]')).to_have_attribute("aria-pressed", "true")
    canvas.locator('g.node[data-name="start"]').click()  # selects it: no edge added
    expect(canvas.locator("g.edge")).to_have_count(2)
    expect(page.locator("#dirty")).to_be_hidden()
    assert page.problems == []
