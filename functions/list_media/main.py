"""list_media (HTTP): listing, detail, downloads, clip/snapshot jobs and live status (SSE).

Routes (all need `Authorization: Bearer <device or user JWT>`; see docs/CONTRACTS.md):
`GET /v1/devices/{device_id}/media?limit=&cursor=`, `GET /v1/media/{media_id}`,
`GET /v1/media/{media_id}/download[?redirect=true]`, `POST /v1/media/{media_id}/clips`,
`POST /v1/media/{media_id}/snapshots`, `GET /v1/media/{media_id}/jobs`, `GET /v1/jobs/{job_id}`,
`GET /v1/media/{media_id}/events`, `GET /v1/jobs/{job_id}/events` (text/event-stream).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import functions_framework

from common.http import JsonResponse, Route, dispatch, json_body, principal_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from flask import Request, Response


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
    return signed, 302 if request.args.get("redirect") in ("1", "true") else 200


def _job(kind: str) -> Callable[[Request, str], tuple[Any, int]]:
    def create(request: Request, media_id: str) -> tuple[Any, int]:
        from common.jobs import JobKind, create_job

        result = create_job(principal_of(request), media_id, JobKind(kind), json_body(request))
        return result.body, 202 if result.created else 200

    return create


def _media_jobs(request: Request, media_id: str) -> tuple[Any, int]:
    from common.jobs import list_media_jobs

    return list_media_jobs(principal_of(request), media_id), 200


def _get_job(request: Request, job_id: str) -> tuple[Any, int]:
    from common.jobs import get_job

    return get_job(principal_of(request), job_id), 200


def _media_events(request: Request, media_id: str) -> Response:
    from common.sse import media_events

    return media_events(principal_of(request), media_id, request.headers.get("Last-Event-ID"))


def _job_events(request: Request, job_id: str) -> Response:
    from common.sse import job_events

    return job_events(principal_of(request), job_id, request.headers.get("Last-Event-ID"))


ROUTES = [
    Route("GET", "/v1/devices/{device_id}/media", _list),
    Route("GET", "/v1/media/{media_id}", _get),
    Route("GET", "/v1/media/{media_id}/download", _download),
    Route("POST", "/v1/media/{media_id}/clips", _job("clip")),
    Route("POST", "/v1/media/{media_id}/snapshots", _job("snapshot")),
    Route("GET", "/v1/media/{media_id}/jobs", _media_jobs),
    Route("GET", "/v1/media/{media_id}/events", _media_events),
    Route("GET", "/v1/jobs/{job_id}", _get_job),
    Route("GET", "/v1/jobs/{job_id}/events", _job_events),
]


@functions_framework.http
def list_media(request: Request) -> JsonResponse | Response:
    """HTTP entry point."""
    result = dispatch(request, ROUTES)
    if not isinstance(result, tuple):
        return result  # a stream
    body, status, headers = result
    if status == 302:
        import json

        headers = {**headers, "Location": json.loads(body)["url"]}
    return body, status, headers
