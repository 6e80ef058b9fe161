"""Inline snapshots: data URLs, MIME sniffing, size limits and the shared declaration path."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pydantic
import pytest
from PIL import Image

from common.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from common.media.snapshots import (
    INLINE_IMAGE_TYPES,
    InlineSnapshotRequest,
    create_inline_snapshot,
    decode_data_url,
)
from common.media.sniff import sniff_mime


def sniff_image_type(data: bytes) -> str | None:
    mime = sniff_mime(data)
    return mime if mime in INLINE_IMAGE_TYPES else None


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
    """Stands in for the ingest path (database and storage); records what it was given."""
    calls: list[Any] = []

    def ingest_bytes(session: Any, spec: Any, data: bytes, **options: Any) -> Any:
        calls.append((spec, data))
        return SimpleNamespace(media=SimpleNamespace(id="med_01"), created=True, outcome=None)

    monkeypatch.setattr("common.media.snapshots.ingest_bytes", ingest_bytes)
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


def create(data: dict[str, Any]) -> Any:
    request = InlineSnapshotRequest.model_validate(data)
    return create_inline_snapshot(
        None,  # type: ignore[arg-type]  # ingest_bytes is replaced: no database
        "dev-1",
        request,
        created_by="device:dev-1",
        event_id=None,
    )


def test_png_sent_as_jpeg_is_declared_and_stored_as_png(declared: list[Any]) -> None:
    png = encoded("PNG")
    ingested, declared_type = create(body(data_url(png, "image/jpeg")))
    assert ingested.created
    assert declared_type == "image/jpeg"
    ((spec, data),) = declared
    assert data == png
    assert spec.device_id == "dev-1"
    assert spec.kind == "snapshot"
    assert spec.mime_type == "image/png"
    assert spec.size_bytes == len(png)
    assert spec.sha256 == hashlib.sha256(png).hexdigest()
    assert base64.b64decode(spec.md5) == hashlib.md5(png).digest()
    assert (spec.labels, spec.note) == (["person"], "door")


def test_text_is_415_and_nothing_is_declared(declared: list[Any]) -> None:
    with pytest.raises(UnsupportedMediaType):
        create(body(data_url(b"just some text")))
    assert declared == []


def test_frame_over_the_configured_limit_is_413(
    declared: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from common.core.settings import get_settings

    monkeypatch.setenv("MAX_INLINE_SNAPSHOT_BYTES", "1000")
    get_settings.cache_clear()
    with pytest.raises(PayloadTooLarge):
        create(body(data_url(b"\xff\xd8\xff" + b"\x00" * 1000)))
    assert declared == []


@pytest.mark.parametrize(
    "change",
    [
        {"labels": [""]},
        {"labels": ["x" * 65]},
        {"labels": "person"},
        {"camera_id": "../x"},
        {"extra": 1},
        {"captured_at": 1764000000},
    ],
)
def test_bad_fields_are_refused(declared: list[Any], change: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        create(body(data_url(encoded("JPEG")), **change))
    assert declared == []
