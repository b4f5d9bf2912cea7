"""Destination guard: refused addresses, allowlists, DNS pinning, redirects and size limits."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests

from app.effects.outbound import (
    HttpCallError,
    OutboundPolicy,
    PinnedAdapter,
    check_destination,
    fetch,
)
from tests.effects.stub_server import StubResponse, StubServer

STUB_ONLY = OutboundPolicy(allow_hosts=frozenset({"127.0.0.1"}))
_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names in the returned dict resolve to its addresses; lookups are counted under '#name'."""
    table: dict[str, list[str]] = {}

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list:
        if host in table:
            table.setdefault(f"#{host}", []).append("lookup")
            return [
                (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (ip, port))
                for ip in table[host]
            ]
        return _real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


def get(url: str, policy: OutboundPolicy = STUB_ONLY, **headers: str) -> int:
    return fetch("GET", url, headers=headers, body=None, timeout_s=5, policy=policy).status


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.10:8080/x", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://[::1]/", "loopback"),
        ("http://localhost/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[2002:7f00:1::]/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://100.64.0.1/", "non-public"),
        ("http://169.254.1.1/", "link-local"),
    ],
)
def test_internal_destinations_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(HttpCallError) as caught:
        check_destination(url, OutboundPolicy())
    assert caught.value.retryable is False
    assert caught.value.status is None
    assert caught.value.message.startswith("destination refused")
    assert reason in caught.value.message


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/", "gopher://x/", "http://user:pw@1.1.1.1/"]
)
def test_only_plain_http_urls_without_credentials_are_accepted(url: str) -> None:
    with pytest.raises(HttpCallError, match="destination refused") as caught:
        check_destination(url, OutboundPolicy())
    assert "pw" not in caught.value.message


def test_public_address_passes() -> None:
    check_destination("https://93.184.216.34/path?q=1", OutboundPolicy())


def test_a_name_with_any_internal_answer_is_refused(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["mixed.example"] = ["93.184.216.34", "10.0.0.5"]
    with pytest.raises(HttpCallError, match="private"):
        check_destination("https://mixed.example/", OutboundPolicy())


def test_allowlists_let_named_hosts_and_networks_through() -> None:
    named = OutboundPolicy(allow_hosts=frozenset({"LOCALHOST"}))
    check_destination("http://localhost:8000/", named)
    net = OutboundPolicy(allow_networks=(ipaddress.ip_network("10.0.0.0/8"),))
    check_destination("http://10.9.8.7/", net)
    with pytest.raises(HttpCallError):
        check_destination("http://192.168.1.1/", net)


def test_metadata_needs_an_exact_allowlist_entry() -> None:
    everything = OutboundPolicy(
        allow_networks=(ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
    )
    check_destination("http://10.0.0.1/", everything)
    with pytest.raises(HttpCallError, match="metadata"):
        check_destination("http://169.254.169.254/", everything)
    exact = OutboundPolicy(allow_hosts=frozenset({"169.254.169.254"}))
    check_destination("http://169.254.169.254/", exact)


def test_allowlisted_stub_is_reachable(stub: StubServer) -> None:
    assert get(stub.url("/hello")) == 200
    with pytest.raises(HttpCallError, match="loopback"):
        get(stub.url("/hello"), OutboundPolicy())
    assert len(stub.requests) == 1


def test_connection_goes_to_the_checked_address(
    stub: StubServer, fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["vendor.test"] = ["127.0.0.1"]
    policy = OutboundPolicy(allow_hosts=frozenset({"vendor.test"}))
    assert get(stub.url("/pinned", host="vendor.test"), policy) == 200
    # One lookup only: the socket reused the checked answer instead of asking DNS again.
    assert fake_dns["#vendor.test"] == ["lookup"]
    assert stub.requests[0].header("Host") == f"vendor.test:{stub.port}"


def test_https_keeps_the_name_for_sni_and_certificate_checks(
    fake_dns: dict[str, list[str]],
) -> None:
    fake_dns["vendor.test"] = ["93.184.216.34"]
    adapter = PinnedAdapter(OutboundPolicy())
    prep = requests.Request("GET", "https://vendor.test/v1").prepare()
    pool = adapter.get_connection_with_tls_context(prep, verify=True)
    assert pool.host == "93.184.216.34"
    assert pool.conn_kw["server_hostname"] == "vendor.test"
    assert pool.assert_hostname == "vendor.test"
    adapter.close()


def test_environment_proxies_are_not_used(
    stub: StubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.255.255.1:3128")
    monkeypatch.setenv("http_proxy", "http://10.255.255.1:3128")
    assert get(stub.url("/direct")) == 200


def test_redirect_to_loopback_from_an_allowed_host_is_refused(stub: StubServer) -> None:
    target = quote(stub.url("/secret-admin", host="localhost"), safe="")
    with pytest.raises(HttpCallError) as caught:
        get(stub.url(f"/redirect?to={target}"))
    assert caught.value.message.startswith("redirect destination refused")
    assert caught.value.retryable is False
    assert stub.requests_to("/secret-admin") == []


def test_redirects_are_followed_and_capped(stub: StubServer) -> None:
    target = quote(stub.url("/landed"), safe="")
    assert get(stub.url(f"/redirect?to={target}")) == 200
    assert len(stub.requests_to("/landed")) == 1
    loop = StubResponse(302, None, {"Location": "/loop"})
    stub.enqueue("/loop", *[loop] * 5)
    with pytest.raises(HttpCallError, match="too many redirects"):
        get(stub.url("/loop"))


def test_post_becomes_get_on_303_and_credentials_stay_on_their_origin(
    stub: StubServer, fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["other.test"] = ["127.0.0.1"]
    policy = OutboundPolicy(allow_hosts=frozenset({"127.0.0.1", "other.test"}))
    stub.enqueue("/submit", StubResponse(303, None, {"Location": stub.url("/done", "other.test")}))
    result = fetch(
        "POST", stub.url("/submit"), headers={"Authorization": "Bearer t", "Idempotency-Key": "k"},
        body=b'{"a":1}', timeout_s=5, policy=policy,
    )
    assert result.status == 200
    done = stub.requests_to("/done")[0]
    assert done.method == "GET"
    assert done.body == b""
    assert done.header("Authorization") is None
    assert done.header("Idempotency-Key") == "k"


@pytest.mark.parametrize("stream", [False, True])
def test_response_size_is_capped(stub: StubServer, stream: bool) -> None:
    policy = OutboundPolicy(allow_hosts=frozenset({"127.0.0.1"}), max_response_bytes=100_000)
    suffix = "&stream=1" if stream else ""
    ok = fetch("GET", stub.url(f"/bytes?n=100000{suffix}"), headers={}, body=None,
               timeout_s=5, policy=policy)
    assert len(ok.content) == 100_000
    with pytest.raises(HttpCallError, match="larger than 100000 bytes") as caught:
        get(stub.url(f"/bytes?n=300000{suffix}"), policy)
    assert caught.value.retryable is False
