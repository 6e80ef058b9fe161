"""The stream loop: heartbeats while idle, events as they come, and the ends (terminal event,
lifetime, a client too far behind), driven by a clock the test moves: nothing sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from common.api.sse import JOB_TERMINAL, EventState
from common.streams.hub import Subscriber, Version
from common.streams.pump import pump
from tests.aio import run_async

HEARTBEAT = ": heartbeat\n\n"


class Script:
    """A clock and a wait: each wait returns the next scripted version, or, when there is none
    for now, lets the whole timeout pass on the clock."""

    def __init__(self, arrivals: list[tuple[float, Version]]) -> None:
        self.now = 0.0
        self.arrivals = sorted(arrivals, key=lambda a: a[0])
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def wait(self, _subscriber: Subscriber, timeout: float) -> Version | None:
        self.waits.append(timeout)
        if self.arrivals and self.arrivals[0][0] <= self.now + timeout:
            at, version = self.arrivals.pop(0)
            self.now = max(self.now, at)
            return version
        self.now += timeout
        return None


def job(seq: int, status: str, progress: float = 0.0) -> Version:
    data = {"status": status, "progress": progress, "seq": seq}
    return Version("jobs", "job_1", seq, datetime(2026, 1, 1, tzinfo=UTC), data, "dev-1")


def run(
    script: Script,
    render: Callable[[Version], tuple[str | None, bool]],
    *,
    heartbeat: float,
    lifetime: float,
    subscriber: Subscriber | None = None,
) -> list[str]:
    async def collect() -> list[str]:
        sub = subscriber or Subscriber(asyncio.get_running_loop())
        return [
            chunk
            async for chunk in pump(
                sub,
                render,
                heartbeat_seconds=heartbeat,
                max_seconds=lifetime,
                clock=script.clock,
                wait=script.wait,
            )
        ]

    return run_async(collect())


def test_heartbeats_while_idle_then_events_until_the_terminal_one() -> None:
    state = EventState(JOB_TERMINAL, None)
    script = Script(
        [
            (25.0, job(1, "running", 0.1)),
            (26.0, job(2, "running", 0.9)),
            (40.0, job(3, "completed", 1)),
        ]
    )
    chunks = run(script, lambda v: state.on_document(v.data), heartbeat=10, lifetime=300)
    events = [c.split("\n")[1] if not c.startswith(":") else c for c in chunks]
    assert events == [
        HEARTBEAT,  # at 10
        HEARTBEAT,  # at 20
        "event: status",  # at 25
        "event: progress",  # at 26
        HEARTBEAT,  # at 30
        "event: status",  # at 40: completed ends the stream
    ]


def test_the_stream_ends_after_its_lifetime() -> None:
    script = Script([])
    chunks = run(script, lambda v: (None, False), heartbeat=15, lifetime=40)
    assert chunks == [HEARTBEAT, HEARTBEAT]
    assert script.now == 40  # it waited exactly until the end, never past it


def test_a_loop_held_up_sends_one_heartbeat_not_a_burst() -> None:
    class Stalled(Script):
        async def wait(self, subscriber: Subscriber, timeout: float) -> Version | None:
            if not self.waits:
                self.now += 95  # the first wait took far longer than asked
            return await super().wait(subscriber, timeout)

    chunks = run(Stalled([]), lambda v: (None, False), heartbeat=10, lifetime=110)
    assert chunks == [HEARTBEAT]  # at 105, late, once (not the nine it missed); next due 115 > 110


def test_a_subscriber_too_far_behind_ends_its_stream() -> None:
    async def scenario() -> list[str]:
        subscriber = Subscriber(asyncio.get_running_loop(), maxsize=2)
        for seq in (1, 2, 3):  # the third does not fit: overflowed
            subscriber.offer(job(seq, "running"))
        assert subscriber.overflowed
        script = Script([])
        return [
            chunk
            async for chunk in pump(
                subscriber,
                lambda v: ("x", False),
                heartbeat_seconds=1,
                max_seconds=60,
                clock=script.clock,
                wait=script.wait,
            )
        ]

    assert run_async(scenario()) == []


def test_a_subscriber_drops_versions_it_has_passed() -> None:
    async def scenario() -> list[int]:
        subscriber = Subscriber(asyncio.get_running_loop())
        subscriber.seen("job_1", 2)
        for seq in (1, 2, 3, 3, 4):
            subscriber.offer(job(seq, "running"))
        return [subscriber.queue.get_nowait().seq for _ in range(subscriber.queue.qsize())]

    assert run_async(scenario()) == [3, 4]
