"""Documents on runners: request them from document nodes, take uploads, verify or ask again, serve.

An upload's type is sniffed from its bytes (never the client's Content-Type or extension), its size
capped, its name sanitised for display only, and the bytes go to `storage` under a key we make up.
Statuses: requested, uploaded, verified, reupload (an officer asked again), and withdrawn (the
runner left the node before the document came, e.g. an officer moved it on directly).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import filetype
from flask import current_app
from sqlalchemy import select, update
from werkzeug.utils import secure_filename

from app.config import describe_size
from app.engine import effects as fx
from app.extensions import db
from app.models import Document, DocumentFile, Runner
from app.models.base import new_id, utcnow
from app.services.approvals import node_of
from app.services.audit import Action, record_audit
from app.services.effect_hooks import EffectContext, on_effect
from app.services.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal
from app.services.storage import get_storage

OFFICER_ROLES = ("admin", "credit_officer")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Sniffed MIME type -> extension we give the stored name. Anything else is refused.
ALLOWED_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/tiff": "tif",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
# Shown inline (images and PDF, under a strict CSP); everything else downloads as an attachment.
PDF_TAIL = 1024  # bytes at a PDF's end that must hold its %%EOF marker
PREVIEWABLE = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp", "image/gif"})
DONE = ("uploaded", "verified")
OPEN = ("requested", "reupload")  # still waiting for a file


def max_bytes() -> int:
    """The largest upload accepted: FLOWDESK_UPLOAD_MAX_BYTES (config or environment), else 10 MB."""
    raw = current_app.config.get("FLOWDESK_UPLOAD_MAX_BYTES") or os.environ.get("FLOWDESK_UPLOAD_MAX_BYTES")
    return int(raw or DEFAULT_MAX_BYTES)


# ---- opening from nodes -------------------------------------------------------------------------

@on_effect(fx.RequestDocuments)
def request_from_effect(ctx: EffectContext, effect: fx.RequestDocuments) -> None:
    """Hook: a document node was reached. One row per document type; a re-visit reuses them."""
    runner = db.session.get(Runner, ctx.runner_id)
    existing = {d.doc_type: d for d in db.session.scalars(select(Document).where(
        Document.runner_id == ctx.runner_id, Document.node == effect.node))}
    for raw in (effect.config or {}).get("documents") or []:
        if not isinstance(raw, Mapping) or not raw.get("type"):
            continue
        doc_type = str(raw["type"])[:80]
        document = existing.get(doc_type)
        if document is None:
            db.session.add(Document(
                id=new_id(), company_id=ctx.company_id, runner_id=ctx.runner_id,
                customer_id=runner.customer_id if runner else None, node=effect.node,
                effect_id=effect.effect_id, doc_type=doc_type, label=str(raw.get("label") or doc_type)[:200],
                required=bool(raw.get("required", True)), created_at=ctx.now))
        else:
            document.effect_id = effect.effect_id
            if document.status == "withdrawn":
                document.status = "requested"  # asked again on this visit


@on_effect(fx.Withdraw)
def withdraw_for_effect(ctx: EffectContext, effect: fx.Withdraw) -> None:
    """Hook: the runner left a document node. A request this service completed (every required
    document has a file) is left alone; otherwise its documents still waiting are withdrawn."""
    if effect.kind != "documents":
        return
    rows = list(db.session.scalars(select(Document).where(
        Document.runner_id == ctx.runner_id, Document.effect_id == effect.effect_id)))
    if rows and all(d.status in DONE for d in rows if d.required):
        return
    db.session.execute(update(Document).where(
        Document.runner_id == ctx.runner_id, Document.effect_id == effect.effect_id,
        Document.status.in_(OPEN)).values(status="withdrawn", updated_at=ctx.now))


# ---- reading ------------------------------------------------------------------------------------

def _check_runner(actor: Principal, runner_id: str | None) -> None:
    if runner_id is not None:
        from app.services.runners import get_runner

        get_runner(actor, runner_id)  # NotFound unless the actor may see the runner


def get_document(actor: Principal, document_id: str) -> Document:
    """The document, if `actor` may see its runner (customers: only their own)."""
    document = db.session.get(Document, document_id)
    if document is None or document.company_id != actor.company_id:
        raise NotFound("No such document.")
    if document.runner_id is None and actor.kind == "customer" and document.customer_id != actor.id:
        raise NotFound("No such document.")
    _check_runner(actor, document.runner_id)
    return document


def list_documents(actor: Principal, runner_id: str, *, node: str | None = None) -> list[Document]:
    """The runner's documents, oldest first; with `node`, only those that node asks for."""
    _check_runner(actor, runner_id)
    query = select(Document).where(Document.company_id == actor.company_id, Document.runner_id == runner_id)
    if node is not None:
        query = query.where(Document.node == node)
    return list(db.session.scalars(query.order_by(Document.created_at, Document.id)))


@dataclass(frozen=True)
class FileContent:
    file: DocumentFile
    data: bytes

    @property
    def previewable(self) -> bool:
        return self.file.content_type in PREVIEWABLE


def read_file(actor: Principal, document_id: str, file_id: str) -> FileContent:
    """A file's bytes ("Download files"), only for those who may see the runner."""
    document = get_document(actor, document_id)
    found = next((f for f in document.files if f.id == file_id), None)
    if found is None:
        raise NotFound("No such file.")
    return FileContent(found, get_storage().get(found.storage_key))


# ---- writing ------------------------------------------------------------------------------------

def create_document(actor: Principal, *, doc_type: str, label: str = "", runner_id: str | None = None,
                    required: bool = False) -> Document:
    """"Create Document": a document slot on a runner (or standalone) that files can be added to."""
    if actor.kind == "customer" and runner_id is None:
        raise PermissionDenied("Customers add documents to their own applications only.")
    if actor.kind in ("staff", "api") and not actor.has_role(*OFFICER_ROLES):
        raise PermissionDenied("Only admins and credit officers create documents.")
    if not doc_type.strip():
        raise ValidationFailed("Invalid document.", [FieldError("type", "Name the document type.")])
    _check_runner(actor, runner_id)
    runner = db.session.get(Runner, runner_id) if runner_id else None
    document = Document(company_id=actor.company_id, runner_id=runner_id,
                        customer_id=runner.customer_id if runner else
                        (actor.id if actor.kind == "customer" else None),
                        doc_type=doc_type.strip()[:80], label=(label or doc_type).strip()[:200],
                        required=required, created_by=f"{actor.kind}:{actor.id}")
    db.session.add(document)
    db.session.commit()
    return document


def sniff(data: bytes) -> str:
    """The content's MIME type if it is one we accept, else ValidationFailed."""
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise ValidationFailed("This kind of file is not accepted.", [FieldError(
            "file", "Upload a PDF, an image (JPEG, PNG, WebP, GIF, TIFF), a Word or an Excel file.")])
    # A PDF ends with %%EOF (a writer may add a little after it). One cut off in saving or sending
    # starts right but would not open for the officer: say so while the customer still has it.
    if kind.mime == "application/pdf" and b"%%EOF" not in data[-PDF_TAIL:]:
        raise ValidationFailed("This PDF is incomplete or damaged.", [FieldError(
            "file", "The file stops before a PDF's end: it may have been cut off while saving or "
                    "sending. Open it to check, save it again and upload that copy.")])
    return kind.mime


def clean_filename(name: str, content_type: str) -> str:
    """A display name safe in a header and on any disk, with the extension of the sniffed type."""
    stem = secure_filename(name or "").rsplit(".", 1)[0][:100] or "file"
    return f"{stem}.{ALLOWED_TYPES[content_type]}"


def add_file(actor: Principal, document_id: str, *, filename: str, data: bytes,
             submit: bool = True) -> DocumentFile:
    """"Add files to document": store one upload and, if it was the last one the node waits for,
    submit the node. With `submit=False` the caller submits (a page uploading several files
    at once calls `submit_when_complete` after the last one)."""
    if actor.kind in ("staff", "api") and not actor.has_role(*OFFICER_ROLES):
        raise PermissionDenied("Only admins and credit officers upload for customers.")
    document = get_document(actor, document_id)
    if document.status == "verified":
        raise Conflict("This document is verified; ask for a re-upload before replacing it.")
    if not data:
        raise ValidationFailed("Empty file.", [FieldError("file", "Choose a file to upload.")])
    if len(data) > max_bytes():
        raise ValidationFailed("File too large.", [FieldError(
            "file", f"At most {describe_size(max_bytes())}.")])
    content_type = sniff(data)
    file_id = new_id()
    key = f"{document.company_id}/{document.id}/{file_id}"
    get_storage().put(key, data)
    row = DocumentFile(id=file_id, company_id=document.company_id, document_id=document.id,
                       filename=clean_filename(filename, content_type), content_type=content_type,
                       size=len(data), sha256=hashlib.sha256(data).hexdigest(), storage_key=key,
                       uploaded_by=f"{actor.kind}:{actor.id}", uploaded_at=utcnow())
    db.session.add(row)
    document.status, document.note = "uploaded", ""
    _activity(actor, document, "document.uploaded", f"{actor.name} uploaded {row.filename} "
              f"for {document.label}.", {"file_id": file_id, "content_type": content_type})
    record_audit(actor, Action.DOCUMENT_UPLOADED, "document", document.id,
                 {"file_id": file_id, "size": len(data), "content_type": content_type})
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        get_storage().delete(key)  # no row points at it: do not keep an orphan
        raise
    if submit:
        _maybe_submit(actor, document)
    return row


def verify(actor: Principal, document_id: str) -> Document:
    """An officer confirms the document is right."""
    _require_officer(actor)
    document = get_document(actor, document_id)
    if not document.files:
        raise Conflict("There is no file to verify yet.")
    document.status, document.verified_by, document.verified_at = "verified", actor.name, utcnow()
    _activity(actor, document, "document.verified", f"{actor.name} verified {document.label}.")
    record_audit(actor, Action.DOCUMENT_VERIFIED, "document", document.id, {"runner_id": document.runner_id})
    db.session.commit()
    return document


def request_reupload(actor: Principal, document_id: str, *, note: str) -> Document:
    """Ask for the document again. If the runner waits at a node with a `reupload` edge, take it,
    which sends the customer back to the document step."""
    _require_officer(actor)
    if not note.strip():
        raise ValidationFailed("Say what is wrong.", [FieldError("note", "Tell the customer what to fix.")])
    document = get_document(actor, document_id)
    document.status, document.note = "reupload", note.strip()[:2000]
    document.verified_by = document.verified_at = None
    _activity(actor, document, "document.reupload", f"{actor.name} asked for {document.label} "
              f"again: {document.note}", {"note": document.note})  # the row forgets it at the next upload
    record_audit(actor, Action.DOCUMENT_REUPLOAD_REQUESTED, "document", document.id,
                 {"runner_id": document.runner_id})
    db.session.commit()
    runner = db.session.get(Runner, document.runner_id) if document.runner_id else None
    node = reupload_node(runner)
    if runner is not None and node is not None:
        from app.services.runners import execute_runner

        execute_runner(actor, runner.id, action="reupload", node=node, as_system=True,
                       data={"document_id": document.id, "type": document.doc_type, "note": document.note})
    return document


def reupload_node(runner: Runner | None) -> str | None:
    """The node a re-upload request moves the runner away from (a current node with a `reupload`
    edge, e.g. an approval, whose open request is then withdrawn), or None if it moves nothing."""
    if runner is None or runner.status != "waiting":
        return None
    from app.services.runners import current_elements

    for element in current_elements(runner):
        if any(e.get("action") == "reupload" for e in element.get("edges") or []):
            return str(element["name"])
    return None


def submit_when_complete(actor: Principal, runner_id: str, node: str, *,
                         data: Mapping[str, Any] | None = None, action: str | None = None) -> bool:
    """Submit the document node if the runner waits there and every required document of it
    (and every one asked again) has a file; False if not. `data` joins the submitted data.

    Raises Conflict or ValidationFailed from the runner (e.g. the node's own schema refused `data`).
    """
    runner = db.session.get(Runner, runner_id)
    if runner is None or node not in (runner.current_nodes or []):
        return False
    docs = list(db.session.scalars(select(Document).where(Document.runner_id == runner_id,
                                                          Document.node == node)))
    if any((d.required or d.status == "reupload") and d.status not in DONE for d in docs):
        return False
    from app.services.runners import execute_runner

    raw = node_of(runner.design_id, node)
    action = action or next((e.get("action") for e in raw.get("edges") or []
                             if e.get("action") not in (None, "auto", "reupload")
                             and e.get("type", "goto") == "goto"), "submit")
    execute_runner(actor, runner.id, action=action, node=node, as_system=True,
                   data={**(data or {}), "documents": {d.doc_type: d.id for d in docs}})
    return True


def _maybe_submit(actor: Principal, document: Document) -> None:
    """Submit the document node once every required document of it has a file."""
    if document.runner_id is None or document.node is None:
        return
    try:
        submit_when_complete(actor, document.runner_id, document.node)
    except (Conflict, ValidationFailed):
        db.session.rollback()  # the upload stays; an officer can move the runner by hand


def _activity(actor: Principal, document: Document, kind: str, message: str,
              details: dict[str, Any] | None = None) -> None:
    runner = db.session.get(Runner, document.runner_id) if document.runner_id else None
    if runner is not None:
        from app.services.runners import record_activity

        record_activity(runner, kind, actor=actor, node=document.node, message=message,
                        details={"document_id": document.id, "type": document.doc_type, **(details or {})})


def _require_officer(actor: Principal) -> None:
    if actor.kind not in ("staff", "api") or not actor.has_role(*OFFICER_ROLES):
        raise PermissionDenied("Only admins and credit officers review documents.")
