"""The HTTP functions' application: Werkzeug routing, CORS, JSON bodies in and out, JSON errors.

Each HTTP function serves a list of `Route`s through an `Api`. Werkzeug's `Map` matches the path
and method: a path served for other methods answers 405 with `Allow`; GET routes answer HEAD too;
OPTIONS answers 204 with `Allow`, or a CORS preflight for origins on `CORS_ALLOWED_ORIGINS`
(https://fetch.spec.whatwg.org/#http-cors-protocol). Every error, including 404 on paths nothing
serves, is JSON `{"code", "message"[, "details"]}` (`common.core.errors`); unexpected exceptions
answer 500 `internal` and are logged with a trace. Handlers get a `Call` (the request, path
parameters, the caller's principal on first use, bounded JSON parsing, pydantic validation) and
return a `Reply` whose body is a pydantic model, or a ready `Response` (an event stream, a
redirect). The OpenAPI document is generated from the routes (`common.api.openapi`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from common.core.errors import (
    BadRequest,
    Forbidden,
    MediaError,
    MethodNotAllowed,
    MisdirectedRequest,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    TransientError,
    ValidationError,
)
from common.core.jsonsafe import loads_bounded
from common.core.validation import validation_error

if TYPE_CHECKING:
    from pydantic import BaseModel
    from werkzeug.wrappers import Request

    from common.api.auth import Principal

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound="BaseModel")
Handler = Callable[["Call"], "Reply | Response"]

CORS_ALLOWED_HEADERS = (
    "Authorization, Content-Type, If-Match, If-None-Match, If-Range, Last-Event-ID, Range"
)
CORS_EXPOSED_HEADERS = (
    "ETag, Location, Retry-After, Content-Disposition, Content-Range, Content-Length, Accept-Ranges"
)
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


@dataclass(frozen=True)
class Route:
    """One operation: method + Werkzeug path rule (`/v1/media/<media_id>`) + handler.

    The other fields describe it for the OpenAPI document: `body` and `query` are the request
    models (the handler parses with them), `responses` maps each success status to its body
    model (None: no JSON body), `errors` lists the error statuses it may answer, `public` marks
    routes that need no bearer token, `ticket` routes that also take a stream ticket
    (`?ticket=`) in its place. Every other route authenticates the bearer token before its
    handler runs (a bad token is a 401 whatever the body).
    """

    method: str
    path: str
    handler: Handler
    operation_id: str
    summary: str
    description: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: Mapping[int, type[BaseModel] | None] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    public: bool = False
    ticket: bool = False
    body_limit: Callable[[], int] | None = None


@dataclass
class Reply:
    """A JSON answer: a pydantic body (or None for no body), the status and extra headers."""

    body: BaseModel | None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


_UNSET: Any = object()


class Call:
    """One request as a handler sees it.

    Attributes:
        request: the Werkzeug (Flask) request.
        params: the path parameters, decoded.
        route: the matched route.
    """

    def __init__(self, request: Request, params: dict[str, str], route: Route) -> None:
        self.request = request
        self.params = params
        self.route = route
        self._json: Any = _UNSET

    @cached_property
    def principal(self) -> Principal:
        """The authenticated caller (bearer token), verified on first use.

        Raises:
            Unauthenticated: missing, malformed, expired or wrongly signed token (401).
        """
        from common.api.auth import authenticate

        return authenticate(self.request.headers.get("Authorization"))

    def json(self) -> Any:
        """The body as JSON, bounded in size and nesting depth.

        Raises:
            PayloadTooLarge: the body is larger than the route's limit (413).
            BadRequest: empty, not JSON, or nested too deep (400).
        """
        from common.core.settings import get_settings

        settings = get_settings()
        limit = (
            self.route.body_limit() if self.route.body_limit else settings.max_request_body_bytes
        )
        length = self.request.content_length
        if length is not None and length > limit:
            raise PayloadTooLarge(
                f"request body of {length} bytes exceeds {limit}",
                details={"max_size_bytes": limit},
            )
        raw = self.request.get_data(cache=True)
        if len(raw) > limit:
            raise PayloadTooLarge(
                f"request body exceeds {limit} bytes", details={"max_size_bytes": limit}
            )
        if self._json is _UNSET:
            self._json = loads_bounded(raw, max_depth=settings.max_json_depth)
        return self._json

    def body(self, model: type[ModelT]) -> ModelT:
        """The JSON body validated by `model`.

        Raises:
            BadRequest: not a JSON object (400).
            ValidationError: the model refused it (422, with field details).
        """
        from pydantic import ValidationError as PydanticError

        data = self.json()
        if not isinstance(data, dict):
            raise BadRequest("request body must be a JSON object", code="invalid_json")
        try:
            return model.model_validate(data)
        except PydanticError as exc:
            raise validation_error(exc, "request body is invalid") from exc

    def query(self, model: type[ModelT]) -> ModelT:
        """The query string validated by `model` (unknown or repeated parameters are 422).

        Raises:
            ValidationError: a parameter is unknown, repeated or invalid (422).
        """
        from pydantic import ValidationError as PydanticError

        args = self.request.args
        if any("\x00" in key or "\x00" in value for key, value in args.items(multi=True)):
            raise ValidationError(
                "query parameters may not contain U+0000 (NUL)", code="invalid_query"
            )
        repeated = [key for key in args if len(args.getlist(key)) > 1]
        if repeated:
            raise ValidationError(
                f"query parameters given more than once: {', '.join(sorted(repeated))}",
                code="invalid_query",
            )
        try:
            return model.model_validate(dict(args))
        except PydanticError as exc:
            raise validation_error(
                exc, "query parameters are invalid", code="invalid_query"
            ) from exc


def json_response(body: Any, status: int, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response (`Cache-Control: no-store`) of a model, a dict, or None (no body)."""
    if body is None:
        text = ""
    elif hasattr(body, "model_dump_json"):
        text = body.model_dump_json()
    else:
        text = json.dumps(body, separators=(",", ":"))
    response = Response(
        text, status=status, headers=JSON_HEADERS if text else {"Cache-Control": "no-store"}
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


UNAVAILABLE_MESSAGE = "The service could not complete the request now; retry later."


def error_response(error: MediaError, headers: Mapping[str, str] | None = None) -> Response:
    """The JSON response for a domain error (503s and 429s carry `Retry-After`)."""
    extra = dict(headers or {})
    if isinstance(error, TransientError):
        extra["Retry-After"] = "5"
    if isinstance(error, TooManyRequests):
        extra["Retry-After"] = str(error.retry_after_seconds)
    if error.http_status == 401:
        extra["WWW-Authenticate"] = 'Bearer realm="media-api"'
    if isinstance(error, MethodNotAllowed) and isinstance(error.details, dict):
        extra["Allow"] = ", ".join(sorted({*error.details.get("allowed", []), "OPTIONS"}))
    if error.http_status >= 500:  # the message may name internals (objects, hosts): logged only
        body = {"code": error.code, "message": UNAVAILABLE_MESSAGE}
        return json_response(body, error.http_status, extra)
    return json_response(error.to_json(), error.http_status, extra)


class Api:
    """Serves `routes` (see the module docstring). Call it with a request, get a response.

    Args:
        routes: the routes this service serves.
        binding: every service's routes (`common.api.routes.BINDING`): a method and path that
            another service serves answers 421 `misdirected_request` naming it (the API's one
            origin routes it there), a path served elsewhere for other methods 405 with the
            `Allow` of the whole API, and OPTIONS the whole API's methods.
    """

    def __init__(
        self, routes: Sequence[Route], binding: Mapping[str, Sequence[Route]] | None = None
    ) -> None:
        self.routes = tuple(routes)
        rules = [
            Rule(route.path, methods=[route.method], endpoint=index)
            for index, route in enumerate(self.routes)
        ]
        own = {(route.method, route.path) for route in self.routes}
        rules += [
            Rule(route.path, methods=[route.method], endpoint=service)
            for service, served in (binding or {}).items()
            for route in served
            if (route.method, route.path) not in own
        ]
        # One map of the whole API, so a literal path served elsewhere (`/v1/events/stream`)
        # wins over a template served here (`/v1/events/<event_id>`), as at the load balancer.
        self._map = Map(rules, strict_slashes=False, merge_slashes=False)
        self._map.update()  # compile the rules now (a warm-up), not on the first request

    def __call__(self, request: Request) -> Response:
        """Route, run and render one request; never raises. Logs one line per request."""
        import time

        from common.core import context

        context.start(context.trace_from_headers(request.headers))
        began = time.perf_counter()
        response = self._answer(request)
        latency = time.perf_counter() - began
        log.info(
            "%s %s %d",
            request.method,
            request.path,
            response.status_code,
            extra={
                "httpRequest": {
                    "requestMethod": request.method,
                    "requestUrl": request.path,
                    "status": response.status_code,
                    "latency": f"{latency:.6f}s",
                    "userAgent": request.headers.get("User-Agent", ""),
                }
            },
        )
        return response

    def _answer(self, request: Request) -> Response:
        origin = request.headers.get("Origin")
        cors = self._cors_headers(origin)
        try:
            response = self._dispatch(request, origin)
        except MediaError as exc:
            if exc.http_status >= 500:
                log.warning("%s %s: %s", request.method, request.path, exc.message, exc_info=True)
            response = error_response(exc)
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            response = json_response({"code": "internal", "message": "internal error"}, 500)
        for name, value in cors.items():
            response.headers.setdefault(name, value)
        return response

    def _cors_headers(self, origin: str | None) -> dict[str, str]:
        from common.core.settings import get_settings

        if origin is None or origin not in get_settings().cors_allowed_origins:
            return {"Vary": "Origin"} if origin else {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": CORS_EXPOSED_HEADERS,
            "Vary": "Origin",
        }

    def _dispatch(self, request: Request, origin: str | None) -> Response:
        adapter = self._map.bind_to_environ(request.environ)
        if request.method == "OPTIONS":
            return self._options(request, sorted(adapter.allowed_methods()), origin)
        try:
            index, params = adapter.match()
        except HTTPException as exc:
            allowed = adapter.allowed_methods()
            if allowed:
                raise _method_not_allowed(request.method, sorted(allowed)) from exc
            raise NotFound(
                f"nothing is served at {request.path!r}", code="route_not_found"
            ) from exc
        if isinstance(index, str):
            raise MisdirectedRequest(
                f"{request.method} {request.path} is served by {index}: send API requests to "
                "the API's base URL",
                details={"service": index},
            )
        route = self.routes[int(index)]
        decoded = {k: str(v) for k, v in params.items()}
        if any("\x00" in value for value in decoded.values()):  # no id or name holds NUL
            raise NotFound(f"nothing is served at {request.path!r}", code="route_not_found")
        call = Call(request, decoded, route)
        if not (route.public or route.ticket):
            call.principal  # noqa: B018 - authenticate before reading what is asked
        result = route.handler(call)
        if isinstance(result, Reply):
            return json_response(result.body, result.status, result.headers)
        return result

    def _options(self, request: Request, allowed: list[str], origin: str | None) -> Response:
        if not allowed:
            raise NotFound(f"nothing is served at {request.path!r}", code="route_not_found")
        methods = ", ".join(sorted({*allowed, "OPTIONS"}))
        wanted = request.headers.get("Access-Control-Request-Method")
        if origin is None or wanted is None:
            return Response(status=204, headers={"Allow": methods})
        from common.core.settings import get_settings

        settings = get_settings()
        if origin not in settings.cors_allowed_origins:
            raise Forbidden(
                f"origin {origin!r} may not call this API", code="cors_origin_not_allowed"
            )
        if wanted not in allowed:
            raise _method_not_allowed(wanted, sorted(allowed))
        return Response(
            status=204,
            headers={
                "Allow": methods,
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": methods,
                "Access-Control-Allow-Headers": CORS_ALLOWED_HEADERS,
                "Access-Control-Max-Age": str(settings.cors_max_age_seconds),
                "Vary": "Origin",
            },
        )


def _method_not_allowed(method: str, allowed: list[str]) -> MediaError:
    error = MethodNotAllowed(f"{method} is not allowed here; use {', '.join(allowed)}")
    error.details = {"allowed": allowed}
    return error
