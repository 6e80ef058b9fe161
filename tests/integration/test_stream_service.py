"""The stream service's HTTP behaviour on 127.0.0.1 with a Firestore the test drives (no stack):
resumes, resets, preflights, errors before a stream starts, and the end of a stream whose
client fell behind."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from cli.client import SseEvent, parse_sse, sse_lines
from common.api.auth import mint_token
from common.core.settings import Settings, get_settings
from common.streams import lookups, service
from common.streams.hub import Change, OnSnapshot, micros
from common.streams.user import encode_cursor
from tests.aio import run_async

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)


class Firestore:
    """Listeners that answer the first snapshot at once and later ones when the test says."""

    def __init__(self) -> None:
        self.callbacks: dict[str, OnSnapshot] = {}

    def listen(
        self, collection: str, _since: datetime, on_snapshot: OnSnapshot
    ) -> Callable[[], None]:
        self.callbacks[collection] = on_snapshot
        on_snapshot([], NOW)
        return lambda: None

    def write(self, collection: str, changes: Sequence[Change], at: datetime) -> None:
        self.callbacks[collection](changes, at)


def media(doc_id: str, seq: int, at: datetime, camera: str = "front") -> Change:
    fields = {"device_id": "cam-1", "camera_id": camera, "status": "processing", "seq": seq}
    return Change(doc_id, {**fields, "updated_at": at, "progress": seq / 10})


async def fake_read(_self: Any, lookup: Callable[..., Any], _principal: Any, key: Any) -> Any:
    """The service's Postgres reads, answered without a database: the viewer owns cam-1."""
    if lookup is lookups.stream_devices:
        return ["cam-1"]
    return {"media_id": key, "status": "processing"}


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("JWT_SECRET", "stream-service-test-secret-0123456789")
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", json.dumps(["http://gallery.test"]))
    monkeypatch.setenv("SSE_HEARTBEAT_SECONDS", "30")
    monkeypatch.setenv("STREAM_QUEUE_SIZE", "10")
    get_settings.cache_clear()
    monkeypatch.setattr(service.StreamService, "_read", fake_read)
    return get_settings()


def serve(
    settings: Settings, scenario: Callable[[str, Firestore, ClientSession], Awaitable[None]]
) -> None:
    async def run() -> None:
        firestore = Firestore()
        server = TestServer(service.create_app(listen=firestore.listen, settings=settings))
        await server.start_server()
        try:
            async with ClientSession() as client:
                await scenario(str(server.make_url("")).rstrip("/"), firestore, client)
        finally:
            await server.close()

    run_async(run())


async def read_until(answer: Any, stop: Callable[[list[SseEvent]], bool]) -> list[SseEvent]:
    text = ""
    while True:
        chunk = await asyncio.wait_for(answer.content.readany(), 30)
        if not chunk:
            return list(parse_sse(sse_lines([text])))
        text += chunk.decode()
        events = list(parse_sse(sse_lines([text])))
        if stop(events):
            return events


def token() -> str:
    """A user token (a device's is checked against its revocations in Postgres, which this test
    does not run); the user's devices come from `fake_read`."""
    return mint_token("viewer-1", "user")


def test_a_resume_replays_what_changed_then_goes_live(settings: Settings) -> None:
    async def scenario(base: str, firestore: Firestore, client: ClientSession) -> None:
        t1, t2 = NOW + timedelta(seconds=1), NOW + timedelta(seconds=2)
        firestore.write("media", [media("med_a", 1, t1), media("med_b", 1, t2, "back")], t2)
        since = encode_cursor((micros(t1), "med_a", 1))
        headers = {"Authorization": f"Bearer {token()}", "Last-Event-ID": since}
        async with client.get(f"{base}/v1/events/stream", headers=headers) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"] == "text/event-stream; charset=utf-8"
            events = await read_until(answer, lambda e: any(x.event == "ready" for x in e))
            assert [(e.event, json.loads(e.data).get("media_id")) for e in events] == [
                ("media", "med_b"),  # after the cursor: only med_b
                ("ready", None),
            ]
            firestore.write("media", [media("med_a", 2, t2 + timedelta(seconds=1))], NOW)
            live = await read_until(answer, lambda e: len(e) == 1)  # what came after
            assert (live[0].event, json.loads(live[0].data)["seq"]) == ("media", 2)

    serve(settings, scenario)


def test_a_cursor_older_than_the_window_asks_for_a_reload(settings: Settings) -> None:
    async def scenario(base: str, _firestore: Firestore, client: ClientSession) -> None:
        old = encode_cursor((micros(NOW - timedelta(days=1)), "med_a", 1))
        async with client.get(
            f"{base}/v1/events/stream?last_event_id={old}",
            headers={"Authorization": f"Bearer {token()}"},
        ) as answer:
            events = await read_until(answer, lambda e: any(x.event == "ready" for x in e))
        assert [e.event for e in events] == ["reset", "ready"]
        assert json.loads(events[0].data) == {"reason": "resume_window_passed"}

    serve(settings, scenario)


def test_a_client_too_far_behind_has_its_stream_ended(settings: Settings) -> None:
    async def scenario(base: str, firestore: Firestore, client: ClientSession) -> None:
        async with client.get(
            f"{base}/v1/events/stream", headers={"Authorization": f"Bearer {token()}"}
        ) as answer:
            await read_until(answer, lambda e: any(x.event == "ready" for x in e))
            # more versions at once than the subscriber holds (STREAM_QUEUE_SIZE 10)
            burst = [media(f"med_{n}", 1, NOW + timedelta(seconds=5)) for n in range(30)]
            firestore.write("media", burst, NOW + timedelta(seconds=5))
            events = await read_until(answer, lambda e: False)  # until the server ends it
        assert 0 < sum(e.event == "media" for e in events) <= 10

    serve(settings, scenario)


def test_errors_before_the_stream_and_preflights(settings: Settings) -> None:
    async def scenario(base: str, _firestore: Firestore, client: ClientSession) -> None:
        async with client.get(f"{base}/v1/events/stream") as answer:
            assert (answer.status, (await answer.json())["code"]) == (401, "missing_token")
        async with client.get(
            f"{base}/v1/events/stream?colour=red", headers={"Authorization": f"Bearer {token()}"}
        ) as answer:
            assert (answer.status, (await answer.json())["code"]) == (422, "invalid_query")
        preflight = {"Origin": "http://gallery.test", "Access-Control-Request-Method": "GET"}
        async with client.options(f"{base}/v1/events/stream", headers=preflight) as answer:
            assert answer.status == 204
            assert answer.headers["Access-Control-Allow-Origin"] == "http://gallery.test"
            assert "Last-Event-ID" in answer.headers["Access-Control-Allow-Headers"]
        async with client.post(f"{base}/v1/events/stream") as answer:
            assert (answer.status, answer.headers["Allow"]) == (405, "GET, HEAD, OPTIONS")
        async with client.get(f"{base}/ready") as answer:
            assert (await answer.json())["ready"] is True

    serve(settings, scenario)


def test_a_media_stream_opens_with_the_row_then_the_held_version(settings: Settings) -> None:
    async def scenario(base: str, firestore: Firestore, client: ClientSession) -> None:
        firestore.write("media", [media("med_a", 4, NOW)], NOW)
        async with client.get(
            f"{base}/v1/media/med_a/events", headers={"Authorization": f"Bearer {token()}"}
        ) as answer:
            events = await read_until(answer, lambda e: len(e) == 2)
        assert [(e.id, e.event) for e in events] == [("0", "status"), ("4", "progress")]

    serve(settings, scenario)


def test_with_the_mirror_off_there_is_nothing_to_stream(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATUS_MIRROR_ENABLED", "false")
    get_settings.cache_clear()

    async def scenario(base: str, _firestore: Firestore, client: ClientSession) -> None:
        async with client.get(
            f"{base}/v1/events/stream", headers={"Authorization": f"Bearer {token()}"}
        ) as answer:
            assert (answer.status, (await answer.json())["code"]) == (409, "realtime_disabled")

    serve(get_settings(), scenario)
