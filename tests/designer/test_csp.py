"""Every designer page, including the editor of an editable and of a read-only version, keeps the CSP."""

from __future__ import annotations

from app.services import flows
from tests.security.test_pages_keep_csp import audit_page, crawl


def test_the_designer_pages_keep_the_csp_and_csrf(client, signed_in, actor, make_design, lock):
    locked = make_design()
    lock(locked)
    draft = make_design({"nodes": []}, flow=flows.get_flow(actor, locked.flow_id))

    pages = crawl(client, "/designs/")
    expected = {"/designs/", f"/designs/flows/{locked.flow_id}", f"/designs/{locked.id}",
                f"/designs/{draft.id}"}
    assert expected <= set(pages), sorted(pages)
    assert {url: problems for url, problems in pages.items() if problems} == {}
    editor = client.get(f"/designs/{draft.id}").get_data(as_text=True)
    assert 'src="/static/js/designer.js"' in editor and "data-graph=" in editor
    assert audit_page(editor).problems == []
