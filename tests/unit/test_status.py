from __future__ import annotations

import pytest

from common.status import TERMINAL_STATUSES, MediaStatus, can_transition, sources_of

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
    ],
)
def test_illegal_moves_are_refused(current: MediaStatus, target: MediaStatus) -> None:
    assert not can_transition(current, target)


def test_terminal_states() -> None:
    assert {S.PROCESSED, S.REJECTED, S.FAILED} == TERMINAL_STATUSES
    assert sources_of(S.REJECTED) == ("pending_upload", "uploaded")
