"""The signed-in user's Security page (Account → Security) as a user walking it found it: running out
of recovery codes was a bare number, not a warning; a wrong or empty password under "New recovery
codes" or "Turn off" said "Wrong password." (which box?) or nothing at all; the current password typed
again as the new one was "Password changed"."""

from __future__ import annotations

from app.services import mfa
from tests.conftest import DEFAULT_PASSWORD
from tests.security.conftest import code_at, post_form, verify


def test_few_or_no_recovery_codes_left_is_a_warning(client, auth, lender):
    _, admin = lender
    codes = mfa.confirm_enrolment(admin, code_at(mfa.start_enrolment(admin).secret, -1))
    auth.login(admin.email)
    verify(client, codes[0])  # signing in with a recovery code uses one
    page = client.get("/account/security").get_data(as_text=True)
    assert "Recovery codes left: <strong>9</strong>" in page and "recovery-codes-low" not in page
    for code in codes[1:7]:
        mfa.verify(admin, code)
    page = " ".join(client.get("/account/security").get_data(as_text=True).split())
    assert 'id="recovery-codes-low">Only 3 recovery codes left. Make new ones below.' in page
    for code in codes[7:]:
        mfa.verify(admin, code)
    page = " ".join(client.get("/account/security").get_data(as_text=True).split())
    assert "You have no recovery codes left: if you lose your phone you cannot sign in." in page


def _flashes(client) -> str:
    page = client.get("/account/security").get_data(as_text=True)
    return " ".join(page.split("</main>", 1)[0].split('id="main"', 1)[1].split())


def test_password_boxes_say_which_action_was_refused_and_never_do_nothing(client, auth, lender):
    _, admin = lender
    codes = mfa.confirm_enrolment(admin, code_at(mfa.start_enrolment(admin).secret, -1))
    auth.login(admin.email)
    verify(client, codes[0])
    post_form(client, "/account/security", "/account/security/two-factor/disable",
              **{"disable-password": "not my password"})
    assert "The second factor is still on. This is not your password." in _flashes(client)
    post_form(client, "/account/security", "/account/security/recovery-codes",
              **{"regenerate-password": "not my password"})
    assert "No new recovery codes; the old ones still work. This is not your password." in _flashes(client)
    # An empty box said nothing at all: the button seemed dead.
    post_form(client, "/account/security", "/account/security/two-factor/disable", **{"disable-password": ""})
    assert "Type your password to turn off the second factor." in _flashes(client)
    post_form(client, "/account/security", "/account/security/recovery-codes", **{"regenerate-password": ""})
    assert "Type your password to make new recovery codes." in _flashes(client)
    assert mfa.is_enrolled(admin) and mfa.remaining_recovery_codes(admin) == 9


def test_the_current_password_again_is_not_a_change(client, auth, lender):
    _, admin = lender
    auth.login(admin.email)
    response = post_form(client, "/account/password", "/account/password", current_password=DEFAULT_PASSWORD,
                         new_password=DEFAULT_PASSWORD, confirm=DEFAULT_PASSWORD)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Password changed" not in page
    assert ('<ul class="errors" id="new_password-errors"><li>That is your current password; choose a new one.'
            in page)
    # A wrong current password typed twice is still the service's refusal, not "your current password".
    wrong = post_form(client, "/account/password", "/account/password", current_password="not it at all!",
                      new_password="not it at all!", confirm="not it at all!").get_data(as_text=True)
    assert "This is not your current password." in wrong and "That is your current password" not in wrong
