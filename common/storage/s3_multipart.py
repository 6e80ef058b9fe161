"""The server's side of S3 multipart uploads, the resumable protocol on S3
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html): presigned `UploadPart`
PUTs with their exact `Content-Length` signed, `ListParts`, `CompleteMultipartUpload` with
`If-None-Match: *` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html)
and `AbortMultipartUpload`, through the client of `common.storage.s3.S3Store` (this module does not
import boto3 itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from common.storage._s3_calls import object_params, translate, version_of
from common.storage.base import ObjectInfo, ObjectNotFound, SignedRequest, StoredPart, UploadPart

if TYPE_CHECKING:
    from common.storage.s3 import S3Store

LIST_PAGE_PARTS = 1000
"""ListParts page size (S3's maximum)."""


class S3Multipart:
    """`MultipartUploads` on the store `store`."""

    def __init__(self, store: S3Store) -> None:
        self._store = store

    def sign_parts(
        self,
        bucket: str,
        name: str,
        upload_id: str,
        parts: Sequence[UploadPart],
        *,
        ttl_seconds: int,
    ) -> list[SignedRequest]:
        """A presigned `UploadPart` PUT per part, its `Content-Length` signed."""
        return [
            self._store.presign(
                "upload_part",
                {
                    **object_params(bucket, name),
                    "UploadId": upload_id,
                    "PartNumber": part.number,
                    "ContentLength": part.size_bytes,
                },
                {"Content-Length": str(part.size_bytes)},
                ttl_seconds,
            )
            for part in parts
        ]

    def list_parts(self, bucket: str, name: str, upload_id: str) -> list[StoredPart] | None:
        """`ListParts`, all pages; None when the upload is gone (NoSuchUpload)."""
        parts: list[StoredPart] = []
        marker = 0
        try:
            while True:
                page = self._store.client.list_parts(
                    **object_params(bucket, name),
                    UploadId=upload_id,
                    MaxParts=LIST_PAGE_PARTS,
                    PartNumberMarker=marker,
                )
                parts += [
                    StoredPart(int(p["PartNumber"]), int(p["Size"]), str(p["ETag"]))
                    for p in page.get("Parts", [])
                ]
                if not page.get("IsTruncated"):
                    return parts
                marker = int(page["NextPartNumberMarker"])
        except Exception as exc:
            error = translate(exc, f"s3://{bucket}/{name}?uploadId")
            if isinstance(error, ObjectNotFound):
                return None
            raise error from exc

    def complete_parts(
        self, bucket: str, name: str, upload_id: str, parts: Sequence[StoredPart]
    ) -> ObjectInfo:
        """`CompleteMultipartUpload` with `If-None-Match: *`."""
        try:
            done = self._store.client.complete_multipart_upload(
                **object_params(bucket, name),
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in parts]
                },
                IfNoneMatch="*",
            )
        except Exception as exc:
            raise translate(exc, f"s3://{bucket}/{name}?uploadId") from exc
        return ObjectInfo(
            bucket=bucket,
            name=name,
            version=version_of(done),
            size_bytes=sum(p.size_bytes for p in parts),
        )

    def abort_parts(self, bucket: str, name: str, upload_id: str) -> None:
        """`AbortMultipartUpload`; an upload already gone is fine."""
        try:
            self._store.client.abort_multipart_upload(
                **object_params(bucket, name), UploadId=upload_id
            )
        except Exception as exc:
            error = translate(exc, f"s3://{bucket}/{name}?uploadId")
            if not isinstance(error, ObjectNotFound):
                raise error from exc
