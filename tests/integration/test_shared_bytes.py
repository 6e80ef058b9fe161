"""Declarations on the real stack: a new capture of bytes the device has stored is new media
that shares them (from another message, another camera, an inline snapshot), shared bytes are
deleted with the last media that uses them, and an event stream opened right after a
declaration starts at `pending_upload`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli.client import MediaApi, describe_file, parse_sse, sse_lines
from cli.samples import sample_path
from common.api.auth import mint_token
from tests.integration.support import (
    api_for,
    data_url,
    db_rows,
    declaration,
    new_device_id,
    post_create,
    post_snapshot,
    snapshot_body,
    store,
    stored_object,
    upload_file,
    wait_processed,
)

pytestmark = pytest.mark.integration

LIFECYCLE = ["pending_upload", "uploaded", "verified", "processing", "processed"]


def admin() -> MediaApi:
    return MediaApi(mint_token("ops", "user", admin=True))


def used_today(device: str) -> tuple[int, int]:
    """(media, bytes) the device's quota counted today."""
    boss = admin()
    state = boss.session.get(f"{boss.base_url}/v1/admin/devices/{device}/quota", timeout=10)
    assert state.status_code == 200, state.text
    return state.json()["used_media"], state.json()["used_bytes"]


def test_a_new_capture_of_stored_bytes_is_new_media_that_shares_them(local_stack: Any) -> None:
    # GIVEN a device whose photo is stored and processed
    device = new_device_id()
    api = api_for(device)
    photo = sample_path("chelsea.png")
    first = upload_file(api, photo, camera_id="front")
    wait_processed(api, first["id"])
    media_before = used_today(device)
    # WHEN another camera of it sends the same bytes as a new capture, with its own labels
    facts = describe_file(photo)
    body = declaration(
        facts,
        camera_id="garden",
        labels=["cat"],
        note="the same frame again",
        original_filename="again.png",
    )
    answer = post_create(api, body)
    # THEN it is new media (201), nothing is uploaded, and it names the media that stores them
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["id"] != first["id"]
    assert (created["deduplicated"], created["shares_bytes_of"]) == (True, first["id"])
    assert (created["status"], created["upload"]) == ("verified", None)
    # AND it is processed as itself: its own camera, labels, note and name, the same bytes
    media = wait_processed(api, created["id"])
    assert (media["camera_id"], media["labels"], media["note"]) == (
        "garden",
        ["cat"],
        "the same frame again",
    )
    assert media["original_filename"] == "again.png"
    assert media["shares_bytes_of"] == first["id"]
    assert media["verified"]["sha256_matches"] is True
    assert media["thumbnail_url"]
    content = api.session.get(f"{api.base_url}/v1/media/{created['id']}/content", timeout=30)
    assert content.content == photo.read_bytes()
    assert stored_object(created["id"])["name"] == stored_object(first["id"])["name"]
    # AND it is in the gallery beside the first, and counted as one more media, no more bytes
    items = {item["id"] for item in api.list(device)["items"]}
    assert {first["id"], created["id"]} <= items
    assert used_today(device) == (media_before[0] + 1, media_before[1])
    audit = db_rows(
        "SELECT details FROM audit_events WHERE media_id = :m AND action = 'declared'",
        m=created["id"],
    )
    assert audit[0]["details"]["shares_bytes_of"] == first["id"]
    history = db_rows(
        "SELECT from_status, to_status, reason_code FROM status_history WHERE media_id = :m "
        "ORDER BY id LIMIT 1",
        m=created["id"],
    )
    assert history == [
        {"from_status": None, "to_status": "verified", "reason_code": "shares_bytes"}
    ]
    # AND a replay answers it again, and the key with another body is a conflict
    again = post_create(api, body)
    assert (again.status_code, again.json()["id"]) == (200, created["id"])
    changed = post_create(api, {**body, "note": "something else"})
    assert (changed.status_code, changed.json()["code"]) == (409, "idempotency_conflict")


def test_an_inline_snapshot_equal_to_an_upload_shares_its_bytes(local_stack: Any) -> None:
    device = new_device_id()
    api = api_for(device)
    photo = sample_path("coffee.png")
    uploaded = upload_file(api, photo)
    wait_processed(api, uploaded["id"])
    answer = post_snapshot(api, snapshot_body(data_url(photo.read_bytes(), "image/png")))
    assert answer.status_code == 201, answer.text
    snapshot = wait_processed(api, answer.json()["id"])
    assert snapshot["id"] != uploaded["id"]
    assert (snapshot["kind"], snapshot["labels"]) == ("snapshot", ["doorbell"])
    assert snapshot["shares_bytes_of"] == uploaded["id"]


def test_shared_bytes_are_deleted_with_the_last_media_that_uses_them(
    local_stack: Any, tmp_path: Path
) -> None:
    # GIVEN a processed photo and a second capture sharing its bytes
    device = new_device_id()
    api = api_for(device)
    photo = sample_path("camera.png")
    first = upload_file(api, photo)
    wait_processed(api, first["id"])
    second = post_create(api, declaration(describe_file(photo), camera_id="side")).json()
    wait_processed(api, second["id"])
    where = stored_object(first["id"])
    # WHEN the first is deleted
    deleted = api.session.delete(f"{api.base_url}/v1/media/{first['id']}", timeout=60)
    assert deleted.status_code < 300, deleted.text
    # THEN the bytes stay for the second, which still serves them
    assert store().stat(where["bucket"], where["name"]) is not None
    content = api.session.get(f"{api.base_url}/v1/media/{second['id']}/content", timeout=30)
    assert (content.status_code, content.content) == (200, photo.read_bytes())
    # AND a third capture of them still shares them
    third = post_create(api, declaration(describe_file(photo), camera_id="back")).json()
    assert (third["shares_bytes_of"], third["upload"]) == (first["id"], None)
    wait_processed(api, third["id"])
    # WHEN the others are deleted too THEN the bytes go with the last of them
    for media_id in (second["id"], third["id"]):
        assert store().stat(where["bucket"], where["name"]) is not None
        response = api.session.delete(f"{api.base_url}/v1/media/{media_id}", timeout=60)
        assert response.status_code < 300, response.text
    assert store().stat(where["bucket"], where["name"]) is None
    # AND bytes declared again afterwards are a new upload of their own
    fresh = post_create(api, declaration(describe_file(photo)))
    assert fresh.status_code == 201
    assert (fresh.json()["deduplicated"], fresh.json()["upload"] is not None) == (False, True)


def test_the_same_bytes_declared_before_any_upload_are_uploads_of_their_own(
    local_stack: Any, tmp_path: Path
) -> None:
    # GIVEN nothing stored yet, two captures of the same bytes
    api = api_for(new_device_id())
    facts = describe_file(sample_path("chelsea.png"))
    answers = [post_create(api, declaration(facts)) for _ in range(2)]
    # THEN each is its own media, waiting for its own upload: nothing is dropped
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] != answers[1].json()["id"]
    assert all(a.json()["upload"] and not a.json()["deduplicated"] for a in answers)


def test_a_stream_opened_right_after_a_declaration_starts_at_pending_upload(
    local_stack: Any,
) -> None:
    # GIVEN a declaration whose bytes are not sent yet
    api = api_for(new_device_id())
    facts = describe_file(sample_path("astronaut.png"))
    created = post_create(api, declaration(facts)).json()
    path = f"{api.base_url}/v1/media/{created['id']}/events"
    # WHEN a client opens the media's event stream at once
    with api.session.get(
        path, headers={"Accept": "text/event-stream"}, stream=True, timeout=(10, 120)
    ) as response:
        assert response.status_code == 200
        events = parse_sse(sse_lines(response.iter_content(chunk_size=None, decode_unicode=True)))
        first = next(events)
        # THEN the first event is `pending_upload`, from the row
        assert (first.event, first.id) == ("status", "0")
        assert json.loads(first.data)["status"] == "pending_upload"
        # AND after the upload the later statuses follow, in their order, to the end
        api.put_bytes(created["upload"], facts, lambda _: None)
        later = [json.loads(e.data)["status"] for e in events if e.event == "status"]
    assert later[-1] == "processed", later
    assert later == sorted(later, key=LIFECYCLE.index), later
    assert "pending_upload" not in later
