"""A small HTTP client for the media API, as a device or a UI uses it.

Base URLs come from the environment: `CREATE_MEDIA_URL` (create_media) and `LIST_MEDIA_URL`
(list_media), as exported by the local stack or taken from Terraform outputs.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import requests

from common.hashing import sampling_id_of_file

TERMINAL = frozenset({"processed", "rejected", "failed"})
CHUNK_BYTES = 1 << 20


class ApiError(Exception):
    """An error answer from the API: HTTP status plus its JSON `code` and `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class FileFacts:
    """What a device declares about a file: size, SHA-256 (hex), MD5 (base64), sampling id."""

    path: Path
    size_bytes: int
    sha256: str
    md5: str
    sampling_id: str
    mime_type: str


def describe_file(path: Path) -> FileFacts:
    """Hash a file in one streaming pass (constant memory)."""
    sha256, md5 = hashlib.sha256(), hashlib.md5()  # noqa: S324 - content MD5 for GCS
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
        sampling = sampling_id_of_file(handle, size)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileFacts(
        path, size, sha256.hexdigest(), base64.b64encode(md5.digest()).decode(), sampling, mime
    )


class _ProgressReader:
    """File wrapper that reports bytes read; has `__len__` so requests sends Content-Length."""

    def __init__(self, handle: BinaryIO, size: int, on_bytes: Callable[[int], None]) -> None:
        self._handle, self._size, self._on_bytes = handle, size, on_bytes

    def __len__(self) -> int:
        return self._size

    def read(self, amount: int = -1) -> bytes:
        chunk = self._handle.read(amount if amount and amount > 0 else CHUNK_BYTES)
        self._on_bytes(len(chunk))
        return chunk


class MediaApi:
    """Calls create_media and list_media with a bearer token."""

    def __init__(
        self,
        token: str,
        create_url: str | None = None,
        list_url: str | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.create_url = (create_url or os.environ.get("CREATE_MEDIA_URL", "")).rstrip("/")
        self.list_url = (list_url or os.environ.get("LIST_MEDIA_URL", "")).rstrip("/")
        if not self.create_url or not self.list_url:
            raise ValueError("set CREATE_MEDIA_URL and LIST_MEDIA_URL (see .stack/env.sh)")
        self.timeout_seconds = timeout_seconds
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _json(self, response: requests.Response) -> Any:
        if response.status_code >= 400:
            try:
                body = response.json()
                raise ApiError(response.status_code, body["code"], body["message"])
            except (ValueError, KeyError):
                raise ApiError(response.status_code, "http_error", response.text[:200]) from None
        return response.json()

    def declare(self, facts: FileFacts, camera_id: str, message_id: str, **extra: Any) -> Any:
        """`POST /v1/media` for a file; returns the response body (with `upload` while pending)."""
        body = {
            "camera_id": camera_id,
            "message_id": message_id,
            "captured_at": extra.pop("captured_at", datetime.now(UTC).isoformat()),
            "mime_type": facts.mime_type,
            "size_bytes": facts.size_bytes,
            "sha256": facts.sha256,
            "md5": facts.md5,
            **extra,
        }
        response = self.session.post(
            f"{self.create_url}/v1/media", json=body, timeout=self.timeout_seconds
        )
        return self._json(response)

    def put_bytes(
        self, upload: dict[str, Any], facts: FileFacts, on_bytes: Callable[[int], None]
    ) -> None:
        """PUT the file to the signed URL with exactly the signed headers."""
        with facts.path.open("rb") as handle:
            response = requests.put(
                upload["url"],
                data=_ProgressReader(handle, facts.size_bytes, on_bytes),
                headers=upload["headers"],
                timeout=max(self.timeout_seconds, facts.size_bytes / 1e6),
            )
        if response.status_code >= 400:
            raise ApiError(response.status_code, "upload_failed", response.text[:300])

    def list(self, device_id: str, limit: int = 20, cursor: str | None = None) -> Any:
        """`GET /v1/devices/{device_id}/media`."""
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = self.session.get(
            f"{self.list_url}/v1/devices/{device_id}/media",
            params=params,
            timeout=self.timeout_seconds,
        )
        return self._json(response)

    def get(self, media_id: str) -> Any:
        """`GET /v1/media/{media_id}`."""
        return self._json(
            self.session.get(f"{self.list_url}/v1/media/{media_id}", timeout=self.timeout_seconds)
        )

    def download(self, media_id: str) -> Any:
        """`GET /v1/media/{media_id}/download` (JSON with a signed URL)."""
        return self._json(
            self.session.get(
                f"{self.list_url}/v1/media/{media_id}/download", timeout=self.timeout_seconds
            )
        )

    def wait_terminal(self, media_id: str, timeout_seconds: float = 180.0) -> Any:
        """Poll `get` until the media reaches a terminal status or the timeout passes."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            body = self.get(media_id)
            if body["status"] in TERMINAL or time.monotonic() > deadline:
                return body
            time.sleep(0.5)
