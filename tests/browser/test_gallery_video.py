"""Every video plays: camera formats through their playable version, a storyboard on the
timeline, an explanation instead of a spinner; and boxes that stay true between samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from playwright.sync_api import Page, expect

from cli.samples import camera_format_sample
from emulators.stack import LocalStack

from .support import (
    PROCESSING_MS,
    ConsoleWatch,
    Shot,
    new_owned_device,
    sql,
    upload_processed,
)


def _plays(page: Page) -> dict[str, Any]:
    """Play the detail's video for a moment; what the element reports."""
    video = page.locator("video")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function(
        "() => { const v = document.querySelector('video'); return v.currentTime > 0.5 && v.videoWidth > 0; }",
        timeout=PROCESSING_MS,
    )
    state: dict[str, Any] = video.evaluate(
        "v => ({width: v.videoWidth, error: v.error && v.error.code, src: v.currentSrc})"
    )
    return state


@pytest.mark.parametrize("name", ["bikes-hevc.mp4", "bikes-mjpeg.avi"])
def test_an_hevc_and_an_avi_upload_play_in_the_gallery(
    signed_in: Page, shot: Shot, gallery_stack: LocalStack, tmp_path: Path, name: str
) -> None:
    # GIVEN a camera's HEVC MP4 / Motion JPEG AVI, which Chromium cannot play as it is
    device = new_owned_device(gallery_stack, "formats")
    media = upload_processed(gallery_stack, device, camera_format_sample(name, tmp_path))
    page = signed_in

    # WHEN the person opens it
    page.goto(f"/media/{media['id']}")
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()

    # THEN it plays, through its playable version
    player = page.locator(".player")
    expect(player).to_have_attribute("data-playback", "rendition")
    state = _plays(page)
    assert (state["width"], state["error"]) == (640, None), state
    assert "/playback.mp4" in state["src"]
    expect(page.get_by_role("region", name="Details")).to_contain_text("through a playable version")
    shot(f"{name} playing")

    # and hovering the timeline shows the storyboard's frame of that time
    bar = page.locator(".timeline-bar")
    box = bar.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    preview = page.locator(".storyboard-preview")
    expect(preview).to_be_visible()
    assert 2000 <= int(preview.get_attribute("data-ms") or -1) <= 2600
    assert "storyboard.jpg" in (page.locator(".storyboard-frame").get_attribute("style") or "")
    shot(f"{name} storyboard")


def test_a_video_no_browser_plays_is_explained_not_spun(
    signed_in: Page, console: ConsoleWatch, shot: Shot, gallery_stack: LocalStack, tmp_path: Path
) -> None:
    # GIVEN an HEVC video processed before playable versions existed (no rendition, nothing
    # known about playing it): the case of the endless spinner
    device = new_owned_device(gallery_stack, "old")
    media = upload_processed(
        gallery_stack, device, camera_format_sample("bikes-hevc.mp4", tmp_path)
    )
    sql(
        gallery_stack,
        "delete from derivatives where media_id = :m and kind = 'playback'",
        m=media["id"],
    )
    sql(
        gallery_stack,
        "update media_objects set analysis = analysis - 'playback' where id = :m",
        m=media["id"],
    )
    console.expect(r"MEDIA_ERR|PIPELINE_ERROR|DEMUXER_ERROR|Failed to load resource")
    page = signed_in

    page.goto(f"/media/{media['id']}")

    # THEN after the browser fails to decode it, the page says so and offers the original
    explanation = page.get_by_role("status").filter(has_text="cannot be played in this browser")
    expect(explanation).to_be_visible(timeout=30_000)
    expect(explanation).to_contain_text("HEVC")
    expect(explanation.get_by_role("button", name="Download original")).to_be_visible()
    expect(page.locator("video")).to_have_count(0)
    shot("explained")


def test_preparing_a_playable_version_is_said_while_it_is_made(
    signed_in: Page, shot: Shot, gallery_stack: LocalStack, tmp_path: Path
) -> None:
    device = new_owned_device(gallery_stack, "prep")
    media = upload_processed(gallery_stack, device, camera_format_sample("bikes-h264.ts", tmp_path))
    page = signed_in
    # the detail as it is answered while processing makes the rendition (once); the real media
    # stream then says `processed` and the view loads again
    preparing = {
        **media,
        "status": "processing",
        "playback": {"state": "preparing", "reason": None, "url": None, "mime_type": None},
    }
    page.route(
        f"**/v1/media/{media['id']}",
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps(preparing),
            headers={
                "ETag": '"x"',
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "ETag",
            },
        ),
        times=1,
    )

    page.goto(f"/media/{media['id']}")

    expect(
        page.get_by_role("status").filter(has_text="Preparing a playable version")
    ).to_be_visible()
    shot("preparing")
    expect(page.locator(".player")).to_have_attribute("data-playback", "rendition", timeout=30_000)
    assert _plays(page)["error"] is None


# ----------------------------------------------------------------------------- boxes on video
WIDTH, HEIGHT, FPS, SIDE = 320, 240, 10, 40
SPEED_PX_PER_S = 80
GONE_AT_S = 3.2


def square_x(t_s: float) -> float:
    """Where the white square of the synthetic video is at `t_s` (its left edge, px)."""
    return SPEED_PX_PER_S * t_s


def moving_square_video(path: Path) -> Path:
    """5 s: a 40 px white square crossing a dark frame at 80 px/s, gone from 3.2 s on."""
    with av.open(str(path), mode="w") as output:
        stream: Any = output.add_stream(
            "libx264", rate=FPS, options={"preset": "ultrafast", "g": "10"}
        )
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for index in range(5 * FPS):
            t = index / FPS
            picture = np.full((HEIGHT, WIDTH, 3), 20, dtype=np.uint8)
            if t < GONE_AT_S:
                x = round(square_x(t))
                picture[100 : 100 + SIDE, x : x + SIDE] = 255
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return path


def _box_x_px(page: Page) -> list[float]:
    """Left edges of the boxes drawn now, in pixels of the video."""
    found: list[float] = page.evaluate(
        """([width]) => {
            const stage = document.querySelector('.stage').getBoundingClientRect();
            return [...document.querySelectorAll('.boxes .box')].map(
                (b) => ((b.getBoundingClientRect().left + 2 - stage.left) / stage.width) * width);
        }""",
        [WIDTH],
    )
    return found


def _seek(page: Page, seconds: float) -> None:
    # the page's own `seeked` listener (added first) draws before this one resolves
    page.locator("video").evaluate(
        "(v, t) => new Promise((done) => { v.pause(); v.addEventListener('seeked', done, {once: true}); v.currentTime = t; })",
        seconds,
    )


def test_a_box_follows_its_object_between_samples_and_disappears_when_it_leaves(
    signed_in: Page, shot: Shot, gallery_stack: LocalStack, tmp_path: Path
) -> None:
    # GIVEN a video of a square crossing the frame, and its detections as a detector sampling
    # every second reports them (seeded: the detectors look for faces and people, not squares)
    device = new_owned_device(gallery_stack, "boxes")
    media = upload_processed(gallery_stack, device, moving_square_video(tmp_path / "square.mp4"))
    sql(gallery_stack, "delete from detections where media_id = :m", m=media["id"])
    sql(gallery_stack, "delete from tracks where media_id = :m", m=media["id"])
    for t_ms in (0, 1000, 2000, 3000):
        sql(
            gallery_stack,
            "insert into detections (media_id, label, score, x, y, w, h, time_ms, model, track_id) "
            "values (:m, 'person', 0.9, :x, 100, 40, 40, :t, 'seeded', 1)",
            m=media["id"],
            x=round(square_x(t_ms / 1000)),
            t=t_ms,
        )
    sql(
        gallery_stack,
        "insert into tracks (media_id, track_id, label, first_ms, last_ms, best_score, median_score, "
        "best_time_ms, x, y, w, h, boxes, model) values "
        "(:m, 1, 'person', 0, 3000, 0.9, 0.9, 1000, 80, 100, 40, 40, 4, 'seeded')",
        m=media["id"],
    )
    sql(
        gallery_stack,
        """update media_objects set analysis = analysis || '{"detect_interval_ms": 1000}'::jsonb where id = :m""",
        m=media["id"],
    )
    page = signed_in
    page.goto(f"/media/{media['id']}")
    expect(page.locator("video")).to_be_visible()

    # WHEN the playhead is between two samples, THEN the box is where the square is
    _seek(page, 1.5)
    boxes = _box_x_px(page)
    assert len(boxes) == 1, boxes
    assert abs(boxes[0] - square_x(1.5)) <= 3, (boxes, square_x(1.5))
    shot("between samples")

    # WHEN the square has left (after its last sample, beyond half an interval), THEN no box
    _seek(page, 3.7)
    assert _box_x_px(page) == []
    shot("after it left")
