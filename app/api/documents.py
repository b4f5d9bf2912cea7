"""Document endpoints under /v1/rego/documents/, and the one function that serves a stored file."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, current_app, request
from marshmallow import fields, validate

from app.api import v1
from app.api.auth import principal
from app.api.idempotency import idempotent
from app.api.schemas import ActorId, BaseSchema, IdempotentSchema, StrictBoolean
from app.config import request_limit
from app.models import Document
from app.services import documents
from app.services.documents import FileContent
from app.services.errors import FieldError, ValidationFailed

FOUND = (400, 401, 403, 404, 422)
CHANGED = (*FOUND, 409)
TAG = ["Document"]
# Inline previews get their own lock-down: nothing may run or load, only the file itself shows.
PREVIEW_CSP = ("default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'; "
               "frame-ancestors 'self'")
ATTACHMENT_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


def send_document_file(content: FileContent, *, inline: bool = False) -> Response:
    """The file's bytes: inline only when asked and previewable (images, PDF), else an attachment.

    The sniffed type is the Content-Type, and `nosniff` keeps browsers from guessing another.
    """
    show_inline = inline and content.previewable
    response = current_app.response_class(content.data, mimetype=content.file.content_type)
    response.headers.set("Content-Disposition", "inline" if show_inline else "attachment",
                         filename=content.file.filename)
    response.headers["Content-Security-Policy"] = PREVIEW_CSP if show_inline else ATTACHMENT_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if show_inline else "DENY"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


class FileSchema(BaseSchema):
    id = fields.String(required=True)
    filename = fields.String(required=True, metadata={"description": "Sanitised; extension from the content"})
    content_type = fields.String(required=True, metadata={"description": "Sniffed from the bytes"})
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    uploaded_by = ActorId(allow_none=True)
    uploaded_at = fields.DateTime(required=True)


class DocumentSchema(BaseSchema):
    id = fields.String(required=True)
    company_id = fields.String(required=True)
    runner_id = fields.String(allow_none=True)
    customer_id = fields.String(allow_none=True)
    node = fields.String(allow_none=True)
    type = fields.String(attribute="doc_type", required=True)
    label = fields.String(required=True)
    required = fields.Boolean(required=True)
    status = fields.String(required=True, metadata={
        "description": "requested, uploaded, verified or reupload"})
    note = fields.String(metadata={"description": "Why a re-upload was asked for"})
    verified_by = fields.String(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)
    files = fields.List(fields.Nested(FileSchema), required=True)
    created_by = ActorId(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime(allow_none=True)


class DocumentCreateSchema(IdempotentSchema):
    runner_id = fields.String(validate=validate.Length(1, 36), load_default=None)
    type = fields.String(required=True, validate=validate.Length(1, 80))
    label = fields.String(load_default="", validate=validate.Length(max=200))
    required = StrictBoolean(load_default=False)


class DocumentListQuerySchema(BaseSchema):
    runner_id = fields.UUID(required=True, metadata={"description": "The runner whose documents to list"})
    node = fields.String(validate=validate.Length(1, 120), metadata={
        "description": "Only those this document node asks for"})


class DocumentListSchema(BaseSchema):
    items = fields.List(fields.Nested(DocumentSchema), required=True)


class DownloadQuerySchema(BaseSchema):
    inline = fields.Boolean(load_default=False, metadata={
        "description": "Show images and PDFs in the browser instead of downloading"})


class ReuploadSchema(BaseSchema):
    note = fields.String(required=True, validate=validate.Length(1, 2000))


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["files"],
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}


@v1.route("/rego/documents/", methods=["POST"], tags=TAG)
@v1.operation("Create Document", errors=FOUND)
@idempotent
@v1.arguments(DocumentCreateSchema)
@v1.response(201, DocumentSchema)
def create_document(body: dict[str, Any]) -> Document:
    return documents.create_document(principal(), doc_type=body["type"], label=body["label"],
                                     runner_id=body["runner_id"], required=body["required"])


@v1.route("/rego/documents/", methods=["GET"], tags=TAG)
@v1.operation("List Documents", errors=FOUND, description=(
    "A runner's documents, oldest first: those its document nodes asked for (with their ids, to "
    "upload files to) and any created for it. A runner has a handful, so there is one page."))
@v1.arguments(DocumentListQuerySchema, location="query")
@v1.response(200, DocumentListSchema)
def list_documents(query: dict[str, Any]) -> dict[str, Any]:
    return {"items": documents.list_documents(principal(), str(query["runner_id"]), node=query.get("node"))}


@v1.route("/rego/documents/<uuid:document_id>/", methods=["GET"], tags=TAG)
@v1.operation("Get Storage Document", errors=FOUND)
@v1.response(200, DocumentSchema)
def get_storage_document(document_id: UUID) -> Document:
    return documents.get_document(principal(), str(document_id))


@v1.route("/rego/documents/<uuid:document_id>/files/", methods=["POST"], tags=TAG)
@v1.operation("Add files to document", errors=(*CHANGED, 413), description=(
    "multipart/form-data with one or more `files`. The type is sniffed from the content (PDF, "
    "images, Word, Excel); size is capped. When the runner's document node has every required "
    "document, it moves on."))
@v1.doc(requestBody=UPLOAD_BODY)
@v1.response(201, DocumentSchema)
def add_files_to_document(document_id: UUID) -> Document:
    # Set before the body is read: only upload requests may be larger than MAX_BODY_BYTES.
    request.max_content_length = request_limit(documents.max_bytes())
    uploads = request.files.getlist("files") or request.files.getlist("file")
    if not uploads:
        raise ValidationFailed("No file.", [FieldError("files", "Send files as multipart/form-data.")])
    actor = principal()
    for upload in uploads:
        documents.add_file(actor, str(document_id), filename=upload.filename or "",
                           data=upload.read(documents.max_bytes() + 1))
    return documents.get_document(actor, str(document_id))


@v1.route("/rego/documents/<uuid:document_id>/files/<uuid:file_id>/", methods=["GET"], tags=TAG)
@v1.operation("Download files", errors=FOUND, description=(
    "The file, as an attachment unless `inline=true` and it is an image or PDF."))
@v1.arguments(DownloadQuerySchema, location="query")
@v1.doc(responses={"200": {"description": "The file's bytes",
                           "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                              "format": "binary"}}}}})
def download_files(query: dict[str, Any], document_id: UUID, file_id: UUID) -> Response:
    content = documents.read_file(principal(), str(document_id), str(file_id))
    return send_document_file(content, inline=query["inline"])


@v1.route("/rego/documents/<uuid:document_id>/verify/", methods=["POST"], tags=TAG)
@v1.operation("Verify Document", errors=CHANGED)
@v1.response(200, DocumentSchema)
def verify_document(document_id: UUID) -> Document:
    return documents.verify(principal(), str(document_id))


@v1.route("/rego/documents/<uuid:document_id>/reupload/", methods=["POST"], tags=TAG)
@v1.operation("Request Document Re-upload", errors=CHANGED, description=(
    "Marks the document for re-upload; a runner waiting at a node with a `reupload` edge takes it."))
@v1.arguments(ReuploadSchema)
@v1.response(200, DocumentSchema)
def request_document_reupload(body: dict[str, Any], document_id: UUID) -> Document:
    return documents.request_reupload(principal(), str(document_id), note=body["note"])
