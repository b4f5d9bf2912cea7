"""Customer uploads go into the documents service; an officer's re-upload request sends the customer
back to the upload step, and the review starts again once the new file is in."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import ApprovalRequest, Customer, Runner, User
from app.services import approvals, customer_auth, documents, runners
from app.services.principal import Principal
from tests.conftest import AuthActions, csrf_from
from tests.onboarding.conftest import ABOUT_YOU, ADDRESS, PDF, Onboarding, flow_without_reupload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _pending(runner_id: str) -> list[ApprovalRequest]:
    db.session.expire_all()
    return list(db.session.scalars(select(ApprovalRequest).where(
        ApprovalRequest.runner_id == runner_id, ApprovalRequest.status == "pending")))


@pytest.fixture
def officer(onboarding: Onboarding, make_user: Callable[..., User]) -> User:
    return make_user(onboarding.company, roles=("credit_officer",), name="Olga Officer")


@pytest.fixture
def officer_client(app: Flask, officer: User) -> Any:
    client = app.test_client()  # the officer's browser, apart from the customer's
    assert AuthActions(client).login(officer.email).status_code == 302
    return client


def _pan_card(runner: Runner) -> Any:
    found = documents.list_documents(Principal.system(runner.company_id), runner.id, node="documents")
    return next(d for d in found if d.doc_type == "pan_card")


def _to_documents(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    assert onboarding.submit(ADDRESS, "address").status_code == 302


def test_the_customers_files_reach_the_officers_request_page_with_previews(
        onboarding: Onboarding, officer_client: Any) -> None:
    _to_documents(onboarding)
    response = onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "my pan.pdf"),
                                                     "file-bank_statement": (io.BytesIO(PNG), "bank.png")})
    assert response.status_code == 302
    runner = db.session.query(Runner).one()
    [request] = _pending(runner.id)
    page = _text(officer_client.get(f"/inbox/approvals/{request.id}"))
    assert "PAN card" in page and "my_pan.pdf" in page and "bank.png" in page
    assert "Asha Rao" in page and "ABCDE1234F" in page  # the configured store fields
    iframe = re.search(r'<iframe class="preview" title="my_pan.pdf" src="([^"]+)"', page)
    image = re.search(r'<img class="preview" src="([^"]+)" alt="Bank statement', page)
    assert iframe and image
    pdf = officer_client.get(iframe.group(1).replace("&amp;", "&"))
    assert pdf.status_code == 200 and pdf.data == PDF and pdf.mimetype == "application/pdf"
    assert officer_client.get(image.group(1).replace("&amp;", "&")).data == PNG
    # One copy of each file, all in the documents service.
    stored = [f for d in documents.list_documents(Principal.system(runner.company_id), runner.id)
              for f in d.files]
    assert sorted(f.filename for f in stored) == ["bank.png", "my_pan.pdf"]


def test_a_refused_file_keeps_the_step_and_the_good_one(onboarding: Onboarding) -> None:
    _to_documents(onboarding)
    response = onboarding.submit({}, "documents", **{
        "file-pan_card": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "pan.pdf"),
        "file-bank_statement": (io.BytesIO(PNG), "bank.png")})
    assert response.status_code == 422 and "Upload a PDF, an image" in _text(response)
    assert "Received: bank.png" in _text(response)
    assert db.session.query(Runner).one().current_nodes == ["documents"]
    done = onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "pan.pdf")})
    assert done.status_code == 302
    assert db.session.query(Runner).one().current_nodes == ["review"]


def test_the_reupload_loop_through_the_pages(onboarding: Onboarding, officer_client: Any) -> None:
    _to_documents(onboarding)
    onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "pan.pdf")})
    runner = db.session.query(Runner).one()
    [first] = _pending(runner.id)
    page = _text(officer_client.get(f"/inbox/approvals/{first.id}"))
    pan = _pan_card(runner)
    asked = officer_client.post(f"/inbox/documents/{pan.id}/reupload", headers={"Referer": "/inbox/"},
                                data={"csrf_token": csrf_from(page), "note": "The photo is blurred."})
    assert asked.status_code == 302
    assert _pending(runner.id) == []  # the review request is withdrawn while the customer re-uploads
    assert f"/inbox/approvals/{first.id}" not in _text(officer_client.get("/inbox/"))

    step = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "Please upload PAN card again." in step and "Note from our team: The photo is blurred." in step
    missing = onboarding.submit({}, "documents")
    assert missing.status_code == 422 and "Choose a file to upload." in _text(missing)
    again = onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "pan-rescan.pdf")})
    assert again.status_code == 302
    progress = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "Under review" in progress and "Please upload" not in progress

    [second] = _pending(runner.id)
    assert second.id != first.id
    inbox = _text(officer_client.get("/inbox/"))
    assert f"/inbox/approvals/{second.id}" in inbox
    review = _text(officer_client.get(f"/inbox/approvals/{second.id}"))
    assert "pan.pdf" in review and "pan-rescan.pdf" in review and "(uploaded, required)" in review


def test_the_reupload_loop_in_the_services(onboarding: Onboarding, officer: User) -> None:
    customer = Customer(company_id=onboarding.company.id, mobile="+919811111111", name="Ravi")
    db.session.add(customer)
    db.session.commit()
    me = customer_auth.customer_principal(customer)
    runner = runners.create_runner(me, flow_id=onboarding.flow.id, customer_id=me.id).runner
    runners.execute_runner(me, runner.id, action="submit", node="about_you", data=ABOUT_YOU | {
        "monthly_income": 85000})
    runners.execute_runner(me, runner.id, action="submit", node="address", data={
        **ADDRESS, "consent": True})
    docs = {d.doc_type: d for d in documents.list_documents(me, runner.id, node="documents")}
    assert {t: d.status for t, d in docs.items()} == {"pan_card": "requested", "bank_statement": "requested"}
    documents.add_file(me, docs["pan_card"].id, filename="pan.pdf", data=PDF)
    assert runners.get_runner(me, runner.id).current_nodes == ["review"]
    # The optional statement was not sent, but the node completed: its request is not withdrawn.
    assert documents.get_document(me, docs["bank_statement"].id).status == "requested"

    olga = Principal.for_user(officer)
    [first] = _pending(runner.id)
    documents.request_reupload(olga, docs["pan_card"].id, note="Expired card")
    assert runners.get_runner(me, runner.id).current_nodes == ["documents"]
    assert approvals.get_approval(olga, first.id).status == "withdrawn"
    assert documents.get_document(me, docs["pan_card"].id).status == "reupload"

    documents.add_file(me, docs["pan_card"].id, filename="pan-new.pdf", data=PDF)
    assert runners.get_runner(me, runner.id).current_nodes == ["review"]
    [second] = _pending(runner.id)
    approvals.approve(olga, second.id, comment="New card is fine")
    db.session.expire_all()
    done = runners.get_runner(me, runner.id)
    assert done.status == "succeeded" and done.current_nodes == []
    store = runners.runtime.load(runner.id).store.data
    assert store["documents"]["documents"] == {"pan_card": docs["pan_card"].id,
                                               "bank_statement": docs["bank_statement"].id}


def test_without_a_way_back_the_file_is_sent_again_from_the_progress_page(
        app: Flask, client: Any, demo_company: Any, officer_client: Any, officer: User) -> None:
    onboarding = Onboarding(demo_company, flow_without_reupload(demo_company), client)
    _to_documents(onboarding)
    onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "pan.pdf")})
    runner = db.session.query(Runner).one()
    pan = _pan_card(runner)
    documents.request_reupload(Principal.for_user(officer), pan.id, note="Cut off at the edge")
    assert runners.get_runner(Principal.system(runner.company_id), runner.id).current_nodes == ["review"]

    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "Under review" in page and "Please upload PAN card again." in page
    assert "Note from our team: Cut off at the edge" in page
    url = f"{onboarding.url}/documents/{pan.id}"
    wrong = onboarding.client.post(url, content_type="multipart/form-data", data={
        "csrf_token": csrf_from(page), "file": (io.BytesIO(b"plain text"), "pan.pdf")})
    assert wrong.status_code == 422 and "Upload a PDF, an image" in _text(wrong)
    sent = onboarding.client.post(url, content_type="multipart/form-data", data={
        "csrf_token": csrf_from(page), "file": (io.BytesIO(PDF), "pan-again.pdf")})
    assert sent.status_code == 302
    after = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "we received your PAN card" in after and "Please upload" not in after
    db.session.expire_all()
    pan = documents.get_document(Principal.system(runner.company_id), pan.id)
    assert pan.status == "uploaded" and [f.filename for f in pan.files] == ["pan.pdf", "pan-again.pdf"]
    [request] = _pending(runner.id)  # the same review, still open, now shows the new file
    assert "pan-again.pdf" in _text(officer_client.get(f"/inbox/approvals/{request.id}"))


def test_a_customer_cannot_send_files_to_someone_elses_document(onboarding: Onboarding,
                                                                officer: User) -> None:
    other = Customer(company_id=onboarding.company.id, mobile="+919822222222", name="Other")
    db.session.add(other)
    db.session.commit()
    them = customer_auth.customer_principal(other)
    theirs = runners.create_runner(them, flow_id=onboarding.flow.id, customer_id=them.id).runner
    doc = documents.create_document(Principal.for_user(officer), doc_type="pan_card", runner_id=theirs.id)
    documents.add_file(them, doc.id, filename="pan.pdf", data=PDF)
    documents.request_reupload(Principal.for_user(officer), doc.id, note="again")
    onboarding.sign_in()
    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    response = onboarding.client.post(
        f"{onboarding.url}/documents/{doc.id}", content_type="multipart/form-data",
        data={"csrf_token": csrf_from(page), "file": (io.BytesIO(PDF), "x.pdf")})
    assert response.status_code == 404
    db.session.expire_all()
    assert len(documents.get_document(them, doc.id).files) == 1
