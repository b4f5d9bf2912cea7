"""Flows and their design versions: create, read, edit, publish (mark current), copy, inspect.

A design version that runners use is immutable: updating it is a Conflict and the caller
duplicates it and edits the copy. Silently forking a new version on PUT would hand back an
object with another id than the one addressed, and a running loan would never notice the edit.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.engine import Problem, validate
from app.extensions import db
from app.models import ChecklistTemplate, DesignVersion, Flow, Role, Runner
from app.models.base import new_id
from app.models.flow import flow_name_key
from app.services import checklists
from app.services.audit import Action, record_audit
from app.services.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from app.services.pagination import DEFAULT_LIMIT, Page, paginate
from app.services.principal import Principal

READER_KINDS = ("staff", "api", "system")
# The engine caches compiled designs under `id:version` when a document carries both, so a
# draft edited in place would keep serving its stale compiled form. The row holds both instead.
SERVER_KEYS = ("id", "version")
MAX_EXPAND_DEPTH = 5
MAX_VERSION = 2**31 - 1  # the versions column is a 32-bit integer


def checksum(document: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of `document` (sorted keys, no spaces)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- access ---------------------------------------------------------------------------------------
def _require_reader(actor: Principal) -> None:
    if actor.kind not in READER_KINDS:
        raise PermissionDenied("Only staff and API clients may read flows and designs.")


def _require_admin(actor: Principal) -> None:
    if actor.kind != "system" and not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins change flows and designs.")


def _flow(actor: Principal, flow_id: str, *, lock: bool = False) -> Flow:
    statement = select(Flow).where(Flow.id == flow_id, Flow.company_id == actor.company_id)
    found = db.session.scalar(statement.with_for_update() if lock else statement)
    if found is None:
        raise NotFound("No such flow.")
    return found


def _design(actor: Principal, design_id: str, *, lock: bool = False) -> DesignVersion:
    statement = select(DesignVersion).where(DesignVersion.id == design_id,
                                            DesignVersion.company_id == actor.company_id)
    found = db.session.scalar(statement.with_for_update() if lock else statement)
    if found is None:
        raise NotFound("No such design.")
    return found


# --- flows ----------------------------------------------------------------------------------------
def _slugify(text: str) -> str:
    # Accents folded first ("Pérsonal" -> "personal"), not dropped ("p-rsonal").
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "flow"


def _free_slug(company_id: str, base: str) -> str:
    taken = set(db.session.scalars(select(Flow.slug).where(
        Flow.company_id == company_id, Flow.slug.startswith(base))))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _name_taken(actor: Principal, name: str, *, other_than: str | None = None) -> Conflict | None:
    """The Conflict for a name another of the company's flows has (as people read names), if any.
    It quotes that flow's name as it is written, which may differ from `name` in case or spacing."""
    taken = db.session.scalar(select(Flow.name).where(
        Flow.company_id == actor.company_id, Flow.name_key == flow_name_key(name),
        Flow.id != (other_than or "")).limit(1))
    if taken is None:
        return None
    return Conflict("A flow with this name exists.", [FieldError(
        "name", f"There is already a flow named “{taken}”; choose another name.")])


def _refuse_taken_name(actor: Principal, name: str, *, other_than: str | None = None) -> None:
    """Two flows named alike show as two identical entries in every picker: refuse the second."""
    conflict = _name_taken(actor, name, other_than=other_than)
    if conflict is not None:
        raise conflict


def _commit_named(actor: Principal, flow: Flow, conflict_message: str) -> None:
    """Commit a flow whose name was checked: if another with that name was committed meanwhile,
    the database refuses this one, and the caller hears about the name, not a retry."""
    name, flow_id = flow.name, flow.id  # a rollback expires them
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise (_name_taken(actor, name, other_than=flow_id) or Conflict(conflict_message)) from error


def create_flow(actor: Principal, *, name: str, slug: str | None = None, description: str = "",
                tags: Iterable[str] = ()) -> Flow:
    """Create a flow; without `slug` one is made from the name (suffixed until free). A name another
    of the company's flows has (ignoring case and spacing) is a Conflict on `name`."""
    _require_admin(actor)
    _refuse_taken_name(actor, name)
    if slug and db.session.scalar(select(Flow.id).where(Flow.company_id == actor.company_id,
                                                        Flow.slug == slug)):
        raise Conflict("A flow with this slug exists.", [FieldError("slug", "Already taken.")])
    flow = Flow(id=new_id(), company_id=actor.company_id, name=name, description=description, tags=list(tags),
                slug=slug or _free_slug(actor.company_id, _slugify(name)),
                created_by=actor.id, updated_by=actor.id)
    db.session.add(flow)
    record_audit(actor, Action.FLOW_CREATED, "flow", flow.id, {"name": flow.name, "slug": flow.slug})
    _commit_named(actor, flow, "A flow with this slug was just created; retry.")
    return flow


def list_flows(actor: Principal, *, limit: int = DEFAULT_LIMIT,
               continuation_token: str | None = None) -> Page[Flow]:
    _require_reader(actor)
    return paginate(select(Flow).where(Flow.company_id == actor.company_id), Flow,
                    scope="flows", limit=limit, continuation_token=continuation_token)


def get_flow(actor: Principal, flow_id: str) -> Flow:
    _require_reader(actor)
    return _flow(actor, flow_id)


def update_flow(actor: Principal, flow_id: str, *, name: str | None = None,
                description: str | None = None, tags: Iterable[str] | None = None,
                customer_onboarding: bool | None = None) -> Flow:
    """Change the given fields; the slug is fixed, subflow nodes may name the flow by it. A name
    another of the company's flows has is a Conflict on `name`."""
    _require_admin(actor)
    flow = _flow(actor, flow_id)
    if name is not None:
        _refuse_taken_name(actor, name, other_than=flow.id)
        flow.name = name
    if description is not None:
        flow.description = description
    if tags is not None:
        flow.tags = list(tags)
    if customer_onboarding is not None:
        _switch_onboarding(actor, flow, customer_onboarding)
    flow.updated_by = actor.id
    _commit_named(actor, flow, "The flow changed meanwhile; retry.")
    return flow


def set_customer_onboarding(actor: Principal, flow_id: str, *, open_: bool) -> Flow:
    """Open the flow to customers (they start it at /onboard/<slug>) or close it again. Runners
    customers already started carry on either way; closing only stops new ones."""
    _require_admin(actor)
    flow = _flow(actor, flow_id)
    if _switch_onboarding(actor, flow, open_):
        flow.updated_by = actor.id
        db.session.commit()
    return flow


def _switch_onboarding(actor: Principal, flow: Flow, open_: bool) -> bool:
    """Set the flag and audit a change (no commit); False when it already was so."""
    if flow.customer_onboarding == open_:
        return False
    flow.customer_onboarding = open_
    record_audit(actor, Action.FLOW_ONBOARDING_OPENED if open_ else Action.FLOW_ONBOARDING_CLOSED, "flow",
                 flow.id, {"slug": flow.slug})
    return True


# --- designs --------------------------------------------------------------------------------------
def _without_server_keys(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in SERVER_KEYS}


def _apply_document(actor: Principal, design: DesignVersion, document: dict[str, Any]) -> list[Problem]:
    """Store `document` on the version; its problems, as Validate lists them, are returned."""
    document = _without_server_keys(document)
    design.document = document
    design.checksum = checksum(document)
    # Valid as Validate says it (sub-flows and checklist templates found too), not only the graph:
    # a version tagged "Valid", or made current, could have problems Validate listed.
    problems = _problems(actor, document)
    design.is_valid = not problems
    return problems


def _next_version(flow_id: str) -> int:
    return (db.session.scalar(select(func.max(DesignVersion.version))
                              .where(DesignVersion.flow_id == flow_id)) or 0) + 1


def create_design(actor: Principal, *, flow_id: str, document: dict[str, Any], name: str | None = None,
                  description: str = "") -> DesignVersion:
    """Save a new version of a flow's design; invalid drafts are kept (is_valid false).

    The first valid version of a flow becomes its current design.
    """
    _require_admin(actor)
    # Locking the flow serialises version numbering between concurrent creates.
    flow = _flow(actor, flow_id, lock=True)
    design = DesignVersion(company_id=actor.company_id, flow_id=flow.id, version=_next_version(flow.id),
                           name=name or str(document.get("name") or flow.name), description=description,
                           created_by=actor.id, updated_by=actor.id)
    _apply_document(actor, design, document)
    db.session.add(design)
    db.session.flush()
    if flow.current_design_id is None and design.is_valid:
        flow.current_design_id = design.id
    record_audit(actor, Action.DESIGN_CREATED, "design", design.id, {"flow_id": flow.id,
                                                                "version": design.version})
    _commit("Another version of this flow was saved at the same moment; retry.")
    return design


def list_designs(actor: Principal, *, flow_id: str | None = None, limit: int = DEFAULT_LIMIT,
                 continuation_token: str | None = None) -> Page[DesignVersion]:
    _require_reader(actor)
    statement = select(DesignVersion).where(DesignVersion.company_id == actor.company_id)
    if flow_id is not None:
        statement = statement.where(DesignVersion.flow_id == flow_id)
    return paginate(statement, DesignVersion, scope="designs", limit=limit,
                    continuation_token=continuation_token)


def get_design(actor: Principal, design_id: str) -> DesignVersion:
    _require_reader(actor)
    return _design(actor, design_id)


def update_design(actor: Principal, design_id: str, *, document: dict[str, Any] | None = None,
                  name: str | None = None, description: str | None = None) -> DesignVersion:
    """Edit a version no runner uses yet; one with runners is a Conflict (duplicate it instead)."""
    _require_admin(actor)
    # FOR UPDATE conflicts with the key-share lock a runner insert takes on its design row, so
    # no runner can start on this version between the check below and our commit.
    design = _design(actor, design_id, lock=True)
    if design_has_runners(design.id):
        raise Conflict(f"Version {design.version} has runners and cannot change; duplicate it "
                       "and edit the copy.")
    if document is not None:
        problems = _apply_document(actor, design, document)
        if problems and _flow(actor, design.flow_id).current_design_id == design.id:
            db.session.rollback()  # the refused document was flushed; the caller keeps the saved one
            raise _invalid(problems, "The current design must stay valid.")
    if name is not None:
        design.name = name
    if description is not None:
        design.description = description
    design.updated_by = actor.id
    record_audit(actor, Action.DESIGN_UPDATED, "design", design.id, {"flow_id": design.flow_id,
                                                                "version": design.version})
    db.session.commit()
    return design


def mark_current_design(actor: Principal, design_id: str) -> DesignVersion:
    """Make this version the one new runners of its flow start on; it must be valid."""
    _require_admin(actor)
    design = _design(actor, design_id)
    problems = _problems(actor, design.document)  # what Validate lists, sub-flows and templates too
    if problems:
        raise _invalid(problems, "Only a valid design can be current.")
    flow = _flow(actor, design.flow_id, lock=True)
    flow.current_design_id = design.id
    flow.updated_by = actor.id
    record_audit(actor, Action.DESIGN_MARKED_CURRENT, "design", design.id, {"flow_id": flow.id,
                                                                       "version": design.version})
    db.session.commit()
    return design


def duplicate_design(actor: Principal, design_id: str, *, name: str | None = None) -> DesignVersion:
    """Copy a version into a new version (the next number) of the same flow."""
    _require_admin(actor)
    source = _design(actor, design_id)
    # Lands with the copy's own "design.created" row, in create_design's commit.
    record_audit(actor, Action.DESIGN_DUPLICATED, "design", source.id, {"flow_id": source.flow_id,
                                                                   "from_version": source.version})
    return create_design(actor, flow_id=source.flow_id, document=source.document,
                         name=name or f"{source.name} (copy)", description=source.description)


def validate_design(actor: Principal, design_id: str) -> list[Problem]:
    """The engine's problems with the saved design plus subflow references that lead nowhere."""
    _require_reader(actor)
    return _problems(actor, _design(actor, design_id).document)


def check_design_document(actor: Principal, design_id: str, document: dict[str, Any]) -> list[Problem]:
    """validate_design's problems for `document`, a not yet saved edit of the design: nothing is stored.

    The design is looked up so another company's id stays NotFound; the document is checked as a
    save would store it.
    """
    _require_reader(actor)
    _design(actor, design_id)
    return _problems(actor, _without_server_keys(document))


def _problems(actor: Principal, document: dict[str, Any]) -> list[Problem]:
    problems = list(validate(document))
    for node in _nodes(document):
        config = node.get("config")
        # (a missing or non-text `flow` is the engine's finding already)
        names_a_flow = isinstance(config, dict) and isinstance(config.get("flow"), str)
        if node.get("type") == "subflow" and names_a_flow and _resolve_subflow(actor, config) is None:
            problems.append(Problem("missing_flow", f"no design for flow '{config.get('flow')}'"
                                    + (f" version {config['version']}" if "version" in config else ""),
                                    node=node.get("name"), field="config.flow"))
    templates = checklists.template_ids(document)
    if templates:
        known = set(db.session.scalars(select(ChecklistTemplate.id).where(
            ChecklistTemplate.company_id == actor.company_id, ChecklistTemplate.id.in_(templates))))
        for node in _nodes(document):
            config = node.get("config") or {}
            template_id = config.get("template_id") if node.get("type") == "checklist" else None
            if template_id and str(template_id) not in known:
                problems.append(Problem("missing_template", f"no checklist template '{template_id}'",
                                        node=node.get("name"), field="config.template_id"))
    return problems


def expand_design(actor: Principal, design_id: str) -> dict[str, Any]:
    """The document with each subflow node's child design under `expanded`, recursively (read-only).

    A child that cannot be found, or that would loop back to a design being expanded, gets
    `expanded: null` and an `expand_error`.
    """
    _require_reader(actor)
    design = _design(actor, design_id)
    return _expanded(actor, design, (design.id,))


def _expanded(actor: Principal, design: DesignVersion, seen: tuple[str, ...]) -> dict[str, Any]:
    document = json.loads(json.dumps(design.document))  # a deep copy the caller may not write back
    for node in _nodes(document):
        if node.get("type") != "subflow":
            continue
        child = _resolve_subflow(actor, node.get("config") or {})
        if child is None:
            node["expanded"], node["expand_error"] = None, "flow or version not found"
        elif child.id in seen or len(seen) >= MAX_EXPAND_DEPTH:
            node["expanded"], node["expand_error"] = None, "subflows nest too deep or loop"
        else:
            node["expanded"] = {"flow_id": child.flow_id, "design_id": child.id,
                                "version": child.version,
                                "document": _expanded(actor, child, (*seen, child.id))}
    return document


def _nodes(document: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = document.get("nodes")
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def _resolve_subflow(actor: Principal, config: dict[str, Any]) -> DesignVersion | None:
    """A subflow's `flow` is a flow id or slug; `version` picks one, else the flow's current one."""
    ref = config.get("flow")
    if not isinstance(ref, str):
        return None
    flow = db.session.scalar(select(Flow).where(Flow.company_id == actor.company_id,
                                                (Flow.id == ref) | (Flow.slug == ref)))
    if flow is None:
        return None
    version = config.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        if not 1 <= version <= MAX_VERSION:  # no such version; a huge one would overflow the query
            return None
        return db.session.scalar(select(DesignVersion).where(DesignVersion.flow_id == flow.id,
                                                             DesignVersion.version == version))
    return db.session.get(DesignVersion, flow.current_design_id) if flow.current_design_id else None


def node_data_schema(actor: Principal, design_id: str, node_name: str) -> dict[str, Any]:
    """The JSON Schema a node validates submitted data with (`{}` when it declares none)."""
    _require_reader(actor)
    design = _design(actor, design_id)
    for node in _nodes(design.document):
        if node.get("name") == node_name:
            schema = (node.get("config") or {}).get("schema")
            return schema if isinstance(schema, dict) else {}
    raise NotFound(f"The design has no node named '{node_name}'.")


# --- the designer's first version -------------------------------------------------------------
def starter_document(name: str) -> dict[str, Any]:
    """The smallest valid design: a start node leading to an end node."""
    return {"name": name, "start_node": "start", "nodes": [
        {"name": "start", "type": "start", "config": {}, "edges": [{"type": "goto", "target_node": "end"}]},
        {"name": "end", "type": "end", "config": {"status": "succeeded"}}]}


def create_flow_with_first_design(actor: Principal, *, name: str, description: str = "") -> DesignVersion:
    """A new flow whose version 1 is the starter design (valid, so it is current at once)."""
    flow = create_flow(actor, name=name, description=description)
    return create_design(actor, flow_id=flow.id, document=starter_document(name), name=name)


def design_has_runners(design_id: str) -> bool:
    """Runners use the version, so it can no longer change (no access check: pass a design the
    caller may see)."""
    return db.session.scalar(select(Runner.id).where(Runner.design_id == design_id).limit(1)) is not None


# --- helpers --------------------------------------------------------------------------------------
def _invalid(problems: list[Problem], message: str) -> ValidationFailed:
    return ValidationFailed(message, [
        FieldError(".".join(p for p in ("document", f"nodes[{n.node}]" if n.node else "", n.field or "")
                            if p), n.message) for n in problems])


def _commit(conflict_message: str) -> None:
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(conflict_message) from error
