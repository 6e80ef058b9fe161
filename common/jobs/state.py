"""What a job message amounts to, and the worker's throttled progress.

Status changes and the mirror document `jobs/{job_id}` are `common.media.job_lifecycle`'s (the
one writer of both). Progress (0..1) goes to Firestore at most every
`job_progress_interval_seconds` and to the row (never lowered there).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from common.core.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import Job


class JobOutcome(StrEnum):
    """What handling one `media-jobs` message amounted to."""

    COMPLETED = "completed"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    IN_PROGRESS = "in_progress"
    UNKNOWN_JOB = "unknown_job"


def progress_writer(session: Session, job: Job) -> Callable[[float], None]:
    """Throttled progress of the running job to its mirror and its row; each write commits the
    caller's session (call it only between the worker's steps, with nothing else pending)."""
    from common.media.job_lifecycle import record_progress
    from common.media.mirror import ThrottledProgress

    def write(fraction: float) -> None:
        record_progress(session, job, fraction)
        session.commit()

    return ThrottledProgress(write, get_settings().job_progress_interval_seconds)
