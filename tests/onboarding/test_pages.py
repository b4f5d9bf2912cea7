"""Onboarding pages: sign in by code, steps from JSON Schema with field errors, uploads, progress, outbox."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from app.models import Company, Runner
from app.services import documents, runners, senders
from app.services.demo_flows import ONBOARDING_SLUG, load_demo_onboarding
from app.services.principal import Principal
from tests.conftest import AuthActions
from tests.onboarding.conftest import ABOUT_YOU, ADDRESS, E164, PDF, Onboarding, last_code


def _text(response) -> str:
    return response.get_data(as_text=True)


def _complete(onboarding: Onboarding) -> None:
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    assert onboarding.submit(ADDRESS, "address").status_code == 302
    uploaded = onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "pan.pdf")})
    assert uploaded.status_code == 302


def test_from_phone_number_to_under_review(onboarding: Onboarding) -> None:
    page = _text(onboarding.client.get(onboarding.url))
    assert '<label for="destination">Mobile number or email</label>' in page
    onboarding.sign_in()
    first = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "About you" in first and 'aria-current="step"' in first
    _complete(onboarding)
    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "Under review" in page
    assert re.search(r'stage-done">\s*Documents', page) and re.search(r'stage-current"[^>]*>\s*Review', page)
    runner = db.session.query(Runner).one()
    assert runner.current_nodes == ["review"] and runner.status == "waiting"
    store = runners.runtime.load(runner.id).store.data
    assert store["applicant"]["monthly_income"] == 85000 and store["address"]["consent"] is True
    # The step's upload went into the documents service: the store names the Document the
    # node opened, and that document holds the file.
    pan_id = store["documents"]["documents"]["pan_card"]
    pan = documents.get_document(Principal.system(runner.company_id), pan_id)
    assert pan.doc_type == "pan_card" and pan.status == "uploaded"
    assert [(f.filename, f.content_type) for f in pan.files] == [("pan.pdf", "application/pdf")]


def test_signing_in_again_continues_where_the_customer_left(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    token = re.search(r'name="csrf_token" value="([^"]+)"', _text(onboarding.client.get(
        f"{onboarding.url}/step"))).group(1)
    onboarding.client.post(f"{onboarding.url}/sign-out", data={"csrf_token": token})
    assert onboarding.client.get(f"{onboarding.url}/step").status_code == 302
    senders.clear_outbox()
    from app.extensions import limiter
    from app.services import otp
    limiter.limiter.clear(otp.SEND_LIMITS[0], "otp-send", f"sms:{E164}")
    onboarding.sign_in("+91 98765 43210")
    assert "Your address" in _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert db.session.query(Runner).count() == 1


def test_a_wrong_code_shows_one_message_on_the_field(onboarding: Onboarding) -> None:
    onboarding.send()
    code = last_code(onboarding.company.id)
    response = onboarding.enter(f"{(int(code) + 1) % 10**6:06d}")
    assert response.status_code == 422
    assert 'id="code-errors"' in _text(response) and "That code is not valid" in _text(response)
    assert 'aria-invalid="true"' in _text(response)


def test_an_invalid_destination_is_a_field_error(onboarding: Onboarding) -> None:
    response = onboarding.send("12345")
    assert response.status_code == 422
    assert "Enter a valid mobile number or email address." in _text(response)


def test_a_second_send_within_a_minute_is_refused_with_retry_after(onboarding: Onboarding) -> None:
    onboarding.send()
    response = onboarding.send()
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= 60 and f"A new code can be sent in {wait} seconds." in _text(response)


def test_a_failed_send_shows_a_message_and_the_form_again(app: Flask, onboarding: Onboarding) -> None:
    class Broken:
        name = "broken"

        def send(self, message: senders.OutgoingMessage) -> None:
            raise senders.SendFailed()

    app.extensions["flowdesk_otp_sender"] = Broken()
    response = onboarding.send()
    assert response.status_code == 503
    assert "We could not send the code" in _text(response) and 'name="destination"' in _text(response)
    app.extensions["flowdesk_otp_sender"] = senders.ConsoleSender()
    assert onboarding.send().status_code == 302


def test_form_fields_come_from_the_schema(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    onboarding.submit(ABOUT_YOU, "about_you")
    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert '<option value="KARNATAKA">Karnataka</option>' in page  # enum with enumNames labels
    assert 'type="checkbox" id="f-consent"' in page
    assert '<label for="f-pincode">PIN code</label>' in page


def test_server_side_validation_gives_field_level_messages(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    bad = {**ABOUT_YOU, "pan": "abc", "monthly_income": "lots", "date_of_birth": "01/04/1990"}
    del bad["full_name"]
    response = onboarding.submit(bad, "about_you")
    page = _text(response)
    assert response.status_code == 422
    assert re.search(r'id="f-full_name-errors"[^>]*><li>This field is required.</li>', page)
    assert re.search(r'id="f-monthly_income-errors"[^>]*><li>Enter a number.</li>', page)
    assert re.search(r'id="f-date_of_birth-errors"[^>]*><li>Enter a date as YYYY-MM-DD.</li>', page)
    again = onboarding.submit({**ABOUT_YOU, "pan": "abc"}, "about_you")
    assert re.search(r'id="f-pan-errors"[^>]*><li>Enter it in the expected format', _text(again))
    assert 'value="Asha Rao"' in _text(again)  # what the customer typed is kept
    unticked = {k: v for k, v in ADDRESS.items() if k != "consent"}
    onboarding.submit(ABOUT_YOU, "about_you")
    assert "Tick this box to continue." in _text(onboarding.submit(unticked, "address"))


def test_inline_validation_answers_one_fields_errors(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', _text(onboarding.client.get(f"{onboarding.url}/step")))
    headers = {"HX-Request": "true", "X-CSRFToken": token.group(1)}
    bad = onboarding.client.post(f"{onboarding.url}/validate", data={"_field": "pan", "pan": "abc"},
                                 headers=headers)
    assert bad.status_code == 200
    assert _text(bad).startswith('<ul class="errors" id="f-pan-errors"') and "expected format" in _text(bad)
    good = onboarding.client.post(f"{onboarding.url}/validate",
                                  data={"_field": "pan", "pan": "ABCDE1234F"}, headers=headers)
    assert "<li>" not in _text(good)


def test_document_steps_require_and_check_uploads(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    onboarding.submit(ABOUT_YOU, "about_you")
    onboarding.submit(ADDRESS, "address")
    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert 'name="file-pan_card"' in page and "(optional)" in page
    missing = onboarding.submit({}, "documents")
    assert missing.status_code == 422 and "Choose a file to upload." in _text(missing)
    exe = (io.BytesIO(b"MZ\x90\x00 exe"), "pan.pdf")
    wrong = onboarding.submit({}, "documents", **{"file-pan_card": exe})
    assert wrong.status_code == 422 and "Upload a PDF, an image" in _text(wrong)
    cut_off = (io.BytesIO(b"%PDF-1.7\n1 0 obj\n<< /Length 900 >>\nstream\n" + b"x" * 400), "pan.pdf")
    damaged = onboarding.submit({}, "documents", **{"file-pan_card": cut_off})
    assert damaged.status_code == 422 and "cut off while saving or sending" in _text(damaged)
    assert db.session.query(Runner).one().current_nodes == ["documents"]


def test_a_stale_step_submission_is_not_applied_twice(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    onboarding.submit(ABOUT_YOU, "about_you")
    response = onboarding.submit(ABOUT_YOU, "about_you")
    assert response.status_code == 302
    assert db.session.query(Runner).one().current_nodes == ["address"]


def test_progress_polls_while_running_and_moves_on_when_a_step_waits(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    runner = db.session.query(Runner).one()
    runner.status = "running"  # as with a slow automatic step on a worker
    db.session.commit()
    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "Working on it" in page and 'hx-trigger="every 2s"' in page
    assert '<meta http-equiv="refresh"' in page  # without JavaScript too
    partial = onboarding.client.get(f"{onboarding.url}/progress", headers={"HX-Request": "true"})
    assert _text(partial).startswith('<div id="progress"')
    runner.status = "waiting"
    db.session.commit()
    moved = onboarding.client.get(f"{onboarding.url}/progress", headers={"HX-Request": "true"})
    assert moved.headers["HX-Redirect"] == f"{onboarding.url}/step"


def test_pages_need_a_signed_in_customer_and_a_known_flow(onboarding: Onboarding,
                                                          client: FlaskClient) -> None:
    assert client.get(f"{onboarding.url}/step").headers["Location"] == onboarding.url
    assert client.get(f"{onboarding.url}/code").status_code == 302
    assert client.get("/onboard/no-such-flow").status_code == 404


def test_a_slug_shared_by_two_companies_needs_the_company(onboarding: Onboarding, make_company) -> None:
    other = make_company()
    load_demo_onboarding(other)
    assert onboarding.client.get(f"/onboard/{ONBOARDING_SLUG}").status_code == 404
    page = onboarding.client.get(f"/onboard/{ONBOARDING_SLUG}?company={other.slug}")
    assert page.status_code == 200 and other.name in _text(page)


def test_a_session_for_one_company_does_not_open_another(onboarding: Onboarding, make_company) -> None:
    onboarding.sign_in()
    other = make_company()
    load_demo_onboarding(other)
    response = onboarding.client.get(f"/onboard/{ONBOARDING_SLUG}/step?company={other.slug}")
    assert response.status_code == 302


def test_the_outbox_is_for_admins_in_demo_mode_only(database_url: str, make_user,
                                                    client: FlaskClient, demo_company: Company) -> None:
    assert client.get("/onboard-outbox/").status_code == 404
    demo = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "FLOWDESK_DEMO": True,
                       "SECRET_KEY": "test-secret-key-that-is-long-enough-for-prod",
                       "RATELIMIT_STORAGE_URI": "memory://"})
    demo.test_client_class = type(client)
    demo_client = demo.test_client()
    demo_auth = AuthActions(demo_client)
    officer = make_user(demo_company, roles=("credit_officer",))
    admin = make_user(demo_company, roles=("admin",))
    senders.ConsoleSender().send(senders.OutgoingMessage(demo_company.id, "sms", E164, "s",
                                                         "654321 is your code", "654321"))
    demo_auth.login(officer.email)
    assert demo_client.get("/onboard-outbox/").status_code == 403
    demo_auth.logout()
    demo_auth.login(admin.email)
    page = _text(demo_client.get("/onboard-outbox/"))
    assert "654321 is your code" in page and 'href="/onboard-outbox/"' in page
    with demo.app_context():
        db.engine.dispose()  # the second app's pooled connections, before the database is reset


def test_load_demo_onboarding_is_idempotent_and_valid(app: Flask, demo_company: Company) -> None:
    flow = load_demo_onboarding(demo_company)
    assert load_demo_onboarding(demo_company).id == flow.id
    started = runners.create_runner(Principal.system(demo_company.id), flow_id=flow.id).runner
    assert started.current_nodes == ["about_you"] and started.stage == "Your details"


def test_customer_pages_carry_the_lenders_name_not_flowdesks(onboarding: Onboarding) -> None:
    lender = onboarding.company.name
    page = _text(onboarding.client.get(onboarding.url))
    assert f'<span class="brand">{lender}</span>' in page
    assert re.search(rf"<title>[^<]* · {re.escape(lender)}</title>", page)
    assert "Flowdesk" not in page.split("</header>")[0]
    staff = _text(onboarding.client.get("/login"))  # staff pages stay Flowdesk's
    assert "· Flowdesk</title>" in staff and ">Flowdesk</a>" in staff
