"""The media status machine: states and the transitions allowed between them, in one place.

    pending_upload -> uploaded -> verified -> processing -> processed
    pending_upload | uploaded            -> rejected   (verification failed; terminal)
    verified | processing                -> failed     (processing failed for good; terminal)

Anything else (a repeated or backwards transition, e.g. from a duplicated or out-of-order event) is
not an error: callers treat it as a logged no-op.
"""

from __future__ import annotations

from enum import StrEnum


class MediaStatus(StrEnum):
    """Lifecycle states of a media object."""

    PENDING_UPLOAD = "pending_upload"
    UPLOADED = "uploaded"
    VERIFIED = "verified"
    PROCESSING = "processing"
    PROCESSED = "processed"
    REJECTED = "rejected"
    FAILED = "failed"


ALLOWED_TRANSITIONS: dict[MediaStatus, frozenset[MediaStatus]] = {
    MediaStatus.PENDING_UPLOAD: frozenset({MediaStatus.UPLOADED, MediaStatus.REJECTED}),
    MediaStatus.UPLOADED: frozenset({MediaStatus.VERIFIED, MediaStatus.REJECTED}),
    MediaStatus.VERIFIED: frozenset({MediaStatus.PROCESSING, MediaStatus.FAILED}),
    MediaStatus.PROCESSING: frozenset({MediaStatus.PROCESSED, MediaStatus.FAILED}),
    MediaStatus.PROCESSED: frozenset(),
    MediaStatus.REJECTED: frozenset(),
    MediaStatus.FAILED: frozenset(),
}

TERMINAL_STATUSES = frozenset(s for s, targets in ALLOWED_TRANSITIONS.items() if not targets)


def can_transition(current: MediaStatus | str, target: MediaStatus | str) -> bool:
    """Tell whether `current -> target` is a legal transition."""
    return MediaStatus(target) in ALLOWED_TRANSITIONS[MediaStatus(current)]


def sources_of(target: MediaStatus) -> tuple[str, ...]:
    """Return the statuses from which `target` may be entered (sorted, as strings)."""
    return tuple(sorted(s.value for s, targets in ALLOWED_TRANSITIONS.items() if target in targets))
