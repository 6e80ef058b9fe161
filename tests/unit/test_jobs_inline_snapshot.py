"""Inline snapshots: data URLs, MIME sniffing, size limits and the shared declaration path."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

from common import snapshots
from common.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from common.snapshots import create_inline_snapshot, decode_data_url, sniff_image_type


def encoded(image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format=image_format)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("image_format", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_real_images_are_sniffed_from_their_bytes(image_format: str, mime: str) -> None:
    assert sniff_image_type(encoded(image_format)) == mime


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello world",
        b"GIF89a......",
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
        b"\xff\xd8",
        b"%PDF-1.7",
    ],
)
def test_other_bytes_are_not_images(data: bytes) -> None:
    assert sniff_image_type(data) is None


def data_url(data: bytes, declared: str = "image/jpeg") -> str:
    return f"data:{declared};base64," + base64.b64encode(data).decode()


def test_data_url_gives_bytes_and_the_declared_type() -> None:
    png = encoded("PNG")
    assert decode_data_url(data_url(png, "IMAGE/JPEG"), 10_000) == (png, "image/jpeg")
    assert decode_data_url("data:;base64," + base64.b64encode(png).decode(), 10_000) == (png, None)
    wrapped = "data:image/png;name=x.png;base64," + base64.encodebytes(png).decode()  # newlines
    assert decode_data_url(wrapped, 10_000) == (png, "image/png")


@pytest.mark.parametrize(
    "value",
    ["image/jpeg;base64,AAAA", "data:image/jpeg,raw-not-base64", "data:image/jpeg;base64,@@@"],
)
def test_malformed_data_urls_are_422(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_data_url(value, 10_000)
    assert caught.value.code == "invalid_frame_data"


def test_size_limit_is_on_decoded_bytes_and_checked_before_decoding() -> None:
    limit = 3000
    assert len(decode_data_url(data_url(b"\xff" * limit), limit)[0]) == limit
    with pytest.raises(PayloadTooLarge):
        decode_data_url(data_url(b"\xff" * (limit + 1)), limit)
    # far too big and not even base64: refused for its size, without decoding it
    with pytest.raises(PayloadTooLarge):
        decode_data_url("data:image/jpeg;base64," + "@" * 10 * limit, limit)


@pytest.fixture
def declared(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Stand-ins for the database and storage halves; records what they were given."""
    calls: list[Any] = []

    def declare_media(device_id: str, request: Any, *, extra: Any = None) -> tuple[Any, bool]:
        calls.append(("declare", device_id, request, extra))
        row = SimpleNamespace(
            id="med_01", status="pending_upload", bucket="uploads", object_name="o", gcs_uri="gs://"
        )
        return row, True

    def write_new_object(bucket: str, name: str, data: bytes, content_type: str) -> int:
        calls.append(("write", bucket, name, data, content_type))
        return 1

    monkeypatch.setattr("common.uploads.declare_media", declare_media)
    monkeypatch.setattr("common.job_results.write_new_object", write_new_object)
    return calls


def body(frame_data: str, **overrides: Any) -> dict[str, Any]:
    base = {
        "camera_id": "cam-1",
        "message_id": "snap-1",
        "captured_at": datetime.now(UTC).isoformat(),
        "frame_data": frame_data,
        "labels": ["person"],
        "note": "door",
    }
    base.update(overrides)
    return base


def test_png_sent_as_jpeg_is_declared_and_stored_as_png(declared: list[Any]) -> None:
    png = encoded("PNG")
    result = create_inline_snapshot("dev-1", body(data_url(png, "image/jpeg")))
    assert result.created
    assert result.body["mime_type"] == "image/png"
    assert result.body["declared_mime_type"] == "image/jpeg"
    (_, device, request, extra), (_, bucket, name, data, content_type) = declared
    assert device == "dev-1"
    assert request.mime_type == "image/png"
    assert request.size_bytes == len(png)
    assert request.sha256 == hashlib.sha256(png).hexdigest()
    assert base64.b64decode(request.md5) == hashlib.md5(png).digest()
    assert extra == {"labels": ["person"], "note": "door", "kind": "snapshot"}
    assert (bucket, name, data, content_type) == ("uploads", "o", png, "image/png")


def test_text_is_415_and_nothing_is_declared(declared: list[Any]) -> None:
    with pytest.raises(UnsupportedMediaType):
        create_inline_snapshot("dev-1", body(data_url(b"just some text")))
    assert declared == []


def test_frame_over_the_configured_limit_is_413(
    declared: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_INLINE_SNAPSHOT_BYTES", "1000")
    snapshots.get_settings.cache_clear()
    with pytest.raises(PayloadTooLarge):
        create_inline_snapshot("dev-1", body(data_url(b"\xff\xd8\xff" + b"\x00" * 1000)))
    assert declared == []


@pytest.mark.parametrize(
    "change",
    [
        {"labels": [""]},
        {"labels": ["x" * 65]},
        {"labels": "person"},
        {"camera_id": "../x"},
        {"extra": 1},
    ],
)
def test_bad_fields_are_422(declared: list[Any], change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        create_inline_snapshot("dev-1", body(data_url(encoded("JPEG")), **change))
    assert declared == []
