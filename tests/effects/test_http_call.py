"""api_call performer against the local stub: bodies, failures, bearer tokens, AES, secrets."""

from __future__ import annotations

import base64
import logging
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from app.effects import aes
from app.effects.http_call import (
    HttpCallError,
    OutboundPolicy,
    idempotency_key_for,
    perform_http_call,
)
from app.effects.token_cache import MemoryTokenCache
from tests.effects.stub_server import StubResponse, StubServer, stub_decrypt, stub_encrypt

POLICY = OutboundPolicy(allow_hosts=frozenset({"127.0.0.1"}))
KEY = bytes(range(32))
SECRET = "s3cr3t-DO-NOT-LEAK-42"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer(aes_key=KEY, token_ttl_s=100) as server:
        yield server


def call(request: dict[str, Any], cache: MemoryTokenCache | None = None, **kw: Any) -> dict:
    return perform_http_call(
        request,
        idempotency_key=kw.pop("key", "run-1:node-a:1"),
        policy=kw.pop("policy", POLICY),
        token_cache=cache if cache is not None else MemoryTokenCache(),
        **kw,
    )


def auth_config(stub: StubServer, *, login_path: str = "/login", cache_key: str | None = "r1"):
    config: dict[str, Any] = {
        "mode": "bearer",
        "bearer": {"login": {
            "url": stub.url(login_path), "method": "post",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "data": {"grant_type": "client_credentials", "client_id": "abc"},
        }},
        "response_type": "json",
        "response_map": {"access_token": "access_token"},
    }
    if cache_key is not None:
        config["cache"] = {"key": cache_key, "ttl": {"access_token": "expires_in"}}
    return config


def test_json_body_query_headers_and_idempotency_key_are_sent(stub: StubServer) -> None:
    result = call({
        "method": "post", "url": stub.url("/customers?fixed=1"),
        "headers": {"X-Tenant": "acme"}, "query": {"page": 2, "tag": ["a", "b"]},
        "body": {"name": "Asha", "amount": 1500.5},
    })
    seen = stub.requests[0]
    assert seen.method == "POST"
    assert seen.query == {"fixed": ["1"], "page": ["2"], "tag": ["a", "b"]}
    assert seen.header("X-Tenant") == "acme"
    assert seen.header("Idempotency-Key") == "run-1:node-a:1"
    assert seen.header("Content-Type") == "application/json"
    assert seen.json() == {"name": "Asha", "amount": 1500.5}
    assert result["status"] == 200
    assert result["body"]["path"] == "/customers"
    assert isinstance(result["elapsed_ms"], int)
    assert result["headers"]["Content-Type"] == "application/json"


def test_form_and_raw_bodies(stub: StubServer) -> None:
    call({"method": "post", "url": stub.url("/form"), "body_type": "form",
          "body": {"grant_type": "client_credentials", "n": 3}})
    call({"method": "put", "url": stub.url("/raw"), "body_type": "raw", "body": "<xml/>",
          "headers": {"Content-Type": "application/xml"}, "response_type": "text"})
    form, raw = stub.requests
    assert form.header("Content-Type") == "application/x-www-form-urlencoded"
    assert form.form() == {"grant_type": ["client_credentials"], "n": ["3"]}
    assert raw.method == "PUT"
    assert raw.body == b"<xml/>"
    assert raw.header("Content-Type") == "application/xml"


def test_response_types(stub: StubServer) -> None:
    stub.enqueue("/t", StubResponse(200, "plain words", {"Content-Type": "text/plain"}))
    assert call({"url": stub.url("/t")})["body"] == "plain words"
    stub.enqueue("/t", StubResponse(200, '{"a": 1}', {"Content-Type": "text/plain"}))
    assert call({"url": stub.url("/t"), "response_type": "json"})["body"] == {"a": 1}
    stub.enqueue("/t", StubResponse(200, "<html>", {"Content-Type": "text/html"}))
    with pytest.raises(HttpCallError, match="not valid JSON"):
        call({"url": stub.url("/t"), "response_type": "json"})


@pytest.mark.parametrize(("status", "retryable"), [(400, False), (404, False), (401, False),
                                                   (429, True), (500, True), (503, True)])
def test_non_2xx_fails_with_status_and_retry_flag(
    stub: StubServer, status: int, retryable: bool
) -> None:
    stub.enqueue("/x", StubResponse(status, {"error": "nope"}))
    with pytest.raises(HttpCallError) as caught:
        call({"url": stub.url("/x")})
    assert caught.value.status == status
    assert caught.value.retryable is retryable
    assert caught.value.message == f"upstream returned HTTP {status}"


def test_timeout_is_retryable_and_bounded(stub: StubServer) -> None:
    with pytest.raises(HttpCallError, match="timed out") as caught:
        call({"url": stub.url("/slow?seconds=5"), "timeout": 0.3})
    assert caught.value.retryable is True
    # The policy's ceiling wins over a node asking for a very long timeout.
    short = OutboundPolicy(allow_hosts=frozenset({"127.0.0.1"}), max_timeout_s=0.3)
    with pytest.raises(HttpCallError, match="timed out"):
        call({"url": stub.url("/slow?seconds=5"), "timeout": 600}, policy=short)


def test_connection_refused_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HttpCallError, match="connection failed") as caught:
        call({"url": f"http://127.0.0.1:{port}/"})
    assert caught.value.retryable is True


@pytest.mark.parametrize("bad", [
    {"url": ""}, {"url": "http://127.0.0.1/", "method": "BREW"},
    {"url": "http://127.0.0.1/", "timeout": -1}, {"url": "http://127.0.0.1/", "body_type": "xml",
                                                  "body": "x"},
    {"url": "http://127.0.0.1/", "auth_token_config": {"mode": "basic"}},
    {"url": "http://127.0.0.1/", "encryption_config": {"key": "short"}},
    {"url": "http://127.0.0.1/", "encryption_config": {"key": KEY.hex(), "mode": "gcm"}},
])
def test_bad_config_is_not_retryable(bad: dict[str, Any]) -> None:
    with pytest.raises(HttpCallError, match="invalid api_call config") as caught:
        call(bad)
    assert caught.value.retryable is False


def test_token_logs_in_once_then_is_reused(stub: StubServer) -> None:
    cache = MemoryTokenCache()
    request = {"url": stub.url("/protected"), "auth_token_config": auth_config(stub)}
    for _ in range(3):
        assert call(request, cache)["body"] == {"ok": True}
    assert stub.login_count == 1
    login = stub.requests_to("/login")[0]
    assert login.form()["grant_type"] == ["client_credentials"]
    assert login.header("Idempotency-Key") is None
    assert [r.header("Authorization") for r in stub.requests_to("/protected")] == [
        "Bearer token-1"] * 3


def test_a_vendor_answer_nested_too_deeply_is_a_failed_call_not_a_crash(stub: StubServer) -> None:
    stub.enqueue("/deep", StubResponse(200, "[" * 100_000 + "]" * 100_000,
                                       headers={"Content-Type": "application/json"}))
    with pytest.raises(HttpCallError) as caught:
        call({"url": stub.url("/deep"), "response_type": "json"})
    assert caught.value.message == "the response is not valid JSON" and not caught.value.retryable


def test_an_answer_echoing_the_login_token_gets_it_masked(stub: StubServer) -> None:
    stub.enqueue("/echo", StubResponse(200, {"you_sent": "Bearer token-1", "token": "token-1"},
                                       headers={"X-Seen-Authorization": "Bearer token-1"}))
    result = call({"url": stub.url("/echo"), "auth_token_config": auth_config(stub)})
    assert stub.requests_to("/echo")[0].header("Authorization") == "Bearer token-1"  # sent
    assert result["body"] == {"you_sent": "********", "token": "********"}
    assert result["headers"]["X-Seen-Authorization"] == "********"


def test_token_expires_by_ttl_from_the_login_response(stub: StubServer) -> None:
    clock = Clock()
    cache = MemoryTokenCache(clock=clock)
    request = {"url": stub.url("/protected"), "auth_token_config": auth_config(stub)}
    call(request, cache)
    clock.now += 85  # expires_in is 100; tokens are dropped 10% early
    call(request, cache)
    assert stub.login_count == 1
    clock.now += 10
    call(request, cache)
    assert stub.login_count == 2


def test_without_cache_config_every_call_logs_in(stub: StubServer) -> None:
    config = auth_config(stub, cache_key=None)
    request = {"url": stub.url("/protected"), "auth_token_config": config}
    cache = MemoryTokenCache()
    call(request, cache)
    call(request, cache)
    assert stub.login_count == 2


def test_same_cache_key_for_two_login_endpoints_does_not_share_tokens(stub: StubServer) -> None:
    cache = MemoryTokenCache()
    call({"url": stub.url("/protected"), "auth_token_config": auth_config(stub)}, cache)
    call({"url": stub.url("/protected"),
          "auth_token_config": auth_config(stub, login_path="/login-other")}, cache)
    assert stub.login_count == 2


def test_401_with_cached_token_logs_in_again_once(stub: StubServer) -> None:
    cache = MemoryTokenCache()
    request = {"url": stub.url("/protected"), "auth_token_config": auth_config(stub)}
    call(request, cache)
    stub.revoke_tokens()
    assert call(request, cache)["body"] == {"ok": True}
    assert stub.login_count == 2
    stub.revoke_tokens()
    stub.enqueue("/protected", StubResponse(401), StubResponse(401))
    with pytest.raises(HttpCallError) as caught:
        call(request, cache)
    assert caught.value.status == 401
    assert stub.login_count == 3  # one refresh, no loop


def test_login_failures_are_reported(stub: StubServer) -> None:
    request = {"url": stub.url("/protected"), "auth_token_config": auth_config(stub)}
    stub.enqueue("/login", StubResponse(400, {"error": "invalid_client"}))
    with pytest.raises(HttpCallError) as caught:
        call(request)
    assert (caught.value.message, caught.value.status) == ("auth login returned HTTP 400", 400)
    stub.enqueue("/login", StubResponse(200, {"token": "elsewhere"}))
    with pytest.raises(HttpCallError, match="no access token"):
        call(request)
    assert stub.requests_to("/protected") == []


@pytest.mark.parametrize("key", [KEY, KEY.hex(), base64.b64encode(KEY).decode(),
                                 base64.urlsafe_b64encode(KEY).decode().rstrip("=")])
def test_encryption_round_trip_against_the_stub(stub: StubServer, key: Any) -> None:
    result = call({
        "method": "post", "url": stub.url("/aes-echo"), "body": {"pan": "ABCDE1234F"},
        "encryption_config": {"encrypt": True, "decrypt": True, "algorithm": "aes256",
                              "mode": "cbc", "key": key},
    })
    assert result["body"] == {"echo": {"pan": "ABCDE1234F"}}
    wire = stub.requests[0]
    assert b"ABCDE1234F" not in wire.body
    assert wire.header("Content-Type") == "text/plain; charset=utf-8"
    assert stub_decrypt(wire.body, KEY) == b'{"pan":"ABCDE1234F"}'


def test_undecryptable_response_is_a_clean_failure(stub: StubServer) -> None:
    stub.enqueue("/enc", StubResponse(200, {"not": "encrypted"}))
    with pytest.raises(HttpCallError, match="could not decrypt") as caught:
        call({"url": stub.url("/enc"), "encryption_config": {"key": KEY.hex()}})
    assert KEY.hex() not in caught.value.message
    assert caught.value.retryable is False


def test_aes_envelope_matches_reference_and_rejects_wrong_key() -> None:
    envelope = aes.encrypt(b"hello", KEY)
    assert envelope != aes.encrypt(b"hello", KEY)  # fresh IV each time
    assert stub_decrypt(envelope.encode(), KEY) == b"hello"
    assert aes.decrypt(stub_encrypt(b"hi", KEY), KEY) == b"hi"
    with pytest.raises(aes.AesEnvelopeError):
        aes.decrypt(stub_encrypt(b"hi", KEY), bytes(32))
    fixed = aes.encrypt(b"x", KEY, fixed_iv=bytes(16))
    assert len(base64.b64decode(fixed)) == 16
    assert aes.decrypt(fixed, KEY, fixed_iv=bytes(16)) == b"x"
    assert aes.parse_key("k" * 32) == b"k" * 32


def _secret_request(stub: StubServer, path: str, **extra: Any) -> dict[str, Any]:
    return {
        "method": "post", "url": stub.url(path), "query": {"api_key": SECRET},
        "headers": {"X-Api-Key": SECRET, "Authorization": f"Basic {SECRET}"},
        "body": {"password": SECRET}, **extra,
    }


def test_secrets_never_reach_errors_or_logs(
    stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stub.enqueue("/fail", StubResponse(500, {"echo": SECRET}))
    stub.enqueue("/login", StubResponse(403, {"echo": SECRET}))
    failing = [
        _secret_request(stub, "/fail"),
        _secret_request(stub, "/slow", query={"seconds": "3", "api_key": SECRET}, timeout=0.2),
        {**_secret_request(stub, "/x"), "url": f"http://10.0.0.1/{SECRET}"},
        {**_secret_request(stub, "/x"), "url": f"http://127.0.0.1:1/{SECRET}"},
        {**_secret_request(stub, "/x"), "url": f"http://{SECRET}.invalid/"},
        _secret_request(stub, "/x", auth_token_config=auth_config(stub)),
        _secret_request(stub, "/x", encryption_config={"key": SECRET[:16] + SECRET[:16]}),
        _secret_request(stub, "/x", headers={"X-Bad": f"{SECRET}\r\nInjected: 1"}),
    ]
    errors = []
    for request in failing:
        with pytest.raises(HttpCallError) as caught:
            call(request)
        errors.append(caught.value)
    call(_secret_request(stub, "/ok"))
    for err in errors:
        assert SECRET not in f"{err} {err.message} {err!r} {err.__cause__} {err.__context__}"
    assert caplog.records, "the calls should have logged something"
    assert SECRET not in caplog.text
    assert all(SECRET not in str(r.args) for r in caplog.records)


def test_a_given_session_only_supplies_default_headers(stub: StubServer) -> None:
    with requests.Session() as session:
        session.headers["User-Agent"] = "flowdesk-test"
        session.proxies = {"http": "http://10.255.255.1:3128"}
        call({"url": stub.url("/ua")}, session=session)
    assert stub.requests[0].header("User-Agent") == "flowdesk-test"


def test_memory_cache_ttl_and_delete() -> None:
    clock = Clock()
    cache = MemoryTokenCache(clock=clock)
    cache.set("k", "v", 10)
    cache.set("gone", "v", 0)
    assert (cache.get("k"), cache.get("gone")) == ("v", None)
    clock.now += 10
    assert cache.get("k") is None
    cache.set("k", "v2", 5)
    cache.delete("k")
    cache.delete("never-set")
    assert cache.get("k") is None
    assert "v2" not in repr(cache)


def test_random_key_round_trips_through_the_helper() -> None:
    key = os.urandom(32)
    assert aes.decrypt(aes.encrypt(b"\x00" * 33, key), aes.parse_key(key.hex())) == b"\x00" * 33


def test_idempotency_keys_are_stable_per_attempt_and_distinct_across() -> None:
    key = idempotency_key_for("runner-1", "node-a", 1)
    assert key == idempotency_key_for("runner-1", "node-a", 1)
    variants = [("runner-1", "node-a", 2), ("runner-1", "node-b", 1), ("runner-2", "node-a", 1),
                ("runner-1node-a", "", 1)]
    others = {idempotency_key_for(*v) for v in variants}
    assert key not in others
    assert len(others) == 4
    assert len(key) == 36
