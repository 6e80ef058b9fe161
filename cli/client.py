"""A small HTTP client for the media API, as a device or a UI uses it.

Base URLs come from the environment: `CREATE_MEDIA_URL` (create_media) and `LIST_MEDIA_URL`
(list_media), as exported by the local stack or taken from Terraform outputs. Live status comes
as Server-Sent Events, read by `parse_sse` (a small reader of the event-stream format,
https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation) over a
streaming `requests` response.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import requests

from common.core.hashing import sampling_id_of_file

TERMINAL = frozenset({"processed", "rejected", "failed"})
JOB_TERMINAL = frozenset({"completed", "failed"})
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
CHUNK_BYTES = 1 << 20
RECONNECT_DELAY_SECONDS = 1.0


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


MEDIA_EXTENSIONS = {".ts": "video/mp2t", ".m2ts": "video/mp2t", ".mts": "video/mp2t"}
"""Camera extensions the system's MIME table names otherwise (`.ts` is a Qt translation there)."""


def describe_file(path: Path) -> FileFacts:
    """Hash a file in one streaming pass (constant memory).

    The type is read from the bytes, as the server verifies it (`common.media.sniff`): a PNG
    named `.jpg` is declared `image/png`. Only bytes of no known signature fall back to the
    file name's type.
    """
    from common.media.sniff import SNIFF_BYTES, sniff_mime

    sha256, md5 = hashlib.sha256(), hashlib.md5()  # noqa: S324 - content MD5 for GCS
    size = 0
    head = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
        sampling = sampling_id_of_file(handle, size)
    mime = (
        sniff_mime(head)
        or MEDIA_EXTENSIONS.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )
    return FileFacts(
        path, size, sha256.hexdigest(), base64.b64encode(md5.digest()).decode(), sampling, mime
    )


@dataclass(frozen=True)
class SseEvent:
    """One dispatched Server-Sent Event: its type ("message" by default), data and last id."""

    event: str
    data: str
    id: str | None


def sse_lines(chunks: Iterable[str]) -> Iterator[str]:
    """Split decoded text chunks into lines at CRLF, CR or LF, as the event-stream format does.

    A CR that ends a chunk is held back in case the next chunk starts with its LF; an unfinished
    last line is dropped, as the format says of a stream that ends mid-event.
    """
    pending = ""
    for chunk in chunks:
        pending += chunk
        held_cr = pending.endswith("\r")
        parts = _LINE_BREAK.split(pending[:-1] if held_cr else pending)
        pending = parts.pop() + ("\r" if held_cr else "")
        yield from parts
    if pending.endswith("\r"):
        yield pending[:-1]


def parse_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """Interpret event-stream lines: fields `event`, `data`, `id`; comments and `retry` skipped.

    An event is dispatched at a blank line when it has data; `id` persists until changed.
    """
    event = ""
    data: list[str] = []
    last_id: str | None = None
    for line in lines:
        if not line:
            if data:
                yield SseEvent(event or "message", "\n".join(data), last_id)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\0" not in value:
            last_id = value


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


def json_answer(response: requests.Response) -> Any:
    """The JSON body of a 2xx answer.

    Raises:
        ApiError: a 4xx or 5xx answer (its code and message).
    """
    if response.status_code >= 400:
        try:
            body = response.json()
            raise ApiError(response.status_code, body["code"], body["message"])
        except (ValueError, KeyError):
            raise ApiError(response.status_code, "http_error", response.text[:200]) from None
    return response.json()


class MediaApi:
    """Calls create_media, list_media and manage_media with a bearer token."""

    def __init__(
        self,
        token: str,
        create_url: str | None = None,
        list_url: str | None = None,
        timeout_seconds: float = 30.0,
        manage_url: str | None = None,
    ) -> None:
        self.create_url = (create_url or os.environ.get("CREATE_MEDIA_URL", "")).rstrip("/")
        self.list_url = (list_url or os.environ.get("LIST_MEDIA_URL", "")).rstrip("/")
        self.manage_url = (manage_url or os.environ.get("MANAGE_MEDIA_URL", "")).rstrip("/")
        if not self.create_url or not self.list_url:
            raise ValueError("set CREATE_MEDIA_URL and LIST_MEDIA_URL (see .stack/env.sh)")
        self.timeout_seconds = timeout_seconds
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _json(self, response: requests.Response) -> Any:
        return json_answer(response)

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

    def complete(self, media_id: str) -> Any:
        """`POST /v1/media/{media_id}/complete`: the upload is done; answers the status after
        verification (`verified`, `rejected` with its reason, or the current one)."""
        response = self.session.post(
            f"{self.create_url}/v1/media/{media_id}/complete",
            timeout=max(self.timeout_seconds, 60.0),
        )
        return self._json(response)

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

    def gallery(self, filters: dict[str, Any], limit: int = 20, cursor: str | None = None) -> Any:
        """`GET /v1/media` with the gallery's filters (None values left out)."""
        params = {k: v for k, v in {**filters, "limit": limit, "cursor": cursor}.items() if v}
        response = self.session.get(
            f"{self.list_url}/v1/media", params=params, timeout=self.timeout_seconds
        )
        return self._json(response)

    def edit(self, media_id: str, changes: dict[str, Any]) -> Any:
        """`PATCH /v1/media/{media_id}` with the ETag of a fresh read (a JSON merge patch);
        answers the media after the edit.

        Raises:
            ApiError: 412 when someone else changed it between the read and the edit.
        """
        read = self.session.get(
            f"{self.list_url}/v1/media/{media_id}", timeout=self.timeout_seconds
        )
        self._json(read)
        response = self.session.patch(
            f"{self.manage_url}/v1/media/{media_id}",
            json=changes,
            headers={"If-Match": read.headers["ETag"]},
            timeout=self.timeout_seconds,
        )
        return self._json(response)

    def pin(self, media_id: str, pinned: bool) -> Any:
        """`POST` (pin) or `DELETE` (unpin) `/v1/media/{media_id}/pin`."""
        method = self.session.post if pinned else self.session.delete
        return self._json(
            method(f"{self.manage_url}/v1/media/{media_id}/pin", timeout=self.timeout_seconds)
        )

    def delete(self, media_id: str, *, cascade: bool = False) -> None:
        """`DELETE /v1/media/{media_id}` (204, also when it was deleted already)."""
        response = self.session.delete(
            f"{self.manage_url}/v1/media/{media_id}",
            params={"cascade": "true"} if cascade else None,
            timeout=max(self.timeout_seconds, 120.0),
        )
        if response.status_code >= 400:
            self._json(response)

    def share(self, media_id: str, ttl_seconds: int, note: str | None = None) -> Any:
        """`POST /v1/media/{media_id}/shares`: a share link (its `url` is shown only here)."""
        body: dict[str, Any] = {"ttl_seconds": ttl_seconds}
        if note is not None:
            body["note"] = note
        response = self.session.post(
            f"{self.manage_url}/v1/media/{media_id}/shares", json=body, timeout=self.timeout_seconds
        )
        return self._json(response)

    def shares(self, media_id: str) -> Any:
        """`GET /v1/media/{media_id}/shares`."""
        return self._json(
            self.session.get(
                f"{self.list_url}/v1/media/{media_id}/shares", timeout=self.timeout_seconds
            )
        )

    def revoke_share(self, share_id: str) -> None:
        """`DELETE /v1/shares/{share_id}`."""
        response = self.session.delete(
            f"{self.manage_url}/v1/shares/{share_id}", timeout=self.timeout_seconds
        )
        if response.status_code >= 400:
            self._json(response)

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

    def create_job(self, media_id: str, kind: str, **params: int) -> Any:
        """`POST /v1/media/{id}/clips` (kind "clip") or `/snapshots` (kind "snapshot").

        Returns the job body; 202 (queued) and 200 (the same request again) both succeed.
        """
        response = self.session.post(
            f"{self.list_url}/v1/media/{media_id}/{kind}s",
            json=params,
            timeout=self.timeout_seconds,
        )
        return self._json(response)

    def ingest(self, source: dict[str, str], **fields: Any) -> Any:
        """`POST /v1/media` with a `source` (a data URL or a remote URL): the ingest job."""
        response = self.session.post(
            f"{self.create_url}/v1/media",
            json={"source": source, **fields},
            timeout=self.timeout_seconds,
        )
        return self._json(response)

    def resolve(self, document: Any, *, inline: bool = False) -> Any:
        """`POST /v1/media/resolve`: the document with its media references swapped."""
        response = self.session.post(
            f"{self.list_url}/v1/media/resolve",
            json={"document": document, "inline": inline},
            timeout=self.timeout_seconds,
        )
        return self._json(response)

    def get_job(self, job_id: str) -> Any:
        """`GET /v1/jobs/{job_id}`."""
        return self._json(
            self.session.get(f"{self.list_url}/v1/jobs/{job_id}", timeout=self.timeout_seconds)
        )

    def events(self, target_id: str, last_event_id: str | None = None) -> Iterator[SseEvent]:
        """Stream the events of a media (`med_...`) or a job (`job_...`) until the server closes.

        Raises:
            ApiError: the server refused the stream (404, 401, ...).
        """
        collection = "jobs" if target_id.startswith("job_") else "media"
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        with self.session.get(
            f"{self.list_url}/v1/{collection}/{target_id}/events",
            headers=headers,
            stream=True,
            timeout=(self.timeout_seconds, None),
        ) as response:
            if response.status_code >= 400:
                self._json(response)
            response.encoding = "utf-8"
            yield from parse_sse(
                sse_lines(response.iter_content(chunk_size=None, decode_unicode=True))
            )

    def watch(self, target_id: str, timeout_seconds: float = 600.0) -> Iterator[dict[str, Any]]:
        """Yield each version of a media or job document until it is terminal, reconnecting with
        `Last-Event-ID` when the server closes an idle stream.
        """
        terminal = JOB_TERMINAL if target_id.startswith("job_") else TERMINAL
        deadline = time.monotonic() + timeout_seconds
        last_id: str | None = None
        while time.monotonic() < deadline:
            for event in self.events(target_id, last_id):
                last_id = event.id or last_id
                document: dict[str, Any] = json.loads(event.data)
                yield document
                if document.get("status") in terminal:
                    return
            time.sleep(RECONNECT_DELAY_SECONDS)  # the server closed an idle stream
