"""What `GET /v1/events/stream` sends: every version of the mirror documents of a set of
devices, one event per version, resumable across documents.

Each event type is one `UserFeed`: a mirror collection, the SSE event name its versions go out
as, and the field that carries the document id. The stream follows every feed of `USER_FEEDS`,
so a new event type is one more entry here, written by its mirror with `device_id`,
`updated_at` and `seq` like the others: media statuses (`event: media`) and detection events
(`event: event`, `common.media.events.notify`).

Event ids are cursors, `<updated_at in microseconds>-<document id>-<seq>`, ordered across all
documents and feeds; `Last-Event-ID` (or `?last_event_id=`, for an EventSource opened again with
a new ticket) resumes after one. docs/CONTRACTS.md, "Live status", is the contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.api.sse import format_event, to_json
from common.media.events.notify import EVENTS_COLLECTION
from common.media.mirror import MEDIA_COLLECTION
from common.streams.hub import Cursor, Version


@dataclass(frozen=True)
class UserFeed:
    """One event type of the per-user stream.

    Attributes:
        collection: the mirror collection whose versions it sends.
        event: the SSE event name (`event: media`).
        id_field: the field of `data:` holding the document id (`media_id`).
    """

    collection: str
    event: str
    id_field: str


USER_FEEDS: tuple[UserFeed, ...] = (
    UserFeed(MEDIA_COLLECTION, "media", "media_id"),
    UserFeed(EVENTS_COLLECTION, "event", "event_id"),
)
"""The event types of `GET /v1/events/stream`, in no particular order."""

RESET_WINDOW = "resume_window_passed"
RESET_INVALID = "invalid_last_event_id"


def encode_cursor(cursor: Cursor) -> str:
    """An event id: `<microseconds>-<document id>-<seq>`."""
    micros, doc_id, seq = cursor
    return f"{micros}-{doc_id}-{seq}"


def decode_cursor(text: str) -> Cursor | None:
    """The cursor of an event id made by `encode_cursor` (`event: ready`'s has no document id);
    None when it is not one."""
    head, _, rest = text.strip().partition("-")
    doc_id, _, tail = rest.rpartition("-")
    if not (head.isdigit() and tail.isdigit()) or len(text) > 256:
        return None
    return (int(head), doc_id, int(tail))


def merge_since(
    changes: Sequence[Sequence[Version] | None],
) -> tuple[list[Version], bool]:
    """The versions of several feeds since one cursor, in cursor order.

    Args:
        changes: each feed's `Feed.changed_since` answer.

    Returns:
        The versions, and whether every feed could answer (False: the cursor is too old).
    """
    complete = all(found is not None for found in changes)
    merged = [v for found in changes if found is not None for v in found]
    return sorted(merged, key=lambda v: v.cursor), complete


class UserStream:
    """Renders the versions one per-user stream sends (pure; no I/O).

    Args:
        camera_id: only documents of this camera (None: every camera).
        feeds: the event types (`USER_FEEDS`).
    """

    def __init__(self, camera_id: str | None, feeds: Sequence[UserFeed] = USER_FEEDS) -> None:
        self.camera_id = camera_id
        self._feeds = {feed.collection: feed for feed in feeds}

    def render(self, version: Version) -> tuple[str | None, bool]:
        """The event of one version (None when filtered out); the stream never ends by itself.

        A deleted document goes out once more with `status: deleted`.
        """
        feed = self._feeds.get(version.collection)
        if feed is None:
            return None, False
        if self.camera_id is not None and version.data.get("camera_id") != self.camera_id:
            return None, False
        data: dict[str, Any] = {**version.data, feed.id_field: version.doc_id, "seq": version.seq}
        if version.deleted:
            data.update(status="deleted", updated_at=version.at)
        event_id = encode_cursor(version.cursor)
        return format_event(to_json(data), event=feed.event, event_id=event_id), False


def ready_event(cursor: Cursor, device_ids: Sequence[str], camera_id: str | None) -> str:
    """`event: ready`: the stream is live; its id resumes from here."""
    body: Mapping[str, Any] = {"device_ids": device_ids, "camera_id": camera_id}
    return format_event(to_json(body), event="ready", event_id=encode_cursor(cursor))


def reset_event(reason: str) -> str:
    """`event: reset`: what changed since the client's last event cannot be told (reload)."""
    return format_event(to_json({"reason": reason}), event="reset")
