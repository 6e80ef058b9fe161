"""The shared listener of a collection: one listener for every stream, versions to those who
follow their document or device, resume from memory within the window, recycling, deletions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from common.streams.hub import Change, Feed, OnSnapshot, Subscriber, Version, micros
from tests.aio import run_async

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeFirestore:
    """Listeners the test calls back by hand, as Firestore's watch thread would."""

    def __init__(self) -> None:
        self.listeners: list[tuple[datetime, OnSnapshot]] = []
        self.stopped: list[datetime] = []

    def listen(
        self, _collection: str, since: datetime, on_snapshot: OnSnapshot
    ) -> Callable[[], None]:
        self.listeners.append((since, on_snapshot))
        return lambda: self.stopped.append(since)

    def snapshot(self, index: int, changes: Sequence[Change], read_time: datetime) -> None:
        self.listeners[index][1](changes, read_time)


def doc(media: str, seq: int, at: datetime, device: str = "dev-1", **fields: Any) -> Change:
    return Change(media, {"device_id": device, "seq": seq, "updated_at": at, **fields})


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def feed_with(fake: FakeFirestore, clock: Clock, window_s: float = 600) -> Feed:
    return Feed("media", fake.listen, window_seconds=window_s, recycle_seconds=600, now=clock)


def drain(subscriber: Subscriber) -> list[tuple[str, int]]:
    out = []
    while not subscriber.queue.empty():
        v = subscriber.queue.get_nowait()
        out.append((v.doc_id, v.seq))
    return out


def test_one_listener_serves_every_follower_by_document_and_by_device() -> None:
    async def scenario() -> tuple[list[Any], ...]:
        fake, clock = FakeFirestore(), Clock()
        feed = feed_with(fake, clock)
        feed.start()
        loop = asyncio.get_running_loop()
        one_media, one_device, other_device = (Subscriber(loop) for _ in range(3))
        feed.follow(one_media, doc_ids=["med_a"])
        feed.follow(one_device, device_ids=["dev-1"])
        feed.follow(other_device, device_ids=["dev-2"])
        fake.snapshot(0, [], T0)
        fake.snapshot(
            0, [doc("med_a", 1, T0), doc("med_b", 1, T0), doc("med_c", 1, T0, "dev-2")], T0
        )
        await asyncio.sleep(0)  # deliveries run on the loop
        return drain(one_media), drain(one_device), drain(other_device), fake.listeners

    media, device, other, listeners = run_async(scenario())
    assert len(listeners) == 1
    assert media == [("med_a", 1)]
    assert device == [("med_a", 1), ("med_b", 1)]
    assert other == [("med_c", 1)]


def test_resume_answers_from_memory_within_the_window_and_not_before_it() -> None:
    fake, clock = FakeFirestore(), Clock()
    feed = feed_with(fake, clock, window_s=600)
    feed.start()
    assert fake.listeners[0][0] == T0 - timedelta(seconds=600)
    assert feed.changed_since((micros(T0), "", 0), None) is None  # not ready yet
    t1, t2 = T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)
    fake.snapshot(0, [doc("med_a", 1, t1), doc("med_b", 4, t2)], t2)
    fake.snapshot(0, [doc("med_a", 2, t2 + timedelta(seconds=1))], t2 + timedelta(seconds=1))
    after_a1 = (micros(t1), "med_a", 1)
    changed = feed.changed_since(after_a1, None)
    assert changed is not None
    assert [(v.doc_id, v.seq) for v in changed] == [("med_b", 4), ("med_a", 2)]  # cursor order
    changed_dev2 = feed.changed_since(after_a1, ["dev-2"])
    assert changed_dev2 == []
    too_old = (micros(T0 - timedelta(seconds=601)), "", 0)
    assert feed.changed_since(too_old, None) is None
    mark = feed.high_water()
    assert mark == (micros(t2 + timedelta(seconds=1)), "", 0)


def test_a_deleted_document_becomes_a_tombstone_one_version_later() -> None:
    fake, clock = FakeFirestore(), Clock()
    feed = feed_with(fake, clock)
    feed.start()
    fake.snapshot(0, [doc("med_a", 5, T0, camera_id="front")], T0)
    gone_at = T0 + timedelta(seconds=3)
    fake.snapshot(
        0,
        [Change("med_a", {"device_id": "dev-1", "seq": 5, "camera_id": "front"}, removed=True)],
        gone_at,
    )
    latest = feed.latest("med_a")
    assert latest is not None
    assert (latest.seq, latest.deleted, latest.at, latest.device_id) == (6, True, gone_at, "dev-1")
    assert latest.data["camera_id"] == "front"


def test_recycling_swaps_listeners_after_the_new_one_caught_up() -> None:
    async def scenario() -> tuple[list[Any], FakeFirestore, Feed]:
        fake, clock = FakeFirestore(), Clock()
        feed = feed_with(fake, clock, window_s=600)
        feed.start()
        subscriber = Subscriber(asyncio.get_running_loop())
        feed.follow(subscriber, device_ids=["dev-1"])
        fake.snapshot(
            0,
            [doc("med_old", 1, T0), doc("med_a", 1, T0 + timedelta(seconds=900))],
            T0 + timedelta(seconds=900),
        )
        clock.now = T0 + timedelta(seconds=1000)
        feed.recycle()
        assert len(fake.listeners) == 2
        assert fake.stopped == []  # the old one runs until then
        fake.snapshot(0, [doc("med_a", 2, clock.now)], clock.now)  # the old one still delivers
        # the new one's first snapshot: everything since now - window, med_a again
        fake.snapshot(1, [doc("med_a", 2, clock.now)], clock.now)
        fake.snapshot(0, [doc("med_a", 3, clock.now)], clock.now)  # retired: ignored
        fake.snapshot(1, [doc("med_a", 3, clock.now)], clock.now)
        await asyncio.sleep(0.05)  # the retired listener is stopped on a thread of its own
        return drain(subscriber), fake, feed

    delivered, fake, feed = run_async(scenario())
    assert delivered == [("med_old", 1), ("med_a", 1), ("med_a", 2), ("med_a", 3)]  # no repeats
    assert fake.stopped == [T0 - timedelta(seconds=600)]
    assert feed.latest("med_old") is None  # older than the new listener's start: dropped
    assert feed.latest("med_a") is not None


def test_unfollowed_subscribers_get_nothing_more() -> None:
    async def scenario() -> tuple[list[Any], int]:
        fake, clock = FakeFirestore(), Clock()
        feed = feed_with(fake, clock)
        feed.start()
        subscriber = Subscriber(asyncio.get_running_loop())
        feed.follow(subscriber, doc_ids=["med_a"], device_ids=["dev-1"])
        feed.unfollow(subscriber)
        fake.snapshot(0, [doc("med_a", 1, T0)], T0)
        await asyncio.sleep(0)
        return drain(subscriber), feed.followers()

    assert run_async(scenario()) == ([], 0)


def test_versions_carry_their_document_time_as_cursor() -> None:
    version = Version("media", "med_a", 3, T0, {}, "dev-1")
    assert version.cursor == (micros(T0), "med_a", 3)
    assert micros(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC)) == 1_000_005


def test_a_stream_that_starts_now_gets_no_history_from_a_renewed_listener() -> None:
    async def scenario() -> list[tuple[str, int]]:
        fake, clock = FakeFirestore(), Clock()
        feed = feed_with(fake, clock)
        feed.start()
        fake.snapshot(0, [doc("med_old", 3, T0)], T0 + timedelta(milliseconds=20))  # read after
        subscriber = Subscriber(asyncio.get_running_loop())
        feed.follow(subscriber, device_ids=["dev-1"])
        subscriber.since = feed.high_water()
        later = T0 + timedelta(seconds=5)
        fake.snapshot(0, [doc("med_new", 1, later)], later)
        clock.now = T0 + timedelta(seconds=900)
        feed.recycle()  # its first snapshot holds everything of the window again
        fake.snapshot(
            1, [doc("med_old", 3, T0), doc("med_new", 2, later + timedelta(seconds=1))], clock.now
        )
        await asyncio.sleep(0.05)
        return drain(subscriber)

    # the old media is history (before the stream began); the new one's missed version comes
    assert run_async(scenario()) == [("med_new", 1), ("med_new", 2)]
