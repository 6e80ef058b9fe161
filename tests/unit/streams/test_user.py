"""What the per-user stream sends: event types by feed, camera filter, deletions, cursors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cli.client import parse_sse, sse_lines
from common.streams.hub import Version, micros
from common.streams.user import (
    UserFeed,
    UserStream,
    decode_cursor,
    encode_cursor,
    merge_since,
    ready_event,
    reset_event,
)

AT = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)


def media(doc_id: str, seq: int, camera: str = "front", deleted: bool = False) -> Version:
    data = {"device_id": "dev-1", "camera_id": camera, "status": "processing", "seq": seq}
    return Version("media", doc_id, seq, AT, data, "dev-1", deleted)


def test_a_media_version_goes_out_as_event_media_with_its_document() -> None:
    text, done = UserStream(None).render(media("med_a", 3))
    assert text is not None
    assert not done
    [event] = parse_sse(sse_lines([text]))
    assert event.event == "media"
    assert event.id == f"{micros(AT)}-med_a-3"
    assert json.loads(event.data) == {
        "camera_id": "front",
        "device_id": "dev-1",
        "media_id": "med_a",
        "seq": 3,
        "status": "processing",
    }


def test_the_camera_filter_and_unknown_feeds_send_nothing() -> None:
    assert UserStream("back").render(media("med_a", 1)) == (None, False)
    jobs = Version("jobs", "job_1", 1, AT, {"device_id": "dev-1"}, "dev-1")
    assert UserStream(None).render(jobs) == (None, False)


def test_adding_an_event_type_is_one_feed() -> None:
    stream = UserStream(
        None, [UserFeed("media", "media", "media_id"), UserFeed("events", "event", "event_id")]
    )
    detection = Version(
        "events", "evt_1", 1, AT, {"device_id": "dev-1", "label": "person"}, "dev-1"
    )
    text, _ = stream.render(detection)
    assert text is not None
    [event] = parse_sse(sse_lines([text]))
    assert (event.event, json.loads(event.data)["event_id"]) == ("event", "evt_1")


def test_a_deleted_media_goes_out_once_more_as_deleted() -> None:
    text, _ = UserStream("front").render(media("med_a", 7, deleted=True))
    assert text is not None
    [event] = parse_sse(sse_lines([text]))
    body = json.loads(event.data)
    assert (body["status"], body["seq"], body["updated_at"]) == (
        "deleted",
        7,
        "2026-03-01T12:00:00.250000Z",
    )


@pytest.mark.parametrize("cursor", [(1, "med_a", 2), (0, "", 0), (123456789, "job_01AB-x", 40)])
def test_cursors_round_trip(cursor: tuple[int, str, int]) -> None:
    assert decode_cursor(encode_cursor(cursor)) == cursor


@pytest.mark.parametrize("text", ["", "abc", "12", "12-med_a-x", "-med_a-1", "1" * 300])
def test_foreign_ids_are_not_cursors(text: str) -> None:
    assert decode_cursor(text) is None


def test_versions_of_several_feeds_merge_in_cursor_order_and_an_old_cursor_is_reported() -> None:
    a, b = media("med_b", 1), Version("events", "evt_a", 1, AT, {}, "dev-1")
    merged, complete = merge_since([[a], [b]])
    assert ([v.doc_id for v in merged], complete) == (["evt_a", "med_b"], True)
    assert merge_since([[a], None]) == ([a], False)


def test_ready_and_reset_events() -> None:
    [ready] = parse_sse(sse_lines([ready_event((5, "", 0), ["dev-1"], None)]))
    assert (ready.event, ready.id, json.loads(ready.data)) == (
        "ready",
        "5--0",
        {"camera_id": None, "device_ids": ["dev-1"]},
    )
    [reset] = parse_sse(sse_lines([reset_event("resume_window_passed")]))
    assert (reset.event, json.loads(reset.data)) == ("reset", {"reason": "resume_window_passed"})
