"""The object store the pipeline needs, in its own terms: the `ObjectStore` protocol and its errors.

Two backends implement it: `common.storage.gcs` (Cloud Storage) and `common.storage.s3`
(S3-compatible stores). Only the backend module imports its SDK. A *version* is opaque text: a
Cloud Storage generation (decimal digits) or an S3 version id; callers compare versions only for
equality and ask the store which version is live.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from common.core.errors import MediaError, TransientError


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """`attachment` (or `inline`) with the file name in both forms of RFC 6266 section 4.3: an
    ASCII `filename` (quotes, backslashes and non-ASCII replaced by `_`) and the exact UTF-8
    `filename*` (RFC 8187 percent-encoding)."""
    from urllib.parse import quote

    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_" for c in filename)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class ObjectNotFound(MediaError):
    """The object (or the asked version of it) does not exist."""

    code = "object_not_found"


class ObjectExists(MediaError):
    """A write that must not overwrite found an object already there."""

    code = "object_exists"


class StorageUnavailable(TransientError):
    """The store failed in a way that may succeed on retry (network, 5xx, throttling, auth refresh)."""

    code = "storage_unavailable"


class Writable(Protocol):
    """A sink with `write(bytes) -> int` (a file, or `common.core.hashing.StreamingDigester`)."""

    def write(self, chunk: bytes, /) -> int: ...


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows of one object version.

    Attributes:
        bucket: bucket name.
        name: object name (key).
        version: opaque version (GCS generation as text, S3 version id).
        size_bytes: stored size.
        content_type: stored Content-Type, if any.
        md5_base64: the store's MD5 of the bytes (base64), when it keeps one (GCS `md5Hash`; S3
            ETag of a single-part upload).
        metadata: custom metadata (string to string).
    """

    bucket: str
    name: str
    version: str
    size_bytes: int
    content_type: str | None = None
    md5_base64: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadContract:
    """What a signed upload must carry, so the store itself refuses other bytes where it can.

    Attributes:
        size_bytes: exact length.
        content_type: exact Content-Type.
        md5_base64: MD5 of the bytes, base64 (the `Content-MD5` header).
        sha256_hex: SHA-256 of the bytes, lowercase hex (sent as a checksum header where the store
            verifies one).
    """

    size_bytes: int
    content_type: str
    md5_base64: str
    sha256_hex: str


@dataclass(frozen=True)
class SignedRequest:
    """A signed request: send `method` to `url` with exactly `headers`, before `expires_at`."""

    method: str
    url: str
    headers: dict[str, str]
    expires_at: datetime


class ObjectStore(Protocol):
    """The storage operations of the pipeline (see the module docstring).

    Every method raises `StorageUnavailable` when the store fails transiently.
    """

    scheme: str
    """URI scheme of this store: "gs" or "s3"."""

    def sign_upload(
        self, bucket: str, name: str, contract: UploadContract, *, ttl_seconds: int
    ) -> SignedRequest:
        """Sign a single-request upload that creates `name` only if absent, under `contract`."""
        ...

    def sign_download(
        self,
        bucket: str,
        name: str,
        *,
        ttl_seconds: int,
        version: str | None = None,
        filename: str | None = None,
    ) -> SignedRequest:
        """Sign a GET of the object (a pinned version when given; `filename` for an attachment)."""
        ...

    def stat(self, bucket: str, name: str, version: str | None = None) -> ObjectInfo | None:
        """The object's info (the live version when `version` is None), or None if absent."""
        ...

    def stream(self, bucket: str, name: str, version: str, sink: Writable) -> None:
        """Write the bytes of one version into `sink`, chunk by chunk (constant memory).

        Raises:
            ObjectNotFound: that version does not exist (overwritten or deleted).
        """
        ...

    def read_range(
        self, bucket: str, name: str, version: str | None, start: int, end: int | None
    ) -> Iterator[bytes]:
        """Yield bytes `start..end` (inclusive; None: to the end) of a version, in chunks.

        Raises:
            ObjectNotFound: the object or version does not exist.
        """
        ...

    def download_to_file(self, bucket: str, name: str, version: str | None, path: Path) -> None:
        """Write one version (live when None) to a local file.

        Raises:
            ObjectNotFound: that version does not exist.
        """
        ...

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
        """Store `data` at `name` (replacing it, or only if absent) and return the new version.

        Raises:
            ObjectExists: `if_absent` and an object is there.
        """
        ...

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
        """Like `write`, streaming the bytes from a local file (constant memory)."""
        ...

    def copy(self, bucket: str, name: str, version: str, target_name: str) -> None:
        """Copy one version to `target_name` in the same bucket, unless `target_name` exists.

        Raises:
            ObjectNotFound: the source version does not exist.
        """
        ...

    def delete(self, bucket: str, name: str, version: str | None = None) -> None:
        """Delete the object while it is `version` (any version when None); absent is fine.

        With a version, a newer live version is left alone.
        """
        ...

    def list(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        """The live objects whose names start with `prefix` (admin tools only)."""
        ...
