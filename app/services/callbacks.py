"""Inbound callbacks: an outside system answers a `callback` node with a signed POST.

Wire format (documented in docs/runtime.md): headers `X-Flowdesk-Event-Id`, `X-Flowdesk-Timestamp`
(Unix seconds) and `X-Flowdesk-Signature: sha256=<hex>`, where the hex is HMAC-SHA256 over
`<event id>.<timestamp>.<raw body>` keyed with the company secret named `callback_signing_key`.
Accepted within ±5 minutes; an event id seen before is acknowledged and not applied again.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import engine, jsontext
from app.executors import dispatch
from app.extensions import db
from app.models import CallbackEvent, CallbackToken, Runner
from app.services import errors, runtime
from app.services.clock import now
from app.services.secrets import SecretsView

SIGNING_SECRET = "callback_signing_key"  # noqa: S105  the name of a secret, not its value
TOLERANCE = timedelta(minutes=5)


@dataclass
class CallbackResult:
    runner: Runner
    duplicate: bool


def sign(key: str, event_id: str, timestamp: str, body: bytes) -> str:
    """The signature a sender must send (exposed for senders' SDKs and our tests)."""
    message = event_id.encode() + b"." + timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def receive_callback(token: str, *, event_id: str, timestamp: str, signature: str,
                     body: bytes) -> CallbackResult:
    """Verify and apply one callback. One message for every authentication failure."""
    refused = errors.AuthenticationFailed("Callback signature, timestamp or token is not valid.")
    link = db.session.get(CallbackToken, token) if token else None
    if link is None or not event_id or len(event_id) > 120:
        raise refused
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise refused from None
    if abs(now().timestamp() - sent_at) > TOLERANCE.total_seconds():
        raise refused
    try:
        key = SecretsView(link.company_id)[SIGNING_SECRET]
    except KeyError:
        raise refused from None
    if not isinstance(key, str) or not hmac.compare_digest(sign(key, event_id, timestamp, body), signature):
        raise refused
    runner = db.session.get(Runner, link.runner_id)
    if db.session.scalar(select(CallbackEvent.id).where(CallbackEvent.company_id == link.company_id,
                                                        CallbackEvent.event_id == event_id)):
        return CallbackResult(runner, duplicate=True)  # type: ignore[arg-type]
    try:
        data: Any = jsontext.loads(body) if body else None
    except ValueError:
        raise errors.ValidationFailed("The callback body must be JSON.") from None

    def remember(step: runtime.Transition) -> None:
        db.session.add(CallbackEvent(company_id=link.company_id, event_id=event_id, runner_id=step.row.id))
        runtime.record_activity(step.row, "callback.received", actor=None, node=link.node,
                                details={"event_id": event_id})

    try:
        step = runtime.transition(link.runner_id, engine.CallbackReceived(token, data), actor=None,
                                  activity=remember)
    except IntegrityError:
        db.session.rollback()  # the same event id raced in concurrently: it was applied once
        return CallbackResult(db.session.get(Runner, link.runner_id), duplicate=True)  # type: ignore[arg-type]
    dispatch(step.row.id)
    return CallbackResult(step.row, duplicate=False)
