from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic
import pytest

from common.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from common.core.settings import Settings
from common.media.declare import CreateMediaRequest, check_contract, spec_for_upload
from common.storage.layout import upload_object_name

SHA = "a" * 64
MD5 = "1B2M2Y8AsgTpgAmY7PhCfg=="  # md5 of b""


def body(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "camera_id": "front",
        "message_id": "msg-0001",
        "captured_at": "2026-11-21T23:30:00-02:00",
        "reason": "motion",
        "mime_type": "image/jpeg",
        "size_bytes": 1234,
        "sha256": SHA,
        "md5": MD5,
    }
    base.update(overrides)
    return base


def spec(**overrides: Any) -> Any:
    return spec_for_upload(
        "dev-1", CreateMediaRequest.model_validate(body(**overrides)), created_by="device:dev-1"
    )


def test_capture_time_is_stored_in_utc_and_names_the_object() -> None:
    request = CreateMediaRequest.model_validate(body())
    # 23:30 at -02:00 is 01:30 UTC the next day
    assert request.captured_at == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    name = upload_object_name(
        "dev-1", request.camera_id, request.captured_at, request.message_id, request.mime_type
    )
    assert name == "dev-1/front/2026-11-22/msg-0001.jpg"


@pytest.mark.parametrize(
    "bad",
    [
        {"sha256": "z" * 64},
        {"sha256": "a" * 63},
        {"md5": "not-base64-at-all-xxxxx="},
        {"md5": "AAAA"},
        {"captured_at": "2026-11-21T23:30:00"},  # naive: no offset
        {"captured_at": 1764000000000},  # a number would be read as seconds or milliseconds
        {"captured_at": "0001-01-01T00:00:00+14:00"},  # before year 1 in UTC: overflow
        {"captured_at": "9999-12-31T23:59:59-14:00"},  # after year 9999 in UTC: overflow
        {"camera_id": "../etc"},
        {"camera_id": "a..b"},
        {"message_id": "a/b"},
        {"message_id": "nul\x00"},
        {"size_bytes": 0},
        {"size_bytes": True},
        {"size_bytes": "1234"},
        {"unexpected": 1},
        {"labels": ["x" * 65]},
        {"labels": ["a"] * 33},
    ],
)
def test_invalid_fields_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        CreateMediaRequest.model_validate(body(**bad))


def test_request_hash_ignores_layout_and_offset_but_not_content() -> None:
    a = spec()
    b = spec(captured_at="2026-11-22T01:30:00Z", sha256=SHA.upper(), mime_type="IMAGE/JPEG")
    c = spec(size_bytes=1235)
    d = spec(labels=["porch"])
    assert a.request_hash() == b.request_hash()
    assert len({a.request_hash(), c.request_hash(), d.request_hash()}) == 3


def test_contract_checks_map_to_their_errors() -> None:
    settings = Settings(max_upload_size_bytes=1000)
    with pytest.raises(UnsupportedMediaType):
        check_contract(spec(mime_type="text/plain"), settings)
    with pytest.raises(PayloadTooLarge):
        check_contract(spec(size_bytes=1001), settings)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with pytest.raises(ValidationError) as info:
        check_contract(spec(captured_at=future, size_bytes=10), settings)
    assert info.value.code == "captured_at_in_future"


@pytest.mark.parametrize("when", ["0999-06-01T00:00:00Z", "1969-12-31T23:59:59Z"])
def test_captures_before_the_earliest_time_are_422(when: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_contract(spec(captured_at=when, size_bytes=10), Settings())
    assert info.value.code == "captured_at_out_of_range"


def test_the_declared_row_is_read_whatever_columns_a_newer_migration_added() -> None:
    # GIVEN the row as `declare_media` returns it, with a column this code does not know yet
    from common.db.repo import media_from_json

    row = {
        "id": "med_01",
        "device_id": "dev-1",
        "captured_at": "2026-11-22T01:30:00+00:00",
        "created_at": "2026-11-22T01:30:05.123456+00:00",
        "deleted_at": None,
        "status": "pending_upload",
        "a_column_from_the_future": 1,
    }
    # WHEN it becomes a MediaObject THEN times are aware datetimes and the unknown column is left
    media = media_from_json(row)
    assert media.captured_at == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    assert media.created_at.microsecond == 123456
    assert (media.status, media.deleted_at) == ("pending_upload", None)
