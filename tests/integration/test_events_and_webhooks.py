"""Events and webhooks on the local stack: a recording with a person makes one event, a replayed
notification none, consecutive recordings one event, deletes remove events; webhook receivers on
127.0.0.1 get signed deliveries, a failing one retries then a dead letter, and a replay."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from cli.client import MediaApi
from cli.samples import sample_path
from common.api.auth import mint_token
from common.webhooks import signing
from tests.integration.support import (
    WebhookReceiver,
    db_rows,
    new_device_id,
    post_push,
    push_envelope,
    upload_file,
    wait_job,
    wait_processed,
)

pytestmark = [pytest.mark.integration, pytest.mark.storage_backends("gcs")]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    found = WebhookReceiver()
    yield found
    found.close()


def person_video(path: Path, seconds: float, fps: int = 10) -> Path:
    """An H.264 MP4 of scikit-image's astronaut photo held still for `seconds`: one person in
    view from the first frame to the last (the detector samples it every few seconds)."""
    import av
    import numpy as np
    from PIL import Image

    frame = np.asarray(Image.open(sample_path("astronaut.png")).convert("RGB"))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = frame.shape[1], frame.shape[0]
        stream.pix_fmt = "yuv420p"
        for _ in range(int(seconds * fps)):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _owned_device() -> tuple[str, MediaApi, MediaApi]:
    """A new device, its device API and the API of a new user who owns it."""
    device = new_device_id()
    user = f"user-{uuid.uuid4().hex[:8]}"
    admin = MediaApi(mint_token("ops", "user", admin=True))
    granted = admin.session.post(
        f"{admin.base_url}/v1/devices/{device}/owners", json={"user_id": user}, timeout=10
    )
    assert granted.status_code in (200, 201), granted.text
    return device, MediaApi(mint_token(device)), MediaApi(mint_token(user, "user"))


def _register(owner: MediaApi, url: str, events: list[str], **extra: Any) -> dict[str, Any]:
    response = owner.session.post(
        f"{owner.base_url}/v1/webhooks", json={"url": url, "events": events, **extra}, timeout=10
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _events(api: MediaApi, **query: Any) -> list[dict[str, Any]]:
    response = api.session.get(f"{api.base_url}/v1/events", params=query, timeout=30)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _wait(predicate: Any, timeout_seconds: float = 60) -> Any:
    deadline = time.monotonic() + timeout_seconds
    while True:
        found = predicate()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _deliveries(owner: MediaApi, webhook_id: str) -> list[dict[str, Any]]:
    response = owner.session.get(
        f"{owner.base_url}/v1/webhooks/{webhook_id}/deliveries", timeout=10
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_recording_with_a_person_makes_one_signed_event_and_a_replay_none(
    local_stack: Any, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    # GIVEN a user's device and a webhook endpoint for person events and processed media
    device, camera, owner = _owned_device()
    hook = _register(owner, receiver.url, ["event.created", "media.processed"], labels=["person"])
    assert hook["secret"].startswith("whsec_")
    assert (
        "secret"
        not in owner.session.get(
            f"{owner.base_url}/v1/webhooks/{hook['webhook_id']}", timeout=10
        ).json()
    )

    # AND an admin's fleet endpoint for this device (and another)
    fleet = WebhookReceiver()
    admin = MediaApi(mint_token("ops", "user", admin=True))
    _register(admin, fleet.url, ["media.processed"], device_ids=[device, "dev-elsewhere"])

    # WHEN the camera uploads a 4 s video of a person (the detector samples it several times)
    created = upload_file(camera, person_video(tmp_path / "p.mp4", 4), camera_id="front")
    media = wait_processed(camera, created["id"])

    # THEN there is one person event for it (one per track, not one per sample), on its time
    events = [e for e in _events(owner, device_id=device) if e["media_id"] == media["id"]]
    tracks = [t for t in media["tracks"] if t["label"] == "person"]
    assert len(tracks) == 1
    assert len(events) == 1
    event = events[0]
    assert event["label"] == "person"
    assert event["camera_id"] == "front"
    captured = datetime.fromisoformat(media["captured_at"].replace("Z", "+00:00"))
    start = datetime.fromisoformat(event["start_at"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(event["end_at"].replace("Z", "+00:00"))
    assert start == captured + timedelta(milliseconds=tracks[0]["first_ms"])
    assert end == captured + timedelta(milliseconds=tracks[0]["last_ms"])
    assert event["snapshot_url"]
    assert requests.get(event["snapshot_url"], timeout=10).status_code == 200
    # the device token sees it too
    assert [e["event_id"] for e in _events(camera)] == [event["event_id"]]

    # AND the receiver got event.created and media.processed, signed with the endpoint's secret
    created_calls = _wait(lambda: receiver.of_type("event.created"))
    processed_calls = _wait(lambda: receiver.of_type("media.processed"))
    assert len(created_calls) == 1
    assert len(processed_calls) == 1
    headers, body = created_calls[0]
    assert signing.verify(hook["secret"], headers["media-signature"], body, now=int(time.time()))
    payload = json.loads(body)
    assert payload["type"] == "event.created"
    assert payload["id"] == headers["media-webhook-id"]
    assert payload["data"]["event_id"] == event["event_id"]

    def succeeded() -> list[dict[str, Any]]:
        found = [d for d in _deliveries(owner, hook["webhook_id"]) if d["status"] == "succeeded"]
        return found if len(found) == 2 else []

    delivered = _wait(succeeded)
    assert {d["event_type"] for d in delivered} == {"event.created", "media.processed"}
    fleet_calls = _wait(lambda: fleet.of_type("media.processed"))
    fleet.close()
    assert json.loads(fleet_calls[0][1])["data"]["media_id"] == media["id"]
    assert all(d["response_status"] == 200 and d["attempts"] == 1 for d in delivered)

    # WHEN the media-verified notification is delivered again
    message = {"media_id": media["id"], "bucket": "b", "object_name": "o", "version": "1"}
    envelope = push_envelope({}, message, f"replay-{uuid.uuid4().hex[:8]}")
    assert post_push(os.environ["PROCESS_MEDIA_URL"], envelope).status_code == 200

    # THEN no second event and no second delivery
    assert len([e for e in _events(owner, device_id=device) if e["media_id"] == media["id"]]) == 1
    assert len(_deliveries(owner, hook["webhook_id"])) == 2
    time.sleep(0.5)
    assert len(receiver.of_type("event.created")) == 1


def test_review_filters_and_delete_remove_events(local_stack: Any, tmp_path: Path) -> None:
    device, camera, owner = _owned_device()
    created = upload_file(camera, person_video(tmp_path / "p.mp4", 4), camera_id="door")
    media = wait_processed(camera, created["id"])
    (event,) = _events(owner, device_id=device)

    # filters: camera, label, time range, score, reviewed
    assert _events(owner, camera_id="door", label="person") == [event]
    assert _events(owner, camera_id="yard") == []
    assert _events(owner, label="dog", device_id=device) == []
    start = event["start_at"]
    assert _events(owner, device_id=device, start_after=start) == [event]
    assert _events(owner, device_id=device, start_before=start) == []
    assert _events(owner, device_id=device, min_score=0.999) == []
    assert _events(owner, device_id=device, reviewed="false") == [event]

    # one reviewed; then "mark all reviewed" finds nothing more to do
    reviewed = owner.session.post(
        f"{owner.base_url}/v1/events/{event['event_id']}/review", json={}, timeout=10
    )
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["reviewed_at"]
    assert _events(owner, device_id=device, reviewed="false") == []
    bulk = owner.session.post(
        f"{owner.base_url}/v1/events/review", json={"device_id": device}, timeout=10
    )
    assert bulk.json() == {"updated": 0}

    # another user sees nothing of it
    stranger = MediaApi(mint_token(f"user-{uuid.uuid4().hex[:8]}", "user"))
    answer = stranger.session.get(f"{stranger.base_url}/v1/events/{event['event_id']}", timeout=10)
    assert answer.status_code == 404

    # WHEN the media is deleted THEN its events are gone
    deleted = owner.session.delete(f"{owner.base_url}/v1/media/{media['id']}", timeout=30)
    assert deleted.status_code == 204
    assert _events(owner, device_id=device) == []
    gone = owner.session.get(f"{owner.base_url}/v1/events/{event['event_id']}", timeout=10)
    assert gone.status_code == 404
    assert db_rows("SELECT 1 FROM event_segments WHERE media_id = :m", m=media["id"]) == []


def test_consecutive_recordings_continue_one_event(local_stack: Any, tmp_path: Path) -> None:
    # GIVEN two recordings of one camera back to back, the person there across the boundary
    device, camera, owner = _owned_device()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    first = upload_file(
        camera,
        person_video(tmp_path / "a.mp4", 4),
        camera_id="hall",
        captured_at=start.isoformat(),
    )
    first_media = wait_processed(camera, first["id"])
    second_start = start + timedelta(milliseconds=first_media["duration_ms"])
    second = upload_file(
        camera,
        person_video(tmp_path / "b.mp4", 5),
        camera_id="hall",
        captured_at=second_start.isoformat(),
    )
    second_media = wait_processed(camera, second["id"])

    # THEN one event spans both
    events = _events(owner, device_id=device)
    assert len(events) == 1, events
    (event,) = events
    assert event["segments"] == 2
    assert event["media_id"] == first_media["id"]
    end = datetime.fromisoformat(event["end_at"].replace("Z", "+00:00"))
    assert end > second_start

    # AND deleting the first recording leaves the event to the second
    owner.session.delete(f"{owner.base_url}/v1/media/{first_media['id']}", timeout=30)
    (left,) = _events(owner, device_id=device)
    assert left["event_id"] == event["event_id"]
    assert left["media_id"] == second_media["id"]
    assert left["segments"] == 1


def test_a_failing_receiver_gets_retries_then_a_dead_letter_and_a_replay(
    local_stack: Any, tmp_path: Path
) -> None:
    failing = WebhookReceiver(status=500)
    try:
        _, camera, owner = _owned_device()
        hook = _register(owner, failing.url, ["media.processed"])
        created = upload_file(camera, sample_path("carphone_pristine.mp4"), camera_id="gate")
        wait_processed(camera, created["id"])

        # retried with backoff (scaled down on the test stack), then dead-lettered
        def dead() -> list[dict[str, Any]]:
            return [
                d for d in _deliveries(owner, hook["webhook_id"]) if d["status"] == "dead_lettered"
            ]

        (delivery,) = _wait(dead, timeout_seconds=120)
        assert delivery["attempts"] == 8  # topology.json: deliver-webhook max_delivery_attempts
        assert delivery["response_status"] == 500
        calls = failing.of_type("media.processed")
        assert len(calls) == 8
        assert {c[0]["media-webhook-id"] for c in calls} == {delivery["delivery_id"]}

        # WHEN the receiver is fixed and the delivery replayed THEN it succeeds, same id
        failing.status = 204
        replayed = owner.session.post(
            f"{owner.base_url}/v1/webhooks/{hook['webhook_id']}/deliveries/"
            f"{delivery['delivery_id']}/replay",
            timeout=10,
        )
        assert replayed.status_code == 202, replayed.text
        done = _wait(
            lambda: [
                d for d in _deliveries(owner, hook["webhook_id"]) if d["status"] == "succeeded"
            ]
        )
        assert done[0]["delivery_id"] == delivery["delivery_id"]
        assert done[0]["replays"] == 1
        assert done[0]["response_status"] == 204
    finally:
        failing.close()


def test_webhook_urls_follow_the_ssrf_rules_and_only_users_register(local_stack: Any) -> None:
    _, camera, owner = _owned_device()
    refused = owner.session.post(
        f"{owner.base_url}/v1/webhooks",
        json={"url": "http://169.254.169.254/latest", "events": ["event.created"]},
        timeout=10,
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "url_not_allowed"
    internal = owner.session.post(
        f"{owner.base_url}/v1/webhooks",
        json={"url": "https://metadata.google.internal/x", "events": ["event.created"]},
        timeout=10,
    )
    assert internal.status_code == 422
    unknown = owner.session.post(
        f"{owner.base_url}/v1/webhooks",
        json={"url": "https://hooks.example.invalid/x", "events": ["event.exploded"]},
        timeout=10,
    )
    assert unknown.status_code == 422
    fleet = owner.session.post(
        f"{owner.base_url}/v1/webhooks",
        json={
            "url": "https://hooks.example.invalid/x",
            "events": ["event.created"],
            "device_ids": ["a"],
        },
        timeout=10,
    )
    assert fleet.status_code == 403
    by_device = camera.session.post(
        f"{camera.base_url}/v1/webhooks",
        json={"url": "https://hooks.example.invalid/x", "events": ["event.created"]},
        timeout=10,
    )
    assert by_device.status_code == 403
    assert by_device.json()["code"] == "user_token_required"


def test_event_clips_when_the_camera_asks_for_them(local_stack: Any, tmp_path: Path) -> None:
    # GIVEN a camera that wants a clip around each event, 1 s before and after
    device, camera, owner = _owned_device()
    settings = owner.session.put(
        f"{owner.base_url}/v1/devices/{device}/cameras/porch/event-settings",
        json={"labels": ["person"], "clips": True, "clip_pre_ms": 1000, "clip_post_ms": 1000},
        timeout=10,
    )
    assert settings.status_code == 200, settings.text
    assert settings.json()["labels"] == ["person"]

    # WHEN it records a person
    created = upload_file(camera, person_video(tmp_path / "p.mp4", 6), camera_id="porch")
    media = wait_processed(camera, created["id"])

    # THEN the event links a clip job whose result is a clip of that recording
    (event,) = _events(owner, device_id=device)
    assert event["clip_job_id"]
    job = wait_job(camera, event["clip_job_id"])
    assert job["status"] == "completed", job
    clip = owner.session.get(f"{owner.base_url}/v1/events/{event['event_id']}", timeout=10).json()
    assert clip["clip_media_id"] == job["result_media_id"]
    clip_media = wait_processed(camera, clip["clip_media_id"])
    assert clip_media["kind"] == "clip"
    assert clip_media["parent_id"] == media["id"]
    # the clip's own person track makes no second event
    assert len(_events(owner, device_id=device)) == 1


def test_mediactl_events_and_webhooks(
    local_stack: Any, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    from typer.testing import CliRunner

    from cli.mediactl import app

    _, camera, owner = _owned_device()
    token = owner.session.headers["Authorization"].removeprefix("Bearer ")
    run = CliRunner()
    added = run.invoke(
        app,
        ["webhooks", "add", receiver.url, "--event", "media.processed", "--token", token],
    )
    assert added.exit_code == 0, added.output
    assert "whsec_" in added.output
    listed = run.invoke(app, ["webhooks", "list", "--json", "--token", token])
    (hook,) = json.loads(listed.output)
    created = upload_file(camera, person_video(tmp_path / "p.mp4", 4), camera_id="cli")
    wait_processed(camera, created["id"])

    events = run.invoke(app, ["events", "list", "--json", "--token", token, "--label", "person"])
    assert events.exit_code == 0, events.output
    (event,) = json.loads(events.output)
    assert event["camera_id"] == "cli"
    delivered = _wait(
        lambda: json.loads(
            run.invoke(
                app, ["webhooks", "deliveries", hook["webhook_id"], "--json", "--token", token]
            ).output
        )
    )
    replayed = run.invoke(
        app,
        ["webhooks", "replay", hook["webhook_id"], delivered[0]["delivery_id"], "--token", token],
    )
    assert replayed.exit_code == 0, replayed.output
    _wait(lambda: len(receiver.of_type("media.processed")) == 2)
    reviewed = run.invoke(app, ["events", "review", "--all", "--token", token])
    assert reviewed.exit_code == 0, reviewed.output
    assert "1 events marked reviewed" in reviewed.output
