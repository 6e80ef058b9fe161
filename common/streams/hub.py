"""One Firestore listener per collection per process, fanned out to every stream that follows it.

A stream never opens a Firestore listener of its own. `Feed` runs one query listener on its
collection (`updated_at >= now - window`, a single-field range: no composite index), keeps the
newest version of every document it has seen (the resume cache), and hands each new version to
the `Subscriber`s that follow that document, its device, or everything, on their event loop.
Thousands of streams therefore cost one listener (one gRPC stream, one callback thread) per
collection, and a client's reconnect (`Last-Event-ID`) is answered from memory.

- Coverage: once the first snapshot is in, every version written at or after `coverage` is in
  the cache (the newest of each document), so a cursor at or after it can be resumed; an older
  one cannot (the stream tells the client to reload: `event: reset`).
- Recycling: the result set of `updated_at >= T` grows with every write after T, so every
  `recycle_seconds` a new listener starts at `now - window`; when its first snapshot is in it
  replaces the old one, and the cache drops what is older than its start (a deletion's
  tombstone included). Versions that both listeners deliver meanwhile are dropped by `seq` in
  the subscriber.
- Deletions: a document that leaves the result set was deleted (`updated_at` only grows): its
  version is a tombstone (`deleted`) timed at the snapshot's read time, `seq` one past the last.

Snapshots are consistent at their read time (Firestore's listener guarantee), so after the
snapshot read at R every write committed at or before R has been seen: `high_water()`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

Cursor = tuple[int, str, int]
"""Where a version sits in a feed's order: (its time in microseconds since the epoch, document
id, seq)."""

DEFAULT_QUEUE_SIZE = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch of a tz-aware time."""
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Change:
    """One document change of a listener's snapshot.

    Attributes:
        doc_id: the document id.
        data: the document's fields (for a removal: its last version).
        removed: the document left the result set (it was deleted).
    """

    doc_id: str
    data: Mapping[str, Any]
    removed: bool = False


OnSnapshot = Callable[[Sequence[Change], datetime], None]
Listen = Callable[[str, datetime, OnSnapshot], Callable[[], None]]
"""Starts a listener on `collection` where `updated_at >= since`; calls back with the changes of
each snapshot and its read time; returns the function that stops it."""


@dataclass(frozen=True)
class Version:
    """One version of a document as a feed delivers it.

    Attributes:
        collection: the feed's collection (`media`, `jobs`).
        doc_id: the document id.
        seq: the document's `seq` (the mirror's version number).
        at: `updated_at` of the version; a tombstone's is the read time that saw the deletion.
        data: the document's fields (a tombstone's: those of its last version).
        device_id: the device the document belongs to, when it names one.
        deleted: the document was deleted (a tombstone).
    """

    collection: str
    doc_id: str
    seq: int
    at: datetime
    data: Mapping[str, Any]
    device_id: str | None
    deleted: bool = False

    @property
    def cursor(self) -> Cursor:
        """The version's place in the feed's order."""
        return (micros(self.at), self.doc_id, self.seq)


class Subscriber:
    """The receiving end of one stream: versions arrive on its event loop, in a bounded queue.

    A version at or below the last `seq` delivered for its document is dropped (listeners may
    repeat versions), and so is one at or before `since` when it is set. When the queue is full the subscriber is marked `overflowed` and drops the
    rest: the stream ends and the client resumes from its last event id.

    Args:
        loop: the event loop the stream runs on.
        maxsize: versions held before the subscriber overflows.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int = DEFAULT_QUEUE_SIZE) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Version] = asyncio.Queue(maxsize)
        self.overflowed = False
        self.since: Cursor | None = None
        """Versions at or before this cursor are history to this subscriber (a stream that
        starts from `high_water()`): a renewed listener's first snapshot repeats them."""
        self._last_seq: dict[str, int] = {}

    def offer(self, version: Version) -> None:
        """Queue `version` unless it is old news (runs on `loop`)."""
        if self.overflowed or version.seq <= self._last_seq.get(version.doc_id, -1):
            return
        if self.since is not None and version.cursor <= self.since:
            return
        try:
            self.queue.put_nowait(version)
        except asyncio.QueueFull:
            self.overflowed = True
            return
        self._last_seq[version.doc_id] = version.seq

    def seen(self, doc_id: str, seq: int) -> None:
        """Record that the stream sent `seq` of `doc_id` by other means (the Postgres row)."""
        self._last_seq[doc_id] = max(seq, self._last_seq.get(doc_id, -1))


@dataclass(eq=False)
class _Listener:
    since: datetime
    live: bool = False
    retired: bool = False
    stop: Callable[[], None] | None = None


@dataclass
class _Followers:
    by_doc: dict[str, set[Subscriber]] = field(default_factory=dict)
    by_device: dict[str, set[Subscriber]] = field(default_factory=dict)
    everything: set[Subscriber] = field(default_factory=set)

    def of(self, version: Version) -> set[Subscriber]:
        found = set(self.everything)
        found |= self.by_doc.get(version.doc_id, set())
        if version.device_id is not None:
            found |= self.by_device.get(version.device_id, set())
        return found


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Feed:
    """The shared listener of one collection (see the module docstring).

    Args:
        collection: the Firestore collection (`media`, `jobs`).
        listen: starts a listener (`firestore_listen` in production, a fake in tests).
        window_seconds: how far back a new listener reaches, so how old a resumable cursor may be.
        recycle_seconds: how often `recycle()` is due (the caller's timer calls it).
        now: the wall clock (tz-aware UTC).
    """

    def __init__(
        self,
        collection: str,
        listen: Listen,
        *,
        window_seconds: float,
        recycle_seconds: float,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.collection = collection
        self.window = timedelta(seconds=window_seconds)
        self.recycle_seconds = recycle_seconds
        self.ready = threading.Event()
        self._listen = listen
        self._now = now
        self._lock = threading.Lock()
        self._cache: dict[str, Version] = {}
        self._coverage: datetime | None = None
        self._read_time: datetime | None = None
        self._listeners: list[_Listener] = []
        self._followers = _Followers()

    # ------------------------------------------------------------------------------ listeners
    def start(self) -> None:
        """Start the listener (its first snapshot sets `ready`)."""
        self._open(self._now() - self.window)

    def recycle(self) -> None:
        """Start a replacement listener at `now - window` (a pending one is dropped first)."""
        with self._lock:
            pending = self._listeners[1:]
            del self._listeners[1:]
            for listener in pending:
                listener.retired = True
        for listener in pending:
            _stop_quietly(listener)
        self._open(self._now() - self.window)

    def _open(self, since: datetime) -> None:
        listener = _Listener(since)
        with self._lock:
            self._listeners.append(listener)
        listener.stop = self._listen(
            self.collection, since, lambda changes, at: self._on_snapshot(listener, changes, at)
        )

    def stop(self) -> None:
        """Stop every listener of the feed."""
        with self._lock:
            listeners, self._listeners = self._listeners, []
            for listener in listeners:
                listener.retired = True
        for listener in listeners:
            _stop_quietly(listener)

    def _on_snapshot(
        self, listener: _Listener, changes: Sequence[Change], read_time: datetime
    ) -> None:
        retired: _Listener | None = None
        with self._lock:
            if listener.retired:
                return
            versions = [self._version(change, read_time) for change in changes]
            for version in versions:
                held = self._cache.get(version.doc_id)
                if held is None or version.seq > held.seq:
                    self._cache[version.doc_id] = version
            if not listener.live:
                listener.live = True
                if self._listeners and listener is not self._listeners[0]:
                    retired = self._listeners.pop(0)
                    retired.retired = True
                    self._listeners.remove(listener)
                    self._listeners.insert(0, listener)
                    self._cache = {k: v for k, v in self._cache.items() if v.at >= listener.since}
                self._coverage = listener.since
            if self._read_time is None or read_time > self._read_time:
                self._read_time = read_time
            deliveries = [(version, self._followers.of(version)) for version in versions]
        _deliver(deliveries)
        if retired is not None:
            threading.Thread(target=_stop_quietly, args=(retired,), daemon=True).start()
        self.ready.set()

    def _version(self, change: Change, read_time: datetime) -> Version:
        data = change.data
        device = data.get("device_id")
        device_id = device if isinstance(device, str) else None
        seq = data.get("seq")
        seq = seq if isinstance(seq, int) else 0
        if change.removed:
            held = self._cache.get(change.doc_id)
            last = max(seq, held.seq if held is not None else 0)
            return Version(
                self.collection, change.doc_id, last + 1, read_time, dict(data), device_id, True
            )
        at = data.get("updated_at")
        moment = at if isinstance(at, datetime) else read_time
        return Version(self.collection, change.doc_id, seq, moment, dict(data), device_id)

    # ---------------------------------------------------------------------------- followers
    def follow(
        self,
        subscriber: Subscriber,
        *,
        doc_ids: Iterable[str] = (),
        device_ids: Iterable[str] | None = (),
    ) -> None:
        """Deliver to `subscriber` the versions of `doc_ids` and of the documents of
        `device_ids` (None: every document of the collection)."""
        with self._lock:
            for doc_id in doc_ids:
                self._followers.by_doc.setdefault(doc_id, set()).add(subscriber)
            if device_ids is None:
                self._followers.everything.add(subscriber)
            else:
                for device_id in device_ids:
                    self._followers.by_device.setdefault(device_id, set()).add(subscriber)

    def unfollow(self, subscriber: Subscriber) -> None:
        """Stop delivering to `subscriber`."""
        with self._lock:
            self._followers.everything.discard(subscriber)
            for index in (self._followers.by_doc, self._followers.by_device):
                for key in [k for k, subs in index.items() if subscriber in subs]:
                    index[key].discard(subscriber)
                    if not index[key]:
                        del index[key]

    def followers(self) -> int:
        """How many subscribers follow something of this feed."""
        with self._lock:
            subs = set(self._followers.everything)
            for index in (self._followers.by_doc, self._followers.by_device):
                for found in index.values():
                    subs |= found
            return len(subs)

    # -------------------------------------------------------------------------------- cache
    def latest(self, doc_id: str) -> Version | None:
        """The newest version of `doc_id` the feed holds, if any."""
        with self._lock:
            return self._cache.get(doc_id)

    def high_water(self) -> Cursor | None:
        """A cursor no later than every version the feed has not delivered yet (None before
        the first snapshot)."""
        with self._lock:
            if self._read_time is None:
                return None
            return (micros(self._read_time), "", 0)

    def changed_since(
        self, cursor: Cursor, device_ids: Iterable[str] | None
    ) -> list[Version] | None:
        """The newest version of every document of `device_ids` (None: all) changed after
        `cursor`, in cursor order; None when the cursor is older than the coverage (or the feed
        is not ready), so what changed since cannot be told."""
        with self._lock:
            if self._coverage is None or cursor[0] < micros(self._coverage):
                return None
            wanted = None if device_ids is None else set(device_ids)
            found = [
                v
                for v in self._cache.values()
                if v.cursor > cursor and (wanted is None or v.device_id in wanted)
            ]
        return sorted(found, key=lambda v: v.cursor)


def _deliver(deliveries: Sequence[tuple[Version, set[Subscriber]]]) -> None:
    """Hand each version to its subscribers, one callback per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Version, list[Subscriber]]]] = {}
    for version, subscribers in deliveries:
        for subscriber in subscribers:
            batch = by_loop.setdefault(subscriber.loop, [])
            if batch and batch[-1][0] is version:
                batch[-1][1].append(subscriber)
            else:
                batch.append((version, [subscriber]))
    for loop, batch in by_loop.items():
        try:
            loop.call_soon_threadsafe(_offer_all, batch)
        except RuntimeError:  # the loop closed (the service is stopping)
            continue


def _offer_all(batch: Sequence[tuple[Version, Sequence[Subscriber]]]) -> None:
    for version, subscribers in batch:
        for subscriber in subscribers:
            subscriber.offer(version)


def _stop_quietly(listener: _Listener) -> None:
    if listener.stop is None:
        return
    try:
        listener.stop()
    except Exception:  # a listener that failed already has nothing left to stop
        log.warning("stopping a listener failed", exc_info=True)


def firestore_listen(
    collection: str, since: datetime, on_snapshot: OnSnapshot
) -> Callable[[], None]:
    """A `Listen` on the status mirror's Firestore database (`on_snapshot` of the query
    `updated_at >= since`)."""
    from google.cloud.firestore import FieldFilter

    from common.media.mirror import get_firestore

    query = (
        get_firestore().collection(collection).where(filter=FieldFilter("updated_at", ">=", since))
    )

    def callback(_snapshots: Any, changes: Sequence[Any], read_time: datetime) -> None:
        converted = [
            Change(c.document.id, c.document.to_dict() or {}, c.type.name == "REMOVED")
            for c in changes
        ]
        on_snapshot(converted, read_time)

    watch = query.on_snapshot(callback)
    return watch.unsubscribe
