from __future__ import annotations

import pytest

from common.core.status import BEFORE_VERIFICATION, TERMINAL_STATUSES, MediaStatus, can_transition

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
