"""The review view: the demo cameras' events by camera and hour, unreviewed first; one opened
plays at its moment with the box drawn; marked reviewed one and all; a "N new" pill.

Runs after the gallery's tests (it adds a device to the demo user and reviews every event)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import Page, expect
from rich.progress import Progress

from cli.mediactl import upload_one
from cli.samples import sample_path
from emulators.stack import LocalStack

from .support import DEMO_USER, PROCESS_TIMEOUT_SECONDS, Shot, api_for, own


def _events(stack: LocalStack, **query: Any) -> list[dict[str, Any]]:
    owner = api_for(stack, DEMO_USER, "user")
    answer = owner.session.get(
        f"{owner.base_url}/v1/events", params={"limit": 100, **query}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_review_events_open_one_mark_reviewed_and_see_new_ones(
    signed_in: Page, shot: Shot, gallery_stack: LocalStack, demo_media: dict[str, Any]
) -> None:
    page = signed_in
    events = _events(gallery_stack)
    videos = {m["id"] for m in demo_media.values() if m["media_type"] == "video"}
    # an event of a demo video (bikes.mp4: people and cars), its best moment inside the video
    chosen = next(e for e in events if e["best_media_id"] in videos and e["best_time_ms"])

    # WHEN the user opens the review view
    page.get_by_role("link", name="Review").click()
    unreviewed = page.get_by_role("region", name="Unreviewed", exact=True)

    # THEN every event is there, unreviewed, grouped by camera and hour, with snapshot and score
    expect(unreviewed.locator(".review-card")).to_have_count(len(events))
    expect(page.get_by_role("status")).to_have_text(
        f"{len(events)} events, {len(events)} unreviewed"
    )
    groups = unreviewed.locator(".review-group h3").all_inner_texts()
    assert groups
    assert all(re.match(r"^cam-[12] · ", title) for title in groups), groups
    card = page.locator(f'[data-event="{chosen["event_id"]}"]')
    expect(card.locator(".label-chip")).to_have_text(chosen["label"])
    expect(card.locator(".score")).to_have_text(f"{round(chosen['best_score'] * 100)} %")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.review-open img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    starts = unreviewed.locator(".review-card time").evaluate_all(
        "els => els.map(e => e.getAttribute('datetime'))"
    )
    for title in groups:  # within each camera-hour group, newest first
        group = unreviewed.get_by_role("region", name=title, exact=True)
        times = group.locator("time").evaluate_all(
            "els => els.map(e => e.getAttribute('datetime'))"
        )
        assert times == sorted(times, reverse=True)
    assert len(starts) == len(events)
    shot("review")

    # WHEN one event of a video is opened
    card.get_by_role("button", name=re.compile(f"^Open {chosen['label']}")).click()
    player = page.get_by_role("region", name="Event")
    video = player.locator("video")
    expect(video).to_be_visible()
    # THEN it plays from the event's best moment with the object's box drawn
    page.wait_for_function(
        "(ms) => { const v = document.querySelector('.review-player video');"
        " return v && v.readyState >= 2 && Math.abs(v.currentTime * 1000 - ms) < 250; }",
        arg=chosen["best_time_ms"],
    )
    expect(player.locator(".box")).to_have_count(1)
    expect(player.locator(".box .box-label")).to_contain_text(chosen["label"])
    shot("event-opened")

    # WHEN it is marked reviewed THEN it moves to the reviewed section (and the API agrees)
    card.get_by_role("button", name="Mark reviewed").click()
    reviewed = page.get_by_role("region", name="Reviewed", exact=True)
    expect(reviewed.locator(f'[data-event="{chosen["event_id"]}"]')).to_be_visible()
    assert [e["event_id"] for e in _events(gallery_stack, reviewed="true")] == [chosen["event_id"]]

    # WHEN a camera of the user sees a person while the view is open THEN a pill says so
    own(gallery_stack, DEMO_USER, "review-cam")
    with Progress(disable=True) as progress:
        created = upload_one(
            api_for(gallery_stack, "review-cam"),
            sample_path("astronaut.png"),
            "porch",
            None,
            progress,
            captured_at=datetime.now(UTC),  # a live camera's capture: newer than the demo's
        )
    done = api_for(gallery_stack, "review-cam").wait_terminal(
        created["id"], timeout_seconds=PROCESS_TIMEOUT_SECONDS
    )
    assert done["status"] == "processed"
    pill = page.get_by_role("button", name=re.compile(r"^\d+ new$"))
    expect(pill).to_be_visible(timeout=60_000)
    shot("new-events-pill")
    pill.click()
    expect(unreviewed.get_by_role("region", name=re.compile("^porch · "))).to_be_visible()

    # WHEN every event is marked reviewed THEN nothing is left to review
    page.get_by_role("button", name="Mark all reviewed").click()
    expect(unreviewed.get_by_text("All caught up.")).to_be_visible()
    assert _events(gallery_stack, reviewed="false") == []
    shot("all-reviewed")
