"""What the request page shows around an approval: labelled application fields, the customer, its
documents and what a re-upload would do, and the requests before and after a withdrawn one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import (
    ActivityEntry,
    ApprovalRequest,
    Checklist,
    Customer,
    Document,
    Flow,
    Runner,
    Store,
)
from app.models.base import utcnow
from app.services import approvals, documents, runtime
from app.services.principal import Principal
from app.web.inbox.forms import ReuploadForm, TickForm, VerifyForm

# Store keys that hold a person's name, best first: a customer record often has none (onboarding
# customers sign in with a mobile number), while their application form asked for it.
NAME_KEYS = ("full_name", "name", "customer_name", "applicant_name")


def request_context(actor: Principal, approval: ApprovalRequest) -> dict[str, Any]:
    runner = db.session.get(Runner, approval.runner_id) if approval.runner_id else None
    store = _store_of(runner)
    customer = db.session.get(Customer, runner.customer_id) if runner and runner.customer_id else None
    pending = approval.status == "pending"
    values = approvals.store_fields(approval)  # the configured fields, read once for both uses
    asks = reupload_asks(runner)
    papers = document_context(actor, approval, runner, asks)
    return {
        "runner": runner,
        "customer": customer,
        "customer_line": customer_line(customer, values, store),
        "flow": db.session.get(Flow, approval.flow_id) if approval.flow_id else None,
        "field_rows": field_rows(values, runner),
        **papers,
        "successor": None if pending else approvals.successor(actor, approval),
        "follows": follows(actor, approval, asks, papers["documents"]),
        "checklists": list(db.session.scalars(select(Checklist).where(Checklist.runner_id == runner.id)
                                              .order_by(Checklist.created_at))) if runner else [],
        "cannot": approvals.why_not(actor, approval), "now": utcnow(), "tick_form": TickForm(),
    }


def document_context(actor: Principal, approval: ApprovalRequest, runner: Runner | None,
                     asks: list[ActivityEntry]) -> dict[str, Any]:
    """What the documents part and the decision's re-upload warning need (the whole page, or one
    document answering an htmx verify)."""
    pending = approval.status == "pending"
    docs = documents.list_documents(actor, runner.id) if runner else []
    return {
        "documents": docs,
        # Verify / re-upload act on this request's review: only while it can still be decided.
        "document_actions": pending and actor.has_role("admin", "credit_officer"),
        "reupload_withdraws": pending and approval.node is not None
        and documents.reupload_node(runner) == approval.node,
        "unverified_again": unverified_again(docs, asks) if pending else [],
        "verify_form": VerifyForm(), "reupload_form": ReuploadForm(),
        "previewable": documents.PREVIEWABLE,
    }


def _store_of(runner: Runner | None) -> Mapping[str, Any]:
    store = db.session.get(Store, runner.store_id) if runner is not None else None
    return store.data if store is not None and isinstance(store.data, Mapping) else {}


# ---- application fields -------------------------------------------------------------------------

def field_rows(values: list[tuple[str, Any]], runner: Runner | None) -> list[tuple[str, str, Any]]:
    """(label, path, value) of each configured store field (`approvals.store_fields`): the title the
    flow's form gave the field, else its last path segment made readable (`monthly_income` ->
    "Monthly income"); a value the form offered as a choice is shown by its label."""
    if not values:
        return []
    document = runtime.design_for(runner.design_id).raw if runner is not None else {}
    labels = schema_labels(document)
    rows = []
    for path, value in values:
        bare = path.removeprefix("store.")
        choices = labels.choices.get(bare, {})
        shown = choices.get(value, value) if isinstance(value, str | int) else value
        rows.append((labels.titles.get(bare) or humanise(bare), path, shown))
    return rows


@dataclass
class SchemaLabels:
    titles: dict[str, str] = field(default_factory=dict)  # store path -> the field's title
    choices: dict[str, dict[Any, str]] = field(default_factory=dict)  # store path -> value -> label


def schema_labels(document: Mapping[str, Any]) -> SchemaLabels:
    """Titles and choice labels by store path, from every node that stores its data (`store_as`)
    under a JSON schema."""
    labels = SchemaLabels()
    for node in document.get("nodes") or []:
        config = node.get("config") if isinstance(node, Mapping) else None
        if not isinstance(config, Mapping):
            continue
        prefix, schema = config.get("store_as"), config.get("schema")
        if isinstance(prefix, str) and prefix and isinstance(schema, Mapping):
            _collect(schema, prefix, labels)
    return labels


def _collect(schema: Mapping[str, Any], path: str, labels: SchemaLabels) -> None:
    properties = schema.get("properties")
    for name, prop in (properties.items() if isinstance(properties, Mapping) else ()):
        if not isinstance(prop, Mapping):
            continue
        sub = f"{path}.{name}"
        if isinstance(prop.get("title"), str) and prop["title"].strip():
            labels.titles.setdefault(sub, prop["title"].strip())  # the first node asking for it wins
        choices = _choices(prop)
        if choices:
            labels.choices.setdefault(sub, choices)
        _collect(prop, sub, labels)


def _choices(prop: Mapping[str, Any]) -> dict[Any, str]:
    """value -> label of a field offered as choices: `enum` with `enumNames`, or `oneOf` of
    `{"const", "title"}` (the two ways onboarding forms name their options)."""
    enum, names = prop.get("enum"), prop.get("enumNames")
    if isinstance(enum, list) and isinstance(names, list) and len(enum) == len(names):
        return {value: str(label) for value, label in zip(enum, names, strict=True)
                if isinstance(value, str | int)}
    options = prop.get("oneOf")
    if isinstance(options, list):
        return {o["const"]: str(o["title"]) for o in options if isinstance(o, Mapping)
                and isinstance(o.get("const"), str | int) and isinstance(o.get("title"), str)}
    return {}


def humanise(path: str) -> str:
    last = path.rsplit(".", 1)[-1].replace("_", " ").replace("-", " ").strip()
    return last[:1].upper() + last[1:] if last else path


# ---- the customer -------------------------------------------------------------------------------

def customer_line(customer: Customer | None, values: list[tuple[str, Any]],
                  store: Mapping[str, Any]) -> str:
    """"Priya Sharma · +919876500001": the customer's name (their record's, else the one their
    application gave) and how to reach them, leaving out what is unknown."""
    if customer is None:
        return ""
    parts = [customer.name or name_in_store(values, store), customer.mobile, customer.email]
    return " · ".join(p for p in parts if p)


def name_in_store(values: list[tuple[str, Any]], store: Mapping[str, Any]) -> str | None:
    """A name the application holds: a configured field (path, value) named like one first, then
    the store's own keys (top level, then one level down, e.g. `applicant.full_name`)."""
    configured = [value for path, value in values if path.rsplit(".", 1)[-1] in NAME_KEYS]
    scopes = (store, *(v for v in store.values() if isinstance(v, Mapping)))
    for value in (*configured, *(scope.get(key) for key in NAME_KEYS for scope in scopes)):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


# ---- re-uploads ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Follows:
    """The request this one follows, and (when a re-upload withdrew it) who asked for what again."""

    request: ApprovalRequest
    by: str = ""
    label: str = ""
    note: str = ""


def reupload_asks(runner: Runner | None) -> list[ActivityEntry]:
    """The runner's "asked for … again" entries, oldest first: the Document row forgets its note
    once the customer uploads again, the activity `documents.request_reupload` wrote keeps it."""
    if runner is None:
        return []
    return list(db.session.scalars(select(ActivityEntry).where(
        ActivityEntry.runner_id == runner.id, ActivityEntry.company_id == runner.company_id,
        ActivityEntry.kind == "document.reupload").order_by(ActivityEntry.at, ActivityEntry.id)))


def unverified_again(docs: list[Document], asks: list[ActivityEntry]) -> list[str]:
    """Labels of required documents asked for again, uploaded again and not verified since."""
    asked = {ask.details.get("document_id") for ask in asks if isinstance(ask.details, Mapping)}
    return [d.label for d in docs if d.required and d.status == "uploaded" and d.id in asked]


def follows(actor: Principal, approval: ApprovalRequest, asks: list[ActivityEntry],
            docs: list[Document]) -> Follows | None:
    """The request opened before this one at the same node and, if it was withdrawn, the re-upload
    that withdrew it: the last ask between its opening and its withdrawal."""
    previous = approvals.predecessor(actor, approval)
    if previous is None or previous.status != "withdrawn":
        return None if previous is None else Follows(previous)
    until = previous.updated_at or approval.created_at
    ask = next((a for a in reversed(asks) if previous.created_at <= a.at <= until), None)
    if ask is None:
        return Follows(previous)
    details = ask.details if isinstance(ask.details, Mapping) else {}
    label = next((d.label for d in docs if d.id == details.get("document_id")), "") or str(
        details.get("type") or "a document")
    by = (ask.actor or "").rsplit(" (", 1)[0]  # "Priya Officer (staff)"
    note = details.get("note")
    if not isinstance(note, str):  # an ask recorded before its details kept the note: its message has it
        note = ask.message.partition(f" asked for {label} again: ")[2] or ask.message.partition(" again: ")[2]
    return Follows(previous, by or "an officer", label, note)
