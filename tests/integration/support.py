"""Helpers for integration tests: devices that talk to the functions over HTTP, DB access, and a
push endpoint of the test's own."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
import requests
from sqlalchemy import create_engine, text

from cli.client import FileFacts, MediaApi, SseEvent, describe_file, parse_sse, sse_lines
from common.api.auth import mint_token
from common.core.hashing import sampling_id_of_bytes
from common.storage.base import ObjectStore


def in_session(work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`work(session, *args, **kwargs)` in a unit of work of its own (as an adapter runs it)."""
    from common.db.engine import session_scope

    with session_scope() as session:
        return work(session, *args, **kwargs)


def new_device_id() -> str:
    """A fresh device id per test keeps tests independent on a shared stack."""
    return f"dev-{uuid.uuid4().hex[:10]}"


def api_for(subject: str, kind: str = "device") -> MediaApi:
    return MediaApi(mint_token(subject, kind))  # type: ignore[arg-type]


def facts_for_bytes(tmp: Path, data: bytes, name: str) -> FileFacts:
    path = tmp / name
    path.write_bytes(data)
    return describe_file(path)


def declaration(facts: FileFacts, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "camera_id": "cam-1",
        "message_id": f"msg-{uuid.uuid4().hex[:12]}",
        "captured_at": datetime.now(UTC).isoformat(),
        "mime_type": facts.mime_type,
        "size_bytes": facts.size_bytes,
        "sha256": facts.sha256,
        "md5": facts.md5,
    }
    body.update(overrides)
    return body


def post_create(api: MediaApi, body: dict[str, Any]) -> requests.Response:
    return api.session.post(f"{api.base_url}/v1/media", json=body, timeout=30)


def upload_file(api: MediaApi, path: Path, **overrides: Any) -> dict[str, Any]:
    """Declare + PUT, like a device; returns the create response body."""
    facts = describe_file(path)
    response = post_create(api, declaration(facts, **overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    api.put_bytes(created["upload"], facts, lambda _: None)
    return created


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def sampling(data: bytes) -> str:
    return sampling_id_of_bytes(data)


def db_rows(sql: str, **params: Any) -> list[dict[str, Any]]:
    engine = create_engine(os.environ["DATABASE_URL"], poolclass=None)
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def store() -> ObjectStore:
    """The object store the stack runs (the functions' backend)."""
    from common.storage import get_store

    return get_store()


def push_envelope(
    attributes: dict[str, str], data: dict[str, Any], message_id: str
) -> dict[str, Any]:
    """The body a Pub/Sub push subscription POSTs."""
    return {
        "message": {
            "data": base64.b64encode(json.dumps(data).encode()).decode(),
            "attributes": attributes,
            "messageId": message_id,
            "publishTime": datetime.now(UTC).isoformat(),
        },
        "subscription": "projects/local-project/subscriptions/test",
        "deliveryAttempt": 1,
    }


def backend() -> str:
    """The storage backend of the session stack this test runs on ("gcs" or "s3")."""
    return os.environ.get("STORAGE_BACKEND", "gcs")


def finalize_envelope(
    bucket: str, name: str, version: str, message_id: str, **attributes: str
) -> dict[str, Any]:
    """The push body of an object-created notification as the session stack's store sends it:
    a Cloud Storage `OBJECT_FINALIZE` (JSON_API_V1), or an S3 `ObjectCreated:Put` event (as AWS
    sends it: with `versionId`; moto's own events have none)."""
    if backend() == "s3":
        record = {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "eventTime": datetime.now(UTC).isoformat(),
            "eventName": "ObjectCreated:Put",
            "s3": {
                "bucket": {"name": bucket},
                "object": {"key": quote_plus(name), "versionId": version},
            },
        }
        return push_envelope(
            {"payloadFormat": "S3_EVENT_JSON", **attributes}, {"Records": [record]}, message_id
        )
    gcs = {
        "bucketId": bucket,
        "objectId": name,
        "objectGeneration": version,
        "eventType": "OBJECT_FINALIZE",
        "payloadFormat": "JSON_API_V1",
    }
    return push_envelope({**gcs, **attributes}, {"name": name, "bucket": bucket}, message_id)


def some_version() -> str:
    """A version id of the session stack's store that no object has."""
    return "1" if backend() == "gcs" else f"v-{uuid.uuid4().hex}"


def post_push(url: str, envelope: dict[str, Any]) -> requests.Response:
    return requests.post(url, json=envelope, timeout=120)


# --- jobs, inline snapshots and Server-Sent Events


def wait_processed(api: MediaApi, media_id: str, timeout_seconds: float = 180) -> dict[str, Any]:
    body: dict[str, Any] = api.wait_terminal(media_id, timeout_seconds=timeout_seconds)
    assert body["status"] == "processed", body
    return body


def post_job(api: MediaApi, media_id: str, kind: str, **params: Any) -> requests.Response:
    """`POST /v1/media/{id}/clips` (kind "clip") or `/snapshots` (kind "snapshot")."""
    return api.session.post(f"{api.base_url}/v1/media/{media_id}/{kind}s", json=params, timeout=30)


def wait_job(api: MediaApi, job_id: str, timeout_seconds: float = 120) -> dict[str, Any]:
    """Poll `GET /v1/jobs/{id}` until the job is completed or failed."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        job: dict[str, Any] = api.get_job(job_id)
        if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def read_events(
    api: MediaApi, path: str, last_event_id: str | None = None, read_timeout_seconds: float = 30
) -> tuple[requests.Response, list[SseEvent]]:
    """Open `GET <API base URL><path>` as an event stream and read it until the server closes it."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    with api.session.get(
        api.base_url + path, headers=headers, stream=True, timeout=(10, read_timeout_seconds)
    ) as response:
        if response.status_code != 200:
            response.content  # noqa: B018 - read the JSON error body before closing
            return response, []
        chunks = response.iter_content(chunk_size=None, decode_unicode=True)
        return response, list(parse_sse(sse_lines(chunks)))


def data_url(data: bytes, declared_type: str = "image/jpeg") -> str:
    return f"data:{declared_type};base64," + base64.b64encode(data).decode()


def snapshot_body(frame_data: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "camera_id": "cam-1",
        "message_id": f"snap-{uuid.uuid4().hex[:12]}",
        "captured_at": datetime.now(UTC).isoformat(),
        "frame_data": frame_data,
        "labels": ["doorbell"],
        "note": "someone at the door",
    }
    body.update(overrides)
    return body


def post_snapshot(api: MediaApi, body: dict[str, Any]) -> requests.Response:
    return api.session.post(f"{api.base_url}/v1/snapshots", json=body, timeout=30)


def stored_object(media_id: str) -> dict[str, Any]:
    """Where a media's bytes are (`bucket`, `name`, `version`): the API shows it to admins only."""
    return db_rows(
        "SELECT bucket, object_name AS name, object_version AS version FROM media_objects "
        "WHERE id = :id",
        id=media_id,
    )[0]


def wait_for(condition: Callable[[], bool], timeout_seconds: float, what: str) -> None:
    """Poll `condition` every 50 ms; fail the test naming `what` after `timeout_seconds`."""
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_seconds} s waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def push_endpoint(answer: Callable[[dict[str, Any]], int]) -> Iterator[str]:
    """A push endpoint on 127.0.0.1 that answers each pushed JSON body with `answer(body)`'s
    status and no body; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(answer(body))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# --- webhooks


class WebhookReceiver:
    """A webhook receiver on 127.0.0.1 that records what it gets and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def of_type(self, event_type: str) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return [r for r in self.requests if r[0].get("media-webhook-type") == event_type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
