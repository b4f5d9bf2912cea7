"""Performs an ``api_call`` node: one outbound HTTP request with optional login token and AES.

Input is the node config already rendered by the engine (see ``perform_http_call``). Rules:

* Body: ``body_type`` "json" (default; ``json.dumps`` of ``body``), "form" (``body``/``data``
  url-encoded) or "raw" (str/bytes as-is). Without an explicit ``body_type``, a ``data`` field or a
  ``Content-Type: application/x-www-form-urlencoded`` header means "form", as in seed 001's login.
* ``Idempotency-Key: <idempotency_key>`` is sent on the call (not on the login, whose repeats
  must yield fresh tokens rather than a replayed one); ``idempotency_key_for`` derives one.
* Bearer auth (``auth_token_config.mode == "bearer"``): the ``bearer.login`` request is performed
  under the same outbound policy; ``response_map.access_token`` (a JMESPath, default
  ``access_token``) picks the token, sent as ``Authorization: Bearer <token>`` (replacing any
  Authorization header). With ``cache.key``, the token is cached under that key *and* the login
  URL (so two vendors sharing a key never share tokens) for the seconds found at
  ``cache.ttl.access_token`` (a path such as ``expires_in``, or a number; 300 s when absent), less
  10 % (at most 30 s) so a token is not used at the edge of its life. A 401 answered to a cached
  token drops it and logs in once more (``app.effects.token_cache`` holds that flow).
* Encryption (``encryption_config``, algorithm aes256, mode cbc): see ``app.effects.aes`` for the
  envelope. ``encrypt`` sends the serialised body as the envelope (``Content-Type: text/plain``
  unless a header says otherwise); ``decrypt`` opens 2xx response bodies before parsing.
* Response: ``response_type`` "json" (must parse) or "text"; when absent, JSON is parsed if the
  response says it is JSON (or was decrypted and parses), else text. An empty body is None
  unless "text" was asked for.
* Failures raise ``HttpCallError``: non-2xx (``status`` set; 5xx and 429 retryable), timeouts and
  connection errors (retryable), refused destinations and bad config (not retryable).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests

from app import jsontext
from app.effects import aes
from app.effects.outbound import (
    FetchResult,
    HttpCallError,
    OutboundPolicy,
    config_error,
    detached_errors,
    fetch,
)
from app.effects.redact import Redactor
from app.effects.token_cache import BearerTokenProvider, TokenCache

__all__ = ["HttpCallError", "OutboundPolicy", "idempotency_key_for", "perform_http_call"]

log = logging.getLogger(__name__)

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_FORM_TYPE = "application/x-www-form-urlencoded"
# Fixed forever: changing it would change every key and defeat vendors' duplicate detection.
_IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1d3c2e-8a5b-4c7d-9e0f-1a2b3c4d5e6f")
# gzip is safe to accept: the size cap counts decoded bytes.
_DEFAULT_HEADERS = {"User-Agent": "Flowdesk", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}


def idempotency_key_for(runner_id: str, node_id: str, attempt: int) -> str:
    """A stable UUID for one attempt of one node in one runner (many vendors demand a UUID).

    A retry of the same attempt number reuses the key, so a vendor can drop the duplicate; a
    new attempt gets a new key. The inputs cannot be recovered from the key.
    """
    return str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{runner_id}\x1f{node_id}\x1f{attempt}"))


def _timeout(raw: Any, policy: OutboundPolicy) -> float:
    if raw is None:
        return min(policy.default_timeout_s, policy.max_timeout_s)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise config_error("timeout must be a number of seconds") from None
    if not value > 0:
        raise config_error("timeout must be positive")
    return min(value, policy.max_timeout_s)


def _headers(raw: Any, defaults: Mapping[str, str]) -> dict[str, str]:
    if raw is not None and not isinstance(raw, Mapping):
        raise config_error("headers must be an object")
    merged = {str(k): str(v) for k, v in defaults.items()}
    for key, value in (raw or {}).items():
        for existing in [k for k in merged if k.lower() == str(key).lower()]:
            del merged[existing]
        if value is not None:
            merged[str(key)] = value if isinstance(value, str) else json.dumps(value)
    return merged


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _set_header(headers: dict[str, str], name: str, value: str) -> None:
    for existing in [k for k in headers if k.lower() == name.lower()]:
        del headers[existing]
    headers[name] = value


def _body(spec: Mapping[str, Any], headers: dict[str, str]) -> bytes | None:
    has_body = "body" in spec
    body = spec.get("body") if has_body else spec.get("data")
    body_type = spec.get("body_type")
    if body_type is None:
        form_header = (_header(headers, "Content-Type") or "").startswith(_FORM_TYPE)
        body_type = "form" if form_header or (not has_body and "data" in spec) else "json"
    if body_type not in ("json", "form", "raw"):
        raise config_error("body_type must be json, form or raw")
    if body is None:
        return None
    if body_type == "json":
        _set_header(headers, "Content-Type", _header(headers, "Content-Type") or "application/json")
        try:
            return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        except (TypeError, ValueError):
            raise config_error("the body cannot be encoded as JSON") from None
    if body_type == "form":
        if not isinstance(body, Mapping):
            raise config_error("a form body must be an object of fields")
        _set_header(headers, "Content-Type", _header(headers, "Content-Type") or _FORM_TYPE)
        fields = {k: v if isinstance(v, str | list) else json.dumps(v) for k, v in body.items()}
        return urlencode(fields, doseq=True).encode()
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    raise config_error("a raw body must be a string")


def _url(spec: Mapping[str, Any]) -> str:
    url, query = spec.get("url"), spec.get("query")
    if not isinstance(url, str) or not url:
        raise config_error("url is required")
    if not query:
        return url
    if not isinstance(query, Mapping):
        raise config_error("query must be an object")
    try:
        prepared = requests.Request("GET", url, params=dict(query)).prepare()
    except (requests.RequestException, ValueError):
        raise config_error("the URL is invalid") from None
    return prepared.url or url


def _send(
    spec: Mapping[str, Any],
    *,
    policy: OutboundPolicy,
    defaults: Mapping[str, str],
    extra_headers: Mapping[str, str],
    cipher: _Cipher | None,
) -> FetchResult:
    method = str(spec.get("method") or "GET").upper()
    if method not in _METHODS:
        raise config_error("unsupported HTTP method")
    headers = _headers(spec.get("headers"), defaults)
    body = _body(spec, headers)
    if cipher is not None and cipher.encrypt and body is not None:
        body = aes.encrypt(body, cipher.key, fixed_iv=cipher.iv).encode("ascii")
        if _header(spec.get("headers") or {}, "Content-Type") is None:
            _set_header(headers, "Content-Type", "text/plain; charset=utf-8")
    for name, value in extra_headers.items():
        _set_header(headers, name, value)
    timeout_s = _timeout(spec.get("timeout"), policy)
    return fetch(method, _url(spec), headers=headers, body=body, timeout_s=timeout_s, policy=policy)


def _raise_for_status(result: FetchResult, what: str) -> None:
    if 200 <= result.status < 300:
        return
    retryable = result.status >= 500 or result.status == 429
    raise HttpCallError(
        f"{what} returned HTTP {result.status}", retryable=retryable, status=result.status
    )


class _Cipher:
    """Parsed ``encryption_config``; holds key material, so it has no useful repr."""

    def __init__(self, config: Any) -> None:
        if not isinstance(config, Mapping) or not isinstance(config.get("key"), str | bytes):
            raise config_error("encryption_config needs a key")
        algorithm = str(config.get("algorithm", "aes256")).lower().replace("_", "-")
        if algorithm not in ("aes256", "aes-256", "aes-256-cbc"):
            raise config_error("encryption_config.algorithm must be aes256")
        if str(config.get("mode", "cbc")).lower() != "cbc":
            raise config_error("encryption_config.mode must be cbc")
        try:
            self.key = aes.parse_key(config["key"])
            self.iv = aes.parse_iv(config["iv"]) if config.get("iv") else None
        except aes.AesEnvelopeError as exc:
            raise config_error(f"encryption_config: {exc}") from None
        self.encrypt = bool(config.get("encrypt", True))
        self.decrypt = bool(config.get("decrypt", True))

    def __repr__(self) -> str:
        return "<_Cipher>"


def _parse_body(result: FetchResult, response_type: str | None, decrypted: bool) -> Any:
    content_type = _header(result.headers, "Content-Type") or ""
    charset = "utf-8"
    if "charset=" in content_type:
        charset = content_type.split("charset=", 1)[1].split(";")[0].strip() or "utf-8"
    try:
        text = result.content.decode(charset, errors="replace")
    except LookupError:
        text = result.content.decode("utf-8", errors="replace")
    if response_type == "text":
        return text
    if response_type not in (None, "json"):
        raise config_error("response_type must be json or text")
    if not text.strip():
        return None
    looks_json = "json" in content_type.lower() or decrypted
    if response_type is None and not looks_json:
        return text
    try:
        return jsontext.loads(text)
    except ValueError:
        if response_type is None:
            return text
        raise HttpCallError("the response is not valid JSON", retryable=False) from None


@detached_errors
def perform_http_call(
    request: Mapping[str, Any],
    *,
    idempotency_key: str,
    policy: OutboundPolicy,
    token_cache: TokenCache,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """Perform a rendered api_call config; return status, headers, parsed body and elapsed_ms.

    ``session`` only contributes default headers (e.g. its User-Agent): its adapters, proxies,
    cookies and auth are ignored on purpose, since any of them could route around the
    destination guard. ``elapsed_ms`` covers the call itself (all redirect hops), not the login.
    """
    if not isinstance(request, Mapping):
        raise config_error("the request must be an object")
    defaults = dict(session.headers) if session is not None else dict(_DEFAULT_HEADERS)
    encryption = request.get("encryption_config")
    cipher = _Cipher(encryption) if encryption else None
    auth_config = request.get("auth_token_config")
    auth = BearerTokenProvider(auth_config, token_cache) if auth_config else None
    extra = {"Idempotency-Key": idempotency_key}

    def login(spec: Mapping[str, Any], response_type: str | None) -> Any:
        result = _send(spec, policy=policy, defaults=defaults, extra_headers={}, cipher=None)
        _raise_for_status(result, "auth login")
        return _parse_body(result, response_type, decrypted=False)

    def attempt(from_cache_ok: bool) -> tuple[FetchResult, bool]:
        used_cache = False
        if auth is not None:
            if not from_cache_ok:
                auth.forget()
            token, used_cache = auth.token(login)
            extra["Authorization"] = f"Bearer {token}"
        result = _send(request, policy=policy, defaults=defaults, extra_headers=extra,
                       cipher=cipher)
        return result, used_cache

    result, used_cache = attempt(from_cache_ok=True)
    if result.status == 401 and used_cache:
        log.info("api_call got 401 with a cached access token; logging in again")
        result, _ = attempt(from_cache_ok=False)
    _raise_for_status(result, "upstream")

    decrypted = False
    content_result = result
    if cipher is not None and cipher.decrypt and result.content.strip():
        try:
            plain = aes.decrypt(result.content, cipher.key, fixed_iv=cipher.iv)
        except aes.AesEnvelopeError as exc:
            raise HttpCallError(f"could not decrypt the response: {exc}", retryable=False) from None
        content_result = FetchResult(result.status, {}, plain, result.elapsed_ms)
        decrypted = True
    body = _parse_body(content_result, request.get("response_type"), decrypted)
    answer = {"status": result.status, "headers": result.headers, "body": body}
    if "Authorization" in extra:  # the login's token is a credential too, should the answer echo it
        sent = extra["Authorization"]
        answer = Redactor([sent, sent.removeprefix("Bearer ")])(answer)
    return {**answer, "elapsed_ms": result.elapsed_ms}
