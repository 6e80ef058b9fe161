"""One setup for a video stream: its clock (pts <-> ms) and the missing-frame-rate fallback.

Analysis (`video.py`), clips (`clip.py`) and snapshots (`snapshot.py`) all open the first video
stream through `open_video_stream`, so they agree on:

- **pts -> ms**: `floor((pts - start_pts) * time_base * 1000)`, and **ms -> pts**:
  `start_pts + ceil(ms / 1000 / time_base)`. The pair round-trips: the first frame at or after
  `ms_to_pts(pts_to_ms(p))` is the frame at `p` itself (for frames at least 1 ms apart), so a
  `time_ms` that analysis reports picks the same frame when a snapshot or clip is asked for it.
- **frame rate**: `fps` is the stream's average rate, else FFmpeg's guessed rate, else 0.0
  ("unknown", as reported to users); computations that need one frame's duration use
  `frame_pts`, derived from `fps` or, when unknown, from `FALLBACK_FPS`.

Stream times follow FFmpeg's conventions (https://ffmpeg.org/ffmpeg-formats.html, `start_time`,
`time_base`): a stream without a time base is taken as microseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from common.core.errors import PermanentMediaError

FALLBACK_FPS = 25
"""Frames per second assumed for one frame's duration when the stream states no rate."""


@dataclass(frozen=True)
class StreamClock:
    """Timing of one video stream.

    Attributes:
        time_base: seconds per pts tick.
        start_pts: pts of the stream's start (its `start_time`, 0 when unset).
        fps: average frame rate in frames per second; 0.0 when the file does not say.
        frame_pts: one frame's duration in pts ticks (>= 1), from `fps` or `FALLBACK_FPS`.
    """

    time_base: Fraction
    start_pts: int
    fps: float
    frame_pts: int

    def pts_to_ms(self, pts: int) -> int:
        """Milliseconds from the stream start to `pts`, rounded down."""
        return math.floor((pts - self.start_pts) * self.time_base * 1000)

    def ms_to_pts(self, ms: int) -> int:
        """The smallest pts at or after `ms` milliseconds from the stream start."""
        return self.start_pts + math.ceil(Fraction(ms, 1000) / self.time_base)

    def ticks_to_ms(self, ticks: int) -> int:
        """A duration of `ticks` pts ticks in milliseconds, rounded to the nearest."""
        return round(ticks * self.time_base * 1000)

    @property
    def frame_ms(self) -> float:
        """One frame's duration in milliseconds (from `frame_pts`)."""
        return float(self.frame_pts * self.time_base * 1000)


def clock_of(stream: Any) -> StreamClock:
    """Build the clock of a PyAV video stream (`av.video.stream.VideoStream`)."""
    time_base = stream.time_base or Fraction(1, 1_000_000)
    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate else 0.0
    frame_rate = Fraction(rate) if rate else Fraction(FALLBACK_FPS)
    return StreamClock(
        time_base=time_base,
        start_pts=stream.start_time or 0,
        fps=fps,
        frame_pts=max(1, round(1 / (frame_rate * time_base))),
    )


def open_video_stream(container: Any, name: str) -> tuple[Any, StreamClock]:
    """Pick the first video stream of an open container, enable threaded decoding, read its clock.

    Args:
        container: an `av.container.InputContainer`.
        name: the file's name, for error messages.

    Returns:
        The stream and its clock.

    Raises:
        PermanentMediaError: the container has no video stream.
    """
    if not container.streams.video:
        raise PermanentMediaError(f"{name}: no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return stream, clock_of(stream)


def audio_layout(context: Any) -> str:
    """The output channel layout: mono or stereo as in the source, 5.1 kept, anything else
    (unnamed orders such as a camera's "1 channels") by its channel count, at most stereo."""
    name = getattr(context.layout, "name", "") or ""
    if name in ("mono", "stereo", "5.1", "5.1(side)"):
        return name
    channels = len(getattr(context.layout, "channels", ())) or 2
    return "mono" if channels == 1 else "stereo"
