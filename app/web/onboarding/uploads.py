"""Customer uploads: check what a file is from its bytes, store it, and describe it for the runner.

`store_upload` is the one seam to the documents service: today it writes through
`app.services.storage` and returns a description that goes into the runner's data; once
`app.services.documents` offers an upload use case, this function should call it instead (so the
file lands on the document row the runner's RequestDocuments opened).
"""

from __future__ import annotations

import hashlib
from typing import Any

import filetype
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from app.models import Runner
from app.models.base import new_id
from app.services.principal import Principal
from app.services.storage import get_storage

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}


class UploadRefused(Exception):
    """The file cannot be accepted; `message` says why, for the person who chose it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def inspect(upload: FileStorage) -> tuple[bytes, str]:
    """The file's bytes and its sniffed content type, or UploadRefused."""
    data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise UploadRefused("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise UploadRefused(f"Upload a {', '.join(ALLOWED_TYPES.values())} file.")
    return data, kind.mime


def store_upload(actor: Principal, runner: Runner, node: str, doc_type: str,
                 upload: FileStorage) -> dict[str, Any]:
    """Store one upload for `runner` at `node`; return what the runner's data records about it."""
    data, content_type = inspect(upload)
    file_id = new_id()
    key = f"{runner.company_id}/onboarding/{runner.id}/{file_id}"
    get_storage().put(key, data)
    return {"id": file_id, "type": doc_type, "filename": secure_filename(upload.filename or "")[:200]
            or "upload", "content_type": content_type, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "storage_key": key, "uploaded_by": actor.id}
