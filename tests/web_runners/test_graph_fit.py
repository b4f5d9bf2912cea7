"""The runner graph fits its box while it stays legible, else its box scrolls: focusable, with a note."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from app.web.runners.drawing import FIT_MAX, FIT_STEP, LEGIBLE_SCALE, Drawing, draw

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "runners.css"


def chain(columns: int) -> dict[str, Any]:
    """start -> s1 -> … -> end: one node per column, so the drawing is 10 + 220 * columns px wide."""
    names = ["start", *[f"step_{i}" for i in range(1, columns - 1)], "end"]
    nodes: list[dict[str, Any]] = [{"name": "start", "type": "start",
                                    "edges": [{"type": "goto", "target_node": names[1]}]}]
    for name, after in pairwise(names[1:]):
        nodes.append({"name": name, "type": "form", "config": {"schema": {"type": "object"}},
                      "permissions": [{"roles": ["admin"], "actions": ["submit"]}],
                      "edges": [{"action": "submit", "type": "goto", "target_node": after}]})
    nodes.append({"name": "end", "type": "end"})
    return {"name": "Long", "start_node": "start", "nodes": nodes}


@pytest.mark.parametrize(("width", "floor", "css_class", "wide"), [
    (1330, 1000, "graph--min-1000", False),  # the reviewer's 1330px drawing fits a 1078px box
    (450, 350, "graph--min-350", False),
    (2210, 1700, "graph--min-1700", True),
    (2650, 2000, "graph--min-2000", True),
    (2870, 2200, "graph--natural", True),  # too wide to shrink legibly: its own size, scrolled
])
def test_a_drawing_shrinks_no_further_than_it_stays_legible(width, floor, css_class, wide):
    drawing = Drawing([], [], width, 300)
    assert (drawing.min_width, drawing.fit_class, drawing.wide) == (floor, css_class, wide)
    assert floor >= width * LEGIBLE_SCALE


def test_runners_css_has_every_floor_class_a_drawing_can_get():
    css = CSS.read_text()
    assert re.search(r"\.graph \{ max-width:100%; height:auto; \}", css)
    one_node = draw(chain(2), current=[], statuses={}, runner_status="queued")  # the narrowest
    for floor in range(one_node.min_width, FIT_MAX + 1, FIT_STEP):
        assert f".graph--min-{floor} {{ min-width:{floor}px; }}" in css


def test_the_graph_box_is_a_focusable_region_and_a_wide_one_says_it_scrolls(client, lender, sign_in):
    fits = lender.start(lender.flow(chain(6)))
    wide = lender.start(lender.flow(chain(10)))
    sign_in("viewer")
    page = client.get(f"/runners/{fits.id}").get_data(as_text=True)
    assert (f'<div class="graph-scroll" id="graph-scroll" tabindex="0" role="region" '
            f'aria-label="Graph of {fits.ref_id} on its design">') in page
    assert '<svg class="graph graph--min-1000"' in page and 'width="1330"' in page
    assert 'viewBox="0 0 1330 ' in page
    assert "Scroll sideways" not in page and "scroll sideways" not in page

    page = client.get(f"/runners/{wide.id}").get_data(as_text=True)
    assert (f'<div class="graph-scroll" id="graph-scroll" tabindex="0" role="region" '
            f'aria-label="Graph of {wide.ref_id} on its design" aria-describedby="graph-hint">') in page
    assert '<svg class="graph graph--min-1700"' in page
    assert ('<p class="help graph-hint" id="graph-hint">This graph is wide: scroll sideways to see the '
            'whole graph. The table below lists every node too.</p>') in page
    # The node table says where an end node leads in words, not with a dash.
    assert "<td>nowhere: the runner ends here</td>" in page and "<td>\u2013</td>" not in page


@pytest.mark.browser
def test_the_graph_fits_a_laptop_window_and_a_wider_one_scrolls_by_keyboard(live_server: str, chromium: Any,
                                                                            lender: Any) -> None:
    from playwright.sync_api import expect

    fits = lender.start(lender.flow(chain(6)))
    wide = lender.start(lender.flow(chain(12)))
    page = browser_page(chromium, live_server, lender)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server}/runners/{fits.id}")
    box = page.locator("#graph-scroll")
    sizes = box.evaluate("b => ({box: b.clientWidth, scroll: b.scrollWidth,"
                         " svg: b.querySelector('svg').getBoundingClientRect().toJSON()})")
    assert sizes["scroll"] <= sizes["box"]  # nothing hidden to the right
    assert sizes["svg"]["width"] <= sizes["box"] and sizes["svg"]["width"] >= 1000
    # It kept the proportions of its viewBox: shrunk, not squashed.
    drawn_height = int(page.locator("svg.graph").get_attribute("height"))
    assert abs(sizes["svg"]["height"] / sizes["svg"]["width"] - drawn_height / 1330) < 0.01
    end = page.locator('g.node[data-node="end"]').bounding_box()
    assert end is not None and end["x"] + end["width"] <= sizes["svg"]["x"] + sizes["svg"]["width"] + 1
    expect(page.locator("#graph-hint")).to_have_count(0)

    page.goto(f"{live_server}/runners/{wide.id}")
    expect(page.locator("#graph-hint")).to_be_visible()
    box = page.locator("#graph-scroll")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")
    for _ in range(20):  # Tab from the top of the page reaches the graph's box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "graph-scroll":
            break
    assert page.evaluate("document.activeElement.id") == "graph-scroll"
    page.keyboard.press("ArrowRight")
    for _ in range(20):  # scrolling may be smooth: give it a moment
        if box.evaluate("b => b.scrollLeft") > 0:
            break
        page.wait_for_timeout(50)
    assert box.evaluate("b => b.scrollLeft") > 0
    assert page.problems == []  # no CSP violation, no script error


def browser_page(chromium: Any, live_server: str, lender: Any) -> Any:
    from tests.conftest import browser_sign_in

    return browser_sign_in(chromium, live_server, lender.users["viewer"].email)
