"""What the customer reads around the steps: which documents are optional, their application
reference, and what the sign-out line says once the application has finished."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.extensions import db
from app.models import Runner
from app.services import documents
from app.services.principal import Principal
from tests.onboarding.conftest import ABOUT_YOU, ADDRESS, PDF, Onboarding


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _label(page: str, doc_type: str) -> str:
    found = re.search(rf'<label for="doc-{doc_type}">(.*?)</label>', page)
    assert found, doc_type
    return found.group(1)


def test_a_received_required_document_is_not_called_optional(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    onboarding.submit(ABOUT_YOU, "about_you")
    onboarding.submit(ADDRESS, "address")
    runner = db.session.query(Runner).one()
    system = Principal.system(runner.company_id)
    pan = next(d for d in documents.list_documents(system, runner.id) if d.doc_type == "pan_card")
    documents.add_file(system, pan.id, filename="pan.pdf", data=PDF, submit=False)  # in, step still open

    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "Received: pan.pdf" in page
    assert _label(page, "pan_card") == "PAN card"
    assert _label(page, "bank_statement").endswith('<span class="help">(optional)</span>')


def test_the_reference_is_named_for_the_customer(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    ref = db.session.query(Runner).one().ref_id
    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert f"Your application reference: <strong>{ref}</strong>" in page


@pytest.mark.parametrize(("status", "note"), [
    ("succeeded", "Your application is complete: nothing more is needed from you."),
    ("cancelled", "This application is closed: nothing more is needed from you."),
    ("failed", "Nothing more is needed from you for now: our team will follow up."),
])
def test_a_finished_application_says_what_happened_beside_sign_out(onboarding: Onboarding, status: str,
                                                                   note: str) -> None:
    onboarding.sign_in()
    runner = db.session.query(Runner).one()
    runner.status = status
    db.session.commit()
    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert note in page and "sign in again to continue" not in page
    assert f"Your application reference: <strong>{runner.ref_id}</strong>" in page  # the progress page too


def test_an_open_application_still_invites_the_customer_back(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    page = _text(onboarding.client.get(f"{onboarding.url}/step"))
    assert "You can leave and come back later: sign in again to continue." in page
