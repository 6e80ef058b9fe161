"""The stream service on the real stack, through the API's one base URL: the per-user stream
(every media of the caller's devices, live, filtered, resumable), its ticket, and streams that
leave the API functions' capacity alone."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from cli.client import MediaApi, SseEvent, parse_sse, sse_lines
from cli.samples import sample_path
from common.api.auth import mint_token
from tests.integration.support import api_for, new_device_id, upload_file, wait_for, wait_processed

pytestmark = pytest.mark.integration

MEDIA_FIELDS = {"media_id", "device_id", "camera_id", "kind", "status", "progress", "captured_at"}


class OpenStream:
    """An event stream read on a thread of its own until the test closes it."""

    def __init__(self, token: str, path: str, headers: dict[str, str] | None = None) -> None:
        self.events: list[SseEvent] = []
        self.status: int | None = None
        self.body = ""
        self._lock = threading.Lock()
        self._response: requests.Response | None = None
        self._opened = threading.Event()
        self._thread = threading.Thread(
            target=self._read, args=(token, path, headers or {}), daemon=True
        )
        self._thread.start()

    def _read(self, token: str, path: str, headers: dict[str, str]) -> None:
        with contextlib.suppress(requests.RequestException, AttributeError, ValueError):
            response = requests.get(
                os.environ["MEDIA_API_URL"] + path,
                headers={"Authorization": f"Bearer {token}", **headers} if token else headers,
                stream=True,
                timeout=(10, 330),
            )
            self._response, self.status = response, response.status_code
            if response.status_code != 200:
                self.body = response.text
                self._opened.set()
                return
            self._opened.set()
            response.encoding = "utf-8"
            chunks = response.iter_content(chunk_size=None, decode_unicode=True)
            for event in parse_sse(sse_lines(chunks)):
                with self._lock:
                    self.events.append(event)
        self._opened.set()

    def wait_for(self, condition: Callable[[list[SseEvent]], bool], what: str) -> None:
        wait_for(lambda: condition(self.snapshot()), 300, what)  # processing under load is slow

    def snapshot(self) -> list[SseEvent]:
        with self._lock:
            return list(self.events)

    def media(self) -> list[dict[str, Any]]:
        return [json.loads(e.data) for e in self.snapshot() if e.event == "media"]

    def close(self) -> None:
        self._opened.wait(30)
        if self._response is not None:
            self._response.close()
        self._thread.join(timeout=30)


@contextlib.contextmanager
def open_stream(token: str, path: str, **headers: str) -> Iterator[OpenStream]:
    stream = OpenStream(token, path, headers)
    try:
        yield stream
    finally:
        stream.close()


def grant(device: str, user: str) -> None:
    boss = MediaApi(mint_token("ops", "user", admin=True))
    answer = boss.session.post(
        f"{boss.base_url}/v1/devices/{device}/owners", json={"user_id": user}, timeout=30
    )
    assert answer.status_code in (200, 201), answer.text


def is_ready(events: list[SseEvent]) -> bool:
    return any(e.event == "ready" for e in events)


@pytest.mark.storage_backends("gcs")
def test_a_users_stream_sends_every_media_of_their_devices_live_and_nothing_else(
    local_stack: Any,
) -> None:
    # GIVEN a user who owns two cameras, and a device of someone else
    user, mine, theirs = f"user-{uuid.uuid4().hex[:8]}", new_device_id(), new_device_id()
    other_mine = new_device_id()
    grant(mine, user)
    grant(other_mine, user)
    with open_stream(mint_token(user, "user"), "/v1/events/stream") as stream:
        stream.wait_for(is_ready, "the stream to be live")
        [ready] = [e for e in stream.snapshot() if e.event == "ready"]
        assert sorted(json.loads(ready.data)["device_ids"]) == sorted([mine, other_mine])
        # WHEN media arrive from each of them
        photo = sample_path("camera.png")
        ours = upload_file(api_for(mine), photo, camera_id="front")["id"]
        upload_file(api_for(theirs), photo)
        # THEN the user's stream shows theirs, arriving and processed, with the mirror's fields
        stream.wait_for(
            lambda _: any(
                m["media_id"] == ours and m["status"] == "processed" for m in stream.media()
            ),
            "the photo processed",
        )
        seen = stream.media()
    assert {m["device_id"] for m in seen} == {mine}
    statuses = [m["status"] for m in seen if m["media_id"] == ours]
    assert statuses[-1] == "processed"
    assert len(statuses) >= 2, statuses  # it arrived before it was done
    last = next(m for m in reversed(seen) if m["media_id"] == ours)
    assert set(last) >= MEDIA_FIELDS
    assert (last["camera_id"], last["kind"], last["progress"]) == ("front", "upload", 1.0)
    seqs = [m["seq"] for m in seen if m["media_id"] == ours]
    assert seqs == sorted(set(seqs))


@pytest.mark.storage_backends("gcs")
def test_a_users_stream_sends_the_detection_events_of_their_cameras(local_stack: Any) -> None:
    # GIVEN a user's camera (default event labels: person, dog, cat, car) and their open stream
    user, mine = f"user-{uuid.uuid4().hex[:8]}", new_device_id()
    grant(mine, user)
    with open_stream(mint_token(user, "user"), "/v1/events/stream") as stream:
        stream.wait_for(is_ready, "the stream to be live")
        # WHEN the camera uploads a photo of a person
        photo = upload_file(api_for(mine), sample_path("astronaut.png"), camera_id="door")["id"]
        # THEN the person event comes down the stream, as GET /v1/events/{id} tells it
        stream.wait_for(
            lambda events: any(
                e.event == "event" and json.loads(e.data)["media_id"] == photo for e in events
            ),
            "the person event",
        )
        found = [json.loads(e.data) for e in stream.snapshot() if e.event == "event"]
    [event] = [e for e in found if e["media_id"] == photo]
    assert (event["device_id"], event["camera_id"], event["label"]) == (mine, "door", "person")
    owner = MediaApi(mint_token(user, "user"))
    listed = owner.session.get(f"{owner.base_url}/v1/events/{event['event_id']}", timeout=30)
    assert listed.status_code == 200, listed.text
    assert listed.json()["start_at"] == event["start_at"]


@pytest.mark.storage_backends("gcs")
def test_a_ticket_opens_the_stream_and_filters_narrow_it(local_stack: Any) -> None:
    user, device = f"user-{uuid.uuid4().hex[:8]}", new_device_id()
    grant(device, user)
    browser = MediaApi(mint_token(user, "user"))
    ticket = browser.session.post(f"{browser.base_url}/v1/events/stream/ticket", timeout=30)
    assert ticket.status_code == 201, ticket.text
    url = ticket.json()["url"]
    assert url.startswith("/v1/events/stream?ticket=")
    # a browser's EventSource sends no Authorization: the ticket in the URL is enough
    with open_stream("", f"{url}&camera_id=back") as stream:
        stream.wait_for(is_ready, "the stream to be live")
        api = api_for(device)
        front = upload_file(api, sample_path("camera.png"), camera_id="front")["id"]
        back = upload_file(api, sample_path("astronaut.png"), camera_id="back")["id"]
        stream.wait_for(
            lambda _: any(m["media_id"] == back for m in stream.media()), "the back camera's"
        )
        wait_processed(api, front)
        wait_processed(api, back)
        stream.wait_for(
            lambda _: any(m.get("status") == "processed" for m in stream.media()), "processed"
        )
    assert {m["media_id"] for m in stream.media()} == {back}
    # a device token sees its own device only; naming another device is a 404
    with open_stream(mint_token(device), f"/v1/events/stream?device_id={new_device_id()}") as bad:
        bad.wait_for(lambda _: bad.status is not None, "an answer")
    assert (bad.status, json.loads(bad.body)["code"]) == (404, "not_found")


@pytest.mark.storage_backends("gcs")
def test_a_client_that_comes_back_gets_what_changed_meanwhile(local_stack: Any) -> None:
    device = new_device_id()
    token = mint_token(device)
    with open_stream(token, "/v1/events/stream") as first:
        first.wait_for(is_ready, "the stream to be live")
    last_id = first.snapshot()[-1].id
    assert last_id
    # WHILE the client is away, a photo is uploaded and processed
    api = api_for(device)
    created = upload_file(api, sample_path("camera.png"))["id"]
    wait_processed(api, created)
    # WHEN it comes back with the last id it saw
    with open_stream(token, "/v1/events/stream", **{"Last-Event-ID": last_id}) as again:
        again.wait_for(
            lambda _: any(m["status"] == "processed" for m in again.media()), "the processed one"
        )
        events = again.snapshot()
    # THEN what changed comes first (the newest version the service held), before `ready`
    kinds = [e.event for e in events]
    assert kinds[0] == "media", kinds
    assert json.loads(events[0].data)["media_id"] == created
    assert "ready" in kinds
    # and an id that is not ours asks the client to reload
    with open_stream(token, "/v1/events/stream?last_event_id=not-an-id") as foreign:
        foreign.wait_for(is_ready, "the stream to be live")
    reset = [json.loads(e.data) for e in foreign.snapshot() if e.event == "reset"]
    assert reset == [{"reason": "invalid_last_event_id"}]


@pytest.mark.storage_backends("gcs")
def test_open_streams_leave_the_api_answering(local_stack: Any) -> None:
    # GIVEN many more open streams than list_media has request threads
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("camera.png"))["id"]
    token = mint_token(device)
    streams = [OpenStream(token, "/v1/events/stream") for _ in range(12)]
    streams += [OpenStream(token, f"/v1/media/{created}/events") for _ in range(12)]
    try:
        wait_for(lambda: all(s.status == 200 for s in streams), 120, "every stream open")
        # WHEN another device lists its media through the same API
        other = api_for(new_device_id())
        answer = other.session.get(f"{other.base_url}/v1/media", timeout=30)
        # THEN it is answered (a stream holds no API function's thread)
        assert answer.status_code == 200, answer.text
    finally:
        for stream in streams:
            stream.close()
