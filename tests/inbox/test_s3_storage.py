"""S3-compatible storage (FLOWDESK_STORAGE=s3) against moto's S3: keys, encryption, the documents service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app.config import ConfigError
from app.services import documents
from app.services.storage import S3Storage, build_storage, describe, get_storage, init_storage
from tests.inbox.conftest import DOCUMENTS, REVIEW, Team, chain
from tests.inbox.test_documents import PDF, customer_principal

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

BUCKET = "flowdesk-test-uploads"


@pytest.fixture
def s3(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A mocked S3 with our bucket, and the app configured to use it (credentials from AWS_* env)."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_SESSION_TOKEN", "testing")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with moto.mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        app.config.update(FLOWDESK_STORAGE="s3", FLOWDESK_S3_BUCKET=BUCKET, FLOWDESK_S3_REGION="eu-west-1")
        app.extensions.pop("flowdesk_storage", None)
        yield client


def test_put_get_exists_delete_with_server_side_encryption(app: Flask, s3: Any) -> None:
    storage = build_storage(app)
    assert isinstance(storage, S3Storage)
    storage.put("company-1/doc-1/file-1", b"%PDF-1.7 hello")
    assert storage.exists("company-1/doc-1/file-1")
    assert storage.get("company-1/doc-1/file-1") == b"%PDF-1.7 hello"
    head = s3.head_object(Bucket=BUCKET, Key="company-1/doc-1/file-1")
    assert head["ServerSideEncryption"] == "AES256"
    storage.delete("company-1/doc-1/file-1")
    assert not storage.exists("company-1/doc-1/file-1")
    storage.delete("company-1/doc-1/file-1")  # deleting what is gone is not an error
    with pytest.raises(FileNotFoundError):
        storage.get("company-1/doc-1/file-1")


def test_keys_are_checked_and_can_share_a_bucket_under_a_prefix(app: Flask, s3: Any) -> None:
    app.config["FLOWDESK_S3_PREFIX"] = "/flowdesk/prod/"
    storage = build_storage(app)
    storage.put("company-1/doc-1/file-1", b"x")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["flowdesk/prod/company-1/doc-1/file-1"]
    for key in ("../escape", "/etc/passwd", "a/../../b", ""):
        with pytest.raises(ValueError, match="invalid storage key"):
            storage.put(key, b"x")


def test_customer_uploads_land_in_the_bucket_under_their_company(app: Flask, s3: Any, team: Team,
                                                                 make_flow: Any, start: Any) -> None:
    customer = customer_principal(team)
    runner = start(make_flow(chain(DOCUMENTS, REVIEW)), {"amount": 1}, customer_id=customer.id)
    pan = next(d for d in documents.list_documents(team.maker, runner.id) if d.doc_type == "pan")
    stored = documents.add_file(customer, pan.id, filename="pan.pdf", data=PDF)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{team.company.id}/")
    assert [o["Key"] for o in listed["Contents"]] == [stored.storage_key]
    assert documents.read_file(team.officer(0), pan.id, stored.id).data == PDF
    assert isinstance(get_storage(), S3Storage)


def test_settings_are_checked_at_start_up(app: Flask, s3: Any) -> None:
    app.config["FLOWDESK_S3_BUCKET"] = ""
    with pytest.raises(ConfigError, match="FLOWDESK_S3_BUCKET"):
        init_storage(app)
    app.config.update(FLOWDESK_S3_BUCKET=BUCKET, FLOWDESK_S3_SSE="none")
    with pytest.raises(ConfigError, match="FLOWDESK_S3_SSE"):
        init_storage(app)
    app.config.update(FLOWDESK_S3_SSE="aws:kms", FLOWDESK_S3_KMS_KEY_ID="alias/flowdesk")
    init_storage(app)
    get_storage().put("company-1/doc-1/file-1", b"x")
    head = s3.head_object(Bucket=BUCKET, Key="company-1/doc-1/file-1")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"].endswith("alias/flowdesk")


def test_an_endpoint_url_selects_a_self_hosted_server_with_path_style_urls(app: Flask, s3: Any) -> None:
    app.config["FLOWDESK_S3_ENDPOINT_URL"] = "http://minio.internal:9000"
    storage = build_storage(app)
    assert storage.client.meta.endpoint_url == "http://minio.internal:9000"
    assert storage.client.meta.config.s3["addressing_style"] == "path"
    assert storage.client.meta.region_name == "eu-west-1"


def test_the_settings_come_from_the_environment(app: Flask, s3: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FLOWDESK_STORAGE", "FLOWDESK_S3_BUCKET", "FLOWDESK_S3_REGION"):
        app.config.pop(name, None)
    monkeypatch.setenv("FLOWDESK_STORAGE", "s3")
    monkeypatch.setenv("FLOWDESK_S3_BUCKET", BUCKET)
    monkeypatch.setenv("FLOWDESK_S3_REGION", "eu-west-1")
    storage = build_storage(app)
    assert describe(app) == f"s3 ({BUCKET})"
    storage.put("company-2/doc/file", b"from env")
    assert s3.get_object(Bucket=BUCKET, Key="company-2/doc/file")["Body"].read() == b"from env"
