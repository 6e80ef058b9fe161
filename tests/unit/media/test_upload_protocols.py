"""The upload protocols' arithmetic (no stack): which protocol, chunk sizes, part plans; and the
device side's saved sessions and 308 offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.resumable import SessionState, StateDir, confirmed_offset
from common.core.settings import Settings
from common.media.uploads import choose_protocol, chunk_size_for, plan_parts
from common.storage.base import UploadPart

MIB = 1024 * 1024


def test_the_declaration_chooses_else_the_size_does() -> None:
    settings = Settings(resumable_threshold_bytes=64 * MIB)
    assert choose_protocol(None, 64 * MIB - 1, settings) == "single"
    assert choose_protocol(None, 64 * MIB, settings) == "resumable"
    assert choose_protocol("single", 10**9, settings) == "single"
    assert choose_protocol("resumable", 10, settings) == "resumable"


def test_chunks_are_the_setting_unless_more_than_ten_thousand_parts_would_be_needed() -> None:
    settings = Settings(resumable_chunk_size_bytes=5 * MIB)
    assert chunk_size_for(2 * 1024 * MIB, settings) == 5 * MIB
    big = chunk_size_for(100 * 1024 * MIB, settings)  # 100 GiB
    assert big % (256 * 1024) == 0
    assert -(-100 * 1024 * MIB // big) <= 10_000


def test_chunk_sizes_must_suit_both_stores() -> None:
    with pytest.raises(ValueError, match="256 KiB"):
        Settings(resumable_chunk_size_bytes=5 * MIB + 1)
    with pytest.raises(ValueError, match="greater than or equal"):
        Settings(resumable_chunk_size_bytes=4 * MIB)


def test_parts_cover_the_object_exactly() -> None:
    assert plan_parts(12, 5) == [UploadPart(1, 0, 5), UploadPart(2, 5, 5), UploadPart(3, 10, 2)]
    assert plan_parts(10, 5) == [UploadPart(1, 0, 5), UploadPart(2, 5, 5)]
    assert plan_parts(3, 5) == [UploadPart(1, 0, 3)]


def test_a_308_range_is_the_next_offset() -> None:
    assert confirmed_offset("bytes=0-262143") == 262144
    assert confirmed_offset(None) == 0  # nothing stored yet


def test_saved_sessions_round_trip_and_belong_to_one_file_size(tmp_path: Path) -> None:
    states = StateDir(tmp_path / "state")
    states.save(SessionState("med_1", 100, "http://session", 40))
    assert states.load("med_1", 100) == SessionState("med_1", 100, "http://session", 40)
    assert states.load("med_1", 101) is None  # another file: start over
    assert (tmp_path / "state" / "med_1.json").stat().st_mode & 0o777 == 0o600
    states.drop("med_1")
    assert states.load("med_1", 100) is None
