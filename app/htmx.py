"""The one place Flowdesk talks to flask-htmx: request detection, partial rendering, response headers."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template
from flask_htmx import HTMX
from flask_htmx import make_response as _htmx_make_response

htmx = HTMX()

# htmx 2's swap styles. flask-htmx validates HX-Reswap against an older list and rejects modifiers
# ("outerHTML swap:1s", "textContent"), so we check the style ourselves and pass modifiers through.
SWAP_STYLES = frozenset(
    {"innerHTML", "outerHTML", "textContent", "beforebegin", "afterbegin", "beforeend",
     "afterend", "delete", "none"}
)


def is_partial_request() -> bool:
    """True for an htmx request that wants a fragment (not a boosted page or a history restore)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(page: str, partial: str, **context: Any) -> str:
    """Render the full page, or only its partial when htmx asks for a fragment.

    The page template includes the partial, so both paths show the same markup.
    """
    return render_template(partial if is_partial_request() else page, **context)


def htmx_response(*args: Any, reswap: str | None = None, **headers: Any) -> Response:
    """`flask_htmx.make_response` with htmx 2 swap values (style plus optional modifiers)."""
    if reswap is not None:
        style = reswap.split(None, 1)[0] if reswap.strip() else ""
        if style not in SWAP_STYLES:
            raise ValueError(f"unknown htmx swap style {style!r}; use one of {sorted(SWAP_STYLES)}")
    response = _htmx_make_response(*args, **headers)
    if reswap is not None:
        response.headers["HX-Reswap"] = reswap
    return response
