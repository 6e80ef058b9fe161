"""The OpenAPI 3.1 document of the HTTP functions, generated from their routes and models.

`docs/openapi.yaml` is this document as YAML (`python -m scripts.openapi` writes it; a test keeps
the two equal), so the served routes, their request and response models, and the document cannot
drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic.json_schema import models_json_schema

from common.api.schemas import ErrorBody

if TYPE_CHECKING:
    from pydantic import BaseModel

    from common.api.app import Route

REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")

DESCRIPTION = """\
The HTTP functions of the media pipeline. Every route needs `Authorization: Bearer <JWT>`
unless it says otherwise: a device token (`kind: device`, `sub` = device id) or a user token
(`kind: user`, `sub` = user id, sees the devices it owns). Errors are JSON
`{code, message, details?}`; the codes are listed in docs/CONTRACTS.md. Browsers may call the API
from the origins on `CORS_ALLOWED_ORIGINS`.
"""

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No content",
    302: "Redirect",
    400: "Malformed request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition failed",
    428: "Precondition required",
    413: "Payload too large",
    415: "Unsupported media type",
    416: "Range not satisfiable",
    422: "Invalid request",
    429: "Too many requests",
    503: "Unavailable",
}


def openapi_path(rule: str) -> str:
    """`/v1/media/<media_id>` -> `/v1/media/{media_id}`."""
    return _PARAM.sub(r"{\1}", rule)


def _schemas(routes: Sequence[Route]) -> tuple[dict[Any, Any], dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (ErrorBody, "serialization")
    ]
    for route in routes:
        if route.body is not None:
            wanted.append((route.body, "validation"))
        if route.query is not None:
            wanted.append((route.query, "validation"))
        wanted += [(model, "serialization") for model in route.responses.values() if model]
    unique = list(dict.fromkeys(wanted))
    refs, definitions = models_json_schema(unique, ref_template=REF)
    return dict(refs), definitions.get("$defs", {})


def _parameters(route: Route, queries: Mapping[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(route.path)
    ]
    if route.query is not None:
        schema = queries[route.query.__name__]
        required = set(schema.get("required", []))
        for name, original in schema.get("properties", {}).items():
            prop = dict(original)
            param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
            description = prop.pop("description", None)
            prop.pop("title", None)
            if description:
                param["description"] = description
            param["schema"] = prop
            params.append(param)
    return params


def _operation(
    route: Route, function: str, refs: Mapping[Any, Any], queries: Mapping[str, Any]
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [function],
    }
    if route.description:
        operation["description"] = route.description
    if route.public:
        operation["security"] = []
    elif route.ticket:
        operation["security"] = [{"bearer": []}, {"ticket": []}]
    parameters = _parameters(route, queries)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": dict(refs[(route.body, "validation")])}},
        }
    responses: dict[str, Any] = {}
    for status, model in sorted(route.responses.items()):
        response: dict[str, Any] = {"description": STATUS_TEXT.get(status, str(status))}
        if model is not None:
            schema = dict(refs[(model, "serialization")])
            response["content"] = {"application/json": {"schema": schema}}
        responses[str(status)] = response
    for status in sorted(route.errors):
        responses[str(status)] = {"$ref": "#/components/responses/Error"}
    operation["responses"] = responses
    return operation


def document(functions: Mapping[str, Sequence[Route]], *, version: str) -> dict[str, Any]:
    """The OpenAPI document of the given functions' routes.

    Args:
        functions: function name -> its routes (the function becomes the operation's tag).
        version: the API version string.

    Returns:
        The document as plain data (ready for YAML or JSON).
    """
    every = [route for routes in functions.values() for route in routes]
    refs, definitions = _schemas(every)
    # Query models are parameters, not bodies: their properties (whose `$ref`s name components,
    # such as the enums they share with the bodies) become the parameters' schemas.
    queries = {r.query.__name__: definitions[r.query.__name__] for r in every if r.query}
    for name in queries:
        del definitions[name]
    paths: dict[str, dict[str, Any]] = {}
    for function, routes in functions.items():
        for route in routes:
            item = paths.setdefault(openapi_path(route.path), {})
            item[route.method.lower()] = _operation(route, function, refs, queries)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Media pipeline HTTP API",
            "version": version,
            "description": DESCRIPTION,
        },
        "servers": [
            {
                "url": "http://127.0.0.1:{port}",
                "description": "local stack (ports in .stack/env.sh)",
                "variables": {"port": {"default": "8080"}},
            }
        ],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "ticket": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "ticket",
                    "description": "A stream ticket from the route's `/ticket` companion",
                },
            },
            "responses": {
                "Error": {
                    "description": "An error: a stable code, a message for people",
                    "content": {"application/json": {"schema": refs[(ErrorBody, "serialization")]}},
                }
            },
            "schemas": definitions,
        },
    }


def pipeline_document() -> dict[str, Any]:
    """The document of this pipeline's HTTP functions (create_media, list_media, manage_media)."""
    from common.api import routes

    return document(
        {
            "create_media": routes.CREATE_MEDIA,
            "list_media": routes.LIST_MEDIA,
            "manage_media": routes.MANAGE_MEDIA,
        },
        version="1.0.0",
    )
