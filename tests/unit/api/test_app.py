"""The HTTP application: routing, errors, HEAD/OPTIONS, CORS, bounded bodies and queries."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from common.api.app import Api, Call, Reply, Route
from common.core.errors import Conflict, ValidationError
from common.media.gallery import Filters, decode_cursor, encode_cursor


class Echo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size_bytes: int = Field(gt=0)


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100)


def get(call: Call) -> Reply:
    return Reply(Echo(id=call.params["media_id"]))


def lock(call: Call) -> Reply:
    raise Conflict(f"{call.params['media_id']} busy")


def crash(_: Call) -> Reply:
    raise RuntimeError("boom")


def post(call: Call) -> Reply:
    body = call.body(Body)
    return Reply(Echo(id=str(body.size_bytes)), 201)


def query(call: Call) -> Reply:
    return Reply(Echo(id=str(call.query(Query).limit)))


API = Api(
    [
        Route("GET", "/v1/media/<media_id>", get, "get", "get", public=True),
        Route("PATCH", "/v1/media/<media_id>", get, "patch", "patch", public=True),
        Route("POST", "/v1/media/<media_id>/lock", lock, "lock", "lock", public=True),
        Route("GET", "/v1/crash", crash, "crash", "crash", public=True),
        Route("POST", "/v1/items", post, "post", "post", public=True),
        Route("GET", "/v1/items", query, "query", "query", public=True),
        Route("POST", "/v1/secure", post, "secure", "secure"),
    ]
)


def call(method: str, path: str, **options: Any) -> tuple[int, Any, Response]:
    request = Request(EnvironBuilder(path=path, method=method, **options).get_environ())
    response = API(request)
    text = response.get_data(as_text=True)
    return response.status_code, json.loads(text) if text else None, response


@pytest.fixture
def cors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(os.environ, "CORS_ALLOWED_ORIGINS", '["https://gallery.example"]')


def test_routes_answer_json_and_domain_errors_keep_their_status() -> None:
    assert call("GET", "/v1/media/med_1")[:2] == (200, {"id": "med_1"})
    status, body, _ = call("POST", "/v1/media/med_1/lock")
    assert (status, body) == (409, {"code": "conflict", "message": "med_1 busy"})


def test_a_route_that_needs_a_token_answers_401_before_looking_at_the_body() -> None:
    status, body, _ = call("POST", "/v1/secure", json={"size_bytes": -1})
    assert (status, body["code"]) == (401, "missing_token")
    status, body, _ = call(
        "POST", "/v1/secure", json={}, headers={"Authorization": "Bearer not.a.jwt"}
    )
    assert (status, body["code"]) == (401, "invalid_token")


def test_a_crash_is_a_json_500_without_internals() -> None:
    assert call("GET", "/v1/crash")[:2] == (500, {"code": "internal", "message": "internal error"})


@pytest.mark.parametrize("path", ["/v1/nothing", "/v1/media/a%0Ab/x", "/v1/%00", "/"])
def test_unknown_and_odd_paths_are_json_404(path: str) -> None:
    status, body, response = call("GET", path)
    assert (status, body["code"]) == (404, "route_not_found")
    assert response.mimetype == "application/json"


def test_wrong_method_is_405_with_allow() -> None:
    status, body, response = call("DELETE", "/v1/media/med_1")
    assert (status, body["code"]) == (405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "PATCH", "OPTIONS"}


def test_head_answers_like_get_without_a_body() -> None:
    environ = EnvironBuilder(path="/v1/media/med_1", method="HEAD").get_environ()
    response = API(Request(environ))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert b"".join(response.get_app_iter(environ)) == b""  # what the WSGI server sends


def test_options_without_cors_lists_the_methods() -> None:
    status, _, response = call("OPTIONS", "/v1/media/med_1")
    assert status == 204
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "PATCH", "OPTIONS"}


def test_preflight_from_an_allowed_origin(cors: None) -> None:
    headers = {
        "Origin": "https://gallery.example",
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, if-match",
    }
    status, _, response = call("OPTIONS", "/v1/media/med_1", headers=headers)
    assert status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://gallery.example"
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert "If-Match" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Vary"] == "Origin"


def test_preflight_from_another_origin_is_refused(cors: None) -> None:
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    status, body, response = call("OPTIONS", "/v1/media/med_1", headers=headers)
    assert (status, body["code"]) == (403, "cors_origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_simple_requests_from_allowed_origins_get_cors_headers(cors: None) -> None:
    _, _, allowed = call("GET", "/v1/media/med_1", headers={"Origin": "https://gallery.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://gallery.example"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    _, _, other = call("GET", "/v1/media/med_1", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_no_origin_is_allowed_by_default() -> None:
    headers = {"Origin": "https://gallery.example", "Access-Control-Request-Method": "GET"}
    assert call("OPTIONS", "/v1/media/med_1", headers=headers)[0] == 403


def test_json_bodies_are_validated_and_bounded() -> None:
    ok = call("POST", "/v1/items", data=b'{"size_bytes": 5}', content_type="application/json")
    assert ok[:2] == (201, {"id": "5"})
    deep = b'{"size_bytes": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    status, body, _ = call("POST", "/v1/items", data=deep, content_type="application/json")
    assert (status, body["code"]) == (400, "json_too_deep")
    status, body, _ = call("POST", "/v1/items", data=b'{"size_bytes": 0}')
    assert (status, body["code"]) == (422, "validation_failed")
    assert body["details"][0]["field"] == "size_bytes"
    status, body, _ = call("POST", "/v1/items", data=b"[1]")
    assert (status, body["code"]) == (400, "invalid_json")


def test_oversized_bodies_are_413_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(os.environ, "MAX_REQUEST_BODY_BYTES", "100")
    status, body, _ = call("POST", "/v1/items", data=b'{"size_bytes": 5}' + b" " * 200)
    assert (status, body["code"]) == (413, "payload_too_large")


def test_unknown_or_repeated_query_parameters_are_422() -> None:
    assert call("GET", "/v1/items?limit=5")[:2] == (200, {"id": "5"})
    for path in ("/v1/items?limt=5", "/v1/items?limit=5&limit=6", "/v1/items?limit=x"):
        status, body, _ = call("GET", path)
        assert (status, body["code"]) == (422, "invalid_query"), path


def test_cursor_round_trip() -> None:
    when = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    filters = Filters(device_id="cam-1", kind="clip")
    assert decode_cursor(encode_cursor(when, "med_01", filters), filters) == (when, "med_01")


@pytest.mark.parametrize(
    "cursor", ["garbage", "e30", encode_cursor(datetime(2026, 1, 1), "x", Filters())]
)
def test_foreign_cursors_are_rejected(cursor: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_cursor(cursor, Filters())
    assert info.value.code == "invalid_cursor"


def test_a_cursor_reused_with_other_filters_is_refused() -> None:
    when = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    cursor = encode_cursor(when, "med_01", Filters(kind="clip"))
    with pytest.raises(ValidationError) as info:
        decode_cursor(cursor, Filters(kind="snapshot"))
    assert info.value.code == "cursor_mismatch"
