"""The pipeline end to end on the real local stack: functions over HTTP, real emulators and Postgres."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from cli.samples import sample_path
from tests.integration.support import (
    api_for,
    db_rows,
    declaration,
    facts_for_bytes,
    new_device_id,
    post_create,
    store,
    stored_object,
    upload_file,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def device(local_stack: Any) -> str:
    return new_device_id()


def test_image_goes_from_declaration_to_processed_with_a_face(device: str) -> None:
    # GIVEN a device with a real photo
    api = api_for(device)
    path = sample_path("astronaut.png")
    # WHEN it declares and uploads it through the signed URL
    created = upload_file(api, path, reason="motion")
    body = api.wait_terminal(created["id"], timeout_seconds=120)
    # THEN it is processed, its bytes verified, a face detected and a thumbnail served
    assert body["status"] == "processed", body
    assert body["verified"]["sha256_matches"] is True
    assert body["verified"]["size_bytes"] == path.stat().st_size
    assert len(body["verified"]["sampling_id"]) == 16
    assert (body["properties"]["width_px"], body["properties"]["height_px"]) == (512, 512)
    assert any(d["label"] == "face" for d in body["detections"])
    thumbnail = next(d for d in body["derivatives"] if d["kind"] == "thumbnail")
    fetched = requests.get(thumbnail["url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.content[:3] == b"\xff\xd8\xff"  # JPEG
    history = db_rows(
        "select from_status, to_status from status_history where media_id = :id order by id",
        id=created["id"],
    )
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "pending_upload"),
        ("pending_upload", "uploaded"),
        ("uploaded", "verified"),
        ("verified", "processing"),
        ("processing", "processed"),
    ]


def test_video_is_probed_sampled_and_gets_a_poster(device: str) -> None:
    api = api_for(device)
    created = upload_file(api, sample_path("carphone_pristine.mp4"))
    body = api.wait_terminal(created["id"], timeout_seconds=180)
    assert body["status"] == "processed", body
    assert body["media_type"] == "video"
    assert body["properties"]["video_codec"] == "h264"
    assert 3500 <= body["properties"]["duration_ms"] <= 4500
    assert {d["kind"] for d in body["derivatives"]} == {
        "poster",
        "thumbnail",
        "storyboard",
        "tile",
        "tile_2x",
        "tile_webp",
        "tile_webp_2x",
    }
    assert body["detections"], "the talking face should be found in sampled frames"
    assert all(d["time_ms"] is not None for d in body["detections"])


@pytest.mark.parametrize(
    ("name", "mode", "web_type", "web_magic"),
    [
        ("scan.tiff", "RGB", "image/jpeg", b"\xff\xd8\xff"),
        ("logo.gif", "P", "image/png", b"\x89PNG"),
    ],
)
def test_formats_browsers_do_not_all_show_get_a_web_rendition(
    device: str, tmp_path: Path, name: str, mode: str, web_type: str, web_magic: bytes
) -> None:
    from PIL import Image

    # GIVEN a camera photo saved as TIFF (opaque) or a palette GIF
    path = tmp_path / name
    with Image.open(sample_path("astronaut.png")) as photo:
        photo.convert("RGB").convert(mode).save(path)
    api = api_for(device)
    # WHEN the device uploads it
    created = upload_file(api, path)
    body = api.wait_terminal(created["id"], timeout_seconds=120)
    # THEN it is processed with a face, and a "web" rendition browsers show is served beside the
    # untouched original: JPEG for the opaque TIFF, PNG (keeps the palette) for the GIF
    assert body["status"] == "processed", body
    assert body["mime_type"] == mimetypes.guess_type(name)[0]
    assert any(d["label"] == "face" for d in body["detections"])
    web = next(d for d in body["derivatives"] if d["kind"] == "web")
    assert (web["mime_type"], web["width_px"], web["height_px"]) == (web_type, 512, 512)
    fetched = requests.get(web["url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.content.startswith(web_magic)
    original = requests.get(api.download(created["id"])["url"], timeout=10)
    assert (
        hashlib.sha256(original.content).hexdigest()
        == hashlib.sha256(path.read_bytes()).hexdigest()
    )


def test_an_image_over_the_pixel_limit_fails_too_large_without_decoding(
    device: str, tmp_path: Path
) -> None:
    from PIL import Image

    # GIVEN a small PNG file of 9500 x 9500 pixels (one colour: over Pillow's 89.5 MP limit)
    path = tmp_path / "huge.png"
    Image.new("L", (9500, 9500), 128).save(path)
    api = api_for(device)
    # WHEN the device uploads it
    created = upload_file(api, path)
    body = api.wait_terminal(created["id"], timeout_seconds=120)
    # THEN it ends failed with a reason people can act on, its bytes verified and kept
    assert body["status"] == "failed", body
    assert body["status_reason_code"] == "too_large"
    assert "9500 x 9500 pixels" in body["status_reason"]
    assert body["verified"]["sha256_matches"] is True


@pytest.mark.storage_backends("gcs")  # Cloud Storage's signed headers; S3's below
def test_signed_url_pins_the_upload_contract(device: str, tmp_path: Path) -> None:
    facts = facts_for_bytes(tmp_path, b"\xff\xd8\xff" + b"x" * 500, "a.jpg")
    response = post_create(api_for(device), declaration(facts))
    assert response.status_code == 201
    upload = response.json()["upload"]
    signed = parse_qs(urlparse(upload["url"]).query)["X-Goog-SignedHeaders"][0].split(";")
    assert {
        "content-md5",
        "content-type",
        "x-goog-content-length-range",
        "x-goog-if-generation-match",
        "host",
    } <= set(signed)
    assert (
        upload["headers"]["x-goog-content-length-range"] == f"{facts.size_bytes},{facts.size_bytes}"
    )
    assert upload["headers"]["x-goog-if-generation-match"] == "0"
    assert upload["headers"]["Content-MD5"] == facts.md5


@pytest.mark.storage_backends("s3")  # S3's signed headers; Cloud Storage's above
def test_presigned_put_pins_the_upload_contract(device: str, tmp_path: Path) -> None:
    # GIVEN a declaration
    data = b"\xff\xd8\xff" + os.urandom(500)
    facts = facts_for_bytes(tmp_path, data, "a.jpg")
    response = post_create(api_for(device), declaration(facts))
    assert response.status_code == 201
    upload = response.json()["upload"]
    # THEN the presigned PUT signs every header of the contract (moto checks no signature, so
    # this is the check that the URL pins them; S3 refuses a request without them)
    query = parse_qs(urlparse(upload["url"]).query)
    signed = query["X-Amz-SignedHeaders"][0].split(";")
    assert {
        "content-length",
        "content-md5",
        "content-type",
        "host",
        "if-none-match",
        "x-amz-checksum-sha256",
    } <= set(signed)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    headers = upload["headers"]
    assert headers["Content-Length"] == str(facts.size_bytes)
    assert headers["Content-MD5"] == facts.md5
    assert headers["If-None-Match"] == "*"
    assert base64.b64decode(headers["x-amz-checksum-sha256"]) == hashlib.sha256(data).digest()
    # AND the PUT with exactly those headers is stored; a second one is refused (moto enforces
    # If-None-Match), so a signed upload never overwrites
    first = requests.put(upload["url"], data=data, headers=headers, timeout=10)
    second = requests.put(upload["url"], data=data, headers=headers, timeout=10)
    assert (first.status_code, second.status_code) == (200, 412)
    assert first.headers["x-amz-version-id"]


def test_fifty_concurrent_identical_creates_make_one_row(device: str, tmp_path: Path) -> None:
    api = api_for(device)
    body = declaration(facts_for_bytes(tmp_path, os.urandom(4096), "c.jpg"))
    with ThreadPoolExecutor(max_workers=25) as pool:
        responses = list(pool.map(lambda _: post_create(api, body), range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1
    assert statuses.count(200) == 49
    assert len({r.json()["id"] for r in responses}) == 1
    rows = db_rows("select count(*) as n from media_objects where device_id = :d", d=device)
    assert rows[0]["n"] == 1


def test_replay_with_a_changed_body_is_409(device: str, tmp_path: Path) -> None:
    api = api_for(device)
    body = declaration(facts_for_bytes(tmp_path, os.urandom(2048), "r.jpg"))
    first = post_create(api, body)
    again = post_create(api, body)
    changed = post_create(api, {**body, "reason": "something else"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["upload"]  # still pending: a fresh URL
    assert changed.status_code == 409
    assert changed.json()["code"] == "idempotency_conflict"


def test_tampered_upload_is_rejected_and_quarantined(device: str, tmp_path: Path) -> None:
    # GIVEN a declaration for some bytes
    api = api_for(device)
    declared = os.urandom(8192)
    created = post_create(api, declaration(facts_for_bytes(tmp_path, declared, "t.jpg"))).json()
    # WHEN other bytes of the same size land at the object name (written past the signed URL)
    tampered = bytearray(declared)
    tampered[4000] ^= 0xFF
    where = stored_object(created["id"])
    bucket, name = where["bucket"], where["name"]
    store().write(bucket, name, bytes(tampered), "image/jpeg")
    body = api.wait_terminal(created["id"], timeout_seconds=60)
    # THEN the media is rejected with the reason and the bytes are moved to quarantine
    assert body["status"] == "rejected"
    assert body["status_reason_code"] == "sha256_mismatch"
    assert "SHA-256" in body["status_reason"]
    assert store().stat(bucket, name) is None
    (quarantined,) = store().list(bucket, f"quarantine/{name}")
    assert b"".join(store().read_range(bucket, quarantined.name, None, 0, None)) == bytes(tampered)


def test_corrupt_image_ends_failed_once_without_retries(device: str, tmp_path: Path) -> None:
    api = api_for(device)
    garbage = b"\x89PNG\r\n\x1a\n" + os.urandom(5000)
    facts = facts_for_bytes(tmp_path, garbage, "broken.png")
    created = post_create(api, declaration(facts)).json()
    api.put_bytes(created["upload"], facts, lambda _: None)
    body = api.wait_terminal(created["id"], timeout_seconds=60)
    assert body["status"] == "failed"
    assert body["status_reason_code"] == "undecodable"
    assert "/tmp" not in body["status_reason"]
    # verified once, processed once: the failure was acknowledged, not redelivered
    history = db_rows(
        "select to_status from status_history where media_id = :id order by id", id=created["id"]
    )
    assert [h["to_status"] for h in history] == [
        "pending_upload",
        "uploaded",
        "verified",
        "processing",
        "failed",
    ]


def test_other_devices_media_is_not_found_and_bad_tokens_are_401(device: str) -> None:
    owner = api_for(device)
    created = upload_file(owner, sample_path("camera.png"))
    intruder = api_for(new_device_id())
    for path in (
        f"/v1/media/{created['id']}",
        f"/v1/media/{created['id']}/download",
        f"/v1/devices/{device}/media",
    ):
        response = intruder.session.get(intruder.list_url + path, timeout=10)
        assert response.status_code == 404, path
        assert response.json()["code"] in ("not_found",)
    for header in ("Bearer nonsense", "Basic Zm9vOmJhcg==", ""):
        response = requests.get(
            f"{owner.list_url}/v1/devices/{device}/media",
            headers={"Authorization": header},
            timeout=10,
        )
        assert response.status_code == 401
        assert response.json()["code"] in ("invalid_token", "missing_token")


def test_owner_user_sees_the_device_and_download_is_the_verified_bytes(device: str) -> None:
    api = api_for(device)
    path = sample_path("camera.png")
    created = upload_file(api, path)
    assert api.wait_terminal(created["id"], timeout_seconds=120)["status"] == "processed"
    user = f"user-{device}"
    stranger = api_for(f"stranger-{device}", "user")
    assert (
        stranger.session.get(
            f"{stranger.list_url}/v1/media/{created['id']}", timeout=10
        ).status_code
        == 404
    )
    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(
            text("insert into device_owners (user_id, device_id) values (:u, :d)"),
            {"u": user, "d": device},
        )
    engine.dispose()
    viewer = api_for(user, "user")
    assert [i["id"] for i in viewer.list(device)["items"]] == [created["id"]]
    signed = viewer.download(created["id"])
    assert requests.get(signed["url"], timeout=10).content == path.read_bytes()


def test_listing_is_newest_capture_first_with_a_cursor(device: str, tmp_path: Path) -> None:
    api = api_for(device)
    ids = []
    for hour in (3, 1, 2, 0):
        facts = facts_for_bytes(tmp_path, os.urandom(100 + hour), f"l{hour}.jpg")
        response = post_create(api, declaration(facts, captured_at=f"2026-11-20T0{hour}:00:00Z"))
        ids.append((hour, response.json()["id"]))
    expected = [media_id for _, media_id in sorted(ids, reverse=True)]
    first = api.list(device, limit=3)
    second = api.list(device, limit=3, cursor=first["next_cursor"])
    assert [i["id"] for i in first["items"]] + [i["id"] for i in second["items"]] == expected
    assert second["next_cursor"] is None
    bad = api.session.get(
        f"{api.list_url}/v1/devices/{device}/media", params={"cursor": "zzz"}, timeout=10
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")


@pytest.mark.storage_backends("gcs")  # refused before any storage call
@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"mime_type": "application/pdf"}, 415, "unsupported_media_type"),
        ({"size_bytes": 10**13}, 413, "payload_too_large"),
        ({"sha256": "nothex"}, 422, "validation_failed"),
        ({"captured_at": "2999-01-01T00:00:00Z"}, 422, "captured_at_in_future"),
    ],
)
def test_bad_declarations_get_clear_errors(
    device: str, tmp_path: Path, change: dict[str, Any], status: int, code: str
) -> None:
    api = api_for(device)
    body = declaration(facts_for_bytes(tmp_path, b"abc", "e.jpg"), **change)
    response = post_create(api, body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert (
        db_rows("select count(*) as n from media_objects where device_id = :d", d=device)[0]["n"]
        == 0
    )
    not_json = api.session.post(f"{api.create_url}/v1/media", data=b"{nope", timeout=10)
    assert (not_json.status_code, not_json.json()["code"]) == (400, "invalid_json")
