"""Status machines and kinds, in one place: media and jobs.

Media:

    pending_upload -> uploaded -> verified -> processing -> processed
    pending_upload | uploaded             -> rejected   (the bytes broke the declaration; terminal)
    any state before processed            -> failed     (the pipeline gave up; terminal)
    any state but deleting / deleted      -> deleting -> deleted (a tombstone; terminal)
    failed (dead-lettered)                -> pending_upload | verified  (an operator's revival)

Jobs: queued -> running -> completed | failed; queued -> failed;
failed (dead-lettered)                -> queued     (an operator's revival)

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
    DELETING = "deleting"
    DELETED = "deleted"


_DELETE = frozenset({MediaStatus.DELETING})

ALLOWED_TRANSITIONS: dict[MediaStatus, frozenset[MediaStatus]] = {
    MediaStatus.PENDING_UPLOAD: frozenset(
        {MediaStatus.UPLOADED, MediaStatus.REJECTED, MediaStatus.FAILED}
    )
    | _DELETE,
    MediaStatus.UPLOADED: frozenset(
        {MediaStatus.VERIFIED, MediaStatus.REJECTED, MediaStatus.FAILED}
    )
    | _DELETE,
    MediaStatus.VERIFIED: frozenset({MediaStatus.PROCESSING, MediaStatus.FAILED}) | _DELETE,
    MediaStatus.PROCESSING: frozenset({MediaStatus.PROCESSED, MediaStatus.FAILED}) | _DELETE,
    MediaStatus.PROCESSED: _DELETE,
    MediaStatus.REJECTED: _DELETE,
    MediaStatus.FAILED: _DELETE,
    MediaStatus.DELETING: frozenset({MediaStatus.DELETED}),
    MediaStatus.DELETED: frozenset(),
}

SETTLED_STATUSES = frozenset(
    {MediaStatus.PROCESSED, MediaStatus.REJECTED, MediaStatus.FAILED, MediaStatus.DELETED}
)
"""Statuses in which the pipeline does nothing more with a media on its own (only a delete)."""

TERMINAL_STATUSES = SETTLED_STATUSES
"""Statuses an event stream and a waiting client stop at (the pipeline is done with it)."""

GONE_STATUSES = frozenset({MediaStatus.DELETING, MediaStatus.DELETED})
"""Statuses of a media whose bytes are being or have been removed."""

BEFORE_VERIFICATION = frozenset({MediaStatus.PENDING_UPLOAD, MediaStatus.UPLOADED})
"""Statuses in which the bytes have not been verified yet."""


REVIVALS: dict[MediaStatus, frozenset[MediaStatus]] = {
    MediaStatus.FAILED: frozenset({MediaStatus.PENDING_UPLOAD, MediaStatus.VERIFIED}),
}
"""The only ways out of a terminal status: an operator revives media whose work was given up
(reason `dead_lettered`) after fixing the cause, so their messages can be redriven."""


def can_transition(
    current: MediaStatus | str, target: MediaStatus | str, *, revive: bool = False
) -> bool:
    """Tell whether `current -> target` is a legal media transition (or a revival)."""
    allowed = ALLOWED_TRANSITIONS[MediaStatus(current)]
    if revive:
        allowed = REVIVALS.get(MediaStatus(current), frozenset())
    return MediaStatus(target) in allowed


class MediaKind(StrEnum):
    """How a media object came to be: uploaded by a device (or sent inline), made by a job from
    a video, or fetched by the server (a data URL or a remote URL)."""

    UPLOAD = "upload"
    CLIP = "clip"
    SNAPSHOT = "snapshot"
    INGEST = "ingest"


class MediaType(StrEnum):
    """The broad type of a media object's bytes."""

    IMAGE = "image"
    VIDEO = "video"


class JobKind(StrEnum):
    """What a job makes: a clip (video/mp4) or a snapshot (image/jpeg) of a video, or media
    ingested from bytes the server fetches (a data URL or a remote URL)."""

    CLIP = "clip"
    SNAPSHOT = "snapshot"
    INGEST = "ingest"


class JobStatus(StrEnum):
    """Job lifecycle: queued -> running -> completed | failed (terminal)."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


JOB_TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED})

JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.FAILED}),
    JobStatus.RUNNING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
}

JOB_REVIVALS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
}
"""A job failed by a dead letter is queued again by an operator's revival (`REVIVALS`)."""


def can_transition_job(
    current: JobStatus | str, target: JobStatus | str, *, revive: bool = False
) -> bool:
    """Tell whether `current -> target` is a legal job transition (or a revival)."""
    table = JOB_REVIVALS if revive else JOB_TRANSITIONS
    return JobStatus(target) in table.get(JobStatus(current), frozenset())


DERIVATIVE_KINDS: tuple[str, ...] = (
    "thumbnail",
    "poster",
    "web",
    "tile",
    "tile_2x",
    "tile_webp",
    "tile_webp_2x",
    "display",
    "playback",
    "storyboard",
)
"""Every kind of rendition a media may have (one object each, `common.storage.layout`):
`thumbnail` (JPEG, longest side `THUMBNAIL_MAX_PX` pixels), `poster` (a video's full-size frame), `web` (a
still in a format browsers do not all show, re-encoded), the grid's tiles (4:3, cropped around the centre) at 1x
and 2x in JPEG and WebP (`TILE_KINDS`), `display` (a photo at the size a screen
shows it), `playback` (a video re-encoded or remuxed for browsers: H.264 + AAC in MP4) and
`storyboard` (a sprite of small frames for timeline previews). `docs/CONTRACTS.md`, "Renditions"."""

TILE_KINDS: tuple[str, ...] = (
    "tile",
    "tile_2x",
    "tile_webp",
    "tile_webp_2x",
)
"""The renditions a gallery tile offers (`srcset`: WebP and JPEG, 1x and 2x)."""
