"""The inputs that once answered 500 each answer a 4xx with a code (over HTTP, on the local stack),
and poison in a push message is acknowledged once instead of retried. The classes they belong to
are fuzzed in tests/integration/test_fuzz_api.py and tests/unit/core/test_jsonsafe.py."""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from typing import Any

import pytest
import requests

from common.api.openapi import openapi_path
from tests.integration.bad_inputs import FUNCTIONS, HUGE, call, is_json_error, media_to_break

pytestmark = [pytest.mark.integration, pytest.mark.storage_backends("gcs")]


@pytest.fixture(scope="module")
def processed(local_stack: Any) -> dict[str, Any]:
    return media_to_break()


def _body_routes() -> list[tuple[str, str]]:
    return sorted(
        {
            (route.method, openapi_path(route.path))
            for table in FUNCTIONS.values()
            for route in table
            if route.body is not None
        }
    )


@pytest.mark.parametrize(("method", "template"), _body_routes())
def test_an_integer_beyond_4300_digits_is_a_400_on_every_body_route(
    processed: dict[str, Any], method: str, template: str
) -> None:
    path = template.format(
        media_id=processed["media_id"],
        device_id=processed["device"],
        camera_id="cam-1",
        share_id="shr_00000000000000000000000000",
        user_id="someone",
        event_id="evt_00000000000000000000000000",
        webhook_id="whk_00000000000000000000000000",
    )
    token = processed["device_token" if template == "/v1/snapshots" else "admin_token"]
    for body in (f'{{"x": {HUGE}}}', f'{{"document": [1, {{"deep": -{HUGE}}}]}}'):
        response = call(method, path, token, body.encode())
        assert response.status_code == 400, (path, response.status_code, response.text)
        assert is_json_error(response)["code"] == "invalid_number"


@pytest.mark.parametrize(
    ("function", "attributes"),
    [
        (
            "finalize_upload",
            {"bucketId": "media-uploads", "objectId": "x", "eventType": "OBJECT_FINALIZE"},
        ),
        ("process_media", {}),
        ("process_media", {"kind": "job"}),
        ("housekeeping", {"CloudPubSubDeadLetterSourceSubscription": "process-media"}),
    ],
)
def test_a_push_message_with_a_huge_integer_is_acknowledged_as_poison(
    local_stack: Any, function: str, attributes: dict[str, str]
) -> None:
    data = f'{{"media_id": {HUGE}, "job_id": {HUGE}, "size": {HUGE}}}'.encode()
    envelope = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": f"poison-{uuid.uuid4().hex[:8]}",
        },
        "subscription": "projects/local-project/subscriptions/test",
        "deliveryAttempt": 1,
    }
    response = requests.post(os.environ[f"{function.upper()}_URL"], json=envelope, timeout=60)
    assert response.status_code == 200, response.text  # acknowledged: never redelivered


def _nul_cases(p: dict[str, Any]) -> list[tuple[str, str, str, Any, dict[str, str]]]:
    media, device = p["media_id"], p["device"]
    etag = {"If-Match": "*"}
    declare = {
        "camera_id": "cam-1",
        "message_id": f"nul-{uuid.uuid4().hex[:8]}",
        "captured_at": "2026-01-01T00:00:00Z",
        "mime_type": "image/png",
        "size_bytes": 10,
        "sha256": "0" * 64,
        "md5": base64.b64encode(b"0" * 16).decode(),
    }
    return [
        ("note", "PATCH", f"/v1/media/{media}", {"note": "a\x00b"}, etag),
        ("labels", "PATCH", f"/v1/media/{media}", {"labels": ["a\x00"]}, etag),
        ("reason", "POST", "/v1/media", {**declare, "reason": "motion\x00"}, {}),
        ("declared note", "POST", "/v1/media", {**declare, "note": "\x00"}, {}),
        (
            "share note",
            "POST",
            f"/v1/media/{media}/shares",
            {"ttl_seconds": 600, "note": "\x00"},
            {},
        ),
        (
            "detection filter key",
            "PUT",
            f"/v1/devices/{device}/cameras/cam-1/detection",
            {"filters": {"per\x00son": {"min_score": 0.5}}},
            {},
        ),
        (
            "clip labels",
            "POST",
            f"/v1/media/{media}/snapshots",
            {"at_ms": 0, "labels": ["\x00"]},
            {},
        ),
        ("label query", "GET", "/v1/media?label=%00", None, {}),
        ("camera query", "GET", "/v1/media?camera_id=a%00", None, {}),
        ("audit actor", "GET", "/v1/admin/audit?actor=%00", None, {}),
        ("owner path", "DELETE", f"/v1/devices/{device}/owners/%00", None, {}),
    ]


def test_nul_never_reaches_postgres(processed: dict[str, Any]) -> None:
    answers = {}
    for name, method, path, body, headers in _nul_cases(processed):
        token = processed["device_token" if path == "/v1/media" else "admin_token"]
        raw = json.dumps(body).encode() if body is not None else None
        response = call(method, path, token, raw, headers)
        answers[name] = (response.status_code, is_json_error(response)["code"])
    assert all(400 <= status < 500 for status, _ in answers.values()), answers
    in_bodies = [case[0] for case in _nul_cases(processed) if case[3] is not None]
    assert {answers[name][1] for name in in_bodies} == {"nul_character"}, answers
    assert len(answers) == 11


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/media?captured_after=9999-12-31T23:59:59-14:00", None),
        ("GET", "/v1/media?captured_before=0001-01-01T00:00:00%2B14:00", None),
        ("GET", "/v1/admin/audit?since=9999-12-31T23:59:59-14:00", None),
        (
            "POST",
            "/v1/devices/{device}/cameras/cam-1/clips",
            {"start_at": "0001-01-01T00:00:00Z", "duration_ms": 1000},
        ),
        (
            "POST",
            "/v1/devices/{device}/cameras/cam-1/clips",
            {"start_at": "9999-12-31T23:59:59Z", "duration_ms": 1000},
        ),
        ("POST", "/v1/admin/devices/{device}/purge", {"before": "0001-01-01T00:00:00+01:00"}),
    ],
)
def test_times_at_the_ends_of_the_calendar_are_a_422(
    processed: dict[str, Any], method: str, path: str, body: Any
) -> None:
    path = path.format(device=processed["device"])
    raw = json.dumps(body).encode() if body is not None else None
    response = call(method, path, processed["admin_token"], raw)
    assert response.status_code == 422, response.text
    assert is_json_error(response)["code"] in ("validation_failed", "invalid_query")


@pytest.mark.parametrize(
    "override",
    [
        {"media_per_day": 2**31, "bytes_per_day": None},
        {"media_per_day": None, "bytes_per_day": 2**80},
    ],
)
def test_quotas_beyond_their_column_type_are_a_422(
    processed: dict[str, Any], override: dict[str, Any]
) -> None:
    path = f"/v1/admin/devices/{processed['device']}/quota"
    response = call("PUT", path, processed["admin_token"], json.dumps(override).encode())
    assert response.status_code == 422, response.text
    assert is_json_error(response)["code"] == "validation_failed"


def test_a_weak_etag_never_matches_if_match(processed: dict[str, Any]) -> None:
    path = f"/v1/media/{processed['media_id']}"
    got = call("GET", path, processed["owner_token"])
    strong = got.headers["ETag"]
    body = json.dumps({"note": "weak"}).encode()
    weak = call("PATCH", path, processed["owner_token"], body, {"If-Match": f"W/{strong}"})
    assert weak.status_code == 412, weak.text
    assert is_json_error(weak)["code"] == "precondition_failed"
    ok = call("PATCH", path, processed["owner_token"], body, {"If-Match": strong})
    assert ok.status_code == 200, ok.text


def test_a_detection_mask_is_bounded(processed: dict[str, Any]) -> None:
    path = f"/v1/devices/{processed['device']}/cameras/cam-1/detection"
    ring = [[0.5 + 0.4 * (i % 2), 0.1 + 0.8 * i / 300] for i in range(300)]
    response = call(
        "PUT", path, processed["owner_token"], json.dumps({"masks": [{"points": ring}]}).encode()
    )
    assert response.status_code == 422, response.text
    huge = {"masks": [{"points": [[0.5, 0.5]] * 100_000}]}
    response = call("PUT", path, processed["owner_token"], json.dumps(huge).encode())
    assert 400 <= response.status_code < 500
    is_json_error(response)


def test_an_unsatisfiable_range_is_a_json_416(processed: dict[str, Any]) -> None:
    path = f"/v1/media/{processed['media_id']}/content"
    response = call("GET", path, processed["owner_token"], headers={"Range": "bytes=99999999-"})
    assert response.status_code == 416
    assert is_json_error(response)["code"] == "range_not_satisfiable"
    assert re.fullmatch(r"bytes \*/\d+", response.headers["Content-Range"])


def test_headers_beyond_the_server_limit_are_refused_by_the_server(
    processed: dict[str, Any],
) -> None:
    """Header lines over 8190 bytes (gunicorn's `limit_request_field_size`, as documented in
    docs/CONTRACTS.md) are refused before the API runs, with a 4xx; below it, our JSON answers."""
    path = f"/v1/media/{processed['media_id']}/content"
    too_long = call("GET", path, "x" * 100_000)
    assert 400 <= too_long.status_code < 500
    many_ranges = ",".join(f"{i}-{i}" for i in range(0, 4000, 2))
    ranged = call("GET", path, processed["owner_token"], headers={"Range": f"bytes={many_ranges}"})
    assert 400 <= ranged.status_code < 500
    below = call("GET", path, "x" * 8000)
    assert below.status_code == 401
    assert is_json_error(below)["code"] == "invalid_token"
