from __future__ import annotations

import pytest

from common.core.ids import MEDIA_PREFIX, is_segment, is_user_id, is_valid_id, new_id


@pytest.mark.parametrize("value", ["cam-01", "a", "A.b_c-9", "x" * 128])
def test_segment_ids_that_are_accepted(value: str) -> None:
    assert is_segment(value)


@pytest.mark.parametrize(
    "value",
    ["", "../other", "a/b", "..", "a..b", ".hidden", "-dash", "x" * 129, "nul\x00", "sp ace", 7],
)
def test_segment_ids_that_could_escape_a_prefix_are_refused(value: object) -> None:
    assert not is_segment(value)


def test_user_ids_are_printable_and_bounded() -> None:
    assert is_user_id("auth0|5f1c@example.com")
    assert not is_user_id("x" * 257)
    assert not is_user_id("bad\x00id")
    assert not is_user_id("")


def test_our_ids_carry_their_prefix() -> None:
    media_id = new_id(MEDIA_PREFIX)
    assert is_valid_id(media_id, MEDIA_PREFIX)
    assert not is_valid_id(media_id, "job")
    assert not is_valid_id(media_id + "\x00", MEDIA_PREFIX)


def test_a_trailing_newline_is_not_an_id() -> None:
    assert not is_segment("cam-01\n")
    assert not is_valid_id(new_id(MEDIA_PREFIX) + "\n", MEDIA_PREFIX)
