"""A wall-clock clip across recordings of different frame rates plays in real time: each part
lasts its duration and shows, at every moment, the source frame of that moment."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from common.processing.concat import Part, concat_clip


def _recording(
    path: Path, rate: Fraction, seconds: float, gray_at: float, gray_per_s: float
) -> None:
    """A video whose frame at time t is flat gray `gray_at + gray_per_s * t`."""
    import av

    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=rate, options={"crf": "10", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index in range(round(seconds * rate)):
            level = int(gray_at + gray_per_s * index / rate)
            image = np.full((120, 160, 3), level, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            frame.time_base = 1 / rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode())


def _frames(path: Path) -> tuple[float, list[tuple[float, float]]]:
    """(frame rate, [(time in seconds, mean gray)]) of a video."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate)
        found = [
            (float(frame.pts * stream.time_base), float(frame.to_ndarray(format="gray").mean()))
            for frame in container.decode(stream)
        ]
    return rate, found


@pytest.mark.parametrize("second_rate", [Fraction(30000, 1001), Fraction(15), Fraction(50)])
def test_parts_of_other_frame_rates_are_re_timed_to_one_rate(
    tmp_path: Path, second_rate: Fraction
) -> None:
    # GIVEN a 25 fps recording and one at another rate
    first, second = tmp_path / "a.mp4", tmp_path / "b.mp4"
    _recording(first, Fraction(25), 2.0, gray_at=20, gray_per_s=50)
    _recording(second, second_rate, 2.0, gray_at=140, gray_per_s=50)
    # WHEN a clip takes [0.5 s, 1.5 s) of the first and [0.5 s, 1.5 s) of the second
    target = tmp_path / "clip.mp4"
    result = concat_clip([Part(first, 500, 1000), Part(second, 500, 1000)], target)
    # THEN it lasts 2 s at the first part's rate
    rate, frames = _frames(target)
    assert rate == pytest.approx(25)
    assert result.frames == len(frames) == 50
    assert result.duration_ms == 2000
    # AND each moment shows the source frame of that moment (no slow or fast motion)
    for moment, gray in frames:
        first_part = moment < 1.0
        expected = 20 + 50 * (0.5 + moment) if first_part else 140 + 50 * (moment - 0.5)
        step = 50 / min(25, float(second_rate))  # one source or output frame of gray
        assert abs(gray - expected) <= step + 3, (moment, gray, expected)
