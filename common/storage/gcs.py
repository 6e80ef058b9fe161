"""Cloud Storage backend of `common.storage.base.ObjectStore` (the only module importing
google-cloud-storage).

Versions are object generations, as decimal text. Signed URLs follow the V4 signing process
(https://cloud.google.com/storage/docs/access-control/signed-urls). Locally they are signed with the
throwaway service-account key the stack generates (`SIGNING_CREDENTIALS_FILE`); in Cloud Functions,
where no key file exists, through IAM signBlob as `SIGNING_SERVICE_ACCOUNT_EMAIL` with the runtime's
access token. `STORAGE_EMULATOR_HOST` (read by google-cloud-storage itself) points the client at a
local emulator, and `STORAGE_PUBLIC_URL` at the host signed URLs must name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.core.errors import MediaError
from common.core.settings import Settings
from common.storage._pipe import SinkThread
from common.storage.base import (
    RESUMABLE_GCS,
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

if TYPE_CHECKING:
    from google.cloud.storage import Blob, Client

READ_CHUNK_BYTES = 8 * 1024 * 1024
"""Bytes per ranged read of `read_range`."""
STREAM_BLOCK_BYTES = 4 * 1024 * 1024
"""Bytes per read of `stream`'s single GET (the sink is fed blocks of this size)."""
STREAM_BLOCKS_QUEUED = 2
"""Blocks read ahead of the sink at most: `stream` holds about (2 + this) blocks (16 MiB)."""
STREAM_TIMEOUT_SECONDS = (10.0, 60.0)
"""Connect and per-read timeouts of `stream`'s GET."""


def _generation(version: str | None) -> int | None:
    if version is None:
        return None
    if not version.isdigit():
        raise ObjectNotFound(f"{version!r} is not a Cloud Storage generation")
    return int(version)


def _translate(exc: Exception, what: str) -> Exception:
    """Our error for a client exception (NotFound, PreconditionFailed, anything else)."""
    from google.api_core import exceptions as gexc

    if isinstance(exc, MediaError):
        return exc
    if isinstance(exc, gexc.NotFound):
        return ObjectNotFound(f"{what} not found")
    if isinstance(exc, gexc.PreconditionFailed):
        return ObjectExists(f"{what} exists")
    return StorageUnavailable(f"storage error on {what}: {exc.__class__.__name__}")


def _status_error(status: int, what: str) -> Exception:
    """Our error for an HTTP error status of a direct request."""
    if status == 404:
        return ObjectNotFound(f"{what} not found")
    if status == 412:
        return ObjectExists(f"{what} exists")
    return StorageUnavailable(f"storage error on {what}: HTTP {status}")


def _info(blob: Blob) -> ObjectInfo:
    return ObjectInfo(
        bucket=blob.bucket.name,
        name=blob.name,
        version=str(blob.generation),
        size_bytes=int(blob.size or 0),
        content_type=blob.content_type,
        md5_base64=blob.md5_hash,
        metadata=dict(blob.metadata or {}),
    )


class GcsStore:
    """`ObjectStore` on Cloud Storage (or fake-gcs-server through `STORAGE_EMULATOR_HOST`).

    Args:
        settings: project, signing identity and the public URL signed URLs name.
    """

    scheme = "gs"
    multipart: MultipartUploads | None = None
    """None: a resumable session is opened and driven by the device (`start_resumable`)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._token_lock = threading.Lock()

    @cached_property
    def client(self) -> Client:
        """The storage client (built on first use)."""
        from google.cloud import storage

        return storage.Client(project=self._settings.gcp_project)

    def _blob(self, bucket: str, name: str, version: str | None = None) -> Blob:
        return self.client.bucket(bucket).blob(name, generation=_generation(version))

    # ------------------------------------------------------------------------------ signing
    @cached_property
    def _local_credentials(self) -> Any:
        from google.oauth2 import service_account

        path = self._settings.signing_credentials_file
        return service_account.Credentials.from_service_account_file(path)  # type: ignore[no-untyped-call]

    @cached_property
    def _runtime_credentials(self) -> Any:
        import google.auth

        credentials, _ = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
        return credentials

    def _signing_kwargs(self) -> dict[str, Any]:
        if self._settings.signing_credentials_file:
            return {"credentials": self._local_credentials}
        if not self._settings.signing_service_account_email:
            raise RuntimeError("set SIGNING_CREDENTIALS_FILE or SIGNING_SERVICE_ACCOUNT_EMAIL")
        from google.auth.transport.requests import Request

        credentials = self._runtime_credentials
        with self._token_lock:
            if not credentials.valid:
                credentials.refresh(Request())
        return {
            "service_account_email": self._settings.signing_service_account_email,
            "access_token": credentials.token,
        }

    def _sign(
        self,
        bucket: str,
        name: str,
        *,
        method: str,
        ttl_seconds: int,
        headers: dict[str, str] | None = None,
        version: str | None = None,
        filename: str | None = None,
        query: dict[str, str] | None = None,
    ) -> SignedRequest:
        issued = datetime.now(UTC)
        expiration = timedelta(seconds=ttl_seconds)
        signed_headers = dict(headers or {})
        content_type = signed_headers.get("Content-Type")
        disposition = content_disposition(filename) if filename else None
        try:
            url = self._blob(bucket, name).generate_signed_url(
                version="v4",
                expiration=expiration,
                method=method,
                headers={k: v for k, v in signed_headers.items() if k != "Content-Type"} or None,
                content_type=content_type,
                generation=_generation(version),
                response_disposition=disposition,
                query_parameters=query,
                api_access_endpoint=self._settings.storage_public_url
                or "https://storage.googleapis.com",
                **self._signing_kwargs(),
            )
        except Exception as exc:
            if exc.__class__.__module__.startswith(("google.auth", "google.api_core")):
                raise StorageUnavailable(f"could not sign URL: {exc.__class__.__name__}") from exc
            raise
        return SignedRequest(method, url, signed_headers, issued + expiration)

    def sign_upload(
        self, bucket: str, name: str, contract: UploadContract, *, ttl_seconds: int
    ) -> SignedRequest:
        """A V4 signed PUT pinning Content-Type, Content-MD5, the exact length and no overwrite.

        Cloud Storage refuses the PUT when the bytes' MD5 differs (`Content-MD5`), when the length
        differs (`x-goog-content-length-range: n,n`) or when the object exists
        (`x-goog-if-generation-match: 0`). It has no SHA-256 check; finalize verifies that.
        """
        headers = {
            "Content-Type": contract.content_type,
            "Content-MD5": contract.md5_base64,
            "x-goog-content-length-range": f"{contract.size_bytes},{contract.size_bytes}",
            "x-goog-if-generation-match": "0",
        }
        return self._sign(bucket, name, method="PUT", ttl_seconds=ttl_seconds, headers=headers)

    def start_resumable(
        self, bucket: str, name: str, contract: UploadContract, *, ttl_seconds: int
    ) -> ResumableStart:
        """A V4 signed POST with `x-goog-resumable: start` that opens a resumable session.

        The XML API answers it with the session URI in `Location`
        (https://cloud.google.com/storage/docs/xml-api/post-object-resumable); the device then PUTs
        chunks (multiples of 256 KiB but the last) with `Content-Range: bytes a-b/total` and gets
        308 with `Range: bytes=0-n` until the last chunk answers 200/201
        (https://cloud.google.com/storage/docs/performing-resumable-uploads). The signature pins
        Content-Type and no overwrite (`x-goog-if-generation-match: 0`); size and hashes have no
        session-start header and are checked at finalize. Against an emulator
        (`STORAGE_EMULATOR_HOST`) the object name is also signed as the `name` query parameter:
        fake-gcs-server takes the name only from there and would store the object under "".
        """
        import os

        headers = {
            "Content-Type": contract.content_type,
            "x-goog-resumable": "start",
            "x-goog-if-generation-match": "0",
        }
        query = {"name": name} if os.environ.get("STORAGE_EMULATOR_HOST") else None
        start = self._sign(
            bucket, name, method="POST", ttl_seconds=ttl_seconds, headers=headers, query=query
        )
        return ResumableStart(RESUMABLE_GCS, start=start)

    def sign_download(
        self,
        bucket: str,
        name: str,
        *,
        ttl_seconds: int,
        version: str | None = None,
        filename: str | None = None,
    ) -> SignedRequest:
        """A V4 signed GET (pinned to `version` when given)."""
        return self._sign(
            bucket, name, method="GET", ttl_seconds=ttl_seconds, version=version, filename=filename
        )

    # ------------------------------------------------------------------------------ reading
    def stat(self, bucket: str, name: str, version: str | None = None) -> ObjectInfo | None:
        """The object's metadata, or None when it (or that generation) does not exist."""
        try:
            blob = self.client.bucket(bucket).get_blob(name, generation=_generation(version))
        except ObjectNotFound:
            return None
        except Exception as exc:
            raise _translate(exc, f"gs://{bucket}/{name}") from exc
        return None if blob is None else _info(blob)

    def stream(self, bucket: str, name: str, version: str, sink: Writable) -> None:
        """Stream one generation into `sink` (raw bytes, no decompression, constant memory).

        One GET of the object's media, read in blocks of `STREAM_BLOCK_BYTES` and written to
        `sink` by a second thread, so the sink (SHA-256 and the sampling id, in C without the
        GIL) works on one block while the next is received. google-cloud-storage's own
        `download_to_file` hands its sink 8 KiB pieces from a Python loop, about 4x slower here
        (`bench/bench_verify.py`); it is kept as the fallback for a library version whose
        download URL or HTTP session are not where this expects them. A connection lost midway
        raises `StorageUnavailable` (the caller retries the whole verification; the library
        resumed the download instead).
        """
        blob = self._blob(bucket, name, version)
        where = f"gs://{bucket}/{name}#{version}"
        try:
            url = blob._get_download_url(self.client)
            session = self.client._http
        except AttributeError:
            try:
                blob.download_to_file(sink, raw_download=True, checksum=None)
            except Exception as exc:
                raise _translate(exc, where) from exc
            return
        try:
            with (
                session.get(
                    url,
                    stream=True,
                    headers={"Accept-Encoding": "gzip"},  # the stored bytes, never transcoded
                    timeout=STREAM_TIMEOUT_SECONDS,
                ) as response,
                SinkThread(sink, STREAM_BLOCKS_QUEUED) as feed,
            ):
                if response.status_code >= 400:
                    raise _status_error(response.status_code, where)
                while block := response.raw.read(STREAM_BLOCK_BYTES, decode_content=False):
                    feed.write(block)
        except Exception as exc:
            raise _translate(exc, where) from exc

    def read_range(
        self, bucket: str, name: str, version: str | None, start: int, end: int | None
    ) -> Iterator[bytes]:
        """Bytes `start..end` (inclusive) in ranged reads of `READ_CHUNK_BYTES`."""
        blob = self._blob(bucket, name, version)
        position = start
        while end is None or position <= end:
            last = position + READ_CHUNK_BYTES - 1
            if end is not None:
                last = min(last, end)
            wanted = last - position + 1
            try:
                chunk = blob.download_as_bytes(
                    start=position, end=last, raw_download=True, checksum=None
                )
            except Exception as exc:
                from google.api_core import exceptions as gexc

                if isinstance(exc, gexc.RequestRangeNotSatisfiable):
                    return
                raise _translate(exc, f"gs://{bucket}/{name}") from exc
            if not chunk:
                return
            yield chunk
            position += len(chunk)
            if len(chunk) < wanted:
                return

    def download_to_file(self, bucket: str, name: str, version: str | None, path: Path) -> None:
        """Download one generation (live when None) to `path`."""
        try:
            self._blob(bucket, name, version).download_to_filename(
                str(path), raw_download=True, checksum=None
            )
        except Exception as exc:
            raise _translate(exc, f"gs://{bucket}/{name}") from exc

    # ------------------------------------------------------------------------------ writing
    def _upload(
        self,
        bucket: str,
        name: str,
        send: Any,
        *,
        if_absent: bool,
        metadata: dict[str, str] | None,
    ) -> ObjectInfo:
        blob = self._blob(bucket, name)
        if metadata:
            blob.metadata = metadata
        try:
            send(blob, 0 if if_absent else None)
        except Exception as exc:
            raise _translate(exc, f"gs://{bucket}/{name}") from exc
        return _info(blob)

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
        """Upload `data` (`if_generation_match=0` when `if_absent`)."""

        def send(blob: Blob, match: int | None) -> None:
            blob.upload_from_string(data, content_type=content_type, if_generation_match=match)

        return self._upload(bucket, name, send, if_absent=if_absent, metadata=metadata)

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
        """Upload a local file (`if_generation_match=0` when `if_absent`)."""

        def send(blob: Blob, match: int | None) -> None:
            blob.upload_from_filename(
                str(path), content_type=content_type, if_generation_match=match
            )

        return self._upload(bucket, name, send, if_absent=if_absent, metadata=metadata)

    def copy(self, bucket: str, name: str, version: str, target_name: str) -> None:
        """Copy a generation to `target_name` unless that exists (`if_generation_match=0`)."""
        source_bucket = self.client.bucket(bucket)
        source = self._blob(bucket, name, version)
        try:
            source_bucket.copy_blob(
                source,
                source_bucket,
                target_name,
                source_generation=_generation(version),
                if_generation_match=0,
            )
        except Exception as exc:
            error = _translate(exc, f"gs://{bucket}/{name}#{version}")
            if isinstance(error, ObjectExists):
                return
            raise error from exc

    def delete(self, bucket: str, name: str, version: str | None = None) -> None:
        """Delete the live object while it is `version` (any when None); absent is fine."""
        try:
            self._blob(bucket, name).delete(if_generation_match=_generation(version))
        except ObjectNotFound:
            return
        except Exception as exc:
            error = _translate(exc, f"gs://{bucket}/{name}")
            if isinstance(error, ObjectNotFound | ObjectExists):
                return  # gone already, or a newer generation is live: leave it
            raise error from exc

    def list(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        """Live objects under `prefix`."""
        try:
            for blob in self.client.list_blobs(bucket, prefix=prefix):
                yield _info(blob)
        except Exception as exc:
            raise _translate(exc, f"gs://{bucket}/{prefix}") from exc
