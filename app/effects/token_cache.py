"""Vendor access tokens for ``auth_token_config``: the login-and-cache flow and its caches."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import jmespath
from jmespath.exceptions import JMESPathError

from app.effects.outbound import HttpCallError, config_error

log = logging.getLogger(__name__)

DEFAULT_TOKEN_TTL_S = 300.0
# (login spec, response_type) -> parsed login response; raises HttpCallError.
LoginFn = Callable[[Mapping[str, Any], str | None], Any]


class TokenCache(Protocol):
    """Where access tokens live between calls; a Redis-backed one can implement the same three."""

    def get(self, key: str) -> str | None:
        """The cached token, or None when missing or expired."""
        ...

    def set(self, key: str, value: str, ttl_s: float) -> None:
        """Store ``value`` for ``ttl_s`` seconds; a ttl of 0 or less stores nothing."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key``; a missing key is not an error."""
        ...


class MemoryTokenCache:
    """Process-local, thread-safe token cache; not shared between workers or restarts."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[str, float]] = {}

    def get(self, key: str) -> str | None:
        """The cached token, or None when missing or expired (expired entries are dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, expires_at = entry
            if self._clock() >= expires_at:
                del self._entries[key]
                return None
            return value

    def set(self, key: str, value: str, ttl_s: float) -> None:
        """Store ``value`` for ``ttl_s`` seconds; a ttl of 0 or less removes the key instead."""
        with self._lock:
            if ttl_s <= 0:
                self._entries.pop(key, None)
                return
            self._entries[key] = (value, self._clock() + ttl_s)

    def delete(self, key: str) -> None:
        """Forget ``key``; a missing key is not an error."""
        with self._lock:
            self._entries.pop(key, None)

    def __repr__(self) -> str:
        # Never show the tokens themselves, e.g. in a debugger or a failing assertion.
        return f"<MemoryTokenCache entries={len(self._entries)}>"


def _search(path: Any, data: Any, where: str) -> Any:
    try:
        return jmespath.search(str(path), data)
    except JMESPathError:
        raise config_error(f"{where} is not a valid path") from None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class BearerTokenProvider:
    """Seed-001 ``auth_token_config`` (mode bearer): log in, pick the token, cache it.

    The cache entry is keyed by ``cache.key`` *and* the login endpoint, so two vendors whose
    configs share a key (e.g. the runner id) never receive each other's tokens. Concurrent misses
    may both log in; the last token stored wins, which vendors tolerate.
    """

    def __init__(self, config: Any, cache: TokenCache) -> None:
        if not isinstance(config, Mapping) or config.get("mode", "bearer") != "bearer":
            raise config_error("auth_token_config.mode must be bearer")
        login = _mapping(config.get("bearer")).get("login")
        if not isinstance(login, Mapping):
            raise config_error("auth_token_config.bearer.login is required")
        self.login = login
        self.cache = cache
        self.response_type = config.get("response_type", "json")
        self.token_path = _mapping(config.get("response_map")).get("access_token", "access_token")
        cache_cfg = _mapping(config.get("cache"))
        ttl = cache_cfg.get("ttl")
        self.ttl_spec = ttl.get("access_token") if isinstance(ttl, Mapping) else ttl
        self.cache_key: str | None = None
        if cache_cfg.get("key"):
            parts = urlsplit(str(login.get("url", "")))
            method = str(login.get("method", "POST")).upper()
            origin = f"{method} {parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}"
            scope = hashlib.sha256(origin.encode()).hexdigest()[:16]
            self.cache_key = f"auth-token:{scope}:{cache_cfg['key']}"

    def ttl_for(self, response: Any) -> float:
        """Seconds to cache a token: ``cache.ttl`` (path or number), less 10 % (max 30 s)."""
        spec = self.ttl_spec
        raw = spec if isinstance(spec, int | float) else None
        if isinstance(spec, str):
            raw = _search(spec, response, "auth_token_config.cache.ttl")
        try:
            ttl = float(raw) if raw is not None else DEFAULT_TOKEN_TTL_S
        except (TypeError, ValueError):
            ttl = DEFAULT_TOKEN_TTL_S
        return ttl - min(30.0, ttl * 0.1)

    def token(self, login: LoginFn) -> tuple[str, bool]:
        """Return ``(token, came_from_cache)``, calling ``login`` when nothing usable is cached."""
        if self.cache_key is not None:
            cached = self.cache.get(self.cache_key)
            if cached:
                return cached, True
        try:
            response = login(self.login, self.response_type)
        except HttpCallError as exc:
            message = exc.message if exc.message.startswith("auth") else f"auth login: {exc}"
            raise HttpCallError(message, retryable=exc.retryable, status=exc.status) from None
        token = _search(self.token_path, response, "auth_token_config.response_map")
        if not isinstance(token, str | int) or isinstance(token, bool) or token == "":
            raise HttpCallError("auth login response has no access token", retryable=False)
        token = str(token)
        if self.cache_key is not None:
            self.cache.set(self.cache_key, token, self.ttl_for(response))
        log.debug("obtained a fresh access token")
        return token, False

    def forget(self) -> None:
        """Drop the cached token (the vendor rejected it)."""
        if self.cache_key is not None:
            self.cache.delete(self.cache_key)
