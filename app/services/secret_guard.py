"""Renders an api_call request and refuses it when a secret lands outside its allowed fields or hosts."""

from __future__ import annotations

import json
import secrets as random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from app import engine
from app.effects.redact import Redactor, derived_part, leaves
from app.engine.expressions import MASK
from app.models.secret import ANY_HOST
from app.services.audit import Action, record_audit
from app.services.secrets import SecretPolicy, SecretsView, secret_policies

# Request keys (see engine.prepare_request) → the secret definition's field names. Keys that are
# not here (url, query, method, timeout...) are fields no secret may ever be rendered into.
POLICY_FIELD = {"headers": "headers", "body": "body", "data": "body",
                "auth_token_config": "auth", "encryption_config": "auth"}


class SecretUseRefused(Exception):
    """A design put a secret where its definition forbids; `message` names the secret and the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class GuardedRequest:
    """A rendered request that passed the check. `host_bound`: it carries a secret limited to some
    hosts, so the call must not follow redirects (a hop could carry it elsewhere). `redact` takes
    what the request carried of secrets out of its answer (an endpoint may echo the request)."""

    request: dict[str, Any]
    host_bound: bool
    redact: Redactor = field(default_factory=lambda: Redactor(()))


class _Recording(Mapping[str, Any]):
    """SECRET for a render: reads through `view`, remembers the names read, may swap one value."""

    def __init__(self, view: Mapping[str, Any] | None, swap: tuple[str, Any] | None = None) -> None:
        self._view = view
        self._swap = swap
        self.read: list[str] = []

    def __getitem__(self, name: str) -> Any:
        if self._view is None:
            raise KeyError(name)
        if name not in self.read:
            self.read.append(name)
        if self._swap is not None and self._swap[0] == name:
            return self._swap[1]
        return self._view[name]

    def __iter__(self) -> Iterator[str]:
        return iter(())  # like SecretsView: never enumerable

    def __len__(self) -> int:
        return 0


def _decoy(value: Any) -> Any:
    """A value of the same shape with every leaf changed, to see which fields follow it."""
    if isinstance(value, Mapping):
        return {k: _decoy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decoy(v) for v in value]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    return f"decoy-{random.token_hex(8)}"


def _fingerprint(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _host(url: Any) -> str | None:
    try:
        return urlsplit(url).hostname if isinstance(url, str) else None
    except ValueError:
        return None


def _destination(request: Mapping[str, Any], key: str) -> str | None:
    """The host a value under `key` travels to: the login URL's for auth_token_config."""
    if key == "auth_token_config":
        config = request.get(key)
        login = config.get("bearer", {}).get("login", {}) if isinstance(config, Mapping) else {}
        if isinstance(login, Mapping) and login.get("url"):
            return _host(login.get("url"))
    return _host(request.get("url"))


def prepare_checked_request(design: engine.Design, state: engine.RunnerState, node: str, *,
                            company_id: str, runner_id: str, env: Mapping[str, Any],
                            clock: Callable[[], datetime]) -> GuardedRequest:
    """`engine.prepare_request` plus the secret-use check; raises SecretUseRefused.

    How it tells which secret sits where without tracing values through expressions: the masked
    render shows which top-level request keys hold SECRET-derived values; a secret read alone is
    in all of them; with several, each is swapped for a decoy and the keys whose rendering moves
    are its. A key that renders differently on every pass (uuid4()) cannot be told apart, so every
    secret counts as being in it: that errs toward refusing.
    """
    instant = clock()
    frozen: Callable[[], datetime] = lambda: instant  # noqa: E731  same now() in every pass

    def render(secrets: Mapping[str, Any], *, masked: bool = False) -> dict[str, Any]:
        return engine.prepare_request(design, state, node, secrets=secrets, env=env, clock=frozen,
                                      masked=masked)

    masked = render(_Recording(None), masked=True)
    holding = {key for key, value in masked.items() if MASK in _fingerprint(value)}
    view = SecretsView(company_id, runner_id=runner_id)
    recording = _Recording(view)
    request = render(recording)
    if not recording.read:
        return GuardedRequest(request, host_bound=False)
    placed = _attribute(view, list(recording.read), request, holding, render)
    policies = secret_policies(company_id, recording.read)
    for name in recording.read:
        policy = policies.get(name)
        if policy is not None:
            _check(policy, placed[name], request, holding, company_id=company_id, runner_id=runner_id)
    host_bound = any(ANY_HOST not in p.hosts for p in policies.values())
    sent = [leaf for name in recording.read for leaf in leaves(view[name])]
    sent += [part for key in holding for part in _derived(request.get(key), masked.get(key))]
    return GuardedRequest(request, host_bound=host_bound, redact=Redactor(sent))


def _derived(sent: Any, masked: Any) -> Iterator[Any]:
    """What of `sent` (a rendered request value) came from secrets, walking its masked rendering
    beside it: a header "Bearer <token>" yields the token and the whole header as sent."""
    if isinstance(sent, Mapping) and isinstance(masked, Mapping):
        for key, value in sent.items():
            yield from _derived(value, masked.get(key))
    elif isinstance(sent, list | tuple) and isinstance(masked, list | tuple) and len(sent) == len(masked):
        for value, hidden in zip(sent, masked, strict=True):
            yield from _derived(value, hidden)
    elif isinstance(sent, str) and isinstance(masked, str):
        if MASK in masked:
            yield derived_part(sent, masked)
            yield sent
    elif MASK in _fingerprint(masked):  # shapes differ (a secret chose the shape): all of it
        yield from leaves(sent)


def _attribute(view: Mapping[str, Any], names: list[str], base: dict[str, Any], holding: set[str],
               render: Callable[..., dict[str, Any]]) -> dict[str, set[str]]:
    """Which request keys each of the secrets `names` is in (see prepare_checked_request)."""
    if len(names) == 1:
        return {names[0]: set(holding)}
    again = render(_Recording(view))
    noisy = {k for k in holding if _fingerprint(base.get(k)) != _fingerprint(again.get(k))}
    placed: dict[str, set[str]] = {}
    for name in names:
        swapped = _Recording(view, swap=(name, _decoy(view[name])))
        try:
            other = render(swapped)
        except Exception:  # the decoy broke an expression: the secret may be anywhere in it
            placed[name] = set(holding)
            continue
        placed[name] = noisy | {k for k in holding if _fingerprint(base.get(k)) != _fingerprint(other.get(k))}
    return placed


def _check(policy: SecretPolicy, keys: set[str], request: Mapping[str, Any], holding: set[str], *,
           company_id: str, runner_id: str) -> None:
    for key in sorted(keys):
        field = POLICY_FIELD.get(key)
        if field not in policy.fields:
            allowed = ", ".join(policy.fields) or "no field"
            _refuse(policy.name, key, f"Secret '{policy.name}' may not be used in the request's {key} "
                                      f"(its definition allows: {allowed}).", company_id, runner_id)
        host = _destination(request, key)
        if not policy.allows_host(host):
            # The host is named only when no secret helped build the URL it came from.
            source = "auth_token_config" if key == "auth_token_config" else "url"
            where = f" ({host})" if host and source not in holding else ""
            _refuse(policy.name, key, f"Secret '{policy.name}' may not be sent to this destination{where}: "
                                      f"add the host to the secret's allowed hosts.", company_id, runner_id)


def _refuse(name: str, key: str, message: str, company_id: str, runner_id: str) -> None:
    # Committed by the caller with the failure it records, like the secret.read rows.
    record_audit(None, Action.SECRET_USE_REFUSED, "secret", name, {"runner_id": runner_id, "name": name,
                                                            "field": key}, company_id=company_id)
    raise SecretUseRefused(message)
