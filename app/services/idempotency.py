"""Idempotency keys: claim a key before doing the work, save the answer after, replay it on retry."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import IdempotencyRecord
from app.models.base import utcnow
from app.services.errors import Conflict, FieldError, ValidationFailed
from app.services.principal import Principal

KEEP_FOR = timedelta(hours=24)
# Longer than any request should take; after it, a key whose request died can be retried.
LOCK_FOR = timedelta(seconds=60)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class SavedResponse:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Claim:
    """Either the caller now owns the key (`replay` is None) or the earlier answer to replay."""

    record_id: str
    replay: SavedResponse | None = None


def fingerprint(method: str, path: str, body: Any) -> str:
    """sha256 over method, path and the canonical JSON body (key order and spacing do not count)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()}\n{path}\n{canonical}".encode()).hexdigest()


def claim_key(actor: Principal, key: str, request_fingerprint: str, *,
              now: datetime | None = None) -> Claim:
    """Own `key` for this caller, or learn what an earlier request with it answered.

    Raises ValidationFailed (422) when the key was used with another payload, and Conflict (409)
    while a request with the key is still running. Commits its own transaction.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed("Invalid idempotency key.", [FieldError(
            "Idempotency-Key", f"Send 1 to {MAX_KEY_LENGTH} characters.")])
    now = now or utcnow()
    principal = f"{actor.kind}:{actor.id}"
    for _ in range(3):  # a racing request may insert or expire the row between our two statements
        record = db.session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.company_id == actor.company_id, IdempotencyRecord.principal == principal,
            IdempotencyRecord.key == key))
        if record is not None and record.expires_at <= now:
            db.session.delete(record)
            db.session.commit()
            record = None
        if record is None:
            record = IdempotencyRecord(company_id=actor.company_id, principal=principal, key=key,
                                       fingerprint=request_fingerprint, locked_until=now + LOCK_FOR,
                                       created_at=now, expires_at=now + KEEP_FOR)
            db.session.add(record)
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                continue
            return Claim(record.id)
        claim = _existing(record, request_fingerprint, now)
        if claim is not None:
            return claim
    raise Conflict("A request with this Idempotency-Key is in progress; retry later.")


def _existing(record: IdempotencyRecord, request_fingerprint: str, now: datetime) -> Claim | None:
    if record.fingerprint != request_fingerprint:
        raise ValidationFailed("This Idempotency-Key was used with a different request.", [FieldError(
            "Idempotency-Key", "Already used with another method, path or body; use a new key.")])
    if record.state == "completed":
        return Claim(record.id, SavedResponse(record.response_status or 200, record.response_body,
                                              dict(record.response_headers or {})))
    if record.locked_until is not None and record.locked_until > now:
        raise Conflict("A request with this Idempotency-Key is in progress; retry later.")
    # The earlier request died without an answer: take its key over, unless another retry just did.
    taken = db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record.id, IdempotencyRecord.state == "in_flight",
               IdempotencyRecord.locked_until == record.locked_until)
        .values(locked_until=now + LOCK_FOR)).rowcount
    db.session.commit()
    return Claim(record.id) if taken == 1 else None


def complete_key(record_id: str, status: int, body: Any, headers: dict[str, str]) -> None:
    """Save the answer a retry with the same key will get. Commits."""
    db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record_id).values(
        state="completed", locked_until=None, response_status=status, response_body=body,
        response_headers=headers))
    db.session.commit()


def release_key(record_id: str) -> None:
    """Forget a key whose request failed, so the caller may retry it (with a corrected body too)."""
    db.session.rollback()  # the failed request may have left the session mid-transaction
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id,
                                                       IdempotencyRecord.state == "in_flight"))
    db.session.commit()


def purge_expired_keys(now: datetime | None = None) -> int:
    """Delete keys past their 24 hours; returns how many. For a periodic job."""
    count = db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.expires_at <= (now or utcnow()))).rowcount
    db.session.commit()
    return count
