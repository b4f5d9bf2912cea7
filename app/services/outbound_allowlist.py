"""Per-company outbound allowlist: hosts and CIDR networks exempted from the private-address refusal."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.effects.outbound import OutboundPolicy
from app.extensions import db
from app.models import OutboundAllowEntry
from app.services.audit import record_audit
from app.services.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal

ENTRY_ADDED = "outbound.allow_added"
ENTRY_REMOVED = "outbound.allow_removed"
MAX_ENTRIES = 200
# RFC 1123 labels; no scheme, port, path, user or wildcard: the guard matches host names exactly.
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


def _require_admin(actor: Principal) -> None:
    if actor.kind != "system" and not actor.has_role("admin"):
        raise PermissionDenied("Only admins manage the outbound allowlist.")


def parse_entry(raw: str) -> tuple[str, str]:
    """(kind, normalised value) of what an admin typed: an IP or CIDR network, else a host name."""
    text = (raw or "").strip().lower().rstrip(".")
    if not text:
        raise ValidationFailed("Enter a host or network.", [FieldError("value", "Enter a host or network.")])
    try:
        network = ipaddress.ip_network(text.strip("[]"), strict=False)
    except ValueError:
        pass
    else:
        if network.prefixlen == 0:
            # Would switch the private-address guard off for every destination at once.
            raise ValidationFailed("Too broad.", [FieldError("value", "A network must not cover every "
                                                                      "address; name a smaller one.")])
        return "network", str(network)
    if not _HOST.match(text):
        raise ValidationFailed("Invalid host.", [FieldError(
            "value", "Use a host name like vendor.internal, an IP address, or a network like 10.0.0.0/24 "
                     "(no scheme, port or path).")])
    return "host", text


def list_entries(actor: Principal) -> list[OutboundAllowEntry]:
    """This company's entries, networks then hosts, alphabetically."""
    _require_admin(actor)
    return list(db.session.scalars(select(OutboundAllowEntry).where(
        OutboundAllowEntry.company_id == actor.company_id)
        .order_by(OutboundAllowEntry.kind.desc(), OutboundAllowEntry.value)))


def add_entry(actor: Principal, raw: str, *, note: str = "") -> OutboundAllowEntry:
    """Allow this company's calls to reach `raw` (a host, IP or CIDR network); one commit."""
    _require_admin(actor)
    kind, value = parse_entry(raw)
    count = len(list_entries(actor))
    if count >= MAX_ENTRIES:
        raise Conflict(f"At most {MAX_ENTRIES} entries; remove one first.")
    entry = OutboundAllowEntry(company_id=actor.company_id, kind=kind, value=value, note=note.strip()[:200],
                               created_by=actor.id if actor.kind != "system" else None)
    db.session.add(entry)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ValidationFailed("Already allowed.", [FieldError("value", f"{value} is already on the list.")]
                               ) from None
    record_audit(actor, ENTRY_ADDED, "outbound_allow", entry.id, {"kind": kind, "host": value})
    db.session.commit()
    return entry


def remove_entry(actor: Principal, entry_id: str) -> None:
    _require_admin(actor)
    entry = db.session.get(OutboundAllowEntry, entry_id)
    if entry is None or entry.company_id != actor.company_id:
        raise NotFound("No such allowlist entry.")
    record_audit(actor, ENTRY_REMOVED, "outbound_allow", entry.id, {"kind": entry.kind, "host": entry.value})
    db.session.delete(entry)
    db.session.commit()


def _csv(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def policy_for(company_id: str | None, *, extra_hosts: Iterable[str] = ()) -> OutboundPolicy:
    """The outbound policy of one company: the global FLOWDESK_OUTBOUND_ALLOW_HOSTS / _NETWORKS
    settings plus the company's own entries (and `extra_hosts`, e.g. a sender's own setting).

    Without a company (a system call) only the global settings apply.
    """
    config = current_app.config
    hosts = {h.lower().rstrip(".") for h in _csv(config.get("FLOWDESK_OUTBOUND_ALLOW_HOSTS"))}
    hosts |= {h.strip().lower().rstrip(".") for h in extra_hosts if h.strip()}
    networks = [ipaddress.ip_network(n, strict=False)
                for n in _csv(config.get("FLOWDESK_OUTBOUND_ALLOW_NETWORKS"))]
    if company_id:
        for kind, value in db.session.execute(select(OutboundAllowEntry.kind, OutboundAllowEntry.value)
                                              .where(OutboundAllowEntry.company_id == company_id)):
            if kind == "network":
                networks.append(ipaddress.ip_network(value, strict=False))
            else:
                hosts.add(value)
    return OutboundPolicy(allow_hosts=frozenset(hosts), allow_networks=tuple(dict.fromkeys(networks)))
