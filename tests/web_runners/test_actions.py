"""Cancel and retry from the runner page: operators only, CSRF-protected, refusals shown as messages."""

from __future__ import annotations

from app.extensions import db
from app.services import runners, stores
from tests.web_runners.conftest import FAILS, WAITS


def status_of(lender, runner) -> str:
    db.session.expire_all()
    return runners.get_runner(lender.admin, runner.id).status


def test_an_officer_cancels_with_a_reason(client, lender, sign_in):
    runner = lender.start(lender.flow(WAITS))
    csrf = sign_in("credit_officer")
    page = client.get(f"/runners/{runner.id}").get_data(as_text=True)
    assert f'action="/runners/{runner.id}/cancel"' in page
    assert f'data-confirm="Cancel {runner.ref_id} for good?' in page  # runners.js asks before sending
    assert ">Retry</button>" not in page  # only a failed runner is retried

    response = client.post(f"/runners/{runner.id}/cancel",
                           data={"csrf_token": csrf, "reason": "Duplicate file"})
    assert response.status_code == 303 and response.headers["Location"] == f"/runners/{runner.id}"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{runner.ref_id} cancelled." in html
    assert 'id="runner-status">cancelled<' in html and "Duplicate file" in html
    assert "Cancel this runner" not in html  # nothing left to offer
    assert status_of(lender, runner) == "cancelled"


def test_a_cancel_without_a_good_reason_keeps_what_was_typed(client, lender, sign_in):
    runner = lender.start(lender.flow(WAITS))
    csrf = sign_in("admin")
    missing = client.post(f"/runners/{runner.id}/cancel", data={"csrf_token": csrf, "reason": "  "})
    assert missing.status_code == 422
    assert missing.get_data(as_text=True).count("Say why the runner is cancelled.") == 1  # at the field
    too_long = "because " * 70
    response = client.post(f"/runners/{runner.id}/cancel", data={"csrf_token": csrf, "reason": too_long})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Field cannot be longer than 500 characters." in html
    # The alert pointed at the wrong problem ("Say why") for a reason that was only too long.
    assert 'role="alert">Not cancelled: see the reason below.</p>' in html
    assert "Say why the runner is cancelled." not in html
    assert too_long.strip() in html and "<details class=\"cancel\" open>" in html
    assert client.post(f"/runners/{runner.id}/cancel", data={"reason": "no CSRF token"}).status_code == 400
    assert status_of(lender, runner) == "waiting"


def test_a_conflict_is_a_message_not_an_error_page(client, lender, sign_in):
    runner = lender.start(lender.flow(WAITS))
    runners.cancel_runner(lender.admin, runner.id, reason="first")
    csrf = sign_in("admin")
    # A second tab still shows the cancel form: the service refuses, the page says why.
    again = client.post(f"/runners/{runner.id}/cancel", data={"csrf_token": csrf, "reason": "again"},
                        follow_redirects=True)
    assert again.status_code == 200 and "runner is already cancelled" in again.get_data(as_text=True)
    retried = client.post(f"/runners/{runner.id}/retry", data={"csrf_token": csrf}, follow_redirects=True)
    assert retried.status_code == 200
    assert "This runner has no failed node to run again." in retried.get_data(as_text=True)


def test_retry_runs_the_failed_node_again(client, lender, sign_in):
    runner = lender.start(lender.flow(FAILS))
    csrf = sign_in("credit_officer")
    assert ">Retry</button>" in client.get(f"/runners/{runner.id}").get_data(as_text=True)
    still = client.post(f"/runners/{runner.id}/retry", data={"csrf_token": csrf}, follow_redirects=True)
    # Failed again is not good news: it is said as a warning, not in a success box.
    page = still.get_data(as_text=True)
    assert f'<p class="flash flash-danger">{runner.ref_id} retried: now failed.</p>' in page

    stores.update_runner_store(lender.admin, runner.id, {"ok": True})
    fixed = client.post(f"/runners/{runner.id}/retry", data={"csrf_token": csrf}, follow_redirects=True)
    html = fixed.get_data(as_text=True)
    assert f'<p class="flash flash-success">{runner.ref_id} retried: now succeeded.</p>' in html
    assert 'id="runner-status">succeeded<' in html
    assert ">Retry</button>" not in html
    assert client.post(f"/runners/{runner.id}/retry", data={}).status_code == 400  # no CSRF token
    assert status_of(lender, runner) == "succeeded"


def test_viewers_see_no_actions_and_their_posts_are_refused(client, lender, sign_in):
    failed = lender.start(lender.flow(FAILS))
    csrf = sign_in("viewer")
    page = client.get(f"/runners/{failed.id}").get_data(as_text=True)
    assert ">Retry</button>" not in page and "Cancel this runner" not in page
    assert client.post(f"/runners/{failed.id}/retry", data={"csrf_token": csrf}).status_code == 403
    assert client.post(f"/runners/{failed.id}/cancel",
                       data={"csrf_token": csrf, "reason": "viewer"}).status_code == 403
    assert status_of(lender, failed) == "failed"
