"""Every page and API endpoint needs credentials unless it is on the short public list."""

from __future__ import annotations

import pytest

from app import create_app

# Reachable without signing in, on purpose.
PUBLIC_ENDPOINTS = {"static", "auth.login", "ops.healthz", "ops.readyz"}
PUBLIC_PREFIXES = ("onboarding.",)  # customer-facing pages authenticate with their own codes


def _routes() -> list[tuple[str, str, str]]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40})
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith(PUBLIC_PREFIXES):
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "api_public", False):
            continue
        url = rule.build({arg: "00000000-0000-0000-0000-000000000000" for arg in rule.arguments},
                         append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, url))
    return routes


ROUTES = _routes()


def test_route_list_is_not_empty():
    endpoints = {endpoint for endpoint, _, _ in ROUTES}
    assert {"home.index", "settings.tokens", "api_v1.whoami", "auth.logout"} <= endpoints


@pytest.mark.parametrize(("endpoint", "method", "url"), ROUTES, ids=[f"{m} {u}" for _, m, u in ROUTES])
def test_anonymous_is_turned_away(client, endpoint, method, url):
    response = client.open(url, method=method, headers={"Accept": "text/html"})
    if url.startswith(("/v1/", "/flow/api/")):
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
    elif method == "GET":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    else:
        # Unsafe methods without a session fail CSRF (400) or the login check (302): never 2xx.
        assert response.status_code in (302, 400)
