"""Per-company outbound allowlist: hosts and CIDR networks exempted from the private-address refusal."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

import idna
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.effects.outbound import OutboundPolicy
from app.extensions import db
from app.models import OutboundAllowEntry
from app.services.audit import Action, record_audit
from app.services.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal

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
    host = text if _HOST.match(text) else _idna_host(text)
    if host is None:
        raise ValidationFailed("Invalid host.", [FieldError(
            "value", "Use a host name like vendor.internal, an IP address, or a network like 10.0.0.0/24 "
                     "(no scheme, port or path).")])
    return "host", host


def _idna_host(text: str) -> str | None:
    """The xn-- form of an internationalised host name ("bücher.internal" -> "xn--bcher-kva.internal"),
    or None when it is not one.

    requests writes a URL's host in this form (the same `idna` encoding, UTS 46) before the guard in
    app.effects.outbound compares it with the allowlist, so an entry kept as typed would never match.
    """
    if text.isascii():
        return None
    try:
        host = idna.encode(text, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError is one: a bad label, or a scheme, port or path in it
        return None
    return host if _HOST.match(host) else None


def display_host(value: str) -> str:
    """How a stored host reads to people: "bücher.internal" for "xn--bcher-kva.internal"; else itself."""
    if "xn--" not in value:
        return value
    try:
        return idna.decode(value)
    except UnicodeError:  # a malformed xn-- label someone typed as is: show it as stored
        return value


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
    record_audit(actor, Action.OUTBOUND_ALLOW_ADDED, "outbound_allow", entry.id,
                 {"kind": kind, "host": value})
    db.session.commit()
    return entry


def remove_entry(actor: Principal, entry_id: str) -> None:
    _require_admin(actor)
    entry = db.session.get(OutboundAllowEntry, entry_id)
    if entry is None or entry.company_id != actor.company_id:
        raise NotFound("No such allowlist entry.")
    record_audit(actor, Action.OUTBOUND_ALLOW_REMOVED, "outbound_allow", entry.id,
                 {"kind": entry.kind, "host": entry.value})
    db.session.delete(entry)
    db.session.commit()


def _match_form(raw: str) -> str:
    """A host from the settings as the guard compares it: lower case, no final dot, xn-- form."""
    host = raw.strip().lower().rstrip(".")
    return _idna_host(host) or host


def _csv(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def policy_for(company_id: str | None, *, extra_hosts: Iterable[str] = ()) -> OutboundPolicy:
    """The outbound policy of one company: the global FLOWDESK_OUTBOUND_ALLOW_HOSTS / _NETWORKS
    settings plus the company's own entries (and `extra_hosts`, e.g. a sender's own setting).

    Without a company (a system call) only the global settings apply.
    """
    config = current_app.config
    hosts = {_match_form(h) for h in _csv(config.get("FLOWDESK_OUTBOUND_ALLOW_HOSTS"))}
    hosts |= {_match_form(h) for h in extra_hosts if h.strip()}
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
