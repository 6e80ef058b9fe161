"""The router's runtime without an emulator: the delivery queue bounds concurrent pushes and never
pushes one message twice at once; the streaming pull offers what arrives and reopens after errors."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from emulators.delivery import DeliveryQueue
from emulators.pull_loop import StreamingPullSource
from emulators.router import PulledMessage, PushDispatcher
from emulators.topology import SubscriptionSpec
from tests.unit.test_router import FakeBackend

WAIT = 5.0  # generous bound for a thread to reach a point; never a measured duration
SPEC = SubscriptionSpec(
    name="process-media", topic="media-verified", ack_deadline_seconds=600, push_function="pm"
)


class GatedTransport:
    """Each POST blocks until its message id is released; records concurrency."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.gates: dict[str, threading.Event] = {}
        self.posted: list[str] = []
        self.active = 0
        self.max_active = 0
        self.arrived = threading.Condition(self.lock)

    def gate(self, message_id: str) -> threading.Event:
        with self.lock:
            return self.gates.setdefault(message_id, threading.Event())

    def post(self, url: str, body: Mapping[str, Any], timeout_seconds: float) -> int:
        message_id = body["message"]["messageId"]
        gate = self.gate(message_id)
        with self.lock:
            self.posted.append(message_id)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.arrived.notify_all()
        assert gate.wait(WAIT), f"{message_id} never released"
        with self.lock:
            self.active -= 1
            self.arrived.notify_all()
        return 204

    def wait_posted(self, count: int) -> None:
        with self.lock:
            assert self.arrived.wait_for(lambda: len(self.posted) >= count, WAIT), self.posted


def message(message_id: str, ack_id: str | None = None) -> PulledMessage:
    return PulledMessage(
        ack_id=ack_id or f"{message_id}-ack",
        message_id=message_id,
        data=b"{}",
        attributes={},
        publish_time=datetime(2026, 1, 1, tzinfo=UTC),
    )


def make_queue(max_in_flight: int) -> tuple[DeliveryQueue, FakeBackend, GatedTransport]:
    backend, transport = FakeBackend(), GatedTransport()
    dispatcher = PushDispatcher(
        SPEC, project="p", endpoint="http://127.0.0.1:1/", backend=backend, transport=transport
    )
    return DeliveryQueue(dispatcher, max_in_flight), backend, transport


def test_at_most_max_in_flight_pushes_run_at_once_and_every_message_is_acked() -> None:
    deliveries, backend, transport = make_queue(max_in_flight=2)
    deliveries.start()
    try:
        for n in range(5):
            assert deliveries.offer(message(f"m{n}"))
        transport.wait_posted(2)
        assert deliveries.free_slots() == 0
        # release them one by one: each release lets exactly one more push start
        for n in range(5):
            transport.wait_posted(min(n + 2, 5))
            with transport.lock:
                first_unreleased = next(
                    m for m in transport.posted if not transport.gates[m].is_set()
                )
            transport.gate(first_unreleased).set()
        with transport.lock:
            assert transport.arrived.wait_for(lambda: transport.active == 0, WAIT)
    finally:
        deliveries.stop()
    assert transport.max_active == 2
    assert sorted(transport.posted) == [f"m{n}" for n in range(5)]
    assert sorted(ack for _, ack in backend.acks) == [f"m{n}-ack" for n in range(5)]


def test_a_copy_of_a_held_message_is_never_pushed_twice_and_keeps_the_newest_ack_id() -> None:
    deliveries, backend, transport = make_queue(max_in_flight=1)
    deliveries.start()
    try:
        assert deliveries.offer(message("busy"))
        transport.wait_posted(1)
        # WHEN the server resends a message in flight and one still queued (their leases ran out)
        assert not deliveries.offer(message("busy", "busy-ack-2"))
        assert deliveries.offer(message("queued", "queued-ack-1"))
        assert not deliveries.offer(message("queued", "queued-ack-2"))
        assert deliveries.held() == 2
        transport.gate("busy").set()
        transport.gate("queued").set()
        transport.wait_posted(2)
        with transport.lock:
            assert transport.arrived.wait_for(lambda: transport.active == 0, WAIT)
    finally:
        deliveries.stop()
    # THEN each is pushed once, and the queued one is acked with the ack id it was last sent with
    assert transport.posted == ["busy", "queued"]
    acked = [ack for _, ack in backend.acks]
    assert acked[0] == "busy-ack"
    assert len(acked) == 2
    assert acked[1] == "queued-ack-2"


def test_once_delivered_a_message_may_come_back_for_its_next_attempt() -> None:
    deliveries, _, transport = make_queue(max_in_flight=1)
    deliveries.start()
    try:
        transport.gate("m").set()
        assert deliveries.offer(message("m"))
        transport.wait_posted(1)
        with transport.lock:
            assert transport.arrived.wait_for(lambda: transport.active == 0, WAIT)
        # the delivery thread forgets the id right after the push returns
        assert deliveries.wait_for_free_slot(WAIT) == 1
        assert deliveries.offer(message("m", "m-ack-2"))
        transport.wait_posted(2)
    finally:
        deliveries.stop()


def test_after_stop_nothing_is_taken() -> None:
    deliveries, _, transport = make_queue(max_in_flight=1)
    deliveries.start()
    deliveries.stop()
    assert not deliveries.offer(message("late"))
    assert deliveries.wait_for_free_slot(0) == 0
    assert transport.posted == []


class FakeCall:
    """A streaming-pull call: yields what the test puts in `responses`; raises an exception put
    there; ends when cancelled."""

    def __init__(self, requests: Iterator[Any]) -> None:
        self.first_request = next(requests)
        self.responses: queue.Queue[Any] = queue.Queue()
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()
        self.responses.put(None)

    def __iter__(self) -> Iterator[Any]:
        while (item := self.responses.get(timeout=WAIT)) is not None:
            if isinstance(item, Exception):
                raise item
            yield item


class FakeStream:
    def __init__(self) -> None:
        self.calls: queue.Queue[FakeCall] = queue.Queue()

    def __call__(self, requests: Iterator[Any]) -> FakeCall:
        call = FakeCall(requests)
        self.calls.put(call)
        return call


def response(*ids: str) -> Any:
    publish_time = datetime(2026, 1, 1, tzinfo=UTC)
    return SimpleNamespace(
        received_messages=[
            SimpleNamespace(
                ack_id=f"{i}-ack",
                message=SimpleNamespace(
                    message_id=i, data=b"x", attributes={"k": "v"}, publish_time=publish_time
                ),
            )
            for i in ids
        ]
    )


def test_the_stream_offers_each_message_as_it_arrives_and_reopens_after_an_error() -> None:
    deliveries, backend, transport = make_queue(max_in_flight=4)
    for name in ("a", "b", "c"):
        transport.gate(name).set()
    stream = FakeStream()
    source = StreamingPullSource(
        stream, "projects/p/subscriptions/process-media", 600, error_pause_seconds=0
    )
    deliveries.start()
    source.start(deliveries)
    try:
        first = stream.calls.get(timeout=WAIT)
        assert first.first_request.subscription == "projects/p/subscriptions/process-media"
        assert first.first_request.stream_ack_deadline_seconds == 600
        first.responses.put(response("a", "b"))
        transport.wait_posted(2)
        # WHEN the stream breaks, THEN a new one is opened and its messages are pushed too
        first.responses.put(ConnectionResetError("stream reset"))
        second = stream.calls.get(timeout=WAIT)
        second.responses.put(response("c"))
        transport.wait_posted(3)
    finally:
        source.stop()
        deliveries.stop()
    assert second.cancelled.is_set()
    assert source.streams_opened == 2
    assert sorted(transport.posted) == ["a", "b", "c"]
    assert sorted(ack for _, ack in backend.acks) == ["a-ack", "b-ack", "c-ack"]
