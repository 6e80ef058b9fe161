from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic
import pytest

from common.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from common.settings import Settings
from common.uploads import CreateMediaRequest, check_contract, object_name_for, upload_headers

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


def test_object_name_uses_the_utc_capture_date() -> None:
    request = CreateMediaRequest.model_validate(body())
    # 23:30 at -02:00 is 01:30 UTC the next day
    assert object_name_for("dev-1", request) == "dev-1/front/2026-11-22/msg-0001.jpg"


@pytest.mark.parametrize(
    "bad",
    [
        {"sha256": "z" * 64},
        {"sha256": "a" * 63},
        {"md5": "not-base64-at-all-xxxxx="},
        {"md5": "AAAA"},
        {"captured_at": "2026-11-21T23:30:00"},  # naive: no offset
        {"camera_id": "../etc"},
        {"message_id": "a/b"},
        {"size_bytes": 0},
        {"unexpected": 1},
    ],
)
def test_invalid_fields_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        CreateMediaRequest.model_validate(body(**bad))


def test_request_hash_ignores_layout_and_offset_but_not_content() -> None:
    a = CreateMediaRequest.model_validate(body())
    b = CreateMediaRequest.model_validate(
        body(captured_at="2026-11-22T01:30:00Z", sha256=SHA.upper(), mime_type="IMAGE/JPEG")
    )
    c = CreateMediaRequest.model_validate(body(size_bytes=1235))
    assert a.request_hash() == b.request_hash()
    assert a.request_hash() != c.request_hash()


def test_contract_checks_map_to_their_errors() -> None:
    settings = Settings(max_upload_size_bytes=1000)
    with pytest.raises(UnsupportedMediaType):
        check_contract(CreateMediaRequest.model_validate(body(mime_type="text/plain")), settings)
    with pytest.raises(PayloadTooLarge):
        check_contract(CreateMediaRequest.model_validate(body(size_bytes=1001)), settings)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with pytest.raises(ValidationError) as info:
        check_contract(
            CreateMediaRequest.model_validate(body(captured_at=future, size_bytes=10)), settings
        )
    assert info.value.code == "captured_at_in_future"


def test_signed_headers_pin_md5_exact_length_and_no_overwrite() -> None:
    headers = upload_headers(CreateMediaRequest.model_validate(body()))
    assert headers == {
        "Content-MD5": MD5,
        "x-goog-content-length-range": "1234,1234",
        "x-goog-if-generation-match": "0",
    }
