"""Company secrets: Fernet-encrypted at rest, decrypted one name at a time when a design reads it."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import CompanySecret
from app.services.audit import Action, audit_secret_read, record_audit
from app.services.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal

MASK = "********"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


def _derived_key() -> str:
    digest = hashlib.sha256(b"flowdesk-secrets:" + current_app.config["SECRET_KEY"].encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def configured_keys() -> list[str]:
    """FLOWDESK_SECRETS_KEYS: comma-separated Fernet keys, newest first."""
    configured = current_app.config.get("FLOWDESK_SECRETS_KEYS") or ""
    return [k.strip() for k in configured.split(",") if k.strip()]


def fernet(*, with_derived_key: bool = False) -> MultiFernet:
    """The keys encrypting secrets at rest: the first encrypts, every one decrypts (rotation keeps old
    ones). Without FLOWDESK_SECRETS_KEYS (development), a key derived from SECRET_KEY, so secrets still
    never sit in clear; `with_derived_key` adds that key last so `rotate-key` can move off it.
    """
    keys = configured_keys()
    if not keys or with_derived_key:
        keys.append(_derived_key())
    return MultiFernet([Fernet(k) for k in keys])


def set_secret(actor: Principal, name: str, value: Any) -> CompanySecret:
    """Create or replace a secret; `value` is a string or a JSON object (`SECRET.name.field`)."""
    if not actor.has_role("admin") and actor.kind != "system":
        raise PermissionDenied("Only admins manage secrets.")
    if not _NAME.match(name):
        raise ValidationFailed("Invalid secret name.", [FieldError("name", "Use letters, digits and _.")])
    token = fernet().encrypt(json.dumps(value).encode())
    secret = db.session.scalar(select(CompanySecret).where(
        CompanySecret.company_id == actor.company_id, CompanySecret.name == name))
    if secret is None:
        secret = CompanySecret(company_id=actor.company_id, name=name, ciphertext=token,
                               created_by=actor.id)
        db.session.add(secret)
        record_audit(actor, Action.SECRET_CREATED, "secret", name, {"name": name})
    else:
        secret.ciphertext = token
        record_audit(actor, Action.SECRET_UPDATED, "secret", name, {"name": name})
    db.session.commit()
    return secret


def list_secret_names(actor: Principal) -> list[str]:
    """Names only: no caller, admin or not, ever gets a value back from this module but a design."""
    return list(db.session.scalars(select(CompanySecret.name).where(
        CompanySecret.company_id == actor.company_id).order_by(CompanySecret.name)))


def delete_secret(actor: Principal, name: str) -> None:
    if not actor.has_role("admin"):
        raise PermissionDenied("Only admins manage secrets.")
    secret = db.session.scalar(select(CompanySecret).where(
        CompanySecret.company_id == actor.company_id, CompanySecret.name == name))
    if secret is None:
        raise NotFound("No such secret.")
    db.session.delete(secret)
    record_audit(actor, Action.SECRET_DELETED, "secret", name, {"name": name})
    db.session.commit()


class SecretsView(Mapping[str, Any]):
    """The `SECRET` name of expressions: decrypts a secret only when a template reads it.

    Not iterable on purpose: nothing can list or dump every secret through it.
    """

    def __init__(self, company_id: str, *, runner_id: str | None = None) -> None:
        # With `runner_id`, each first read of a name adds a `secret.read` audit row (no commit).
        self._company_id = company_id
        self._runner_id = runner_id
        self._cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._cache:
            token = db.session.scalar(select(CompanySecret.ciphertext).where(
                CompanySecret.company_id == self._company_id, CompanySecret.name == name))
            if token is None:
                raise KeyError(name)
            try:
                self._cache[name] = json.loads(fernet().decrypt(token))
            except InvalidToken as error:
                raise KeyError(name) from error
            if self._runner_id is not None:
                audit_secret_read(self._company_id, self._runner_id, name)
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "<SecretsView (masked)>"


def reencrypt_all(keys: MultiFernet) -> int:
    """Re-encrypt every company secret with the first key of `keys` (no commit); return how many."""
    rows = list(db.session.scalars(select(CompanySecret)))
    for row in rows:
        row.ciphertext = keys.rotate(row.ciphertext)
    return len(rows)
