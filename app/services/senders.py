"""Delivering one-time codes: `console` (development, demo outbox), `http` (an SMS/email gateway), `smtp`.

Chosen by `FLOWDESK_OTP_SENDER` (config or environment). Every sender raises `SendFailed` with a
message safe to show; none puts the code, the gateway URL or credentials into a log record.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from string import Template
from typing import Any, Protocol

from flask import current_app

from app.config import ConfigError
from app.effects import outbound
from app.models.base import utcnow
from app.services import outbound_allowlist

log = logging.getLogger(__name__)
OUTBOX_SIZE = 200


class SendFailed(Exception):
    """The message could not be handed to the channel; `message` is safe to show."""

    def __init__(self, message: str = "We could not send the code. Please try again.") -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class OutgoingMessage:
    company_id: str
    channel: str  # sms | email
    to: str
    subject: str
    body: str
    code: str = field(repr=False)


@dataclass(frozen=True)
class OutboxEntry:
    company_id: str
    channel: str
    to: str
    body: str
    at: datetime


class Sender(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> None: ...


def setting(name: str, default: str = "") -> str:
    """An app config value, else the environment variable of the same name."""
    value = current_app.config.get(name)
    if value is None or value == "":
        value = os.environ.get(name, default)
    return str(value)


# --- console ----------------------------------------------------------------------------------------
_OUTBOX: deque[OutboxEntry] = deque(maxlen=OUTBOX_SIZE)
_OUTBOX_LOCK = threading.Lock()


def outbox(company_id: str) -> list[OutboxEntry]:
    """Messages the console sender delivered for this company, newest first (this process only)."""
    with _OUTBOX_LOCK:
        return [m for m in reversed(_OUTBOX) if m.company_id == company_id]


def clear_outbox() -> None:
    with _OUTBOX_LOCK:
        _OUTBOX.clear()


class ConsoleSender:
    """Prints the message to the server log and keeps it in an in-process outbox.

    For development and the demo only: it makes codes visible to whoever reads the log.
    """

    name = "console"

    def send(self, message: OutgoingMessage) -> None:
        log.warning("console sender (development only) to %s: %s", message.to, message.body)
        with _OUTBOX_LOCK:
            _OUTBOX.append(OutboxEntry(message.company_id, message.channel, message.to, message.body,
                                       utcnow()))


# --- http -------------------------------------------------------------------------------------------
def _json_escaped(value: str) -> str:
    return json.dumps(value)[1:-1]


@dataclass
class HttpSender:
    """POSTs a templated body to a gateway through the outbound guard (SSRF checks, pinned IP).

    `body_template` uses `$to`, `$channel`, `$subject`, `$message` and `$code`; with a JSON content
    type the values are JSON-escaped, so a message cannot break out of its string.
    """

    url: str
    body_template: str
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    allow_hosts: frozenset[str] = frozenset()
    timeout_s: float = 10.0
    name: str = "http"

    def render(self, message: OutgoingMessage) -> str:
        escape = _json_escaped if "json" in self.content_type else str
        values = {"to": message.to, "channel": message.channel, "subject": message.subject,
                  "message": message.body, "code": message.code}
        return Template(self.body_template).safe_substitute({k: escape(v) for k, v in values.items()})

    def send(self, message: OutgoingMessage) -> None:
        # The company's outbound allowlist (and the global one) may name a gateway on a private network.
        policy = outbound_allowlist.policy_for(message.company_id, extra_hosts=self.allow_hosts)
        headers = {"Content-Type": self.content_type, **self.headers}
        try:
            result = outbound.fetch("POST", self.url, headers=headers,
                                    body=self.render(message).encode(), timeout_s=self.timeout_s,
                                    policy=policy)
        except outbound.HttpCallError as error:
            log.warning("OTP gateway call failed: %s", error.message)
            raise SendFailed() from None
        if not 200 <= result.status < 300:
            log.warning("OTP gateway answered HTTP %s", result.status)
            raise SendFailed()


# --- smtp -------------------------------------------------------------------------------------------
@dataclass
class SmtpSender:
    """Sends email codes over SMTP (STARTTLS unless `starttls` is off). Phone numbers are refused."""

    host: str
    port: int = 587
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = "no-reply@flowdesk.local"
    starttls: bool = True
    timeout_s: float = 10.0
    name: str = "smtp"

    def send(self, message: OutgoingMessage) -> None:
        if message.channel != "email":
            raise SendFailed("Codes can only be sent by email here. Please use your email address.")
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, message.to, message.subject
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            log.warning("SMTP delivery failed: %s", type(error).__name__)
            raise SendFailed() from None


def _csv(value: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


def build_sender() -> Sender:
    """The sender `FLOWDESK_OTP_SENDER` names (default `console`), configured from settings."""
    kind = setting("FLOWDESK_OTP_SENDER", "console").strip().lower()
    if kind == "console":
        return ConsoleSender()
    if kind == "http":
        url = setting("FLOWDESK_OTP_HTTP_URL")
        if not url:
            raise ConfigError("FLOWDESK_OTP_SENDER=http needs FLOWDESK_OTP_HTTP_URL (the gateway URL).")
        headers: dict[str, Any] = json.loads(setting("FLOWDESK_OTP_HTTP_HEADERS", "{}"))
        return HttpSender(
            url=url,
            body_template=setting("FLOWDESK_OTP_HTTP_BODY",
                                  '{"to": "$to", "channel": "$channel", "message": "$message"}'),
            content_type=setting("FLOWDESK_OTP_HTTP_CONTENT_TYPE", "application/json"),
            headers={str(k): str(v) for k, v in headers.items()},
            allow_hosts=_csv(setting("FLOWDESK_OTP_HTTP_ALLOW_HOSTS")),
        )
    if kind == "smtp":
        host = setting("FLOWDESK_SMTP_HOST")
        if not host:
            raise ConfigError("FLOWDESK_OTP_SENDER=smtp needs FLOWDESK_SMTP_HOST.")
        return SmtpSender(host=host, port=int(setting("FLOWDESK_SMTP_PORT", "587")),
                          username=setting("FLOWDESK_SMTP_USERNAME"),
                          password=setting("FLOWDESK_SMTP_PASSWORD"),
                          sender=setting("FLOWDESK_SMTP_FROM", "no-reply@flowdesk.local"),
                          starttls=setting("FLOWDESK_SMTP_STARTTLS", "1") not in {"0", "false", "no"})
    raise ConfigError(f"FLOWDESK_OTP_SENDER must be 'console', 'http' or 'smtp', not {kind!r}.")


def get_sender() -> Sender:
    """The app's sender; tests may put their own under `app.extensions['flowdesk_otp_sender']`."""
    sender = current_app.extensions.get("flowdesk_otp_sender")
    if sender is None:
        sender = current_app.extensions["flowdesk_otp_sender"] = build_sender()
    return sender
