"""A customer can go back a step: the demo's address page has Back to "About you", which keeps
nothing typed on the address page and shows "About you" as it was sent."""

from __future__ import annotations

import html

from sqlalchemy import select

from app.extensions import db
from app.models import Runner, Store
from app.services import stores
from app.services.principal import Principal
from tests.onboarding.conftest import ABOUT_YOU, ADDRESS, Onboarding


def _page(onboarding: Onboarding) -> str:
    return html.unescape(onboarding.client.get(f"{onboarding.url}/step").get_data(as_text=True))


def _store() -> dict:
    runner = db.session.scalars(select(Runner)).one()
    db.session.expire_all()
    return db.session.get(Store, runner.store_id).data


def test_back_from_the_address_page_shows_about_you_as_it_was_sent(onboarding: Onboarding) -> None:
    onboarding.sign_in()
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    page = _page(onboarding)
    assert "Your address" in page
    # Continue comes first (Enter presses it); Back sends the form unchecked.
    assert page.index('value="submit">Continue') < page.index(
        'class="button secondary" name="action" value="back" formnovalidate>Back')

    # Half-filled and wrong: Back still goes back, and keeps none of it.
    back = onboarding.submit({"action": "back", "city": "B", "pincode": "12"}, "address")
    assert back.status_code == 302
    page = _page(onboarding)
    assert "About you" in page and "Your address" not in page
    assert "address" not in _store()
    assert 'value="Asha Rao"' in page and 'value="ABCDE1234F"' in page  # what was sent before
    assert "Back</button>" not in page  # the first page has no way back

    changed = {**ABOUT_YOU, "full_name": "Asha K Rao"}
    assert onboarding.submit(changed, "about_you").status_code == 302
    assert onboarding.submit(ADDRESS, "address").status_code == 302
    assert "Upload your documents" in _page(onboarding)
    assert _store()["applicant"]["full_name"] == "Asha K Rao"


def test_a_customer_reads_back_only_their_steps_own_fields(onboarding: Onboarding) -> None:
    """The store also holds what staff and automatic nodes add; a step shows only its own fields."""
    onboarding.sign_in()
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    runner = db.session.scalars(select(Runner)).one()
    system = Principal.system(runner.company_id)
    stores.update_runner_store(system, runner.id, {"applicant": {"risk": "high"}, "score": 612})
    assert onboarding.submit({"action": "back"}, "address").status_code == 302
    page = _page(onboarding)
    assert "high" not in page and "612" not in page
    assert 'value="Asha Rao"' in page
