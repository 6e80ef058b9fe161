"""The push router's retry rules: backoff, delivery attempts, dead-lettering, envelope shape."""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from emulators.pull_loop import GrpcBackend
from emulators.router import (
    DEAD_LETTER_DELIVERY_COUNT,
    DEAD_LETTER_SUBSCRIPTION,
    Outcome,
    PulledMessage,
    PushDispatcher,
    RetryPolicy,
    build_envelope,
)
from emulators.topology import SubscriptionSpec, load_topology

ROOT = Path(__file__).parents[2]
PUBLISHED = datetime(2026, 11, 22, 8, 30, 15, 123456, tzinfo=UTC)


@dataclass
class FakeBackend:
    acks: list[tuple[str, str]] = field(default_factory=list)
    nacks: list[tuple[str, str, float]] = field(default_factory=list)
    published: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    fail_publish: bool = False

    def acknowledge(self, subscription: str, ack_id: str) -> None:
        self.acks.append((subscription, ack_id))

    def nack(self, subscription: str, ack_id: str, delay_seconds: float) -> None:
        self.nacks.append((subscription, ack_id, delay_seconds))

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> None:
        if self.fail_publish:
            raise RuntimeError("dead-letter topic unavailable")
        self.published.append((topic, data, dict(attributes)))


@dataclass
class ScriptedTransport:
    """Answers each POST with the next scripted status; an exception instance is raised."""

    script: list[int | OSError]
    posts: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)

    def post(self, url: str, body: Mapping[str, Any], timeout_seconds: float) -> int:
        self.posts.append((url, dict(body), timeout_seconds))
        answer = self.script.pop(0)
        if isinstance(answer, OSError):
            raise answer
        return answer


@dataclass
class StepClock:
    """Each reading advances by `step` seconds: every POST appears to take `step` seconds."""

    step: float = 0.25
    now: float = 100.0

    def monotonic(self) -> float:
        self.now += self.step
        return self.now


def spec(**overrides: Any) -> SubscriptionSpec:
    values: dict[str, Any] = {
        "name": "finalize-upload",
        "topic": "object-events",
        "ack_deadline_seconds": 120,
        "push_function": "finalize_upload",
        "minimum_backoff_seconds": 10,
        "maximum_backoff_seconds": 600,
        "max_delivery_attempts": 5,
        "dead_letter_topic": "dead-letter",
    }
    values.update(overrides)
    return SubscriptionSpec(**values)


def message(delivery: int = 1, message_id: str = "m-1") -> PulledMessage:
    return PulledMessage(
        ack_id=f"{message_id}-ack-{delivery}",
        message_id=message_id,
        data=b'{"name": "dev-1/cam-1/a.jpg"}',
        attributes={"eventType": "OBJECT_FINALIZE", "objectId": "dev-1/cam-1/a.jpg"},
        publish_time=PUBLISHED,
    )


def dispatcher(
    script: list[int | OSError], *, backoff_scale: float = 1.0, **spec_overrides: Any
) -> tuple[PushDispatcher, FakeBackend, ScriptedTransport]:
    backend, transport = FakeBackend(), ScriptedTransport(script)
    d = PushDispatcher(
        spec(**spec_overrides),
        project="local-project",
        endpoint="http://127.0.0.1:9999/",
        backend=backend,
        transport=transport,
        clock=StepClock(),
        backoff_scale=backoff_scale,
    )
    return d, backend, transport


def test_backoff_doubles_from_the_minimum_and_is_capped_at_the_maximum() -> None:
    policy = RetryPolicy(minimum_backoff_seconds=10, maximum_backoff_seconds=600)
    assert [policy.backoff_seconds(n) for n in range(1, 9)] == [10, 20, 40, 80, 160, 320, 600, 600]
    assert policy.backoff_seconds(10_000) == 600


def test_backoff_scale_shrinks_both_bounds() -> None:
    policy = RetryPolicy(minimum_backoff_seconds=10, maximum_backoff_seconds=600, scale=0.01)
    assert [policy.backoff_seconds(n) for n in (1, 2, 3, 7, 8)] == pytest.approx(
        [0.1, 0.2, 0.4, 6.0, 6.0]
    )


def test_a_2xx_answer_acks_on_the_first_attempt_with_a_real_push_envelope() -> None:
    d, backend, transport = dispatcher([204])
    result = d.deliver(message())
    assert result.outcome is Outcome.ACKED
    assert (result.attempt, result.status, result.elapsed_ms) == (1, 204, 250.0)
    assert backend.acks == [("projects/local-project/subscriptions/finalize-upload", "m-1-ack-1")]
    assert backend.nacks == []
    assert backend.published == []
    url, body, timeout = transport.posts[0]
    assert (url, timeout) == ("http://127.0.0.1:9999/", 120.0)  # request timeout = ack deadline
    assert body == {
        "message": {
            "data": base64.b64encode(b'{"name": "dev-1/cam-1/a.jpg"}').decode(),
            "attributes": {"eventType": "OBJECT_FINALIZE", "objectId": "dev-1/cam-1/a.jpg"},
            "messageId": "m-1",
            "message_id": "m-1",
            "publishTime": "2026-11-22T08:30:15.123Z",
            "publish_time": "2026-11-22T08:30:15.123Z",
        },
        "subscription": "projects/local-project/subscriptions/finalize-upload",
        "deliveryAttempt": 1,
    }
    assert d.attempts("m-1") == 0  # forgotten once acked


def test_failures_nack_with_growing_backoff_until_a_redelivery_succeeds() -> None:
    d, backend, transport = dispatcher([500, ConnectionRefusedError("refused"), 429, 200])
    outcomes = [d.deliver(message(delivery=n)) for n in range(1, 5)]
    assert [o.outcome for o in outcomes] == [Outcome.NACKED] * 3 + [Outcome.ACKED]
    assert [o.status for o in outcomes] == [500, None, 429, 200]
    assert [body["deliveryAttempt"] for _, body, _ in transport.posts] == [1, 2, 3, 4]
    assert [delay for _, _, delay in backend.nacks] == [10, 20, 40]
    assert [ack for _, ack, _ in backend.nacks] == ["m-1-ack-1", "m-1-ack-2", "m-1-ack-3"]
    assert backend.acks == [("projects/local-project/subscriptions/finalize-upload", "m-1-ack-4")]
    assert backend.published == []


def test_redirects_and_client_errors_are_failures_too() -> None:
    d, backend, _ = dispatcher([302, 404])
    assert d.deliver(message(1)).outcome is Outcome.NACKED
    assert d.deliver(message(2)).outcome is Outcome.NACKED
    assert backend.acks == []


def test_after_max_delivery_attempts_the_message_goes_to_the_dead_letter_topic() -> None:
    d, backend, _ = dispatcher([500] * 5, backoff_scale=0.01)
    outcomes = [d.deliver(message(delivery=n)) for n in range(1, 6)]
    assert [o.outcome for o in outcomes] == [Outcome.NACKED] * 4 + [Outcome.DEAD_LETTERED]
    assert [delay for _, _, delay in backend.nacks] == pytest.approx([0.1, 0.2, 0.4, 0.8])
    # the original is acked exactly once, on the fifth delivery, and never nacked again
    assert backend.acks == [("projects/local-project/subscriptions/finalize-upload", "m-1-ack-5")]
    [(topic, data, attributes)] = backend.published
    assert topic == "projects/local-project/topics/dead-letter"
    assert data == message().data
    assert attributes["eventType"] == "OBJECT_FINALIZE"
    assert attributes[DEAD_LETTER_DELIVERY_COUNT] == "5"
    assert attributes[DEAD_LETTER_SUBSCRIPTION] == "finalize-upload"
    assert d.attempts("m-1") == 0


def test_attempts_are_counted_per_message_id() -> None:
    d, backend, _ = dispatcher([500, 500, 500])
    d.deliver(message(1, "a"))
    d.deliver(message(1, "b"))
    d.deliver(message(2, "a"))
    assert (d.attempts("a"), d.attempts("b")) == (2, 1)
    assert [delay for _, _, delay in backend.nacks] == [10, 10, 20]


def test_without_a_dead_letter_topic_failures_are_retried_forever() -> None:
    d, backend, _ = dispatcher([503] * 8, dead_letter_topic=None)
    outcomes = [d.deliver(message(n)) for n in range(1, 9)]
    assert {o.outcome for o in outcomes} == {Outcome.NACKED}
    assert backend.published == []
    assert backend.acks == []
    assert backend.nacks[-1][2] == 600  # capped at the maximum backoff


def test_a_failed_dead_letter_publish_keeps_the_message() -> None:
    d, backend, _ = dispatcher([500] * 5)
    backend.fail_publish = True
    outcomes = [d.deliver(message(n)) for n in range(1, 6)]
    assert outcomes[-1].outcome is Outcome.NACKED
    assert backend.acks == []
    assert len(backend.nacks) == 5


def test_envelope_timestamps_are_utc_with_a_z_suffix() -> None:
    naive = PulledMessage("a", "1", b"", {}, datetime(2026, 1, 2, 3, 4, 5))
    body = build_envelope(naive, "projects/p/subscriptions/s", 3)
    assert body["message"]["publishTime"] == "2026-01-02T03:04:05.000Z"
    assert body["message"]["data"] == ""
    assert body["deliveryAttempt"] == 3


class _FakeSubscriber:
    def __init__(self) -> None:
        self.modacks: list[int] = []
        self.called = threading.Event()

    def modify_ack_deadline(self, request: dict[str, Any], timeout: float) -> None:
        self.modacks.append(request["ack_deadline_seconds"])
        self.called.set()


def test_grpc_backend_nacks_whole_seconds_on_the_server_and_sub_second_on_a_timer() -> None:
    subscriber = _FakeSubscriber()
    backend = GrpcBackend(publisher=None, subscriber=subscriber)  # type: ignore[arg-type]
    backend.nack("projects/p/subscriptions/s", "ack-1", 20.0)
    assert subscriber.modacks == [20]  # redelivered by the emulator when the deadline passes
    subscriber.called.clear()
    backend.nack("projects/p/subscriptions/s", "ack-2", 0.05)
    assert subscriber.called.wait(timeout=5)
    assert subscriber.modacks == [20, 0]  # held 50 ms, then an immediate nack


def test_topology_push_subscriptions_are_routable() -> None:
    topology = load_topology(ROOT / "topology.json")
    functions = {f.name for f in topology.functions}
    push = topology.push_subscriptions()
    assert push, "topology.json has no push subscription"
    dead_letter_topics = {s.dead_letter_topic for s in push if s.dead_letter_topic}
    for sub in push:
        assert sub.push_function in functions
        assert sub.ack_deadline_seconds >= 10
        assert 0 < sub.minimum_backoff_seconds <= sub.maximum_backoff_seconds
        # every push subscription dead-letters, except those that handle dead letters
        assert sub.dead_letter_topic in topology.topics or sub.topic in dead_letter_topics
