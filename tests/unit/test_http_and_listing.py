from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from common.errors import Conflict, ValidationError
from common.http import Route, dispatch
from common.listing import decode_cursor, encode_cursor

app = Flask(__name__)


def call(method: str, path: str, routes: list[Route]) -> tuple[int, Any]:
    with app.test_request_context(path, method=method):
        from flask import request

        body, status, _ = dispatch(request, routes)
    return status, json.loads(body)


def conflict(_: Any, media_id: str) -> tuple[Any, int]:
    raise Conflict(f"{media_id} busy")


def crash(_: Any) -> tuple[Any, int]:
    raise RuntimeError("boom")


ROUTES = [
    Route("GET", "/v1/media/{media_id}", lambda _, media_id: ({"id": media_id}, 200)),
    Route("POST", "/v1/media/{media_id}/lock", conflict),
    Route("GET", "/v1/crash", crash),
]


def test_routes_errors_and_unknown_paths() -> None:
    assert call("GET", "/v1/media/med_1", ROUTES) == (200, {"id": "med_1"})
    assert call("POST", "/v1/media/med_1/lock", ROUTES) == (
        409,
        {"code": "conflict", "message": "med_1 busy"},
    )
    status, body = call("DELETE", "/v1/media/med_1", ROUTES)
    assert (status, body["code"]) == (405, "method_not_allowed")
    status, body = call("GET", "/v1/nothing", ROUTES)
    assert (status, body["code"]) == (404, "route_not_found")
    status, body = call("GET", "/v1/crash", ROUTES)
    assert (status, body) == (500, {"code": "internal", "message": "internal error"})


def test_cursor_round_trip() -> None:
    when = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    assert decode_cursor(encode_cursor(when, "med_01")) == (when, "med_01")


@pytest.mark.parametrize("cursor", ["garbage", "e30", encode_cursor(datetime(2026, 1, 1), "x")])
def test_foreign_cursors_are_rejected(cursor: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_cursor(cursor)
    assert info.value.code == "invalid_cursor"
