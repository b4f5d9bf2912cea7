"""A threaded HTTP stub on 127.0.0.1 for outbound-call tests: records requests, scripts replies.

Built-in routes (a scripted reply for the path always wins):

* ``/login*``   issues ``token-<n>`` with ``expires_in`` = ``token_ttl_s``; counts logins.
* ``/protected`` 401 unless ``Authorization: Bearer <a token issued and not revoked>``.
* ``/aes-echo``  decrypts the body (``base64(IV || AES-256-CBC ciphertext)``, PKCS7) with
  ``aes_key`` and replies ``{"echo": <plaintext as JSON>}`` encrypted the same way. It is written
  against ``cryptography`` directly so it checks the wire format, not our own helper.
* ``/slow?seconds=S`` waits S seconds (cut short when the server stops).
* ``/bytes?n=N[&stream=1]`` N bytes of ``x``; with stream=1 there is no Content-Length.
* ``/redirect?to=URL[&status=302]`` redirects to URL.
* anything else echoes the request as JSON.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stub saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        """The body parsed as url-encoded form fields."""
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass
class StubResponse:
    """A scripted reply; dict/list bodies are sent as JSON."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def stub_encrypt(plaintext: bytes, key: bytes) -> str:
    """Independent reference implementation of the documented AES envelope."""
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    data = enc.update(padder.update(plaintext) + padder.finalize()) + enc.finalize()
    return base64.b64encode(iv + data).decode()


def stub_decrypt(envelope: bytes, key: bytes) -> bytes:
    """Inverse of ``stub_encrypt``."""
    raw = base64.b64decode(envelope, validate=True)
    dec = Cipher(algorithms.AES(key), modes.CBC(raw[:16])).decryptor()
    padded = dec.update(raw[16:]) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


class StubServer:
    """Use as ``with StubServer() as stub: ... stub.url("/path")``."""

    def __init__(self, *, aes_key: bytes | None = None, token_ttl_s: float = 3600) -> None:
        self.aes_key = aes_key
        self.token_ttl_s = token_ttl_s
        self.requests: list[RecordedRequest] = []
        self.login_count = 0
        self._valid_tokens: set[str] = set()
        self._scripts: dict[str, deque[StubResponse]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        """The ephemeral port the stub listens on."""
        return int(self._server.server_address[1])

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        """An http URL for ``path`` on this stub, optionally under another host name."""
        return f"http://{host}:{self.port}{path}"

    def enqueue(self, path: str, *responses: StubResponse) -> None:
        """Reply to the next requests for ``path`` with ``responses``, in order."""
        with self._lock:
            self._scripts[path].extend(responses)

    def revoke_tokens(self) -> None:
        """Make every issued token fail with 401 from now on."""
        with self._lock:
            self._valid_tokens.clear()

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Recorded requests whose path is ``path``."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _reply(self, req: RecordedRequest) -> StubResponse:
        with self._lock:
            self.requests.append(req)
            script = self._scripts.get(req.path)
            if script:
                return script.popleft()
        if req.path.startswith("/login"):
            return self._login()
        routes = {
            "/protected": self._protected,
            "/aes-echo": self._aes_echo,
            "/slow": self._slow,
            "/redirect": self._redirect,
        }
        return routes.get(req.path, self._echo)(req)

    def _protected(self, req: RecordedRequest) -> StubResponse:
        with self._lock:
            token = (req.header("Authorization") or "").removeprefix("Bearer ")
            ok = token in self._valid_tokens
        return StubResponse(200, {"ok": True}) if ok else StubResponse(401, {"error": "no"})

    def _aes_echo(self, req: RecordedRequest) -> StubResponse:
        assert self.aes_key is not None, "StubServer(aes_key=...) is needed for /aes-echo"
        plain = json.loads(stub_decrypt(req.body, self.aes_key))
        reply = stub_encrypt(json.dumps({"echo": plain}).encode(), self.aes_key)
        return StubResponse(200, reply, {"Content-Type": "text/plain"})

    def _slow(self, req: RecordedRequest) -> StubResponse:
        self._stopping.wait(float(req.query["seconds"][0]))
        return StubResponse(200, {"slow": True})

    def _redirect(self, req: RecordedRequest) -> StubResponse:
        status = int(req.query.get("status", ["302"])[0])
        return StubResponse(status, None, {"Location": req.query["to"][0]})

    def _echo(self, req: RecordedRequest) -> StubResponse:
        return StubResponse(200, {
            "method": req.method, "path": req.path, "query": req.query,
            "headers": req.headers, "body": req.body.decode("utf-8", "replace"),
        })

    def _login(self) -> StubResponse:
        with self._lock:
            self.login_count += 1
            token = f"token-{self.login_count}"
            self._valid_tokens.add(token)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl_s}
        return StubResponse(200, body)


class _Server(ThreadingHTTPServer):
    # Join handler threads on close so no test leaks a thread into the next one.
    daemon_threads = False
    block_on_close = True
    stub: StubServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out hang up on purpose; a broken pipe is expected, not a failure.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        req = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=self.rfile.read(length) if length else b"",
        )
        if parts.path == "/bytes":
            self._send_bytes(int(req.query["n"][0]), stream="stream" in req.query, req=req)
            return
        reply = self.server.stub._reply(req)
        body = reply.body
        headers = dict(reply.headers)
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        body = body or b""
        self.send_response(reply.status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_bytes(self, n: int, *, stream: bool, req: RecordedRequest) -> None:
        with self.server.stub._lock:
            self.server.stub.requests.append(req)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if not stream:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        chunk = b"x" * 65536
        sent = 0
        while sent < n:
            part = chunk[: n - sent]
            self.wfile.write(part)
            sent += len(part)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle
