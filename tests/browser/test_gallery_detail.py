"""A medium's page: detections on a clickable timeline, labels and note edited in place."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from emulators.stack import LocalStack

from .support import DEMO_USER, ConsoleWatch, Shot, api_for, open_media


def test_a_video_shows_its_detections_at_the_frames_of_a_clickable_timeline(
    signed_in: Page, shot: Shot, demo_media: dict[str, Any]
) -> None:
    page = signed_in
    open_media(page, "bikes.mp4")
    timeline = page.get_by_role("region", name="Detections timeline")
    face_frames = {
        d["time_ms"] for d in demo_media["bikes.mp4"]["detections"] if d["label"] == "face"
    }
    assert face_frames, "the demo video has faces"

    tick = timeline.get_by_role("button", name=re.compile(r"\bface\b.* at ")).first
    tick.click()

    video = page.locator("video")
    expect(page.get_by_role("img", name="face box")).to_be_visible()
    state = video.evaluate("v => ({paused: v.paused, ms: v.currentTime * 1000})")
    assert state["paused"]
    assert min(abs(state["ms"] - t) for t in face_frames) < 50, state
    frame = int(page.locator(".stage").get_attribute("data-frame") or -1)
    assert frame in face_frames
    shot("face frame")

    timeline.get_by_role("button", name=re.compile(r"^person track")).first.click()

    expect(page.get_by_role("img", name="person box")).to_be_visible()
    shot("person track")


def test_labels_and_note_are_edited_in_place_and_a_stale_edit_is_refused(
    signed_in: Page,
    console: ConsoleWatch,
    shot: Shot,
    gallery_stack: LocalStack,
    demo_media: dict[str, Any],
) -> None:
    page = signed_in
    open_media(page, "camera.png")
    editor = page.get_by_role("region", name="Labels and note")

    editor.get_by_label("New label").fill("tripod")
    editor.get_by_label("New label").press("Enter")
    editor.get_by_label("Note").fill("the man at the tripod")
    editor.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    page.reload()
    editor = page.get_by_role("region", name="Labels and note")
    expect(editor.get_by_role("list", name="Labels")).to_contain_text("tripod")
    expect(editor.get_by_label("Note")).to_have_value("the man at the tripod")
    shot("saved")

    # GIVEN someone else changes the note after this page loaded it
    other = api_for(gallery_stack, DEMO_USER, "user")
    media_id = demo_media["camera.png"]["id"]
    etag = other.session.get(f"{other.base_url}/v1/media/{media_id}", timeout=30).headers["ETag"]
    changed = other.session.patch(
        f"{other.base_url}/v1/media/{media_id}",
        json={"note": "changed elsewhere"},
        headers={"If-Match": etag},
        timeout=30,
    )
    assert changed.status_code == 200
    console.expect(r"status of 412")

    # WHEN this page saves its own edit with the ETag it loaded
    editor.get_by_label("New label").fill("mine")
    editor.get_by_role("button", name="Save").click()

    # THEN it is refused, says so with the API's code, and offers the other change
    alert = page.get_by_role("alert").filter(has_text="precondition_failed")
    expect(alert).to_contain_text("Someone else changed this media")
    shot("stale edit refused")
    alert.get_by_role("button", name="Load their change").click()
    expect(page.get_by_role("region", name="Labels and note").get_by_label("Note")).to_have_value(
        "changed elsewhere"
    )
