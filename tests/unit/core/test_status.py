from __future__ import annotations

import pytest

from common.core.status import (
    BEFORE_VERIFICATION,
    TERMINAL_STATUSES,
    JobStatus,
    MediaStatus,
    can_transition,
    can_transition_job,
)

S = MediaStatus


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PENDING_UPLOAD, S.UPLOADED),
        (S.UPLOADED, S.VERIFIED),
        (S.UPLOADED, S.REJECTED),
        (S.VERIFIED, S.PROCESSING),
        (S.PROCESSING, S.PROCESSED),
        (S.PROCESSING, S.FAILED),
        (S.PENDING_UPLOAD, S.FAILED),  # the upload never came
        (S.UPLOADED, S.FAILED),  # verification dead-lettered
        (S.PROCESSED, S.DELETING),  # anything may be deleted
        (S.REJECTED, S.DELETING),
        (S.DELETING, S.DELETED),
    ],
)
def test_pipeline_moves_are_allowed(current: MediaStatus, target: MediaStatus) -> None:
    assert can_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.VERIFIED, S.VERIFIED),  # repeated
        (S.PROCESSED, S.PROCESSING),  # backwards
        (S.REJECTED, S.VERIFIED),  # out of a terminal state
        (S.PENDING_UPLOAD, S.PROCESSED),  # skipping verification
        (S.FAILED, S.PROCESSED),
        (S.VERIFIED, S.REJECTED),  # verified bytes are never rejected afterwards
        (S.DELETED, S.DELETING),  # a tombstone stays one
        (S.DELETING, S.PROCESSED),  # a delete wins over work in flight
        (S.PROCESSED, S.DELETED),  # always through deleting
    ],
)
def test_illegal_moves_are_refused(current: MediaStatus, target: MediaStatus) -> None:
    assert not can_transition(current, target)


def test_terminal_and_unverified_states() -> None:
    assert {S.PROCESSED, S.REJECTED, S.FAILED, S.DELETED} == TERMINAL_STATUSES
    assert {S.PENDING_UPLOAD, S.UPLOADED} == BEFORE_VERIFICATION


J = JobStatus


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (J.QUEUED, J.RUNNING, True),
        (J.QUEUED, J.FAILED, True),  # its source was deleted before it ran
        (J.RUNNING, J.COMPLETED, True),
        (J.RUNNING, J.FAILED, True),
        (J.QUEUED, J.COMPLETED, False),  # never without running
        (J.RUNNING, J.RUNNING, False),  # a redelivery does not restart it
        (J.COMPLETED, J.FAILED, False),  # a late end changes nothing
        (J.FAILED, J.COMPLETED, False),
        (J.FAILED, J.QUEUED, False),  # only as a revival
    ],
)
def test_job_state_machine(current: JobStatus, target: JobStatus, allowed: bool) -> None:
    assert can_transition_job(current, target) is allowed


def test_only_dead_lettered_jobs_are_revived() -> None:
    assert can_transition_job(J.FAILED, J.QUEUED, revive=True)
    assert not can_transition_job(J.COMPLETED, J.QUEUED, revive=True)
