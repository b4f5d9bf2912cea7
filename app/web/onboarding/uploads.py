"""Customer uploads from onboarding pages, handed to the documents service (the only place files go).

The documents service sniffs the type, caps the size, cleans the name, stores the bytes and records
them on the runner's Document row; this module finds that row, says what a document step still
needs, and turns refusals into messages for the field.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict

from app.config import describe_size, request_limit
from app.extensions import db
from app.models import Document, Runner
from app.services import documents
from app.services.errors import Conflict, ValidationFailed
from app.services.principal import Principal
from app.web.onboarding import schema_form

ACCEPT = ",".join(documents.ALLOWED_TYPES)  # the file picker's hint; the server decides


class UploadRefused(Exception):
    """The file cannot be accepted; `message` says why, for the person who chose it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def help_text() -> str:
    # The same types the documents service's refusal names (GIF and TIFF included).
    return (f"PDF, image (JPEG, PNG, WebP, GIF, TIFF), Word or Excel file, "
            f"up to {describe_size(documents.max_bytes())}.")


def picker_context() -> dict[str, Any]:
    """What the pages' file pickers show and check before sending (static/js/onboarding.js): the
    browser refuses an oversized file at once, so nothing typed on the page is lost to a 413."""
    limit = documents.max_bytes()
    return {"accept": ACCEPT, "upload_help": help_text(), "max_bytes": limit,
            "file_too_large": f"This file is larger than {describe_size(limit)}, the most we accept. "
                              "Choose a smaller file.",
            "file_not_kept": "The file you chose was too large and was not kept. Choose a smaller "
                             "file, or press Continue again to go on without it."}


def too_large_message() -> str:
    """For a request refused unread (413): nothing of it was kept, so the customer chooses again."""
    return (f"A file you chose is larger than {describe_size(documents.max_bytes())}, the most we "
            "accept. Nothing was saved: please choose a smaller file and try again.")


def file_count(element: dict[str, Any] | None) -> int:
    """How many files the step's page can post: one per document it asks for, one per file field."""
    if element is None:
        return 0
    config = element.get("config") or {}
    documents_asked = (config.get("documents") or []) if element.get("type") == "document" else []
    return len(documents_asked) + len(schema_form.file_fields(config.get("schema")))


def step_request_limit(element: dict[str, Any] | None) -> int:
    """The request size the step's page needs: every file at the per-file limit, plus the form."""
    return request_limit(documents.max_bytes(), file_count(element))


def document_for(actor: Principal, runner: Runner, node: str, doc_type: str) -> Document:
    """The Document the upload belongs to: the one the node's RequestDocuments opened, or for a
    form's file field a runner document of that name (created on first use)."""
    found = db.session.scalar(select(Document).where(
        Document.company_id == runner.company_id, Document.runner_id == runner.id,
        Document.node == node, Document.doc_type == doc_type).limit(1))
    if found is not None:
        return found
    # Form file fields: not a document node, so no `node` (the documents service would otherwise
    # try to submit the form node when the "document" is complete).
    found = db.session.scalar(select(Document).where(
        Document.company_id == runner.company_id, Document.runner_id == runner.id,
        Document.node.is_(None), Document.doc_type == doc_type).limit(1))
    return found or documents.create_document(actor, doc_type=doc_type, runner_id=runner.id)


def store_upload(actor: Principal, runner: Runner, node: str, doc_type: str,
                 upload: FileStorage, *, submit: bool = False) -> dict[str, Any]:
    """Add one upload to the runner's `doc_type` document at `node`; describe the stored file.

    With `submit` the documents service moves the runner on when the node has all it waits for;
    by default the caller does that once every file of the page is in.
    """
    return add_upload(actor, document_for(actor, runner, node, doc_type), upload, submit=submit)


def add_upload(actor: Principal, document: Document, upload: FileStorage, *,
               submit: bool = True) -> dict[str, Any]:
    """Add one upload to `document` through the documents service; UploadRefused says why not."""
    data = upload.stream.read(documents.max_bytes() + 1)  # one byte over is enough to refuse it
    try:
        stored = documents.add_file(actor, document.id, filename=upload.filename or "", data=data,
                                    submit=submit)
    except ValidationFailed as refused:
        raise UploadRefused(refused.errors[0].message if refused.errors else refused.message) from refused
    except Conflict as refused:
        raise UploadRefused(refused.message) from refused
    return {"id": stored.id, "document_id": document.id, "type": document.doc_type,
            "filename": stored.filename, "content_type": stored.content_type, "size": stored.size}


def document_slots(principal: Principal, runner: Runner, element: dict[str, Any],
                   errors: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """The document node's documents as the customer sees them: what is in, what is (again) needed."""
    rows = {d.doc_type: d for d in documents.list_documents(principal, runner.id, node=element["name"])}
    slots = []
    for raw in (element.get("config") or {}).get("documents") or []:
        row = rows.get(raw["type"])
        status = row.status if row else "requested"
        required = bool(row.required if row else raw.get("required", True))
        slots.append({
            "type": raw["type"], "required": required, "status": status,
            "label": (row.label if row else "") or raw.get("label") or raw["type"].replace("_", " ").title(),
            "note": row.note if row is not None and status == "reupload" else "",
            "files": [f.filename for f in row.files] if row is not None and status in documents.DONE else [],
            "needed": status in documents.OPEN and (required or status == "reupload"),
            # Checked by an officer: the documents service refuses a replacement (only a re-upload
            # request reopens it), so the page offers no file picker for it.
            "verified": status == "verified",
            "errors": (errors or {}).get(raw["type"], [])})
    return slots


def take_uploads(principal: Principal, runner: Runner, element: dict[str, Any],
                 files: MultiDict[str, FileStorage], *, schema: dict[str, Any] | None,
                 data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """Hand the step's files to the documents service; record missing or refused ones in `errors`.

    Nothing is stored for a submission that goes back anyway (a field is wrong or a file missing).
    """
    slots: list[tuple[str, bool]] = []
    if element["type"] == "document":
        # A verified document takes no file (the page offers none): one posted anyway is ignored
        # rather than refused after the page's other files were stored.
        slots += [(d["type"], d["needed"]) for d in document_slots(principal, runner, element)
                  if not d["verified"]]
    file_fields = schema_form.file_fields(schema)
    slots += [(name, name in set((schema or {}).get("required") or [])) for name in file_fields]
    picked: dict[str, FileStorage] = {}
    for name, needed in slots:
        upload = files.get(f"file-{name}")
        if upload is not None and schema_form.is_upload(upload):
            picked[name] = upload
        elif needed:
            errors[name] = ["Choose a file to upload."]
    if errors:
        return
    for name, upload in picked.items():
        try:
            stored = store_upload(principal, runner, element["name"], name, upload)
        except UploadRefused as refused:
            errors[name] = [refused.message]
            continue
        if name in file_fields:
            data[name] = stored["document_id"]
