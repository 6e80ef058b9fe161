"""create_media (HTTP): a device declares a capture and gets a V4 signed upload URL, or sends a
small snapshot inline.

`POST /v1/media` and `POST /v1/snapshots` with `Authorization: Bearer <device JWT>`; see
docs/CONTRACTS.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import functions_framework

from common.http import JsonResponse, Route, dispatch, json_body, principal_of

if TYPE_CHECKING:
    from flask import Request, Response


def _create(request: Request) -> tuple[Any, int]:
    from pydantic import ValidationError as PydanticError

    from common.errors import ValidationError
    from common.uploads import CreateMediaRequest, create_media

    device_id = principal_of(request).require_device()
    body = json_body(request)
    try:
        declared = CreateMediaRequest.model_validate(body)
    except PydanticError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise ValidationError("request body is invalid", details=details) from exc
    result = create_media(device_id, declared)
    return result.body, 201 if result.created else 200


def _snapshot(request: Request) -> tuple[Any, int]:
    from common.snapshots import create_inline_snapshot, read_body

    device_id = principal_of(request).require_device()
    result = create_inline_snapshot(device_id, read_body(request))
    return result.body, 201 if result.created else 200


ROUTES = [Route("POST", "/v1/media", _create), Route("POST", "/v1/snapshots", _snapshot)]


@functions_framework.http
def create_media(request: Request) -> JsonResponse | Response:
    """HTTP entry point."""
    return dispatch(request, ROUTES)
