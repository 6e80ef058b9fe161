"""The baseline of bench_http.py for list_media's gallery: the essential work of a 50-tile page.

An HS256 bearer token (verified once, then cached), one keyset select of the newest media of the
devices the user owns with their thumbnails (handed back by Postgres as one JSON array, as
list_media's is), a signed GET of each thumbnail (reused while it has half its life left, as
list_media's are) and the JSON page; the same engine (pool, tuned driver) and signing key as
list_media. No validation, filters, access rules beyond ownership, logging or error bodies.
"""

from __future__ import annotations

import base64
import json
import os
import time
from datetime import timedelta
from functools import cache
from typing import Any

import functions_framework
import jwt
from google.cloud import storage
from google.oauth2 import service_account
from sqlalchemy import text

from common.db.engine import get_engine

TTL_SECONDS = 900
_TOKENS: dict[str, dict[str, Any]] = {}
_SIGNED: dict[str, tuple[str, float]] = {}
_PAGE = text(
    "SELECT json_agg(t ORDER BY t.captured_at DESC, t.id DESC) FROM ("
    " SELECT p.* FROM device_owners o CROSS JOIN LATERAL ("
    "  SELECT m.id, m.device_id, m.camera_id, m.message_id, m.captured_at, m.reason,"
    "  m.media_type, m.mime_type, m.kind, m.parent_id, m.size_bytes, m.duration_ms, m.status,"
    "  m.status_reason_code, m.status_reason, m.pinned, m.labels, m.note, m.original_filename,"
    "  m.analysis -> 'counts' AS counts, m.created_at, m.updated_at,"
    "  d.bucket AS thumbnail_bucket, d.object_name AS thumbnail_object_name"
    "  FROM media_objects m"
    "  LEFT JOIN derivatives d ON d.media_id = m.id AND d.kind = 'thumbnail'"
    "  WHERE m.device_id = o.device_id AND m.status NOT IN ('deleting', 'deleted')"
    "  ORDER BY m.captured_at DESC, m.id DESC LIMIT :rows) p"
    " WHERE o.user_id = :user ORDER BY p.captured_at DESC, p.id DESC LIMIT :rows) t"
)
"""The newest rows of each owned device (an index range scan each), then the newest of those:
the shape of list_media's page statement (`common.media.gallery`)."""


@cache
def _client() -> Any:
    credentials = service_account.Credentials.from_service_account_file(
        os.environ["SIGNING_CREDENTIALS_FILE"]
    )
    return storage.Client(project="bench", credentials=credentials)


def _signed(bucket: str, name: str) -> str:
    found = _SIGNED.get(name)
    if found is not None and found[1] - time.time() >= TTL_SECONDS / 2:
        return found[0]
    url = (
        _client()
        .bucket(bucket)
        .blob(name)
        .generate_signed_url(
            version="v4",
            expiration=timedelta(seconds=TTL_SECONDS),
            method="GET",
            api_access_endpoint=os.environ.get(
                "STORAGE_PUBLIC_URL", "https://storage.googleapis.com"
            ),
        )
    )
    _SIGNED[name] = (url, time.time() + TTL_SECONDS)
    return url


@functions_framework.http
def gallery(request: Any) -> tuple[str, int, dict[str, str]]:
    """`GET ?limit=N`: the newest N media of the caller's devices, with thumbnail URLs."""
    token = request.headers["Authorization"].removeprefix("Bearer ")
    claims = _TOKENS.get(token)
    if claims is None:
        claims = jwt.decode(
            token, os.environ["JWT_SECRET"], algorithms=["HS256"], audience="media-api"
        )
        _TOKENS[token] = claims
    limit = int(request.args.get("limit", "20"))
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        tiles = connection.execute(_PAGE, {"user": claims["sub"], "rows": limit + 1}).scalar()
    tiles = tiles or []
    page = tiles[:limit]
    for tile in page:
        bucket, name = tile.pop("thumbnail_bucket"), tile.pop("thumbnail_object_name")
        tile["thumbnail_url"] = _signed(bucket, name) if name else None
    cursor = None
    if len(tiles) > limit:
        last = page[-1]
        raw = json.dumps({"t": last["captured_at"], "i": last["id"]}).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    body = json.dumps({"items": page, "next_cursor": cursor})
    return body, 200, {"Content-Type": "application/json"}
