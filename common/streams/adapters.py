"""The API's HTTP conventions on aiohttp, for the stream service: JSON errors (the functions'
own, `common.api.app.error_response`), CORS for `CORS_ALLOWED_ORIGINS`, query strings validated
by a model (unknown or repeated parameters: 422 `invalid_query`), `OPTIONS`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from common.api.app import CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS, error_response
from common.core.errors import Forbidden, MediaError, MethodNotAllowed, NotFound, ValidationError
from common.core.settings import Settings
from common.core.validation import validation_error

ModelT = TypeVar("ModelT", bound=BaseModel)
STREAM_METHODS = "GET, HEAD, OPTIONS"


def aiohttp_path(rule: str) -> str:
    """`/v1/media/<media_id>/events` -> `/v1/media/{media_id}/events`."""
    return rule.replace("<", "{").replace(">", "}")


def error(exc: MediaError, cors: Mapping[str, str]) -> web.Response:
    """The JSON answer of a domain error, as the functions give it, with `cors` headers."""
    answer = error_response(exc)
    headers = {**dict(answer.headers), **cors}
    headers.pop("Content-Length", None)
    return web.Response(body=answer.get_data(), status=answer.status_code, headers=headers)


def cors(request: web.Request, settings: Settings) -> dict[str, str]:
    """CORS headers of an answer to `request` (none for an origin not allowed)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return {}
    if origin not in settings.cors_allowed_origins:
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": CORS_EXPOSED_HEADERS,
        "Vary": "Origin",
    }


def query(request: web.Request, model: type[ModelT]) -> ModelT:
    """The query string validated by `model`.

    Raises:
        ValidationError: a parameter is unknown, repeated or invalid (422 `invalid_query`).
    """
    repeated = sorted({key for key in request.query if len(request.query.getall(key)) > 1})
    if repeated:
        raise ValidationError(
            f"query parameters given more than once: {', '.join(repeated)}", code="invalid_query"
        )
    try:
        return model.model_validate(dict(request.query))
    except PydanticError as exc:
        raise validation_error(exc, "query parameters are invalid", code="invalid_query") from exc


def options(request: web.Request, settings: Settings) -> web.Response:
    """`OPTIONS` on a stream route: `Allow`, or a CORS preflight (403 for another origin)."""
    origin = request.headers.get("Origin")
    wanted = request.headers.get("Access-Control-Request-Method")
    if origin is None or wanted is None:
        return web.Response(status=204, headers={"Allow": STREAM_METHODS})
    if origin not in settings.cors_allowed_origins:
        refused = Forbidden(
            f"origin {origin!r} may not call this API", code="cors_origin_not_allowed"
        )
        return error(refused, {})
    return web.Response(
        status=204,
        headers={
            "Allow": STREAM_METHODS,
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": STREAM_METHODS,
            "Access-Control-Allow-Headers": CORS_ALLOWED_HEADERS,
            "Access-Control-Max-Age": str(settings.cors_max_age_seconds),
            "Vary": "Origin",
        },
    )


@web.middleware
async def json_errors(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    """Unknown paths and methods answer the API's JSON errors, never aiohttp's HTML."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPMethodNotAllowed as exc:
        allowed = sorted(exc.allowed_methods)
        refused = MethodNotAllowed(
            f"{request.method} is not allowed here; use {', '.join(allowed)}"
        )
        refused.details = {"allowed": allowed}
        return error(refused, {})
    except web.HTTPNotFound:
        return error(NotFound(f"nothing is served at {request.path!r}", code="route_not_found"), {})
