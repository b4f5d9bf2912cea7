"""Senders: console outbox, the HTTP gateway (templated body, outbound guard), SMTP, selection by config."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from flask import Flask

from app.config import ConfigError
from app.services import senders

pytestmark = pytest.mark.usefixtures("app")
MESSAGE = senders.OutgoingMessage(company_id="c1", channel="sms", to="+919876543210",
                                  subject="Your code", body='123456 is your "Demo" code', code="123456")


class _Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Gateway.received.append({"headers": dict(self.headers), "body": self.rfile.read(length)})
        self.send_response(_Gateway.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    _Gateway.received, _Gateway.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms"
    server.shutdown()
    server.server_close()
    thread.join()


def test_console_sender_keeps_an_outbox_per_company() -> None:
    senders.ConsoleSender().send(MESSAGE)
    assert [m.body for m in senders.outbox("c1")] == [MESSAGE.body]
    assert senders.outbox("another company") == []


def test_http_sender_posts_the_templated_body(gateway: str) -> None:
    sender = senders.HttpSender(url=gateway, allow_hosts=frozenset({"127.0.0.1"}),
                                headers={"X-Api-Key": "k"},
                                body_template='{"number": "$to", "text": "$message", "otp": "$code"}')
    sender.send(MESSAGE)
    [call] = _Gateway.received
    assert json.loads(call["body"]) == {"number": "+919876543210", "text": MESSAGE.body, "otp": "123456"}
    assert call["headers"]["X-Api-Key"] == "k"


def test_http_sender_refuses_internal_addresses_unless_allowlisted(gateway: str) -> None:
    with pytest.raises(senders.SendFailed):
        senders.HttpSender(url=gateway, body_template="$message").send(MESSAGE)
    assert _Gateway.received == []


def test_http_sender_treats_a_gateway_error_as_a_failed_send(gateway: str) -> None:
    _Gateway.status = 500
    sender = senders.HttpSender(url=gateway, body_template="$message",
                                allow_hosts=frozenset({"127.0.0.1"}), content_type="text/plain")
    with pytest.raises(senders.SendFailed) as failed:
        sender.send(MESSAGE)
    assert "try again" in failed.value.message


class _FakeSmtp:
    sent: list[Any] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.calls = [("connect", host, port)]

    def __enter__(self) -> _FakeSmtp:
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    def starttls(self, context: Any) -> None:
        pass

    def login(self, user: str, password: str) -> None:
        pass

    def send_message(self, mail: Any) -> None:
        _FakeSmtp.sent.append(mail)


def test_smtp_sender_sends_email_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    _FakeSmtp.sent = []
    monkeypatch.setattr(senders.smtplib, "SMTP", _FakeSmtp)
    email = senders.OutgoingMessage("c1", "email", "asha@example.com", "Your code", "123456 is it", "123456")
    senders.SmtpSender(host="mail.example.com", sender="otp@lender.example").send(email)
    [mail] = _FakeSmtp.sent
    assert mail["To"] == "asha@example.com" and "123456" in mail.get_content()
    with pytest.raises(senders.SendFailed, match="email"):
        senders.SmtpSender(host="mail.example.com").send(MESSAGE)


def test_the_sender_is_chosen_by_config(app: Flask) -> None:
    assert isinstance(senders.build_sender(), senders.ConsoleSender)
    app.config.update(FLOWDESK_OTP_SENDER="http", FLOWDESK_OTP_HTTP_URL="https://sms.example.com/send")
    assert isinstance(senders.build_sender(), senders.HttpSender)
    app.config.update(FLOWDESK_OTP_SENDER="smtp", FLOWDESK_SMTP_HOST="mail.example.com")
    assert isinstance(senders.build_sender(), senders.SmtpSender)
    app.config["FLOWDESK_OTP_SENDER"] = "pigeon"
    with pytest.raises(ConfigError, match="pigeon"):
        senders.build_sender()
    app.config.update(FLOWDESK_OTP_SENDER="http", FLOWDESK_OTP_HTTP_URL="")
    with pytest.raises(ConfigError, match="FLOWDESK_OTP_HTTP_URL"):
        senders.build_sender()
