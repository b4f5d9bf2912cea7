"""A flow closed to customers: those part-way through an application carry on; nobody starts a new one."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.extensions import db, limiter
from app.models import Customer, Runner, User
from app.services import documents, flows, otp, runners
from app.services.principal import Principal
from tests.conftest import csrf_from
from tests.onboarding.conftest import (
    ABOUT_YOU,
    ADDRESS,
    E164,
    PDF,
    Onboarding,
    flow_without_reupload,
    last_code,
)

OTHER_MOBILE, OTHER_E164 = "9811122233", "+919811122233"


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _close(onboarding: Onboarding) -> None:
    flows.set_customer_onboarding(Principal.system(onboarding.company.id), onboarding.flow.id, open_=False)
    db.session.expire_all()


def _runners(customer_mobile: str = E164) -> list[Runner]:
    db.session.expire_all()
    return list(db.session.scalars(select(Runner).join(Customer, Customer.id == Runner.customer_id)
                                   .where(Customer.mobile == customer_mobile)))


def _sign_out(onboarding: Onboarding) -> None:
    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    onboarding.client.post(f"{onboarding.url}/sign-out", data={"csrf_token": csrf_from(page)})
    limiter.limiter.clear(otp.SEND_LIMITS[0], "otp-send", f"sms:{E164}")  # a new code at once


def _someone_else(app: Flask, onboarding: Onboarding) -> Onboarding:
    return Onboarding(onboarding.company, onboarding.flow, app.test_client())


def test_a_customer_part_way_through_finishes_after_the_flow_closes(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    _close(onboarding)

    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "Your address" in page
    assert onboarding.submit(ADDRESS, "address").status_code == 302
    uploaded = onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "pan.pdf")})
    assert uploaded.status_code == 302
    assert "Under review" in _text(onboarding.client.get(f"{onboarding.url}/step"))
    progress = onboarding.client.get(f"{onboarding.url}/progress")
    assert progress.status_code == 200 and "Under review" in _text(progress)
    [runner] = _runners()
    assert runner.current_nodes == ["review"] and runner.status == "waiting"


def test_they_sign_in_again_to_continue_and_nothing_new_starts(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    _sign_out(onboarding)
    _close(onboarding)

    start = _text(onboarding.client.get(onboarding.url))
    assert "New applications have closed. If you already started one, sign in" in start
    onboarding.sign_in()
    assert "Your address" in _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert len(_runners()) == 1


def test_a_customer_without_an_application_cannot_start_one(app: Flask, onboarding: Onboarding) -> None:
    onboarding.sign_in()  # someone is part-way through, so the sign-in page stays up
    _close(onboarding)
    newcomer = _someone_else(app, onboarding)
    assert newcomer.client.get(newcomer.url).status_code == 200
    assert newcomer.send(OTHER_MOBILE).status_code == 302
    refused = newcomer.enter(last_code(onboarding.company.id, OTHER_E164))
    assert refused.status_code == 404 and "Not found" in _text(refused)
    assert "Back to your application" not in _text(refused)
    assert _runners(OTHER_E164) == []
    # Signed in or not, there is nothing for them at this flow's pages.
    for path in ("", "/step", "/progress"):
        assert newcomer.client.get(f"{newcomer.url}{path}").status_code == 404, path
    assert _runners(OTHER_E164) == []


def test_a_customer_whose_application_ended_still_sees_it_but_cannot_start_another(
        app: Flask, onboarding: Onboarding, make_user: Callable[..., User]) -> None:
    onboarding.sign_in()
    [runner] = _runners()
    _close(onboarding)
    officer = Principal.for_user(make_user(onboarding.company, roles=("credit_officer",)))
    assert "About you" in _text(onboarding.client.get(f"{onboarding.url}/step"))  # part-way: carries on
    runners.cancel_runner(officer, runner.id, reason="Withdrawn")

    # Their application, ended, is still theirs to see; no second one starts.
    progress = onboarding.client.get(f"{onboarding.url}/progress")
    assert progress.status_code == 200 and runner.ref_id in _text(progress)
    assert len(_runners()) == 1
    # Before signing in nobody can tell who asks: the sign-in page stays while someone has one.
    assert _someone_else(app, onboarding).client.get(onboarding.url).status_code == 200


def test_a_closed_flow_nobody_applied_to_is_not_there(app: Flask, onboarding: Onboarding) -> None:
    _close(onboarding)
    for path in ("", "/code"):
        response = onboarding.client.get(f"{onboarding.url}{path}")
        assert response.status_code == 404 and "Not found" in _text(response), path


def test_a_file_asked_for_again_is_sent_after_the_flow_closes(
        app: Flask, client: Any, demo_company: Any, make_user: Callable[..., User]) -> None:
    flow = flow_without_reupload(demo_company)  # the file asked again is sent from the progress page
    system = Principal.system(demo_company.id)
    onboarding = Onboarding(demo_company, flow, client)
    onboarding.sign_in()
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    assert onboarding.submit(ADDRESS, "address").status_code == 302
    onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "pan.pdf")})
    [runner] = _runners()
    pan = next(d for d in documents.list_documents(system, runner.id, node="documents")
               if d.doc_type == "pan_card")
    officer = Principal.for_user(make_user(demo_company, roles=("credit_officer",)))
    documents.request_reupload(officer, pan.id, note="Cut off at the edge")
    _close(onboarding)

    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "Please upload PAN card again." in page
    sent = onboarding.client.post(
        f"{onboarding.url}/documents/{pan.id}", content_type="multipart/form-data",
        data={"csrf_token": csrf_from(page), "file": (io.BytesIO(PDF), "pan-2.pdf")})
    assert sent.status_code == 302
    assert "we received your PAN card" in _text(onboarding.client.get(f"{onboarding.url}/step"))
    db.session.expire_all()
    assert [f.filename for f in documents.get_document(system, pan.id).files] == ["pan.pdf", "pan-2.pdf"]


def test_the_reupload_step_is_sent_again_after_the_flow_closes(
        onboarding: Onboarding, make_user: Callable[..., User]) -> None:
    onboarding.sign_in()
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    assert onboarding.submit(ADDRESS, "address").status_code == 302
    onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "pan.pdf")})
    [runner] = _runners()
    system = Principal.system(runner.company_id)
    pan = next(d for d in documents.list_documents(system, runner.id, node="documents")
               if d.doc_type == "pan_card")
    officer = Principal.for_user(make_user(onboarding.company, roles=("credit_officer",)))
    documents.request_reupload(officer, pan.id, note="The photo is blurred.")
    _close(onboarding)

    assert "Please upload PAN card again." in _text(onboarding.client.get(f"{onboarding.url}/step"))
    again = onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "pan-rescan.pdf")})
    assert again.status_code == 302
    assert "Under review" in _text(onboarding.client.get(f"{onboarding.url}/step"))
    db.session.expire_all()
    assert [f.filename for f in documents.get_document(system, pan.id).files] == ["pan.pdf", "pan-rescan.pdf"]
