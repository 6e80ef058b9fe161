"""The baseline of bench_http.py for create_media: the essential work of a declaration, no more.

An HS256 bearer token (verified once, then cached), the insert-or-get of the media row and its
first history row in one transaction, and a V4 signed PUT URL; the same engine (pool, tuned
driver) and signing key as create_media. No validation beyond what the work needs, no quotas,
dedupe, audit, mirror, logging or error bodies.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import timedelta
from functools import cache
from typing import Any

import functions_framework
import jwt
from google.cloud import storage
from google.oauth2 import service_account
from sqlalchemy import text

from common.db.engine import get_engine

_TOKENS: dict[str, dict[str, Any]] = {}
_INSERT = text(
    "INSERT INTO media_objects (id, device_id, camera_id, message_id, captured_at, media_type,"
    " mime_type, kind, size_bytes, sha256, md5, request_hash, bucket, object_name, storage_uri,"
    " status, labels, created_by) VALUES (:id, :device, :camera, :message, :captured_at, 'image',"
    " :mime, 'upload', :size, :sha256, :md5, :hash, :bucket, :name, :uri, 'pending_upload', '[]',"
    " :actor) ON CONFLICT DO NOTHING RETURNING id"
)
_HISTORY = text("INSERT INTO status_history (media_id, to_status) VALUES (:id, 'pending_upload')")
_EXISTING = text(
    "SELECT id FROM media_objects WHERE device_id = :device AND camera_id = :camera"
    " AND message_id = :message"
)


@cache
def _bucket() -> Any:
    credentials = service_account.Credentials.from_service_account_file(
        os.environ["SIGNING_CREDENTIALS_FILE"]
    )
    client = storage.Client(project="bench", credentials=credentials)
    return client.bucket(os.environ.get("UPLOADS_BUCKET", "media-uploads"))


@functions_framework.http
def declare(request: Any) -> tuple[str, int, dict[str, str]]:
    """`POST` a declaration body: 201 (or 200 for a known key) with `{id, upload}`."""
    token = request.headers["Authorization"].removeprefix("Bearer ")
    claims = _TOKENS.get(token)
    if claims is None:
        claims = jwt.decode(
            token, os.environ["JWT_SECRET"], algorithms=["HS256"], audience="media-api"
        )
        _TOKENS[token] = claims
    body = request.get_json()
    device = claims["sub"]
    name = f"{device}/{body['camera_id']}/{body['message_id']}.jpg"
    bucket = _bucket()
    values = {
        "id": f"med_{uuid.uuid4().hex}",
        "device": device,
        "camera": body["camera_id"],
        "message": body["message_id"],
        "captured_at": body["captured_at"],
        "mime": body["mime_type"],
        "size": body["size_bytes"],
        "sha256": body["sha256"],
        "md5": body["md5"],
        "hash": hashlib.sha256(request.get_data()).hexdigest(),
        "bucket": bucket.name,
        "name": name,
        "uri": f"gs://{bucket.name}/{name}",
        "actor": f"device:{device}",
    }
    with get_engine().begin() as connection:
        media_id = connection.execute(_INSERT, values).scalar()
        if media_id is not None:
            connection.execute(_HISTORY, {"id": media_id})
        else:
            media_id = connection.execute(_EXISTING, values).scalar()
    headers = {
        "Content-MD5": body["md5"],
        "x-goog-content-length-range": f"{body['size_bytes']},{body['size_bytes']}",
        "x-goog-if-generation-match": "0",
    }
    url = bucket.blob(name).generate_signed_url(
        version="v4",
        expiration=timedelta(seconds=900),
        method="PUT",
        headers=headers,
        content_type=body["mime_type"],
        api_access_endpoint=os.environ.get("STORAGE_PUBLIC_URL", "https://storage.googleapis.com"),
    )
    answer = {"id": media_id, "upload": {"method": "PUT", "url": url, "headers": headers}}
    status = 201 if values["id"] == media_id else 200
    return json.dumps(answer), status, {"Content-Type": "application/json"}
