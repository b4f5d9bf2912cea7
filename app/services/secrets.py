"""Company secrets: Fernet-encrypted at rest, decrypted one name at a time when a design reads it."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import CompanySecret
from app.models.secret import ANY_HOST, SECRET_FIELDS
from app.services.audit import Action, audit_secret_read, record_audit
from app.services.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal

MASK = "********"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
_HOST = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


@dataclass(frozen=True)
class SecretPolicy:
    """Where a secret may go: request fields (SECRET_FIELDS) and destination hosts."""

    name: str
    fields: tuple[str, ...]
    hosts: tuple[str, ...]

    def allows_host(self, host: str | None) -> bool:
        """Exact names match exactly; "*.example.com" matches its subdomains (not itself)."""
        if ANY_HOST in self.hosts:
            return True
        host = (host or "").lower().rstrip(".")
        return bool(host) and any(host == h or (h.startswith("*.") and host.endswith(h[1:]))
                                  for h in self.hosts)


def clean_fields(fields: Iterable[str]) -> tuple[str, ...]:
    chosen = {str(f).strip().lower() for f in fields}
    unknown = chosen - set(SECRET_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown field.", [FieldError(
            "fields", f"Use {', '.join(SECRET_FIELDS)}; not {', '.join(sorted(unknown))}.")])
    return tuple(f for f in SECRET_FIELDS if f in chosen)


def clean_hosts(hosts: Iterable[str]) -> tuple[str, ...]:
    """Host names only (no scheme, port or path): "api.vendor.com", "*.vendor.com" or "*"."""
    cleaned: list[str] = []
    for raw in hosts:
        host = str(raw).strip().lower().rstrip(".")
        if not host:
            continue
        if host != ANY_HOST and not _HOST.match(host):
            raise ValidationFailed("Invalid host.", [FieldError(
                "hosts", f"“{host[:100]}” is not a host name; write api.vendor.com, *.vendor.com or *.")])
        if host not in cleaned:
            cleaned.append(host)
    return tuple(cleaned)


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


def set_secret(actor: Principal, name: str, value: Any = None, *, fields: Iterable[str] | None = None,
               hosts: Iterable[str] | None = None) -> CompanySecret:
    """Create or replace a secret; `value` is a string or a JSON object (`SECRET.name.field`).

    `fields` / `hosts` say where designs may send it (see SecretPolicy). A new secret without them
    may go in any field to any host; on an existing one, None keeps what is set, and a None
    `value` keeps the stored value (a policy-only change).
    """
    if not actor.has_role("admin") and actor.kind != "system":
        raise PermissionDenied("Only admins manage secrets.")
    if not _NAME.match(name):
        raise ValidationFailed("Invalid secret name.", [FieldError("name", "Use letters, digits and _.")])
    allowed_fields = clean_fields(fields) if fields is not None else None
    allowed_hosts = clean_hosts(hosts) if hosts is not None else None
    secret = db.session.scalar(select(CompanySecret).where(
        CompanySecret.company_id == actor.company_id, CompanySecret.name == name))
    if secret is None and value is None:
        raise ValidationFailed("A new secret needs a value.", [FieldError("value", "Enter the value.")])
    token = fernet().encrypt(json.dumps(value).encode()) if value is not None else None
    if secret is None:
        secret = CompanySecret(company_id=actor.company_id, name=name, ciphertext=token,
                               created_by=actor.id, allowed_fields=list(allowed_fields or SECRET_FIELDS),
                               allowed_hosts=list(allowed_hosts if allowed_hosts is not None else [ANY_HOST]))
        db.session.add(secret)
        created = True
    else:
        created = False
        if token is not None:
            secret.ciphertext = token
        if allowed_fields is not None:
            secret.allowed_fields = list(allowed_fields)
        if allowed_hosts is not None:
            secret.allowed_hosts = list(allowed_hosts)
    details: dict[str, Any] = {"name": name, "fields": list(secret.allowed_fields),
                               "hosts": list(secret.allowed_hosts)}
    if not created:
        # Whether the value changed or only where it may go. Not "value_replaced": the audit scrubber
        # redacts every key naming a value, and that rule stays strict rather than trusting types.
        details["replaced"] = token is not None
    record_audit(actor, Action.SECRET_CREATED if created else Action.SECRET_UPDATED, "secret", name, details)
    db.session.commit()
    return secret


def list_secret_policies(actor: Principal) -> list[SecretPolicy]:
    """Every secret's name and policy, by name (never a value)."""
    rows = db.session.execute(select(CompanySecret.name, CompanySecret.allowed_fields,
                                     CompanySecret.allowed_hosts)
                              .where(CompanySecret.company_id == actor.company_id)
                              .order_by(CompanySecret.name))
    return [SecretPolicy(n, tuple(f or ()), tuple(h or ())) for n, f, h in rows]


def secret_policies(company_id: str, names: Iterable[str]) -> dict[str, SecretPolicy]:
    """The policies of these secrets of one company (missing names are left out)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = db.session.execute(select(CompanySecret.name, CompanySecret.allowed_fields,
                                     CompanySecret.allowed_hosts)
                              .where(CompanySecret.company_id == company_id, CompanySecret.name.in_(wanted)))
    return {n: SecretPolicy(n, tuple(f or ()), tuple(h or ())) for n, f, h in rows}


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
