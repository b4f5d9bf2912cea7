"""The JSON API keeps no cookie session: callers authenticate every request with a token or Basic."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface, SessionMixin


class PagesOnlySessionInterface(SecureCookieSessionInterface):
    """Cookie sessions for pages; a read-only empty session under the API's prefixes.

    The API never reads who is signed in from a cookie, so a browser's session cookie can lend it
    nothing (no CSRF through the API). And not opening, re-signing and `Vary: Cookie`-ing a session
    on every API call saves ~35 µs a request on the hottest endpoints (bench/README.md).
    """

    def __init__(self, api_prefixes: tuple[str, ...]) -> None:
        self.api_prefixes = api_prefixes

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if request.path.startswith(self.api_prefixes):
            return self.make_null_session(app)
        return super().open_session(app, request)
