"""Customer-side fixes from the fourth walk-through: the outcome of a finished application, a
verified document is not offered for replacement, and the upload help names what is accepted."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApprovalRequest, Runner, User
from app.services import approvals, documents, runners
from app.services.principal import Principal
from tests.onboarding.conftest import ABOUT_YOU, ADDRESS, PDF, Onboarding

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def officer(onboarding: Onboarding, make_user: Callable[..., User]) -> Principal:
    return Principal.for_user(make_user(onboarding.company, roles=("credit_officer",), name="Olga Officer"))


def _in_review(onboarding: Onboarding) -> Runner:
    onboarding.sign_in()
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    assert onboarding.submit(ADDRESS, "address").status_code == 302
    sent = onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "pan.pdf")})
    assert sent.status_code == 302
    return db.session.scalars(select(Runner)).one()


def _pending(runner: Runner) -> ApprovalRequest:
    db.session.expire_all()
    return db.session.scalars(select(ApprovalRequest).where(
        ApprovalRequest.runner_id == runner.id, ApprovalRequest.status == "pending")).one()


@pytest.mark.parametrize(("decide", "shown"), [(approvals.approve, "Approved"),
                                               (approvals.reject, "Not approved")])
def test_a_decided_application_shows_its_outcome(onboarding: Onboarding, officer: Principal,
                                                 decide: Any, shown: str) -> None:
    # It said only "We will contact you with the outcome", even once the outcome was known.
    runner = _in_review(onboarding)
    decide(officer, _pending(runner).id, comment="Checked")
    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "Complete" in page
    assert f'Outcome: <strong id="outcome">{shown}</strong>' in page
    assert "with the outcome" not in page


def test_a_cancelled_application_does_not_show_the_officers_reason(onboarding: Onboarding,
                                                                    officer: Principal) -> None:
    runner = _in_review(onboarding)
    runners.cancel_runner(officer, runner.id, reason="Fraud check: PAN mismatch")
    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "Closed" in page and "Outcome:" not in page and "PAN mismatch" not in page


def test_a_verified_document_is_not_offered_for_replacement(onboarding: Onboarding,
                                                            officer: Principal) -> None:
    # The officer verified the PAN card, then asked for the bank statement again. The step offered
    # a picker for the PAN card too; a file chosen there was refused with staff wording ("ask for a
    # re-upload before replacing it") after the page's other file had been stored.
    runner = _in_review(onboarding)
    found = {d.doc_type: d for d in documents.list_documents(officer, runner.id, node="documents")}
    documents.verify(officer, found["pan_card"].id)
    documents.request_reupload(officer, found["bank_statement"].id, note="All three months")

    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "Received: pan.pdf. Checked by our team: nothing more is needed." in page
    assert 'name="file-pan_card"' not in page
    assert 'name="file-bank_statement"' in page

    sent = onboarding.submit({}, "documents", **{"file-pan_card": (io.BytesIO(PDF), "other.pdf"),
                                                 "file-bank_statement": (io.BytesIO(PNG), "bank.png")})
    assert sent.status_code == 302, _text(sent)
    db.session.expire_all()
    pan = documents.get_document(officer, found["pan_card"].id)
    statement = documents.get_document(officer, found["bank_statement"].id)
    assert pan.status == "verified" and [f.filename for f in pan.files] == ["pan.pdf"]
    assert [f.filename for f in statement.files] == ["bank.png"]


def test_the_upload_help_names_the_types_the_refusal_names(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    onboarding.submit(ABOUT_YOU, "about_you")
    onboarding.submit(ADDRESS, "address")
    refused = _text(onboarding.submit({}, "documents", **{
        "file-pan_card": (io.BytesIO(b"plain text"), "pan.txt")}))
    assert "Upload a PDF, an image (JPEG, PNG, WebP, GIF, TIFF)" in refused
    assert "PDF, image (JPEG, PNG, WebP, GIF, TIFF), Word or Excel file, up to" in refused


def test_a_step_sent_back_opens_on_a_list_of_its_mistakes_linked_to_their_fields(
        onboarding: Onboarding) -> None:
    # It said only "Please correct the fields marked below." and focus stayed at the page's top:
    # on a phone the marked fields were a long scroll away, unnamed.
    onboarding.sign_in()
    sent = onboarding.submit({**ABOUT_YOU, "full_name": "A", "pan": "abcde1234f"}, "about_you")
    page = _text(sent)
    assert sent.status_code == 422
    summary = page[page.index('role="alert" tabindex="-1" autofocus'):]
    summary = summary[:summary.index("</div>")]
    assert '<a href="#f-full_name">Full name: Enter at least 2 characters.</a>' in summary
    assert '<a href="#f-pan">PAN: Enter it in the expected format' in summary
    assert "#f-employment" not in summary  # a field given right is not listed
    assert 'id="f-full_name"' in page and 'id="f-pan"' in page


def test_a_missing_document_is_listed_and_linked_too(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    onboarding.submit(ABOUT_YOU, "about_you")
    onboarding.submit(ADDRESS, "address")
    page = _text(onboarding.submit({}, "documents"))
    assert '<a href="#doc-pan_card">PAN card: Choose a file to upload.</a>' in page


@pytest.mark.parametrize("zero", [0x0966, 0x0660, 0xFF10], ids=["devanagari", "arabic-indic", "full-width"])
def test_a_code_typed_in_another_scripts_digits_signs_in(onboarding: Onboarding, zero: int) -> None:
    # A phone keyboard set to Hindi types "४२७१९०": the same code, refused as "The code is 6 digits."
    from tests.onboarding.conftest import E164, last_code

    assert onboarding.send().status_code == 302
    code = last_code(onboarding.company.id, E164)
    response = onboarding.enter("".join(chr(zero + int(c)) for c in code))
    assert response.status_code == 302, _text(response)
    assert response.headers["Location"].endswith(f"{onboarding.url}/step")


def test_the_sign_in_lasts_from_the_last_page_and_its_end_is_explained(onboarding: Onboarding,
                                                                      monkeypatch: Any) -> None:
    # Counted from the code, a customer active all along was sent to the sign-in page after two
    # hours, without a word, losing the form they had just sent.
    import time as clock

    from app.web.onboarding import context
    from tests.conftest import csrf_from

    onboarding.sign_in()
    now = clock.time()
    monkeypatch.setattr(context.time, "time", lambda: now + context.SESSION_SECONDS - 60)
    assert onboarding.client.get(f"{onboarding.url}/step").status_code == 200  # active: renewed
    monkeypatch.setattr(context.time, "time", lambda: now + context.SESSION_SECONDS + 600)
    assert onboarding.client.get(f"{onboarding.url}/step").status_code == 200  # still within 2 h of it

    monkeypatch.setattr(context.time, "time", lambda: now + 3 * context.SESSION_SECONDS)
    token = csrf_from(onboarding.client.get(onboarding.url).get_data(as_text=True))
    sent = onboarding.client.post(f"{onboarding.url}/step", data={"csrf_token": token, "node": "about_you"})
    assert sent.status_code == 302 and sent.headers["Location"].endswith(onboarding.url)
    start = _text(onboarding.client.get(onboarding.url))
    assert ("You were signed out after 2 hours without activity, so what you sent was not saved. "
            "Sign in again to continue where you left off.") in start
