"""`S3Store` against moto's in-process S3 (`mock_aws`: botocore is patched, nothing listens)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from moto import mock_aws

from common.core.settings import Settings
from common.storage.base import ObjectExists, ObjectNotFound, UploadContract, UploadPart
from common.storage.s3 import S3Store, md5_of_etag

BUCKET = "media-uploads"


class Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Store]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        store = S3Store(Settings(storage_backend="s3"))
        store.client.create_bucket(Bucket=BUCKET)
        store.client.put_bucket_versioning(
            Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
        yield store


def contract_for(data: bytes, content_type: str = "image/jpeg") -> UploadContract:
    return UploadContract(
        size_bytes=len(data),
        content_type=content_type,
        md5_base64=base64.b64encode(hashlib.md5(data).digest()).decode(),
        sha256_hex=hashlib.sha256(data).hexdigest(),
    )


def test_the_presigned_put_signs_every_header_of_the_contract(s3: S3Store) -> None:
    data = b"\xff\xd8\xff" + b"x" * 100
    signed = s3.sign_upload(BUCKET, "d/c/2026-12-01/m.jpg", contract_for(data), ttl_seconds=600)
    query = parse_qs(urlparse(signed.url).query)
    assert set(query["X-Amz-SignedHeaders"][0].split(";")) == {
        "content-length",
        "content-md5",
        "content-type",
        "host",
        "if-none-match",
        "x-amz-checksum-sha256",
    }
    assert query["X-Amz-Expires"] == ["600"]
    assert signed.method == "PUT"
    assert signed.headers == {
        "Content-Type": "image/jpeg",
        "Content-Length": str(len(data)),
        "Content-MD5": contract_for(data).md5_base64,
        "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
        "If-None-Match": "*",
    }


def test_versions_are_s3_version_ids_and_old_ones_stay_readable(s3: S3Store) -> None:
    first = s3.write(BUCKET, "a.jpg", b"one", "image/jpeg")
    second = s3.write(BUCKET, "a.jpg", b"two", "image/jpeg", metadata={"k": "v"})
    assert first.version != second.version
    live = s3.stat(BUCKET, "a.jpg")
    assert live is not None
    assert (live.version, live.size_bytes, live.content_type) == (second.version, 3, "image/jpeg")
    assert live.md5_base64 == base64.b64encode(hashlib.md5(b"two").digest()).decode()
    assert live.metadata == {"k": "v"}
    sink = Sink()
    s3.stream(BUCKET, "a.jpg", first.version, sink)
    assert bytes(sink.data) == b"one"
    assert b"".join(s3.read_range(BUCKET, "a.jpg", None, 1, None)) == b"wo"
    assert b"".join(s3.read_range(BUCKET, "a.jpg", first.version, 0, 1)) == b"on"
    assert list(s3.read_range(BUCKET, "a.jpg", None, 10, None)) == []


def test_absent_objects_and_versions(s3: S3Store, tmp_path: Path) -> None:
    assert s3.stat(BUCKET, "missing.jpg") is None
    written = s3.write(BUCKET, "b.jpg", b"bytes", "image/jpeg")
    assert s3.stat(BUCKET, "b.jpg", "no-such-version") is None
    with pytest.raises(ObjectNotFound):
        s3.stream(BUCKET, "missing.jpg", written.version, Sink())
    with pytest.raises(ObjectNotFound):
        s3.download_to_file(BUCKET, "missing.jpg", None, tmp_path / "x")


def test_if_absent_writes_refuse_an_existing_object(s3: S3Store, tmp_path: Path) -> None:
    s3.write(BUCKET, "c.jpg", b"first", "image/jpeg", if_absent=True)
    with pytest.raises(ObjectExists):
        s3.write(BUCKET, "c.jpg", b"second", "image/jpeg", if_absent=True)
    path = tmp_path / "f.bin"
    path.write_bytes(b"file bytes")
    with pytest.raises(ObjectExists):
        s3.write_file(BUCKET, "c.jpg", path, "image/jpeg", if_absent=True)
    stored = s3.write_file(BUCKET, "f.jpg", path, "image/jpeg", if_absent=True)
    s3.download_to_file(BUCKET, "f.jpg", stored.version, tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == b"file bytes"


def test_deleting_the_live_version_brings_the_previous_one_back(s3: S3Store) -> None:
    verified = s3.write(BUCKET, "d.jpg", b"verified", "image/jpeg")
    overwrite = s3.write(BUCKET, "d.jpg", b"overwrite", "image/jpeg")
    s3.copy(BUCKET, "d.jpg", overwrite.version, "quarantine/d.jpg.x")
    s3.copy(BUCKET, "d.jpg", verified.version, "quarantine/d.jpg.x")  # exists: left alone
    s3.delete(BUCKET, "d.jpg", overwrite.version)
    live = s3.stat(BUCKET, "d.jpg")
    assert live is not None
    assert live.version == verified.version
    assert b"".join(s3.read_range(BUCKET, "quarantine/d.jpg.x", None, 0, None)) == b"overwrite"
    assert [i.name for i in s3.list(BUCKET, "quarantine/")] == ["quarantine/d.jpg.x"]
    s3.delete(BUCKET, "d.jpg")
    assert s3.stat(BUCKET, "d.jpg") is None
    s3.delete(BUCKET, "d.jpg")  # absent: no error, no second delete marker
    s3.delete(BUCKET, "never.jpg", "no-such-version")


def test_a_multipart_upload_is_listed_completed_once_and_aborted(s3: S3Store) -> None:
    multipart = s3.multipart
    assert multipart is not None
    data = bytes(range(256)) * (24 * 1024)  # 6 MiB: two parts, the first of S3's minimum
    started = s3.start_resumable(BUCKET, "v.mp4", contract_for(data, "video/mp4"), ttl_seconds=60)
    assert started.protocol == "s3_multipart"
    assert started.upload_id
    plan = [UploadPart(1, 0, 5 * 1024 * 1024), UploadPart(2, 5 * 1024 * 1024, 1024 * 1024)]
    signed = multipart.sign_parts(BUCKET, "v.mp4", started.upload_id, plan, ttl_seconds=60)
    query = parse_qs(urlparse(signed[1].url).query)
    assert query["partNumber"] == ["2"]
    assert query["X-Amz-SignedHeaders"] == ["content-length;host"]
    assert signed[1].headers == {"Content-Length": str(1024 * 1024)}
    assert multipart.list_parts(BUCKET, "v.mp4", started.upload_id) == []
    for part in plan:
        s3.client.upload_part(
            Bucket=BUCKET,
            Key="v.mp4",
            UploadId=started.upload_id,
            PartNumber=part.number,
            Body=data[part.offset_bytes : part.offset_bytes + part.size_bytes],
        )
    parts = multipart.list_parts(BUCKET, "v.mp4", started.upload_id)
    assert parts is not None
    assert [(p.number, p.size_bytes) for p in parts] == [(1, 5 * 1024 * 1024), (2, 1024 * 1024)]
    done = multipart.complete_parts(BUCKET, "v.mp4", started.upload_id, parts)
    live = s3.stat(BUCKET, "v.mp4")
    assert live is not None
    assert (live.version, live.size_bytes, live.content_type) == (
        done.version,
        6 << 20,
        "video/mp4",
    )
    assert live.md5_base64 is None  # a multipart ETag is no MD5: verification computes it
    assert multipart.list_parts(BUCKET, "v.mp4", started.upload_id) is None
    other = s3.start_resumable(BUCKET, "w.mp4", contract_for(data), ttl_seconds=60)
    assert other.upload_id
    multipart.abort_parts(BUCKET, "w.mp4", other.upload_id)
    multipart.abort_parts(BUCKET, "w.mp4", other.upload_id)  # gone already: fine
    assert multipart.list_parts(BUCKET, "w.mp4", other.upload_id) is None


def test_presigned_get_names_the_version_and_the_attachment(s3: S3Store) -> None:
    written = s3.write(BUCKET, "e.jpg", b"e", "image/jpeg")
    signed = s3.sign_download(
        BUCKET, "e.jpg", ttl_seconds=300, version=written.version, filename="été.jpg"
    )
    query = parse_qs(urlparse(signed.url).query)
    assert query["versionId"] == [written.version]
    assert "filename*=UTF-8''%C3%A9t%C3%A9.jpg" in query["response-content-disposition"][0]


def test_the_etag_is_an_md5_only_without_kms() -> None:
    etag = '"' + hashlib.md5(b"x").hexdigest() + '"'
    assert md5_of_etag(etag) == base64.b64encode(hashlib.md5(b"x").digest()).decode()
    assert md5_of_etag(etag, "aws:kms") is None
    assert md5_of_etag('"abc-2"') is None
