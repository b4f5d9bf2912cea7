"""The base of every staff and customer form: Flask-WTF's, with CSRF, minus one duplicate id.

Each form renders its CSRF token as a hidden input; with WTForms' default every one of them had
id="csrf_token", so a page with several forms (a runner's Retry and Cancel, a member's actions) held
the same id several times, which is invalid HTML and confuses assistive tools. Nothing points at a
hidden input by id (no label, no script), so the token is rendered without one.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field


class Form(FlaskForm):
    class Meta:
        def render_field(self, field: Field, render_kw: dict[str, Any]) -> Any:
            if field.type == "CSRFTokenField":
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)  # type: ignore[misc]
