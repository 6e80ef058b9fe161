"""Jobs from a video's page: a clip and a snapshot, with live progress, opened when done."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .support import PROCESSING_MS, Shot, open_media, record_attribute, seen, tile


def test_a_clip_job_shows_live_progress_and_its_result_appears_in_the_grid(
    signed_in: Page, shot: Shot
) -> None:
    page = signed_in
    open_media(page, "carphone_pristine.mp4")
    tools = page.get_by_role("region", name="Clip and snapshot")
    tools.get_by_label("Clip start").fill("1000")
    tools.get_by_label("Clip end").fill("2500")
    expect(tools.get_by_role("status").filter(has_text="1.5 s")).to_be_visible()
    record_attribute(page, ".job", "data-status")
    shot("range selected")

    tools.get_by_role("button", name="Cut clip").click()

    job = tools.get_by_role("list", name="Jobs").locator("li").first
    expect(job).to_contain_text("clip 0:01.0\u20130:02.5")  # en dash, as shown
    expect(job).to_have_attribute("data-status", "completed", timeout=PROCESSING_MS)
    expect(job.get_by_role("status")).to_have_text("completed 100 %")
    assert job.get_by_role("progressbar").evaluate("p => p.value") == 1
    statuses = seen(page)
    # the answer to the POST says queued; only the job's event stream can say anything after
    assert statuses[0] == "queued", statuses
    assert statuses[-1] == "completed", statuses
    shot("clip done")

    job.get_by_role("link", name="Open clip").click()

    clip_name = "carphone_pristine.mp4 clip 0m01.0s-0m02.5s.mp4"
    expect(page.get_by_role("heading", level=1, name=clip_name)).to_be_visible()
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("Cut from")
    expect(details).to_contain_text("0:01.5")
    page.get_by_role("link", name="← Gallery").click()
    page.get_by_role("group", name="Kind").get_by_role("button", name="Clips").click()
    expect(tile(page, clip_name, "processed")).to_be_visible()
    shot("clip in the grid")


def test_a_snapshot_at_the_playhead_shows_progress_and_opens(signed_in: Page, shot: Shot) -> None:
    page = signed_in
    open_media(page, "bikes.mp4")
    page.get_by_role("region", name="Detections timeline").get_by_role(
        "button", name=re.compile(r"^face.* at ")
    ).first.click()
    tools = page.get_by_role("region", name="Clip and snapshot")
    at = page.locator("video").evaluate("v => Math.round(v.currentTime * 1000)")

    tools.get_by_role("button", name=re.compile(r"^Snapshot at playhead")).click()

    job = tools.get_by_role("list", name="Jobs").locator("li").first
    expect(job).to_have_attribute("data-status", "completed", timeout=PROCESSING_MS)
    expect(job).to_contain_text("snapshot at")
    job.get_by_role("link", name="Open snapshot").click()
    expect(
        page.get_by_role("heading", level=1, name=re.compile(r"^bikes\.mp4 at \dm\d\d\.\ds\.jpg$"))
    ).to_be_visible()
    expect(page.locator("img.media")).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.media').naturalWidth > 0")
    assert at > 0
    shot("snapshot")
