"""Helpers for integration tests: devices that talk to the functions over HTTP, and DB access."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from cli.client import FileFacts, MediaApi, describe_file
from common.auth import mint_token
from common.hashing import sampling_id_of_bytes


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
    return api.session.post(f"{api.create_url}/v1/media", json=body, timeout=30)


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


def post_push(url: str, envelope: dict[str, Any]) -> requests.Response:
    return requests.post(url, json=envelope, timeout=120)
