"""S3 backend of `common.storage.base.ObjectStore` (Amazon S3, MinIO, moto's server): the only
module importing boto3.

Versions are S3 version ids (the buckets are versioned; an object written while versioning was
off has the version id `"null"`, which S3 accepts back as `VersionId=null`). Credentials come from
boto3's default chain (environment, shared config, container or instance role), never from
settings; `S3_ENDPOINT_URL` names another S3-compatible endpoint, `S3_PUBLIC_URL` the one presigned
URLs name, `S3_REGION` the region. Presigned URLs follow Signature Version 4 query authentication
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html): every header set
on the request at presign time is a signed header, so the device must send exactly those.

Resumable uploads are multipart uploads
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html): the server creates one,
presigns each part's `UploadPart` with its exact `Content-Length`, lists the parts received and
completes the upload with `If-None-Match: *` (`common.storage.s3_multipart`, `self.multipart`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from common.core import hashing
from common.core.settings import Settings
from common.storage._s3_calls import error_of, object_params, translate, version_of
from common.storage.base import (
    RESUMABLE_S3,
    MultipartUploads,
    ObjectExists,
    ObjectInfo,
    ObjectNotFound,
    ResumableStart,
    SignedRequest,
    StorageUnavailable,
    UploadContract,
    Writable,
    content_disposition,
)

READ_CHUNK_BYTES = 1024 * 1024
"""Bytes per chunk read from a GET's streaming body."""
_KMS_ENCRYPTION = ("aws:kms", "aws:kms:dsse")


def md5_of_etag(etag: Any, encryption: Any = None) -> str | None:
    """The base64 MD5 an object's ETag stands for, when it stands for one: not for an object
    encrypted with SSE-KMS or SSE-C (`common.core.hashing.md5_of_etag` for the rest).
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html)
    """
    if encryption in _KMS_ENCRYPTION:
        return None
    return hashing.md5_of_etag(etag)


def _info(bucket: str, name: str, head: dict[str, Any]) -> ObjectInfo:
    encryption = head.get("ServerSideEncryption")
    if head.get("SSECustomerAlgorithm"):
        encryption = "aws:kms"  # SSE-C: the ETag is not the MD5 either
    return ObjectInfo(
        bucket=bucket,
        name=name,
        version=version_of(head),
        size_bytes=int(head.get("ContentLength") or 0),
        content_type=head.get("ContentType"),
        md5_base64=md5_of_etag(head.get("ETag"), encryption),
        metadata=dict(head.get("Metadata") or {}),
    )


class S3Store:
    """`ObjectStore` on an S3-compatible store.

    Args:
        settings: endpoint, public endpoint, region and addressing style.
    """

    scheme = "s3"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        from common.storage.s3_multipart import S3Multipart

        self.multipart: MultipartUploads | None = S3Multipart(self)

    def _client(self, endpoint_url: str | None) -> Any:
        import boto3  # type: ignore[import-untyped]  # lazy: cold start
        from botocore.config import Config  # type: ignore[import-untyped]

        config = Config(
            s3={"addressing_style": self._settings.s3_addressing_style},
            signature_version="s3v4",
            retries={"mode": "standard", "max_attempts": 3},
            # Our own verification reads every byte; the SDK's own CRCs would double the work.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        return boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=self._settings.s3_region, config=config
        )

    @cached_property
    def client(self) -> Any:
        """The S3 client for API calls (built on first use)."""
        return self._client(self._settings.s3_endpoint_url)

    @cached_property
    def _signer(self) -> Any:
        public = self._settings.s3_public_url
        if not public or public == self._settings.s3_endpoint_url:
            return self.client
        return self._client(public)

    # ------------------------------------------------------------------------------ signing
    def presign(
        self, operation: str, params: dict[str, Any], headers: dict[str, str], ttl_seconds: int
    ) -> SignedRequest:
        """Presign `operation` with `params`; `headers` are those the request must carry."""
        issued = datetime.now(UTC)
        try:
            url = self._signer.generate_presigned_url(
                operation, Params=params, ExpiresIn=ttl_seconds
            )
        except Exception as exc:
            raise StorageUnavailable(f"could not presign: {exc.__class__.__name__}") from exc
        method = "GET" if operation == "get_object" else "PUT"
        return SignedRequest(method, str(url), headers, issued + timedelta(seconds=ttl_seconds))

    def sign_upload(
        self, bucket: str, name: str, contract: UploadContract, *, ttl_seconds: int
    ) -> SignedRequest:
        """A presigned PUT whose signed headers pin the whole contract.

        `Content-Length` (exact size), `Content-Type`, `Content-MD5` (S3 refuses other bytes with
        400 BadDigest), `x-amz-checksum-sha256` (the declared SHA-256 as base64; S3 refuses
        other bytes) and `If-None-Match: *` (412 if the object exists).
        """
        checksum = base64.b64encode(bytes.fromhex(contract.sha256_hex)).decode("ascii")
        params = {
            **object_params(bucket, name),
            "ContentType": contract.content_type,
            "ContentLength": contract.size_bytes,
            "ContentMD5": contract.md5_base64,
            "ChecksumSHA256": checksum,
            "IfNoneMatch": "*",
        }
        headers = {
            "Content-Type": contract.content_type,
            "Content-Length": str(contract.size_bytes),
            "Content-MD5": contract.md5_base64,
            "x-amz-checksum-sha256": checksum,
            "If-None-Match": "*",
        }
        return self.presign("put_object", params, headers, ttl_seconds)

    def sign_download(
        self,
        bucket: str,
        name: str,
        *,
        ttl_seconds: int,
        version: str | None = None,
        filename: str | None = None,
    ) -> SignedRequest:
        """A presigned GET (of `version` when given; an attachment named `filename`)."""
        params: dict[str, Any] = object_params(bucket, name, version)
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        return self.presign("get_object", params, {}, ttl_seconds)

    def start_resumable(
        self, bucket: str, name: str, contract: UploadContract, *, ttl_seconds: int
    ) -> ResumableStart:
        """Create a multipart upload with the declared Content-Type (`CreateMultipartUpload`)."""
        try:
            created = self.client.create_multipart_upload(
                **object_params(bucket, name), ContentType=contract.content_type
            )
        except Exception as exc:
            raise translate(exc, f"s3://{bucket}/{name}") from exc
        return ResumableStart(RESUMABLE_S3, upload_id=str(created["UploadId"]))

    # ------------------------------------------------------------------------------ reading
    def stat(self, bucket: str, name: str, version: str | None = None) -> ObjectInfo | None:
        """HEAD of the object (or version), or None when absent.

        403 counts as absent: without `s3:ListBucket` (which no function has) S3 answers a HEAD
        of a missing key with 403; 405 is a HEAD of a delete marker's version.
        """
        try:
            head = self.client.head_object(**object_params(bucket, name, version))
        except Exception as exc:
            error = translate(exc, f"s3://{bucket}/{name}")
            if isinstance(error, ObjectNotFound) or error_of(exc)[1] in (403, 405):
                return None
            raise error from exc
        return _info(bucket, name, head)

    def _get(self, bucket: str, name: str, version: str | None, **extra: Any) -> Any:
        return self.client.get_object(**object_params(bucket, name, version), **extra)["Body"]

    def stream(self, bucket: str, name: str, version: str, sink: Writable) -> None:
        """Stream one version into `sink` in `READ_CHUNK_BYTES` chunks of one GET."""
        try:
            body = self._get(bucket, name, version)
            for chunk in body.iter_chunks(READ_CHUNK_BYTES):
                sink.write(chunk)
        except Exception as exc:
            raise translate(exc, f"s3://{bucket}/{name}#{version}") from exc

    def read_range(
        self, bucket: str, name: str, version: str | None, start: int, end: int | None
    ) -> Iterator[bytes]:
        """Bytes `start..end` (inclusive) of one ranged GET; nothing past the end."""
        wanted = f"bytes={start}-{'' if end is None else end}"
        try:
            body = self._get(bucket, name, version, Range=wanted)
        except Exception as exc:
            if error_of(exc)[0] == "InvalidRange":
                return
            raise translate(exc, f"s3://{bucket}/{name}") from exc
        try:
            yield from body.iter_chunks(READ_CHUNK_BYTES)
        except Exception as exc:
            raise translate(exc, f"s3://{bucket}/{name}") from exc

    def download_to_file(self, bucket: str, name: str, version: str | None, path: Path) -> None:
        """Stream one version (live when None) into `path`."""
        with path.open("wb") as handle:
            try:
                for chunk in self._get(bucket, name, version).iter_chunks(READ_CHUNK_BYTES):
                    handle.write(chunk)
            except Exception as exc:
                raise translate(exc, f"s3://{bucket}/{name}") from exc

    # ------------------------------------------------------------------------------ writing
    def _put(
        self,
        bucket: str,
        name: str,
        body: Any,
        size_bytes: int,
        content_type: str,
        *,
        if_absent: bool,
        metadata: dict[str, str] | None,
        md5_base64: str | None = None,
    ) -> ObjectInfo:
        params: dict[str, Any] = {
            **object_params(bucket, name),
            "Body": body,
            "ContentType": content_type,
            "ContentLength": size_bytes,
            "Metadata": dict(metadata or {}),
        }
        if md5_base64:
            params["ContentMD5"] = md5_base64
        if if_absent:
            params["IfNoneMatch"] = "*"
        try:
            put = self.client.put_object(**params)
        except Exception as exc:
            raise translate(exc, f"s3://{bucket}/{name}") from exc
        return ObjectInfo(
            bucket=bucket,
            name=name,
            version=version_of(put),
            size_bytes=size_bytes,
            content_type=content_type,
            md5_base64=md5_base64 or md5_of_etag(put.get("ETag"), put.get("ServerSideEncryption")),
            metadata=dict(metadata or {}),
        )

    def write(
        self,
        bucket: str,
        name: str,
        data: bytes,
        content_type: str,
        *,
        if_absent: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """PUT `data` with its Content-MD5 (`If-None-Match: *` when `if_absent`)."""
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode("ascii")  # noqa: S324
        return self._put(
            bucket,
            name,
            data,
            len(data),
            content_type,
            if_absent=if_absent,
            metadata=metadata,
            md5_base64=md5,
        )

    def write_file(
        self,
        bucket: str,
        name: str,
        path: Path,
        content_type: str,
        *,
        if_absent: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """PUT a local file, streamed (one request: objects here are at most 5 GiB)."""
        with path.open("rb") as handle:
            return self._put(
                bucket,
                name,
                handle,
                path.stat().st_size,
                content_type,
                if_absent=if_absent,
                metadata=metadata,
            )

    def copy(self, bucket: str, name: str, version: str, target_name: str) -> None:
        """Copy a version to `target_name` unless that exists.

        `If-None-Match: *` on the copy makes S3 refuse an existing target; moto ignores it, so the
        target is looked up first as well.
        """
        if self.stat(bucket, target_name) is not None:
            return
        try:
            self.client.copy_object(
                Bucket=bucket,
                Key=target_name,
                CopySource=object_params(bucket, name, version),
                IfNoneMatch="*",
            )
        except Exception as exc:
            error = translate(exc, f"s3://{bucket}/{name}#{version}")
            if isinstance(error, ObjectExists):
                return
            raise error from exc

    def delete(self, bucket: str, name: str, version: str | None = None) -> None:
        """Delete `version` permanently, or (None) the live object, leaving a delete marker.

        Deleting a version leaves any other version alone: when it was live, the previous version
        becomes live again (an overwrite set aside restores the verified one).
        """
        if version is None and self.stat(bucket, name) is None:
            return  # nothing live: do not stack delete markers
        try:
            self.client.delete_object(**object_params(bucket, name, version))
        except Exception as exc:
            error = translate(exc, f"s3://{bucket}/{name}")
            if isinstance(error, ObjectNotFound):
                return
            raise error from exc

    def list(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        """Live objects under `prefix` (ListObjectVersions: needs s3:ListBucketVersions)."""
        try:
            pages = self.client.get_paginator("list_object_versions").paginate(
                Bucket=bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Versions", []):
                    if item.get("IsLatest"):
                        yield ObjectInfo(
                            bucket=bucket,
                            name=item["Key"],
                            version=version_of(item),
                            size_bytes=int(item.get("Size") or 0),
                            md5_base64=md5_of_etag(item.get("ETag")),
                        )
        except Exception as exc:
            raise translate(exc, f"s3://{bucket}/{prefix}") from exc
