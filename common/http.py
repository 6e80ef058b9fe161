"""HTTP plumbing shared by the HTTP functions: routing, JSON bodies, error responses.

Every error answer is JSON `{"code", "message"[, "details"]}` with the status of the raised
`common.errors.MediaError`; unexpected exceptions answer 500 `internal` and are logged with a trace.
A handler returns `(body, status)` to be JSON-encoded, or a ready `flask.Response` (a stream of
Server-Sent Events, for example) that is passed through untouched.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from common.errors import BadRequest, MediaError, MethodNotAllowed, NotFound, TransientError

if TYPE_CHECKING:
    from flask import Request, Response

    from common.auth import Principal

log = logging.getLogger(__name__)

JsonResponse = tuple[str, int, dict[str, str]]
Handler = Callable[..., "tuple[Any, int] | Response"]


@dataclass(frozen=True)
class Route:
    """`method` + a path pattern with `{name}` placeholders (one path segment each)."""

    method: str
    pattern: str
    handler: Handler

    def match(self, path: str) -> dict[str, str] | None:
        """Return the path parameters if `path` matches, else None."""
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern) + "/?$"
        found = re.match(regex, path)
        return found.groupdict() if found else None


def iso_utc(value: datetime | None) -> str | None:
    """RFC 3339 text of a tz-aware UTC time with a `Z` suffix (None stays None)."""
    return value.isoformat().replace("+00:00", "Z") if value else None


def json_response(body: Any, status: int, headers: Mapping[str, str] | None = None) -> JsonResponse:
    """Serialise `body` as a JSON response."""
    out = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    out.update(headers or {})
    return json.dumps(body, separators=(",", ":")), status, out


def error_response(error: MediaError) -> JsonResponse:
    """The JSON response for a domain error (503s carry `Retry-After`)."""
    headers = {"Retry-After": "5"} if isinstance(error, TransientError) else {}
    if isinstance(error, MediaError) and error.http_status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="media-api"'
    return json_response(error.to_json(), error.http_status, headers)


def json_body(request: Request) -> Any:
    """Parse the request body as JSON.

    Raises:
        BadRequest: the body is empty or not JSON (code `invalid_json`).
    """
    raw = request.get_data(cache=True)
    if not raw:
        raise BadRequest("request body must be JSON", code="invalid_json")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}", code="invalid_json") from exc


def principal_of(request: Request) -> Principal:
    """Authenticate the request's bearer token (raises Unauthenticated)."""
    from common.auth import authenticate

    return authenticate(request.headers.get("Authorization"))


def dispatch(request: Request, routes: list[Route]) -> JsonResponse | Response:
    """Route `request` to the first matching handler and render its `(body, status)`.

    Handlers are called as `handler(request, **path_params)`. A handler that returns a
    `flask.Response` has its response returned as is (errors it raises before returning are
    still rendered as JSON).
    """
    try:
        allowed: list[str] = []
        for route in routes:
            params = route.match(request.path)
            if params is None:
                continue
            if route.method != request.method:
                allowed.append(route.method)
                continue
            result = route.handler(request, **params)
            if not isinstance(result, tuple):
                return result
            body, status = result
            return json_response(body, status)
        if allowed:
            raise MethodNotAllowed(f"{request.method} not allowed; use {', '.join(allowed)}")
        raise NotFound(f"no route for {request.path}", code="route_not_found")
    except MediaError as exc:
        if exc.http_status >= 500:
            log.warning("%s %s: %s", request.method, request.path, exc, exc_info=True)
        return error_response(exc)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return json_response({"code": "internal", "message": "internal error"}, 500)
