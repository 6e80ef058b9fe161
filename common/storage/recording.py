"""An `ObjectStore` that notes each call (`common.core.calls`) before passing it on.

Signing is noted as the object operation the signed request will perform (a signed PUT creates,
a signed GET reads: the request acts with the signer's permissions) plus `sign` itself. Every step
of a resumable upload is noted as `create`: it is part of creating the object (on S3 the signer
also needs `s3:ListMultipartUploadParts` and `s3:AbortMultipartUpload`, terraform/README.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from common.core.calls import record
from common.storage.base import (
    MultipartUploads,
    ObjectInfo,
    ObjectStore,
    ResumableStart,
    SignedRequest,
    StoredPart,
    UploadContract,
    UploadPart,
    Writable,
)


class RecordingStore:
    """Wraps `inner`, recording `storage` calls by bucket."""

    def __init__(self, inner: ObjectStore) -> None:
        self._inner = inner
        self.scheme = inner.scheme
        self.multipart: MultipartUploads | None = (
            None if inner.multipart is None else _RecordingMultipart(inner.multipart)
        )

    def sign_upload(
        self, bucket: str, name: str, contract: UploadContract, *, ttl_seconds: int
    ) -> SignedRequest:
        """Note `sign` and `create`; sign."""
        record("storage", "sign", bucket)
        record("storage", "create", bucket)
        return self._inner.sign_upload(bucket, name, contract, ttl_seconds=ttl_seconds)

    def sign_download(
        self,
        bucket: str,
        name: str,
        *,
        ttl_seconds: int,
        version: str | None = None,
        filename: str | None = None,
    ) -> SignedRequest:
        """Note `sign` and `get`; sign."""
        record("storage", "sign", bucket)
        record("storage", "get", bucket)
        return self._inner.sign_download(
            bucket, name, ttl_seconds=ttl_seconds, version=version, filename=filename
        )

    def start_resumable(
        self, bucket: str, name: str, contract: UploadContract, *, ttl_seconds: int
    ) -> ResumableStart:
        """Note `sign` and `create`; start."""
        record("storage", "sign", bucket)
        record("storage", "create", bucket)
        return self._inner.start_resumable(bucket, name, contract, ttl_seconds=ttl_seconds)

    def stat(self, bucket: str, name: str, version: str | None = None) -> ObjectInfo | None:
        """Note `get`; stat."""
        record("storage", "get", bucket)
        return self._inner.stat(bucket, name, version)

    def stream(self, bucket: str, name: str, version: str, sink: Writable) -> None:
        """Note `get`; stream."""
        record("storage", "get", bucket)
        self._inner.stream(bucket, name, version, sink)

    def read_range(
        self, bucket: str, name: str, version: str | None, start: int, end: int | None
    ) -> Iterator[bytes]:
        """Note `get`; read."""
        record("storage", "get", bucket)
        return self._inner.read_range(bucket, name, version, start, end)

    def download_to_file(self, bucket: str, name: str, version: str | None, path: Path) -> None:
        """Note `get`; download."""
        record("storage", "get", bucket)
        self._inner.download_to_file(bucket, name, version, path)

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
        """Note `create` (and `delete` for a replacing write); write."""
        record("storage", "create", bucket)
        if not if_absent:
            record("storage", "delete", bucket)  # replacing an object needs delete on GCS
        return self._inner.write(
            bucket, name, data, content_type, if_absent=if_absent, metadata=metadata
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
        """Note `create` (and `delete` for a replacing write); write."""
        record("storage", "create", bucket)
        if not if_absent:
            record("storage", "delete", bucket)
        return self._inner.write_file(
            bucket, name, path, content_type, if_absent=if_absent, metadata=metadata
        )

    def copy(self, bucket: str, name: str, version: str, target_name: str) -> None:
        """Note `get` and `create`; copy."""
        record("storage", "get", bucket)
        record("storage", "create", bucket)
        self._inner.copy(bucket, name, version, target_name)

    def delete(self, bucket: str, name: str, version: str | None = None) -> None:
        """Note `delete`; delete."""
        record("storage", "delete", bucket)
        self._inner.delete(bucket, name, version)

    def list(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        """Note `list`; list."""
        record("storage", "list", bucket)
        return self._inner.list(bucket, prefix)


class _RecordingMultipart:
    """Wraps `inner`'s multipart steps, recording each as `create` (signing also as `sign`)."""

    def __init__(self, inner: MultipartUploads) -> None:
        self._inner = inner

    def sign_parts(
        self,
        bucket: str,
        name: str,
        upload_id: str,
        parts: Sequence[UploadPart],
        *,
        ttl_seconds: int,
    ) -> list[SignedRequest]:
        """Note `sign` and `create`; sign."""
        record("storage", "sign", bucket)
        record("storage", "create", bucket)
        return self._inner.sign_parts(bucket, name, upload_id, parts, ttl_seconds=ttl_seconds)

    def list_parts(self, bucket: str, name: str, upload_id: str) -> list[StoredPart] | None:
        """Note `create`; list the parts."""
        record("storage", "create", bucket)
        return self._inner.list_parts(bucket, name, upload_id)

    def complete_parts(
        self, bucket: str, name: str, upload_id: str, parts: Sequence[StoredPart]
    ) -> ObjectInfo:
        """Note `create`; complete."""
        record("storage", "create", bucket)
        return self._inner.complete_parts(bucket, name, upload_id, parts)

    def abort_parts(self, bucket: str, name: str, upload_id: str) -> None:
        """Note `create`; abort."""
        record("storage", "create", bucket)
        self._inner.abort_parts(bucket, name, upload_id)
