"""Outbound HTTP guard: destination policy, SSRF checks, IP-pinned transport, capped fetches.

Destination rule: the host is resolved here, and the call is refused if *any* resolved address is
loopback, private, link-local, shared (CGNAT), reserved, multicast, unspecified or a cloud metadata
address (also when hidden inside an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address), unless the
policy allowlists it: ``allow_hosts`` naming the host, or ``allow_networks`` containing the address.
Metadata addresses are only unlocked by an exact entry (the IP itself in ``allow_hosts`` or a
single-address network), so a broad ``169.254.0.0/16`` or ``0.0.0.0/0`` never exposes them.

The connection then goes to the address that was checked (``PinnedAdapter``), with the original
``Host`` header and TLS SNI / certificate hostname kept, so a second DNS answer cannot swap in an
internal address (DNS rebinding). Redirects are followed by hand and every hop is checked again.
Proxies from the environment are never used: they would move the connection out of our control.

Nothing here puts a URL, host, header or body into a log record or an error message, because any
of them may carry a templated secret.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")
_URLLIB3_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
)
_guarded = contextvars.ContextVar("flowdesk_outbound_guarded", default=False)


class _WithholdUrllib3Details(logging.Filter):
    """urllib3 logs request paths and queries at DEBUG; ours may carry secrets, so blank them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _guarded.get():
            record.msg = "urllib3 event (details withheld: outbound call data may hold secrets)"
            record.args = ()
        return True


_FILTER = _WithholdUrllib3Details()
for _name in _URLLIB3_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


@dataclass(frozen=True)
class OutboundPolicy:
    """A company's outbound rules; the limits are always on and cannot be switched off."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()
    max_response_bytes: int = 2_000_000
    default_timeout_s: float = 10.0
    max_timeout_s: float = 30.0
    max_redirects: int = 3


class HttpCallError(Exception):
    """A failed outbound call; ``message`` is safe to show (no URL, header or body content)."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status


def config_error(message: str) -> HttpCallError:
    """A non-retryable error for a node config that can never work as given."""
    return HttpCallError(f"invalid api_call config: {message}", retryable=False)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def detached_errors(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Re-raise ``HttpCallError`` as a fresh error with no ``__context__`` or ``__cause__``.

    The library exceptions it replaced carry URLs, header values or response documents, and
    tracebacks or error trackers would otherwise walk into them through the chain.
    """

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return func(*args, **kwargs)
        except HttpCallError as exc:
            error = HttpCallError(exc.message, retryable=exc.retryable, status=exc.status)
        # Raised outside the except block on purpose, so Python attaches no context.
        raise error

    return wrapper


@dataclass(frozen=True)
class FetchResult:
    """The final response of a fetch; ``content`` is already bounded by the policy."""

    status: int
    headers: dict[str, str] = field(repr=False)
    content: bytes = field(repr=False)
    elapsed_ms: int


def _refused(reason: str) -> HttpCallError:
    return HttpCallError(f"destination refused: {reason}", retryable=False)


def _embedded_ipv4(ip: IPAddress) -> IPAddress | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_risk(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public destination, or None when it is one."""
    inner = _embedded_ipv4(ip)
    if inner is not None:
        return address_risk(inner)
    checks = (
        (ip in METADATA_ADDRESSES, "a cloud metadata address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "a non-public address"),
    )
    return next((reason for hit, reason in checks if hit), None)


def _allowlisted(host: str, ip: IPAddress, policy: OutboundPolicy) -> bool:
    names = {h.lower().strip("[]").rstrip(".") for h in policy.allow_hosts}
    if ip in METADATA_ADDRESSES:
        exact = {n.num_addresses == 1 and n.network_address == ip for n in policy.allow_networks}
        return str(ip) in names or True in exact
    return host in names or any(ip in net for net in policy.allow_networks)


def _split_target(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refused("the URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _refused("only http and https URLs are allowed")
    if parts.username is not None or parts.password is not None:
        raise _refused("credentials inside the URL are not supported; send them as headers")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _refused("the URL has no host")
    return host, port or (443 if scheme == "https" else 80)


def resolve_destination(url: str, policy: OutboundPolicy) -> tuple[str, str]:
    """Check ``url`` against ``policy`` and return ``(host, ip)`` to pin the connection to."""
    host, port = _split_target(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        # A failed lookup is usually transient (resolver hiccup), hence retryable.
        raise HttpCallError("destination host could not be resolved", retryable=True) from None
    # Strip an IPv6 zone ("fe80::1%eth0"); the zone does not change what the address is.
    found = (ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    addresses = list(dict.fromkeys(found))
    if not addresses:
        raise HttpCallError("destination host could not be resolved", retryable=True)
    for ip in addresses:
        risk = address_risk(ip)
        if risk and not _allowlisted(host, ip, policy):
            raise _refused(
                f"the host resolves to {risk}; add it to the company's outbound allowlist "
                "to permit it"
            )
    return host, str(addresses[0])


@detached_errors
def check_destination(url: str, policy: OutboundPolicy) -> None:
    """Raise ``HttpCallError(retryable=False)`` when ``policy`` forbids calling ``url``."""
    resolve_destination(url, policy)


class PinnedAdapter(HTTPAdapter):
    """Transport that checks every connection's destination and connects to the checked IP."""

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__(pool_connections=4, pool_maxsize=4, max_retries=0)
        self.policy = policy

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: Mapping[str, str] | None = None,
        cert: Any = None,
    ) -> Any:
        """Ignore ``proxies``: a proxy would resolve the host itself and defeat the pin."""
        host, ip = resolve_destination(request.url or "", self.policy)
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        if host_params["scheme"] == "https":
            # SNI and certificate checks must use the name, while the socket goes to the IP.
            pool_kwargs["server_hostname"] = host
            pool_kwargs["assert_hostname"] = host
        host_params["host"] = ip
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)


def _host_header(url: str) -> str:
    netloc = urlsplit(url).netloc
    return netloc.rpartition("@")[2]


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise HttpCallError("timed out", retryable=True)
    return left


def _read_capped(resp: requests.Response, policy: OutboundPolicy, deadline: float) -> bytes:
    limit = policy.max_response_bytes
    too_big = HttpCallError(f"response is larger than {limit} bytes", retryable=False)
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    # Counting decoded bytes also stops compressed bombs.
    for chunk in resp.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
        _remaining(deadline)
    return b"".join(chunks)


def _transport_error(exc: requests.RequestException) -> HttpCallError:
    """Map a requests failure to a safe error; its own message may contain the URL."""
    if isinstance(exc, requests.Timeout) or (
        exc.args and isinstance(exc.args[0], ReadTimeoutError)
    ):
        return HttpCallError("timed out", retryable=True)
    if isinstance(exc, requests.exceptions.SSLError):
        return HttpCallError("TLS handshake or certificate check failed", retryable=False)
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return HttpCallError(f"connection failed ({type(exc).__name__})", retryable=True)
    return HttpCallError(f"request failed ({type(exc).__name__})", retryable=False)


def _send_once(
    adapter: PinnedAdapter, prep: requests.PreparedRequest, policy: OutboundPolicy, deadline: float
) -> tuple[int, dict[str, str], bytes]:
    left = _remaining(deadline)
    try:
        resp = adapter.send(prep, stream=True, timeout=(left, left), verify=True, proxies={})
    except requests.RequestException as exc:
        raise _transport_error(exc) from None
    except ValueError as exc:
        # e.g. a header value http.client cannot encode; its message names no data.
        raise HttpCallError(f"request failed ({type(exc).__name__})", retryable=False) from None
    try:
        status, headers = resp.status_code, dict(resp.headers)
        if status in _REDIRECT_STATUSES and "Location" in resp.headers:
            return status, headers, b""
        return status, headers, _read_capped(resp, policy, deadline)
    except requests.RequestException as exc:
        raise _transport_error(exc) from None
    finally:
        resp.close()


@detached_errors
def fetch(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout_s: float,
    policy: OutboundPolicy,
) -> FetchResult:
    """Send one request under ``policy``, following redirects by hand within one deadline."""
    started = time.monotonic()
    deadline = started + timeout_s
    current_headers = dict(headers)
    adapter = PinnedAdapter(policy)
    guard = _guarded.set(True)
    try:
        for hop in range(policy.max_redirects + 1):
            prepared = requests.Request(method, url, headers=current_headers, data=body)
            try:
                prep = prepared.prepare()
            except (requests.RequestException, ValueError):
                raise HttpCallError("the request URL is invalid", retryable=False) from None
            prep.headers["Host"] = _host_header(prep.url or url)
            try:
                status, resp_headers, content = _send_once(adapter, prep, policy, deadline)
            except HttpCallError as exc:
                if hop and exc.message.startswith("destination refused"):
                    raise HttpCallError(f"redirect {exc.message}", retryable=False) from None
                raise
            if status not in _REDIRECT_STATUSES or "Location" not in resp_headers:
                elapsed_ms = int((time.monotonic() - started) * 1000)
                log.info("outbound %s -> HTTP %s in %d ms (%d redirects)", method, status,
                         elapsed_ms, hop)
                return FetchResult(status, resp_headers, content, elapsed_ms)
            target = urljoin(prep.url or url, resp_headers["Location"])
            if status == 303 or (status in (301, 302) and method not in ("GET", "HEAD")):
                # Browsers and requests turn these into a GET without a body; servers expect it.
                method, body = "GET", None
                current_headers = {
                    k: v for k, v in current_headers.items() if k.lower() != "content-type"
                }
            if not _same_origin(prep.url or url, target):
                current_headers = {
                    k: v for k, v in current_headers.items()
                    if k.lower() not in _CREDENTIAL_HEADERS
                }
            url = target
        raise HttpCallError(
            f"too many redirects (more than {policy.max_redirects})", retryable=False
        )
    finally:
        _guarded.reset(guard)
        adapter.close()
