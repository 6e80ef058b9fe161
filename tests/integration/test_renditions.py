"""Screen renditions on the real local stack: camera videos browsers cannot play get a playable
MP4, every video a storyboard, every media its grid tiles, large photos a display size; clips of
rendition-only videos; downloads under the original name; the share viewer's data."""

from __future__ import annotations

import io
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pytest
import requests
from PIL import Image
from sqlalchemy import create_engine, text

from cli.samples import camera_format_sample, sample_path
from tests.integration.support import (
    api_for,
    new_device_id,
    post_job,
    upload_file,
    wait_job,
    wait_processed,
)

pytestmark = [pytest.mark.integration, pytest.mark.storage_backends("gcs")]


@pytest.fixture(scope="module")
def formats(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("camera-formats")


def _processed(api: Any, path: Path, **overrides: Any) -> dict[str, Any]:
    created = upload_file(api, path, **overrides)
    wait_processed(api, created["id"], timeout_seconds=240)
    body: dict[str, Any] = api.get(created["id"])
    return body


def _derivative(body: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((d for d in body["derivatives"] if d["kind"] == kind), None)


def _mirror(media_id: str) -> dict[str, Any]:
    from google.cloud import firestore

    client = firestore.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"])
    found = client.collection("media").document(media_id).get().to_dict()
    assert found is not None
    return found


def _streams(data: bytes, tmp: Path) -> dict[str, str]:
    path = tmp / f"{uuid.uuid4().hex}.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        found = {
            s.type: s.codec_context.name for s in container.streams if s.type in ("video", "audio")
        }
        assert sum(1 for _ in container.decode(video=0)) > 10
    return found


@pytest.mark.parametrize(
    ("name", "video_action", "audio"),
    [
        ("bikes-hevc.mp4", "encode", None),
        ("bikes-mjpeg.avi", "encode", "aac"),
        ("bikes-h264.mkv", "copy", "aac"),
        ("bikes-h264.ts", "copy", "aac"),
    ],
)
def test_a_camera_video_gets_a_playable_mp4_with_moov_first(
    local_stack: Any, formats: Path, tmp_path: Path, name: str, video_action: str, audio: str | None
) -> None:
    # GIVEN a camera's recording in a format browsers do not play as it is
    api = api_for(new_device_id())

    # WHEN it is uploaded (declared with its container's type) and processed
    body = _processed(api, camera_format_sample(name, formats))

    # THEN the media plays through its playback rendition: H.264 (+ AAC) in MP4, moov first
    assert body["playback"]["state"] == "rendition", body["playback"]
    assert body["playback"]["reason"]
    playback = _derivative(body, "playback")
    assert playback is not None
    assert playback["mime_type"] == "video/mp4"
    assert playback["details"]["video_action"] == video_action
    data = requests.get(playback["url"], timeout=30).content
    assert data.find(b"moov") < data.find(b"mdat"), "moov must come before the media data"
    streams = _streams(data, tmp_path)
    assert streams.get("video") == "h264"
    assert streams.get("audio") == audio
    assert body["playback"]["url"] == playback["url"]
    # and its progress went to the media's realtime document (what its event stream sends)
    mirrored = _mirror(body["id"])
    assert (mirrored["step"], mirrored["step_progress"]) == ("playback", 1.0)


def test_a_video_browsers_play_keeps_its_original_and_gets_a_storyboard(local_stack: Any) -> None:
    api = api_for(new_device_id())

    body = _processed(api, sample_path("bikes.mp4"))

    assert body["playback"]["state"] == "original"
    assert _derivative(body, "playback") is None
    storyboard = _derivative(body, "storyboard")
    assert storyboard is not None
    index = storyboard["details"]
    assert index["interval_ms"] == 1000
    assert index["times_ms"] == list(range(0, 10_000, 1000))
    sprite = Image.open(io.BytesIO(requests.get(storyboard["url"], timeout=30).content))
    assert sprite.size == (index["columns"] * index["tile_width_px"], index["tile_height_px"])
    # the grid's tiles: WebP and JPEG at 1x and 2x, 4:3
    tiles = {(t["mime_type"], t["density"]): t for t in body["tiles"]}
    assert set(tiles) == {(m, d) for m in ("image/webp", "image/jpeg") for d in (1, 2)}
    assert (tiles["image/webp", 1]["width_px"], tiles["image/webp", 1]["height_px"]) == (320, 240)
    # bikes.mp4 is 640 x 272: its 4:3 centre is 363 x 272, not enlarged to 640 x 480 at 2x
    assert (tiles["image/webp", 2]["width_px"], tiles["image/webp", 2]["height_px"]) == (363, 272)
    webp = Image.open(io.BytesIO(requests.get(tiles["image/webp", 2]["url"], timeout=30).content))
    assert (webp.format, webp.size) == ("WEBP", (363, 272))
    # the listing carries the same tiles
    page = api.session.get(f"{api.list_url}/v1/media", timeout=30).json()
    listed = next(i for i in page["items"] if i["id"] == body["id"])
    assert {(t["mime_type"], t["density"]) for t in listed["tiles"]} == set(tiles)


def test_a_clip_of_a_rendition_only_video_is_cut_from_the_original_as_h264(
    local_stack: Any, formats: Path, tmp_path: Path
) -> None:
    api = api_for(new_device_id())
    source = _processed(api, camera_format_sample("bikes-mjpeg.avi", formats))

    answer = post_job(api, source["id"], "clip", start_ms=1000, duration_ms=2000)
    assert answer.status_code == 202, answer.text
    job = wait_job(api, answer.json()["job_id"], timeout_seconds=180)

    assert job["status"] == "completed", job
    assert job["result"]["path"] == "reencode"
    clip = wait_processed(api, job["result_media_id"])
    assert api.get(clip["id"])["playback"]["state"] == "original"
    data = requests.get(api.download(clip["id"])["url"], timeout=30).content
    assert _streams(data, tmp_path) == {"video": "h264", "audio": "aac"}


def test_a_large_photo_gets_a_display_rendition_and_small_tiles_are_not_enlarged(
    local_stack: Any, tmp_path: Path
) -> None:
    api = api_for(new_device_id())
    big = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 3000), (40, 120, 200)).save(big, quality=95)
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (14, 25), (200, 40, 40)).save(tiny)

    large = _processed(api, big)
    small = _processed(api, tiny)

    display = _derivative(large, "display")
    assert display is not None
    assert (display["mime_type"], display["width_px"], display["height_px"]) == (
        "image/webp",
        1600,
        1200,
    )
    assert _derivative(small, "display") is None, "a small web image is its own display size"
    sizes = {(t["width_px"], t["height_px"]) for t in small["tiles"]}
    assert sizes == {(14, 10)}, "cropped to 4:3, never enlarged"


def test_a_download_is_saved_under_the_original_file_name(local_stack: Any, tmp_path: Path) -> None:
    api = api_for(new_device_id())
    photo = tmp_path / "Holiday photo é.png"
    Image.new("RGB", (64, 48), (10, 200, 10)).save(photo)
    created = upload_file(api, photo, original_filename=photo.name)
    wait_processed(api, created["id"])

    signed = api.download(created["id"])

    query = requests.utils.unquote(signed["url"])
    assert "response-content-disposition=attachment" in query
    assert "filename*=UTF-8''Holiday%20photo%20%C3%A9.png" in query


def _share(api: Any, media_id: str) -> dict[str, Any]:
    answer = api.session.post(
        f"{api.manage_url}/v1/media/{media_id}/shares", json={"ttl_seconds": 3600}, timeout=30
    )
    assert answer.status_code == 201, answer.text
    share: dict[str, Any] = answer.json()
    return share


def _expire(share_id: str) -> None:
    engine = create_engine(os.environ["DATABASE_URL"])
    try:
        with engine.begin() as connection:
            connection.execute(
                text("update shares set expires_at = :t where id = :i"),
                {"t": datetime.now(UTC) - timedelta(minutes=1), "i": share_id},
            )
    finally:
        engine.dispose()


def api_url(api: Any) -> str:
    return str(api.list_url).rstrip("/")


def _view(api: Any, token: str) -> requests.Response:
    return requests.get(f"{api.list_url}/v1/s/{token}/view", timeout=30)


def test_a_share_link_opens_the_viewer_page_with_clear_answers_when_it_does_not(
    local_stack: Any, formats: Path
) -> None:
    owner = api_for(new_device_id())
    media = _processed(
        owner, camera_format_sample("bikes-hevc.mp4", formats), original_filename="bikes-hevc.mp4"
    )
    share = _share(owner, media["id"])

    # without a gallery (WEB_BASE_URL) the link is list_media's; the browser tests open the
    # gallery's viewer page
    assert share["url"].startswith(f"{api_url(owner)}/v1/s/")
    token = share["url"].rsplit("/", 1)[1]
    view = _view(owner, token)
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["name"] == "bikes-hevc.mp4"
    assert body["media_type"] == "video"
    assert body["playable"] is True
    assert body["view_url"] == _derivative(owner.get(media["id"]), "playback")["url"]
    assert "response-content-disposition" in requests.utils.unquote(body["download_url"])

    expired = _share(owner, media["id"])
    _expire(expired["share_id"])
    answer = _view(owner, expired["url"].rsplit("/", 1)[1])
    assert (answer.status_code, answer.json()["code"]) == (410, "share_expired")

    owner.session.delete(f"{owner.manage_url}/v1/shares/{share['share_id']}", timeout=30)
    answer = _view(owner, token)
    assert (answer.status_code, answer.json()["code"]) == (410, "share_revoked")

    answer = _view(owner, "x" * 43)
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
