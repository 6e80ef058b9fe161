"""list_media (HTTP): per-device listing, media detail and signed downloads.

Routes (all need `Authorization: Bearer <device or user JWT>`; see docs/CONTRACTS.md):
`GET /v1/devices/{device_id}/media?limit=&cursor=`, `GET /v1/media/{media_id}`,
`GET /v1/media/{media_id}/download[?redirect=true]`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import functions_framework

from common.http import JsonResponse, Route, dispatch, principal_of

if TYPE_CHECKING:
    from flask import Request


def _list(request: Request, device_id: str) -> tuple[Any, int]:
    from common.errors import ValidationError
    from common.listing import DEFAULT_PAGE_SIZE, list_device_media

    principal = principal_of(request)
    raw_limit = request.args.get("limit", str(DEFAULT_PAGE_SIZE))
    if not raw_limit.isdigit():
        raise ValidationError("limit must be an integer", code="invalid_limit")
    cursor = request.args.get("cursor") or None
    return list_device_media(principal, device_id, limit=int(raw_limit), cursor=cursor), 200


def _get(request: Request, media_id: str) -> tuple[Any, int]:
    from common.listing import get_media

    return get_media(principal_of(request), media_id), 200


def _download(request: Request, media_id: str) -> tuple[Any, int]:
    from common.listing import download_url

    signed = download_url(principal_of(request), media_id)
    if request.args.get("redirect") in ("1", "true"):
        return signed, 302
    return signed, 200


ROUTES = [
    Route("GET", "/v1/devices/{device_id}/media", _list),
    Route("GET", "/v1/media/{media_id}", _get),
    Route("GET", "/v1/media/{media_id}/download", _download),
]


@functions_framework.http
def list_media(request: Request) -> JsonResponse:
    """HTTP entry point."""
    body, status, headers = dispatch(request, ROUTES)
    if status == 302:
        import json

        headers = {**headers, "Location": json.loads(body)["url"]}
    return body, status, headers
