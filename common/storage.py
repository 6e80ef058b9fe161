"""Cloud Storage: the client, V4 signed URLs, generation-pinned reads and object moves.

Signed URLs follow the V4 signing process
(https://cloud.google.com/storage/docs/access-control/signed-urls). Locally they are signed with the
throwaway service-account key the stack generates (`SIGNING_CREDENTIALS_FILE`); in Cloud Functions,
where no key file exists, through IAM signBlob as `SIGNING_SERVICE_ACCOUNT_EMAIL` with the runtime's
access token. `STORAGE_EMULATOR_HOST` (read by google-cloud-storage itself) points the client at a
local emulator, and `STORAGE_PUBLIC_URL` at the host signed URLs must name.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from common.errors import NotFound, TransientError
from common.settings import get_settings

if TYPE_CHECKING:
    from google.cloud.storage import Blob, Client

_token_lock = threading.Lock()


class Writable(Protocol):
    """A sink with `write(bytes) -> int` (a file, or `common.hashing.StreamingDigester`)."""

    def write(self, chunk: bytes, /) -> int: ...


@dataclass(frozen=True)
class SignedUrl:
    """A signed request: the device must send `method` to `url` with exactly `headers`."""

    method: str
    url: str
    headers: dict[str, str]
    expires_at: datetime


@cache
def get_client() -> Client:
    """Return the process-wide storage client (built on first use)."""
    from google.cloud import storage

    return storage.Client(project=get_settings().gcp_project)


def gs_uri(bucket: str, object_name: str) -> str:
    """Return `gs://bucket/object_name`."""
    return f"gs://{bucket}/{object_name}"


@cache
def _local_signing_credentials(path: str) -> Any:
    from google.oauth2 import service_account

    return service_account.Credentials.from_service_account_file(path)  # type: ignore[no-untyped-call]


@cache
def _runtime_credentials() -> Any:
    import google.auth

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    return credentials


def _signing_kwargs() -> dict[str, Any]:
    settings = get_settings()
    if settings.signing_credentials_file:
        return {"credentials": _local_signing_credentials(settings.signing_credentials_file)}
    if not settings.signing_service_account_email:
        raise RuntimeError("set SIGNING_CREDENTIALS_FILE or SIGNING_SERVICE_ACCOUNT_EMAIL")
    from google.auth.transport.requests import Request

    credentials = _runtime_credentials()
    with _token_lock:
        if not credentials.valid:
            credentials.refresh(Request())
    return {
        "service_account_email": settings.signing_service_account_email,
        "access_token": credentials.token,
    }


def sign_url(
    bucket: str,
    object_name: str,
    *,
    method: str,
    ttl_seconds: int,
    headers: dict[str, str] | None = None,
    content_type: str | None = None,
    generation: int | None = None,
    response_disposition: str | None = None,
    now: datetime | None = None,
) -> SignedUrl:
    """Sign a V4 URL for one request on one object.

    Args:
        bucket: bucket name.
        object_name: object name.
        method: "PUT", "GET" or "HEAD".
        ttl_seconds: lifetime of the URL (60 s to 7 days).
        headers: extra headers to sign (the caller must send them verbatim).
        content_type: Content-Type to sign (PUT).
        generation: pin a GET to one generation.
        response_disposition: `response-content-disposition` override (GET).
        now: signing time (tests).

    Returns:
        The URL and the exact headers the request must carry.

    Raises:
        TransientError: if IAM signBlob or token refresh fails.
    """
    settings = get_settings()
    issued = now or datetime.now(UTC)
    expiration = timedelta(seconds=ttl_seconds)
    blob = get_client().bucket(bucket).blob(object_name)
    signed_headers = dict(headers or {})
    if content_type:
        signed_headers["Content-Type"] = content_type
    try:
        url = blob.generate_signed_url(
            version="v4",
            expiration=expiration,
            method=method,
            headers={k: v for k, v in signed_headers.items() if k != "Content-Type"} or None,
            content_type=content_type,
            generation=generation,
            response_disposition=response_disposition,
            api_access_endpoint=settings.storage_public_url or "https://storage.googleapis.com",
            **_signing_kwargs(),
        )
    except Exception as exc:
        if exc.__class__.__module__.startswith(("google.auth", "google.api_core")):
            raise TransientError(f"could not sign URL: {exc}") from exc
        raise
    return SignedUrl(method, url, signed_headers, issued + expiration)


def blob_at(bucket: str, object_name: str, generation: int | None = None) -> Blob:
    """Return a Blob handle pinned to `generation` (latest when None)."""
    return get_client().bucket(bucket).blob(object_name, generation=generation)


def _translate(exc: Exception, what: str) -> Exception:
    from google.api_core import exceptions as gexc

    if isinstance(exc, gexc.NotFound):
        return NotFound(f"{what} not found")
    return TransientError(f"storage error on {what}: {exc.__class__.__name__}: {exc}")


def stream_object(bucket: str, object_name: str, generation: int, sink: Writable) -> None:
    """Stream one object generation into `sink` chunk by chunk (constant memory).

    Raises:
        NotFound: the generation no longer exists (overwritten or deleted).
        TransientError: any other storage failure.
    """
    try:
        blob_at(bucket, object_name, generation).download_to_file(
            sink, raw_download=True, checksum=None
        )
    except Exception as exc:
        raise _translate(exc, gs_uri(bucket, object_name) + f"#{generation}") from exc


def download_to_path(bucket: str, object_name: str, generation: int | None, path: str) -> None:
    """Download an object generation to a local file path.

    Raises:
        NotFound: the generation no longer exists.
        TransientError: any other storage failure.
    """
    try:
        blob_at(bucket, object_name, generation).download_to_filename(
            path, raw_download=True, checksum=None
        )
    except Exception as exc:
        raise _translate(exc, gs_uri(bucket, object_name)) from exc


def upload_bytes(bucket: str, object_name: str, data: bytes, content_type: str) -> int:
    """Write `data` to an object (overwriting), returning the new generation.

    Raises:
        TransientError: on storage failure.
    """
    blob = blob_at(bucket, object_name)
    try:
        blob.upload_from_string(data, content_type=content_type)
    except Exception as exc:
        raise _translate(exc, gs_uri(bucket, object_name)) from exc
    return int(blob.generation or 0)


def move_to_quarantine(bucket: str, object_name: str, generation: int, prefix: str) -> str:
    """Copy one generation under `prefix` and delete it from its live name; idempotent.

    The copy is named `<prefix><object_name>.<generation>` and is created only if absent; the live
    object is deleted only while it is still that generation, so a retried or concurrent move, or a
    newer upload, is never clobbered.

    Returns:
        The quarantine object name.

    Raises:
        TransientError: on storage failure.
    """
    from google.api_core import exceptions as gexc

    client = get_client()
    source_bucket = client.bucket(bucket)
    target_name = f"{prefix}{object_name}.{generation}"
    source = source_bucket.blob(object_name, generation=generation)
    try:
        source_bucket.copy_blob(
            source, source_bucket, target_name, source_generation=generation, if_generation_match=0
        )
    except (gexc.PreconditionFailed, gexc.NotFound):
        pass  # already copied by an earlier attempt, or the generation is gone
    except Exception as exc:
        raise _translate(exc, gs_uri(bucket, object_name)) from exc
    delete_generation(bucket, object_name, generation)
    return target_name


def delete_generation(bucket: str, object_name: str, generation: int) -> None:
    """Delete the live object only while it is `generation`; absent or newer is not an error.

    Raises:
        TransientError: on storage failure.
    """
    from google.api_core import exceptions as gexc

    try:
        blob_at(bucket, object_name).delete(if_generation_match=generation)
    except (gexc.PreconditionFailed, gexc.NotFound):
        return
    except Exception as exc:
        raise _translate(exc, gs_uri(bucket, object_name)) from exc
