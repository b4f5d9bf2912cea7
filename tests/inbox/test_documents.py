"""Documents: storage, upload rules (sniffed type, size, names), who may download, the node waiting."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from app.config import ConfigError
from app.extensions import db
from app.models import Customer
from app.services import documents, runners
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.services.principal import Principal
from app.services.storage import LocalStorage, build_storage, get_storage
from tests.inbox.conftest import DOCUMENTS, REVIEW, Team, activity_of, chain

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def customer_principal(team: Team, mobile: str = "+919800000001") -> Principal:
    customer = Customer(company_id=team.company.id, mobile=mobile, name="Asha Rao")
    db.session.add(customer)
    db.session.commit()
    return Principal("customer", customer.id, team.company.id, frozenset({"customer"}), "Asha Rao")


@pytest.fixture
def doc_runner(team: Team, make_flow, start):
    customer = customer_principal(team)
    runner = start(make_flow(chain(DOCUMENTS, REVIEW)), {"amount": 1}, customer_id=customer.id)
    docs = {d.doc_type: d for d in documents.list_documents(team.maker, runner.id)}
    return runner, customer, docs


def test_local_storage_round_trips_and_refuses_keys_outside_its_root(tmp_path: Path):
    storage = LocalStorage(tmp_path / "files")
    storage.put("c1/d1/f1", b"hello")
    assert storage.get("c1/d1/f1") == b"hello" and storage.exists("c1/d1/f1")
    storage.delete("c1/d1/f1")
    assert not storage.exists("c1/d1/f1")
    for key in ("../escape", "/etc/passwd", "a/../../b", "a\\b", ""):
        with pytest.raises(ValueError, match="invalid storage key"):
            storage.put(key, b"x")


def test_the_default_backend_is_a_folder_under_instance_and_s3_needs_a_bucket(app: Flask):
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    app.config.pop("FLOWDESK_STORAGE_ROOT")
    default = build_storage(app)
    assert isinstance(default, LocalStorage)
    assert default.root == (Path(app.instance_path) / "uploads").resolve()
    assert "static" not in default.root.parts
    app.config["FLOWDESK_STORAGE"] = "s3"
    with pytest.raises(ConfigError, match="FLOWDESK_S3_BUCKET"):
        build_storage(app)
    app.config["FLOWDESK_STORAGE"] = "ftp"
    with pytest.raises(ConfigError, match="local"):
        build_storage(app)


def test_a_document_node_requests_its_types_and_waits_for_the_required_ones(team: Team, doc_runner,
                                                                            tmp_path: Path):
    runner, customer, docs = doc_runner
    assert {t: (d.status, d.required) for t, d in docs.items()} == {
        "pan": ("requested", True), "photo": ("requested", False)}
    documents.add_file(customer, docs["photo"].id, filename="me.png", data=PNG)
    assert runners.get_runner(team.maker, runner.id).current_nodes == ["kyc_documents"]
    documents.add_file(customer, docs["pan"].id, filename="pan.pdf", data=PDF)
    assert runners.get_runner(team.maker, runner.id).current_nodes == ["review"]
    assert any(a.kind == "document.uploaded" for a in activity_of(runner.id))
    assert len([p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]) == 2


def test_the_type_is_sniffed_and_the_name_sanitised(team: Team, doc_runner):
    _, customer, docs = doc_runner
    stored = documents.add_file(customer, docs["photo"].id, filename="../../etc/passwd.pdf", data=PNG)
    assert stored.content_type == "image/png"  # the bytes say PNG, whatever the name claims
    assert stored.filename == "etc_passwd.png"
    assert "/" not in stored.storage_key.split("/", 2)[-1] and ".." not in stored.storage_key
    with pytest.raises(ValidationFailed, match="not accepted"):
        documents.add_file(customer, docs["photo"].id, filename="x.png", data=b"<svg onload=alert(1)>")
    with pytest.raises(ValidationFailed, match="Empty"):
        documents.add_file(customer, docs["photo"].id, filename="x.png", data=b"")


def test_a_pdf_cut_off_before_its_end_is_refused_and_a_whole_one_taken(team: Team, doc_runner):
    _, customer, docs = doc_runner
    truncated = PDF[: PDF.index(b"%%EOF")] + b"2 0 obj\n<< /Length 9000 >>\nstream\n" + b"x" * 2000
    with pytest.raises(ValidationFailed, match="incomplete or damaged") as refused:
        documents.add_file(customer, docs["photo"].id, filename="payslip.pdf", data=truncated)
    assert "cut off" in refused.value.errors[0].message
    assert documents.get_document(customer, docs["photo"].id).files == []
    trailing = PDF + b"\r\n" * 20  # some writers add bytes after %%EOF
    assert documents.add_file(customer, docs["photo"].id, filename="payslip.pdf",
                              data=trailing).content_type == "application/pdf"


def test_uploads_are_size_capped(team: Team, doc_runner, app: Flask):
    _, customer, docs = doc_runner
    app.config["FLOWDESK_UPLOAD_MAX_BYTES"] = 32
    with pytest.raises(ValidationFailed, match="too large") as failure:
        documents.add_file(customer, docs["photo"].id, filename="big.png", data=PNG)
    assert failure.value.errors[0].path == "file"


def test_downloads_only_for_those_who_may_see_the_runner(team: Team, doc_runner, make_company, make_user):
    _, customer, docs = doc_runner
    stored = documents.add_file(customer, docs["pan"].id, filename="pan.pdf", data=PDF)
    assert documents.read_file(customer, docs["pan"].id, stored.id).data == PDF
    assert documents.read_file(Principal.for_user(team.viewer), docs["pan"].id, stored.id).previewable
    other_customer = customer_principal(team, "+919800000002")
    with pytest.raises(NotFound):
        documents.read_file(other_customer, docs["pan"].id, stored.id)
    stranger = Principal.for_user(make_user(make_company(), roles=("admin",)))
    with pytest.raises(NotFound):
        documents.read_file(stranger, docs["pan"].id, stored.id)
    with pytest.raises(PermissionDenied):  # viewers look, they do not upload
        documents.add_file(Principal.for_user(team.viewer), docs["pan"].id, filename="x.pdf", data=PDF)


def test_verify_and_reupload_send_the_customer_back(team: Team, doc_runner):
    runner, customer, docs = doc_runner
    with pytest.raises(Conflict):
        documents.verify(team.officer(0), docs["pan"].id)  # nothing uploaded yet
    documents.add_file(customer, docs["pan"].id, filename="pan.pdf", data=PDF)
    assert runners.get_runner(team.maker, runner.id).current_nodes == ["review"]
    verified = documents.verify(team.officer(0), docs["pan"].id)
    assert verified.status == "verified" and verified.verified_by == "Officer 1"
    with pytest.raises(ValidationFailed):
        documents.request_reupload(team.officer(0), docs["pan"].id, note=" ")
    again = documents.request_reupload(team.officer(0), docs["pan"].id, note="Blurred, please rescan")
    assert again.status == "reupload" and again.note == "Blurred, please rescan"
    assert runners.get_runner(team.maker, runner.id).current_nodes == ["kyc_documents"]
    documents.add_file(customer, docs["pan"].id, filename="pan2.pdf", data=PDF)
    assert runners.get_runner(team.maker, runner.id).current_nodes == ["review"]
    assert len(documents.get_document(team.maker, docs["pan"].id).files) == 2


def test_create_document_via_service_checks_roles_and_runner(team: Team, doc_runner):
    runner, customer, _ = doc_runner
    extra = documents.create_document(team.officer(0), doc_type="salary_slip", runner_id=runner.id)
    assert extra.customer_id == customer.id and extra.required is False
    with pytest.raises(PermissionDenied):
        documents.create_document(Principal.for_user(team.viewer), doc_type="x", runner_id=runner.id)
    with pytest.raises(NotFound):
        documents.create_document(team.officer(0), doc_type="x",
                                  runner_id="00000000-0000-0000-0000-000000000000")
