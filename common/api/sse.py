"""Server-Sent Events: the wire format, and what a stream of one document sends.

Wire format (https://html.spec.whatwg.org/multipage/server-sent-events.html): `text/event-stream`,
UTF-8; an event is `id:`, `event:` and one `data:` line per line of its data, ended by a blank
line; a line starting with `:` is a comment (used as a heartbeat so that proxies keep the
connection); `retry:` tells the browser how long to wait before reconnecting, and on reconnect it
sends the last `id:` it saw as `Last-Event-ID`.

Each version of a mirrored document carries `seq`, incremented by every mirror write
(`common.media.mirror.write_document`). A stream of one document (`media/{id}`, `jobs/{job_id}`;
served by the stream service, `common.streams`) sends each version as one event: `event: status`
for the first one and whenever `status` changes, `event: progress` otherwise; `data:` is the
document as JSON; `id:` is its `seq`. Versions with `seq <= Last-Event-ID` are not sent again (a listener only ever delivers
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
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from common.core.status import JOB_TERMINAL_STATUSES
from common.core.status import TERMINAL_STATUSES as MEDIA_TERMINAL_STATUSES
from common.core.times import iso_utc

Document = Mapping[str, Any]

MEDIA_TERMINAL = frozenset(s.value for s in MEDIA_TERMINAL_STATUSES)
JOB_TERMINAL = frozenset(s.value for s in JOB_TERMINAL_STATUSES)
HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


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


def to_json(document: Document) -> str:
    """A document as compact JSON with sorted keys; times as RFC 3339 UTC."""
    return json.dumps(document, default=_json_default, sort_keys=True, separators=(",", ":"))


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
            in a terminal status: a resume of a finished stream ends without an event).
        """
        initial, self._initial = self._initial, None
        if initial is None:
            return None, False
        if self.last_seq >= 0:  # a resume starts from the live document
            return None, initial.get("status") in self._terminal
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
        return format_event(to_json(document), event=kind, event_id=seq), done
