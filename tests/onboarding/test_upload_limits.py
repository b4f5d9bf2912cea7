"""Upload sizes on the onboarding pages: a step takes all its files at the per-file limit, a file over
it is a message on its field, a request too large to read comes back to the same step with the
reason, and the help text states the limit as it is (KB below 1 MB)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.config import request_limit
from app.extensions import db
from app.models import Runner
from app.services import documents
from app.services.principal import Principal
from tests.conftest import csrf_from
from tests.onboarding.conftest import ABOUT_YOU, ADDRESS, PDF, Onboarding

MB = 1024 * 1024


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _pdf(size: int, name: str) -> FileStorage:
    # Padded inside (a comment line after the header): a whole PDF still ends with its %%EOF.
    head, rest = PDF[:9], PDF[9:]  # b"%PDF-1.4\n"
    padding = b"%" + b"0" * (size - len(PDF) - 2) + b"\n"
    return FileStorage(io.BytesIO(head + padding + rest), filename=name)


def _post(onboarding: Onboarding, url: str, fields: dict[str, Any]) -> Any:
    """A multipart POST built in memory: the test client would spool a large body to a temporary
    file it never closes."""
    boundary, body = encode_multipart({**fields, "csrf_token": csrf_from(_text(
        onboarding.client.get(f"{onboarding.url}/step")))})
    return onboarding.client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _submit(onboarding: Onboarding, **files: Any) -> Any:
    return _post(onboarding, f"{onboarding.url}/step", {"node": "documents", **files})


@pytest.fixture
def at_documents(app: Flask, onboarding: Onboarding) -> Onboarding:
    """The customer at the demo's document step (PAN card and bank statement); 2 MB a file, and the
    app-wide request limit sized for one file, so only the step's own limit lets two through."""
    app.config["FLOWDESK_UPLOAD_MAX_BYTES"] = 2 * MB
    app.config["MAX_CONTENT_LENGTH"] = request_limit(2 * MB, 1)
    onboarding.sign_in()
    assert onboarding.submit(ABOUT_YOU, "about_you").status_code == 302
    assert onboarding.submit(ADDRESS, "address").status_code == 302
    return onboarding


def _stored(runner: Runner) -> list[str]:
    return sorted(f.filename for d in documents.list_documents(Principal.system(runner.company_id), runner.id)
                  for f in d.files)


def test_a_step_takes_each_of_its_files_at_the_per_file_limit(at_documents: Onboarding) -> None:
    almost = 2 * MB - 1024
    response = _submit(at_documents, **{"file-pan_card": _pdf(almost, "pan.pdf"),
                                                       "file-bank_statement": _pdf(almost, "bank.pdf")})
    assert response.status_code == 302  # 4 MB in one request, over the app-wide 3 MB
    runner = db.session.query(Runner).one()
    assert runner.current_nodes == ["review"] and _stored(runner) == ["bank.pdf", "pan.pdf"]


def test_one_file_over_the_limit_is_a_message_on_its_field(at_documents: Onboarding) -> None:
    response = _submit(at_documents, **{"file-pan_card": _pdf(2 * MB + 1, "pan.pdf")})
    assert response.status_code == 422
    assert "At most 2 MB." in _text(response) and 'id="doc-pan_card-errors"' in _text(response)


def test_a_request_too_large_to_read_comes_back_to_the_same_step(at_documents: Onboarding) -> None:
    response = _submit(at_documents, **{"file-pan_card": _pdf(6 * MB, "huge.pdf")})
    assert response.status_code == 303 and response.headers["Location"].endswith("/step")
    page = _text(at_documents.client.get(response.headers["Location"]))
    assert "Upload your documents" in page
    assert ("A file you chose is larger than 2 MB, the most we accept. Nothing was saved: please choose "
            "a smaller file and try again.") in page
    runner = db.session.query(Runner).one()
    assert runner.current_nodes == ["documents"] and _stored(runner) == []


def test_the_asked_again_form_on_the_progress_page_comes_back_too(at_documents: Onboarding) -> None:
    import uuid

    url = f"{at_documents.url}/documents/{uuid.uuid4()}"
    response = _post(at_documents, url, {"file": _pdf(4 * MB, "pan.pdf")})
    assert response.status_code == 303 and "A file you chose is larger than 2 MB" in _text(
        at_documents.client.get(response.headers["Location"]))


@pytest.mark.parametrize(("limit", "shown"), [(500 * 1024, "up to 500 KB."), (10 * MB, "up to 10 MB."),
                                              (int(1.5 * MB), "up to 1.5 MB.")])
def test_the_upload_help_states_the_limit(app: Flask, at_documents: Onboarding, limit: int,
                                          shown: str) -> None:
    app.config["FLOWDESK_UPLOAD_MAX_BYTES"] = limit
    page = _text(at_documents.client.get(f"{at_documents.url}/step"))
    assert f"Word or Excel file, {shown}" in page and "up to 0 MB" not in page
    # The browser checks the same limit before sending (static/js/onboarding.js).
    assert f'data-max-bytes="{limit}"' in page
