"""`/v1/openapi.json` and `/v1/docs`: the generated spec, and a script-free HTML rendering of it."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, jsonify, render_template_string

from app.api import v1
from app.api.auth import public

METHODS = ("get", "post", "put", "patch", "delete")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ info.title }} {{ info.version }}</title>
<link rel="stylesheet" href="{{ url_for('static', filename='css/app.css') }}"></head>
<body><main class="api-docs">
<h1>{{ info.title }} <small>v{{ info.version }}</small></h1>
<p>{{ info.description }}</p>
<p>Machine-readable: <a href="{{ url_for('api_v1.openapi_json') }}">openapi.json</a>
(OpenAPI {{ openapi }}).</p>
<nav><ul>{% for tag, ops in groups %}<li><a href="#tag-{{ loop.index }}">{{ tag }}</a><ul>
{% for op in ops %}<li><a href="#{{ op.id }}">{{ op.summary }}</a></li>{% endfor %}
</ul></li>{% endfor %}</ul></nav>
{% for tag, ops in groups %}<section id="tag-{{ loop.index }}"><h2>{{ tag }}</h2>
{% for op in ops %}<article id="{{ op.id }}"><h3>{{ op.summary }}</h3>
<p><code>{{ op.method | upper }} {{ op.path }}</code>{% if op.public %} (no credentials){% endif %}</p>
{% if op.description %}<p>{{ op.description }}</p>{% endif %}
{% if op.parameters %}<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th>
<th>description</th></tr>{% for p in op.parameters %}<tr><td><code>{{ p.name }}</code></td>
<td>{{ p.in }}</td><td>{{ 'yes' if p.required else 'no' }}</td><td>{{ p.description or '' }}</td></tr>
{% endfor %}</table>{% endif %}
{% if op.body %}<h4>Body</h4><pre>{{ op.body }}</pre>{% endif %}
<h4>Responses</h4><ul>{% for status, text in op.responses %}<li><code>{{ status }}</code>
{{ text }}</li>{% endfor %}</ul></article>{% endfor %}</section>{% endfor %}
</main></body></html>"""


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of this app's /v1 API, generated from the route decorators."""
    spec = current_app.extensions["flowdesk_api"].spec.to_dict()
    used = {t for item in spec.get("paths", {}).values() for op in item.values()
            if isinstance(op, dict) for t in op.get("tags", [])}
    spec["tags"] = [t for t in spec.get("tags", []) if t["name"] in used]
    return spec


def _resolve(spec: dict[str, Any], item: Any) -> Any:
    if isinstance(item, dict) and "$ref" in item:
        target: Any = spec
        for part in item["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return target
    return item


def _operations(spec: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            responses = [(status, _resolve(spec, r).get("description", "")) for status, r in
                         sorted(op.get("responses", {}).items(), key=lambda i: (i[0] == "default", i[0]))]
            groups.setdefault((op.get("tags") or ["Other"])[0], []).append({
                "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                "method": method, "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "public": op.get("security") == [],
                "parameters": [_resolve(spec, p) for p in [*shared, *op.get("parameters", [])]],
                "body": json.dumps(_resolve(spec, body), indent=2) if body else "",
                "responses": responses,
            })
    return list(groups.items())


@v1.route("/openapi.json", methods=["GET"], tags=["Meta"])
@public
@v1.operation("OpenAPI Document", errors=(), public=True)
@v1.doc(responses={"200": {"description": "This document",
                           "content": {"application/json": {"schema": {"type": "object"}}}}})
def openapi_json() -> Response:
    return jsonify(openapi_document())


@v1.route("/docs", methods=["GET"], tags=["Meta"])
@public
@v1.operation("API Docs", errors=(), public=True)
@v1.doc(responses={"200": {"description": "The operations, as HTML",
                           "content": {"text/html": {"schema": {"type": "string"}}}}})
def docs_page() -> str:
    spec = openapi_document()
    return render_template_string(_PAGE, info=spec["info"], openapi=spec["openapi"],
                                  groups=_operations(spec))
