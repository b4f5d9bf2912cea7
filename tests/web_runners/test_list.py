"""The runner list: newest first with its columns, filters swapped in by htmx, older pages, empty states."""

from __future__ import annotations

import re

from app.services import flows, runners
from app.services.principal import Principal
from app.web.runners import views
from tests.web_runners.conftest import FAILS, HTMX, WAITS


def refs(html: str) -> list[str]:
    return re.findall(r">(RUNNER-\d{4}-\d+)</a>", html)


def test_lists_the_companys_runners_newest_first_with_their_columns(client, lender, sign_in):
    loans = lender.flow(WAITS, name="Home loans")
    gates = lender.flow(FAILS, name="Gated loans")
    asha = lender.customer(name="Asha Rao", email="asha@example.com", mobile="+919800000011")
    first = lender.start(loans, customer=asha)
    second = lender.start(gates)
    sign_in("viewer")

    html = client.get("/runners/").get_data(as_text=True)

    assert refs(html) == [second.ref_id, first.ref_id]
    row = html[html.index(first.ref_id):].split("</tr>")[0]
    assert "Home loans" in row and "v1" in row
    assert 'class="badge badge--waiting">waiting<' in row
    assert "application" in row and "<td>apply</td>" in row and "Asha Rao" in row
    failed = html[html.index(second.ref_id):].split("</tr>")[0]
    assert "badge--failed" in failed and "Gated loans" in failed
    assert f'href="/runners/{first.id}"' in html


def test_filters_narrow_the_list_and_htmx_gets_only_the_list(client, lender, sign_in):
    loans = lender.flow(WAITS, name="Home loans")
    gates = lender.flow(FAILS, name="Gated loans")
    waiting = lender.start(loans)
    failed = lender.start(gates)
    bola = lender.customer(name="Bola", email="bola@example.com")
    bolas = lender.start(loans, customer=bola)
    sign_in("credit_officer")

    page = client.get("/runners/").get_data(as_text=True)
    assert 'hx-get="/runners/"' in page and 'hx-target="#runner-list"' in page
    assert 'hx-push-url="true"' in page
    assert '<option value="failed">failed</option>' in page and ">Gated loans</option>" in page

    by_status = client.get("/runners/?status=failed", headers=HTMX).get_data(as_text=True)
    assert refs(by_status) == [failed.ref_id]
    assert "<html" not in by_status and 'role="search"' not in by_status
    assert 'id="runner-list"' in by_status and "filtered" in by_status

    by_flow = client.get(f"/runners/?flow={loans.id}", headers=HTMX).get_data(as_text=True)
    assert refs(by_flow) == [bolas.ref_id, waiting.ref_id]
    by_stage = client.get("/runners/?stage=application&q=bola@example.com", headers=HTMX)
    by_stage = by_stage.get_data(as_text=True)
    assert refs(by_stage) == [bolas.ref_id]
    by_ref = client.get(f"/runners/?q={failed.ref_id.lower()}").get_data(as_text=True)
    assert refs(by_ref) == [failed.ref_id] and "<html" in by_ref
    assert f'value="{failed.ref_id.lower()}"' in by_ref  # the search box keeps what was typed

    none = client.get("/runners/?q=nobody@example.com", headers=HTMX).get_data(as_text=True)
    assert refs(none) == [] and "No runner matches these filters." in none


def test_a_filter_the_list_does_not_know_is_named_and_ignored(client, lender, sign_in):
    loans = lender.flow(WAITS)
    runner = lender.start(loans)
    sign_in("viewer")
    html = client.get("/runners/?flow=not-a-flow&status=waiting").get_data(as_text=True)
    assert "Not a valid choice" in html
    assert refs(html) == [runner.ref_id]


def test_older_pages_follow_the_continuation_token(client, lender, sign_in, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    loans = lender.flow(WAITS)
    made = [lender.start(loans) for _ in range(5)]
    sign_in("admin")

    first = client.get("/runners/?status=waiting").get_data(as_text=True)
    assert refs(first) == [made[4].ref_id, made[3].ref_id]
    older = re.search(r'<a href="(/runners/\?[^"]*continuation_token=[^"]+)"', first).group(1)
    older = older.replace("&amp;", "&")
    assert "status=waiting" in older
    second = client.get(older, headers=HTMX).get_data(as_text=True)
    assert refs(second) == [made[2].ref_id, made[1].ref_id]
    assert "Older runners" in second and ">Newest</a>" in second
    last_url = re.search(r'<a href="(/runners/\?[^"]*continuation_token=[^"]+)"', second).group(1)
    last = client.get(last_url.replace("&amp;", "&"), headers=HTMX).get_data(as_text=True)
    assert refs(last) == [made[0].ref_id]
    assert ">Older</a>" not in last


def test_a_broken_token_is_explained_not_a_crash(client, lender, sign_in):
    lender.start(lender.flow(WAITS))
    sign_in("viewer")
    response = client.get("/runners/?continuation_token=forged")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Invalid continuation token." in html and "Start again from the newest runners." in html
    assert ">Newest</a>" in html


def test_empty_states_and_another_companys_runners(client, lender, sign_in, make_company, make_user):
    sign_in("viewer")
    assert "No runners yet." in client.get("/runners/").get_data(as_text=True)

    other = make_company("Other Lending", "other")
    intruder = make_user(other)
    actor = Principal.for_user(intruder)
    flow = flows.create_flow(actor, name="Theirs")
    flows.create_design(actor, flow_id=flow.id, document=WAITS)
    theirs = runners.create_runner(actor, flow_id=flow.id).runner
    html = client.get("/runners/").get_data(as_text=True)
    assert theirs.ref_id not in html and "Theirs" not in html
    assert client.get(f"/runners/{theirs.id}").status_code == 404
