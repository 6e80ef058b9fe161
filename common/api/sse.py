"""Server-Sent Events from Firestore documents: `media/{id}` and `jobs/{job_id}`, live.

Wire format (https://html.spec.whatwg.org/multipage/server-sent-events.html): `text/event-stream`,
UTF-8; an event is `id:`, `event:` and one `data:` line per line of its data, ended by a blank
line; a line starting with `:` is a comment (used as a heartbeat so that proxies keep the
connection); `retry:` tells the browser how long to wait before reconnecting, and on reconnect it
sends the last `id:` it saw as `Last-Event-ID`.

Each version of a mirrored document carries `seq`, incremented by every mirror write
(`common.media.mirror.write_document`). A stream subscribes to the document with Firestore's
`on_snapshot` listener and sends each version as one event: `event: status` for the first one and
whenever `status` changes, `event: progress` otherwise; `data:` is the document as JSON; `id:` is
its `seq`. Versions with `seq <= Last-Event-ID` are not sent again (a listener only ever delivers
the current version and later ones, so resuming never replays history). The stream closes after
sending a terminal status, or after `sse_max_seconds`; a heartbeat comment goes out every
`sse_heartbeat_seconds`.

Postgres is the source of truth: a stream (that is not a resume) starts with the row's state as
event id 0, so a client always sees where things stand, even before the mirror has a document (a
job the worker has not picked up) or after it has none (a deleted media); a row already in a
terminal status ends the stream right there.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from common.core.errors import Conflict
from common.core.settings import get_settings
from common.core.status import JOB_TERMINAL_STATUSES
from common.core.status import TERMINAL_STATUSES as MEDIA_TERMINAL_STATUSES
from common.core.times import iso_utc

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

log = logging.getLogger(__name__)

Document = dict[str, Any]
Subscribe = Callable[[Callable[[Document | None], None]], Callable[[], None]]
"""Starts a listener that calls back with each document version (None: no document); returns
the function that stops it."""

MEDIA_TERMINAL = frozenset(s.value for s in MEDIA_TERMINAL_STATUSES)
JOB_TERMINAL = frozenset(s.value for s in JOB_TERMINAL_STATUSES)
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def format_event(data: str, *, event: str | None = None, event_id: int | str | None = None) -> str:
    """One event in `text/event-stream` form, ending with the blank line that dispatches it.

    Args:
        data: the payload; each of its lines becomes one `data:` line (the browser joins them
            back with newlines). Carriage returns are treated as line breaks, as the spec does.
        event: the event type (`event:` line), if any.
        event_id: the event id (`id:` line), if any; must not contain a line break.

    Returns:
        The event text, e.g. `"id: 3\\nevent: progress\\ndata: {...}\\n\\n"`.

    Raises:
        ValueError: `event` or `event_id` contains a line break.
    """
    lines = []
    for name, value in (("id", event_id), ("event", event)):
        if value is None:
            continue
        text = str(value)
        if "\n" in text or "\r" in text:
            raise ValueError(f"{name} must be one line")
        lines.append(f"{name}: {text}")
    normalised = data.replace("\r\n", "\n").replace("\r", "\n")
    lines += [f"data: {line}" for line in normalised.split("\n")]
    return "\n".join(lines) + "\n\n"


def comment(text: str) -> str:
    """A comment line (ignored by clients; keeps intermediaries from timing out idle streams)."""
    return f": {text}\n\n"


def parse_last_event_id(value: str | None) -> int | None:
    """The `Last-Event-ID` header as a sequence number; None when absent or not a number."""
    if value is None:
        return None
    text = value.strip()
    return int(text) if text.isdigit() else None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    return str(value)


class EventState:
    """Decides, version by version, what a stream sends (pure; no I/O).

    Args:
        terminal_statuses: statuses after which the stream closes.
        last_event_id: the client's `Last-Event-ID`: versions with `seq` at or below it are
            skipped.
        initial: the row's state from Postgres, sent first (as `seq` 0) by `opening`.
        gone_status: the status to send when a document that existed disappears (a deleted
            media's document is deleted); None: ignore disappearances.
    """

    def __init__(
        self,
        terminal_statuses: frozenset[str],
        last_event_id: int | None,
        initial: Document | None = None,
        gone_status: str | None = None,
    ) -> None:
        self._gone = gone_status
        self._terminal = terminal_statuses
        self.last_seq = last_event_id if last_event_id is not None else -1
        self._status: str | None = None
        self._initial = initial

    def opening(self) -> tuple[str | None, bool]:
        """What the stream starts with: the row's state as event 0 (nothing on a resume).

        Returns:
            The event text (None: nothing) and whether the stream is over already (the row is
            in a terminal status).
        """
        initial, self._initial = self._initial, None
        if initial is None or self.last_seq >= 0:  # a resume starts from the live document
            return None, False
        return self.on_document({**initial, "seq": 0})

    def on_document(self, document: Document | None) -> tuple[str | None, bool]:
        """Handle one version of the document.

        Returns:
            The event text to send (None: nothing) and whether the stream is over (the document
            is in a terminal status).
        """
        if document is None:
            if self._status is None or self._gone is None:
                return None, False
            document = {"status": self._gone, "seq": self.last_seq + 1}  # it was deleted
        seq = document.get("seq")
        status = document.get("status")
        done = status in self._terminal
        if not isinstance(seq, int) or seq <= self.last_seq:
            return None, done
        kind = "status" if status != self._status else "progress"
        self._status = status if isinstance(status, str) else None
        self.last_seq = seq
        data = json.dumps(document, default=_json_default, sort_keys=True, separators=(",", ":"))
        return format_event(data, event=kind, event_id=seq), done


def event_stream(
    subscribe: Subscribe,
    state: EventState,
    *,
    heartbeat_seconds: float,
    max_seconds: float,
    retry_ms: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """Yield the text of an event stream until a terminal event or `max_seconds` pass.

    The listener runs on its own thread and hands versions over through a queue; this generator
    sends them, a heartbeat comment every `heartbeat_seconds`, and stops the listener when it
    ends or when the client goes away (the generator is closed).
    """
    if retry_ms is not None:
        yield f"retry: {retry_ms}\n\n"
    text, done = state.opening()
    if text is not None:
        yield text
    if done:
        return
    versions: queue.Queue[Document | None] = queue.Queue()
    unsubscribe = subscribe(versions.put)
    try:
        now = clock()
        deadline = now + max_seconds
        next_heartbeat = now + heartbeat_seconds
        while True:
            now = clock()
            if now >= deadline:
                return
            if now >= next_heartbeat:
                yield comment("heartbeat")
                next_heartbeat += heartbeat_seconds
                continue
            try:
                document = versions.get(timeout=min(next_heartbeat, deadline) - now)
            except queue.Empty:
                continue
            text, done = state.on_document(document)
            if text is not None:
                yield text
            if done:
                return
    finally:
        unsubscribe()


def firestore_subscription(collection: str, document_id: str) -> Subscribe:
    """A `Subscribe` over Firestore's `on_snapshot` listener on `collection/document_id`."""

    def subscribe(deliver: Callable[[Document | None], None]) -> Callable[[], None]:
        from common.core.calls import record
        from common.media.mirror import get_firestore

        record("firestore", "read", collection)

        def on_snapshot(snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
            for snapshot in snapshots:
                deliver(snapshot.to_dict() if snapshot.exists else None)

        reference = get_firestore().collection(collection).document(document_id)
        watch = reference.on_snapshot(on_snapshot)
        return watch.unsubscribe

    return subscribe


def event_response(
    collection: str,
    document_id: str,
    terminal: frozenset[str],
    last_event_id: str | None,
    initial: Document,
    gone_status: str | None = None,
) -> Response:
    """A `text/event-stream` response following `collection/document_id`.

    Args:
        collection: `media` or `jobs`.
        document_id: the media or job id (already authorized by the caller).
        terminal: statuses that end the stream.
        last_event_id: the request's `Last-Event-ID` header.
        initial: the row's state, sent as event 0 while the document does not exist.
        gone_status: sent when the document disappears (see `EventState`).

    Raises:
        Conflict: the status mirror is disabled (`realtime_disabled`).
    """
    from werkzeug.wrappers import Response

    settings = get_settings()
    if not settings.status_mirror_enabled:
        raise Conflict("realtime status is disabled on this deployment", code="realtime_disabled")
    stream = event_stream(
        firestore_subscription(collection, document_id),
        EventState(terminal, parse_last_event_id(last_event_id), initial, gone_status),
        heartbeat_seconds=settings.sse_heartbeat_seconds,
        max_seconds=settings.sse_max_seconds,
        retry_ms=settings.sse_retry_ms,
    )
    return Response(stream, mimetype="text/event-stream", headers=HEADERS)
