"""process_media's logic for ingest jobs: fetch or unstage, sniff, declare, store, verify, analyse.

See `common.jobs.ingest` for the request side and the rules. Called by `common.jobs.worker` with
the job's claim held. Progress: obtaining the bytes takes the first `OBTAIN_SHARE` of the bar,
the media's own analysis the rest.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from common.core import reasons
from common.core.errors import MediaError, RemoteFetchError, TransientError
from common.core.reasons import Reason
from common.core.settings import get_settings
from common.core.status import JOB_TERMINAL_STATUSES, JobStatus, MediaKind, MediaStatus
from common.db.repo import get_job, get_media
from common.jobs.ingest import (
    DEFAULT_CAMERA_ID,
    STAGED_KEY,
    accepted_type,
    captured_at_of,
    discard_staged,
)
from common.jobs.state import JobOutcome, progress_writer
from common.media.declare import ORIGINAL_FILENAME_PATTERN, MediaSpec
from common.media.job_lifecycle import set_job_fields, transition_job

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from common.db.models import Job

log = logging.getLogger(__name__)

OBTAIN_SHARE = 0.3
"""Share of the job's progress bar taken by fetching (or unstaging) the bytes."""


def _obtain(job: Job, local: Path) -> dict[str, Any]:
    """Put the job's bytes in `local`; what the result records about where they came from.

    Raises:
        RemoteFetchError: the remote URL was refused or failed (see `common.fetch`).
        PermanentMediaError: the staged bytes of a data URL are gone (`source_gone`).
        TransientError: storage unavailable.
    """
    source = job.params["source"]
    if source["type"] == "remote_url":
        from common.fetch import FetchPolicy, fetch_to_file

        fetched = fetch_to_file(source["url"], local, policy=FetchPolicy.from_settings())
        return {"final_url": fetched.final_url, "redirects": fetched.redirects}
    from common.core.errors import PermanentMediaError
    from common.storage import get_store
    from common.storage.base import ObjectNotFound

    bucket = get_settings().derivatives_bucket
    try:
        get_store().download_to_file(bucket, job.params[STAGED_KEY], None, local)
    except ObjectNotFound as exc:
        raise PermanentMediaError(
            "the staged bytes of the data URL are gone", code=reasons.SOURCE_GONE
        ) from exc
    return {}


def _filename(job: Job, obtained: dict[str, Any]) -> str | None:
    """The request's original filename, else the last segment of the fetched URL's path."""
    named = job.params.get("original_filename")
    if isinstance(named, str):
        return named
    final_url = obtained.get("final_url")
    if not isinstance(final_url, str):
        return None
    candidate = unquote(PurePosixPath(urlsplit(final_url).path).name)
    return candidate if re.fullmatch(ORIGINAL_FILENAME_PATTERN, candidate) else None


def _spec(job: Job, local: Path, mime_type: str, obtained: dict[str, Any]) -> MediaSpec:
    from common.core.hashing import digest_path

    digest = digest_path(local)
    params = job.params
    captured_at = captured_at_of(params, job.created_at)
    filename = _filename(job, obtained)
    labels = list(params.get("labels") or [])
    return MediaSpec(
        device_id=job.device_id,
        camera_id=params.get("camera_id") or DEFAULT_CAMERA_ID,
        message_id=params.get("message_id") or job.id,
        captured_at=captured_at,
        mime_type=mime_type,
        size_bytes=digest.size_bytes,
        sha256=digest.sha256_hex,
        md5=digest.md5_base64 or "",
        created_by=job.created_by,
        kind=MediaKind.INGEST,
        reason=params.get("reason"),
        labels=labels,
        note=params.get("note"),
        original_filename=filename,
        request={
            "kind": MediaKind.INGEST.value,
            "sha256": digest.sha256_hex,
            "captured_at": captured_at.isoformat(),
            "labels": labels,
            "note": params.get("note"),
            "original_filename": filename,
        },
    )


ANALYSIS_WAIT_SECONDS = 60.0
"""How long a job waits for an analysis of its media running elsewhere (e.g. re-driven by the
reconciler) before its message is redelivered."""


def _wait_for_analysis(session: Session, media_id: str) -> None:
    """Wait while another worker analyses the media.

    Raises:
        TransientError: still being analysed after `ANALYSIS_WAIT_SECONDS` (redelivered later).
    """
    import time

    deadline = time.monotonic() + ANALYSIS_WAIT_SECONDS
    while time.monotonic() < deadline:
        media = get_media(session, media_id)
        session.commit()  # no connection held while waiting
        if media.status not in (
            MediaStatus.VERIFIED.value,
            MediaStatus.PROCESSING.value,
        ):
            return
        time.sleep(0.25)
    raise TransientError(f"media {media_id} is still being analysed elsewhere")


def _store_and_analyse(
    session: Session, job: Job, local: Path, event_id: str, progress: Callable[[float], None]
) -> Reason | None:
    """Everything after the bytes are local; the failure, if any."""
    from common.media.analyse import ProcessOutcome, process_media
    from common.media.ingest import ingest_bytes
    from common.media.sniff import SNIFF_BYTES

    obtained = _obtain(job, local)
    progress(OBTAIN_SHARE)
    with local.open("rb") as handle:
        mime_type = accepted_type(handle.read(SNIFF_BYTES))
    ingested = ingest_bytes(
        session,
        _spec(job, local, mime_type, obtained),
        local,
        event_id=job.id,
        hand_over_after=False,
    )
    media = ingested.media
    result = {"deduplicated": ingested.deduplicated, "mime_type": media.mime_type, **obtained}
    set_job_fields(session, job.id, {"result_media_id": media.id, "result": result})
    session.commit()
    if media.status == MediaStatus.VERIFIED.value:
        outcome = process_media(
            session,
            media.id,
            event_id=event_id,
            local_path=local,
            on_progress=lambda f: progress(OBTAIN_SHARE + (1 - OBTAIN_SHARE) * f),
        )
        if outcome is ProcessOutcome.IN_PROGRESS:
            _wait_for_analysis(session, media.id)
    final = get_media(session, media.id)
    if final.status in (MediaStatus.REJECTED.value, MediaStatus.FAILED.value):
        return reasons.reason(
            reasons.RESULT_FAILED,
            f"The ingested media ended {final.status}: {final.status_reason}",
        )
    return None


def run_ingest(session: Session, job_id: str, event_id: str) -> JobOutcome:
    """Run one ingest job whose claim the caller holds (see the module docstring).

    Client-caused failures (a refused or failing URL, a type not accepted, a quota, a conflicting
    declaration) end the job `failed` with their code and are acknowledged.

    Raises:
        TransientError: storage, database, Pub/Sub or Firestore trouble (redelivered).
    """
    from common.observe.events import log_event
    from common.storage.tempfiles import temp_path

    job = get_job(session, job_id)
    if JobStatus(job.status) in JOB_TERMINAL_STATUSES:
        return JobOutcome.DUPLICATE
    job, _ = transition_job(session, job_id, JobStatus.RUNNING)
    session.commit()
    progress = progress_writer(session, job)
    failure: Reason | None = None
    with temp_path(prefix="ingest-") as local:
        try:
            failure = _store_and_analyse(session, job, local, event_id, progress)
        except RemoteFetchError as exc:
            log_event(
                "ingest.fetch_failed",
                severity=logging.WARNING,
                reason_code=exc.code,
                fetch_reason=(exc.details or {}).get("reason"),
                job_id=job_id,
                device_id=job.device_id,
            )
            session.rollback()
            set_job_fields(session, job_id, {"result": {"error_details": exc.details}})
            failure = Reason(exc.code, exc.message)
        except MediaError as exc:
            if exc.http_status >= 500 and exc.code != reasons.SOURCE_GONE:
                raise  # our dependencies, not the input: redelivered
            session.rollback()
            failure = Reason(exc.code, exc.message)
    try:
        discard_staged(job.params)
    except TransientError as exc:  # a lifecycle rule on `ingest/` removes what this misses
        log.warning("ingest job %s: could not remove its staged bytes: %s", job_id, exc)
    transition_job(
        session, job_id, JobStatus.FAILED if failure else JobStatus.COMPLETED, reason=failure
    )
    session.commit()
    if failure:
        log.warning("ingest job %s failed: %s", job_id, failure.code)
        return JobOutcome.FAILED
    return JobOutcome.COMPLETED
