"""The one-time-code rules: generation, storage, expiry, single use, tries, limits, fail-closed, start-up."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask

from app import create_app
from app.config import ConfigError
from app.extensions import db, limiter
from app.models import Company, OtpChallenge
from app.models.base import utcnow
from app.services import otp, senders
from app.services.errors import AuthenticationFailed, RateLimited, ValidationFailed
from tests.onboarding.conftest import E164, MOBILE, last_code

IP = "203.0.113.7"
pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def company(demo_company: Company) -> Company:
    return demo_company


def _send(company: Company, destination: str = MOBILE, ip: str = IP) -> otp.SentChallenge:
    return otp.send_code(company, destination, ip=ip)


def _forget_send_window(destination: str, *items: int) -> None:
    """Let the test send again at once by clearing the per-destination windows named by index."""
    for index in items:
        limiter.limiter.clear(otp.SEND_LIMITS[index], "otp-send", destination)


# --- codes and storage ------------------------------------------------------------------------------
def test_a_code_is_six_digits_and_only_its_peppered_hmac_is_stored(company: Company) -> None:
    sent = _send(company)
    code = last_code(company.id)
    row = db.session.get(OtpChallenge, sent.challenge_id)
    assert len(code) == 6 and code.isdigit()
    assert row.destination == E164 and row.channel == "sms"
    assert code not in row.code_hmac
    assert row.code_hmac != hashlib.sha256(code.encode()).hexdigest()
    assert row.code_hmac == otp.code_hmac(row.id, E164, code)
    assert row.expires_at - row.created_at == timedelta(minutes=5)


def test_the_pepper_comes_from_config(app: Flask, company: Company) -> None:
    derived = otp.code_hmac("challenge", E164, "123456")
    app.config["FLOWDESK_OTP_PEPPER"] = "a-server-side-pepper-from-the-environment"
    assert otp.code_hmac("challenge", E164, "123456") != derived


def test_codes_come_from_the_csprng(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(otp.secrets, "randbelow", lambda n: calls.append(n) or 42)
    assert otp.new_code() == "000042"
    assert calls == [10**6]


def test_the_right_code_verifies_once(company: Company) -> None:
    sent = _send(company)
    code = last_code(company.id)
    assert otp.verify_code(company.id, sent.challenge_id, code) == otp.Destination("sms", E164)
    with pytest.raises(AuthenticationFailed) as used:
        otp.verify_code(company.id, sent.challenge_id, code)
    assert used.value.message == otp.FAILURE_MESSAGE


def test_an_expired_code_fails_with_the_same_message(company: Company) -> None:
    sent = _send(company)
    db.session.get(OtpChallenge, sent.challenge_id).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(AuthenticationFailed) as expired:
        otp.verify_code(company.id, sent.challenge_id, last_code(company.id))
    assert expired.value.message == otp.FAILURE_MESSAGE


def test_wrong_unknown_and_other_company_challenges_fail_alike(company: Company, make_company) -> None:
    sent = _send(company)
    code = last_code(company.id)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    messages = set()
    for company_id, challenge_id, attempt in (
        (company.id, sent.challenge_id, wrong),
        (company.id, "00000000-0000-0000-0000-000000000000", code),
        (make_company().id, sent.challenge_id, code),
    ):
        with pytest.raises(AuthenticationFailed) as failed:
            otp.verify_code(company_id, challenge_id, attempt)
        messages.add(failed.value.message)
    assert messages == {otp.FAILURE_MESSAGE}
    assert otp.verify_code(company.id, sent.challenge_id, code).value == E164


def test_five_tries_void_the_code(company: Company) -> None:
    sent = _send(company)
    code = last_code(company.id)
    for _ in range(otp.MAX_TRIES):
        with pytest.raises(AuthenticationFailed):
            otp.verify_code(company.id, sent.challenge_id, "000000" if code != "000000" else "111111")
    with pytest.raises(AuthenticationFailed):
        otp.verify_code(company.id, sent.challenge_id, code)


def test_a_new_code_voids_the_previous_one(company: Company) -> None:
    first = _send(company)
    first_code = last_code(company.id)
    _forget_send_window(f"sms:{E164}", 0)
    second = _send(company)
    with pytest.raises(AuthenticationFailed):
        otp.verify_code(company.id, first.challenge_id, first_code)
    assert otp.verify_code(company.id, second.challenge_id, last_code(company.id)).value == E164


def test_ten_failures_per_destination_an_hour_block_even_the_right_code(company: Company) -> None:
    for _ in range(2):
        _forget_send_window(f"sms:{E164}", 0)
        sent = _send(company)
        for _ in range(otp.MAX_TRIES):
            with pytest.raises(AuthenticationFailed):
                otp.verify_code(company.id, sent.challenge_id, "abcdef")
    _forget_send_window(f"sms:{E164}", 0)
    sent = _send(company)
    with pytest.raises(RateLimited) as blocked:
        otp.verify_code(company.id, sent.challenge_id, last_code(company.id))
    assert 0 < blocked.value.retry_after <= 3600


# --- sending limits ----------------------------------------------------------------------------------
def test_resend_is_limited_to_one_a_minute(company: Company) -> None:
    _send(company)
    with pytest.raises(RateLimited) as limited:
        _send(company, "+91 98765 43210")  # the same number, written differently
    assert 0 < limited.value.retry_after <= 60
    assert len(senders.outbox(company.id)) == 1


def test_five_sends_an_hour_then_ten_a_day(company: Company) -> None:
    key = f"sms:{E164}"
    for _ in range(5):
        _forget_send_window(key, 0)
        _send(company)
    _forget_send_window(key, 0)
    with pytest.raises(RateLimited):
        _send(company)
    for _ in range(5):
        _forget_send_window(key, 0, 1)
        _send(company)
    _forget_send_window(key, 0, 1)
    with pytest.raises(RateLimited) as daily:
        _send(company)
    assert daily.value.retry_after > 3600
    assert len(senders.outbox(company.id)) == 10


def test_twenty_sends_an_hour_per_ip(company: Company) -> None:
    for n in range(20):
        _send(company, f"asha{n}@example.com")
    with pytest.raises(RateLimited):
        _send(company, "someone.else@example.com")
    _send(company, "someone.else@example.com", ip="198.51.100.1")


def test_a_failed_send_can_be_retried_at_once(app: Flask, company: Company) -> None:
    class Broken:
        name = "broken"

        def send(self, message: senders.OutgoingMessage) -> None:
            raise senders.SendFailed()

    app.extensions["flowdesk_otp_sender"] = Broken()
    with pytest.raises(otp.OtpUnavailable) as failed:
        _send(company)
    assert "could not send" in failed.value.message
    assert db.session.query(OtpChallenge).filter(OtpChallenge.consumed_at.is_(None)).count() == 0
    app.extensions["flowdesk_otp_sender"] = senders.ConsoleSender()
    _send(company)
    assert last_code(company.id)


# --- destinations ------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["9876543210", "98765 43210", "+91 98765-43210", "09876543210",
                                 "+919876543210"])
def test_mobile_numbers_become_e164(raw: str) -> None:
    assert otp.normalise_destination(raw) == otp.Destination("sms", E164)


def test_emails_are_lower_cased() -> None:
    assert otp.normalise_destination("  Asha.Rao@Example.COM ") == otp.Destination(
        "email", "asha.rao@example.com")


@pytest.mark.parametrize("raw", ["", "12345", "not a number", "asha@", "+1 555 0100"])
def test_invalid_destinations_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        otp.normalise_destination(raw)
    assert refused.value.errors[0].path == "destination"


def test_the_default_region_is_configurable(app: Flask) -> None:
    app.config["FLOWDESK_OTP_DEFAULT_REGION"] = "GB"
    assert otp.normalise_destination("07911 123456").value == "+447911123456"


# --- fail closed and start-up ---------------------------------------------------------------------------
@pytest.fixture
def app_with_dead_store(database_url: str) -> Iterator[Flask]:
    dead = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                       "SECRET_KEY": "test-secret-key-that-is-long-enough-for-prod",
                       "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})
    with dead.app_context():
        yield dead
        db.session.remove()
        db.engine.dispose()


def test_sending_fails_closed_when_the_limiter_store_is_down(app_with_dead_store: Flask,
                                                              make_company) -> None:
    company = make_company()
    with pytest.raises(otp.OtpUnavailable):
        otp.send_code(company, MOBILE, ip=IP)
    assert senders.outbox(company.id) == []
    assert db.session.query(OtpChallenge).count() == 0


@pytest.mark.parametrize("variable", ["FLOWDESK_WORKERS", "WEB_CONCURRENCY"])
def test_several_workers_with_memory_limits_refuse_to_start(monkeypatch: pytest.MonkeyPatch,
                                                            database_url: str, variable: str) -> None:
    monkeypatch.setenv(variable, "4")
    with pytest.raises(ConfigError, match="REDIS_URL"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                    "RATELIMIT_STORAGE_URI": "memory://"})


def test_several_workers_with_redis_limits_start(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("FLOWDESK_WORKERS", "4")
    started = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                          "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"})
    assert "onboarding.start" in started.view_functions
