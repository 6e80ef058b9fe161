"""Snapshots: one full-resolution frame of a video, as a JPEG.

The frame is the first one whose presentation time is at or after the requested time: seek to the
keyframe at or before it (the demuxer's index), then decode forward, as FFmpeg's own accurate
seeking does (https://trac.ffmpeg.org/wiki/Seeking). Frames with a display-rotation matrix are
turned upright. Pillow encodes the JPEG (https://pillow.readthedocs.io/en/stable/handbook/image-file-formats.html#jpeg).
PyAV, numpy and Pillow are imported on first use.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.core.errors import PermanentMediaError
from common.processing._stream import open_video_stream

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import numpy as np
    from numpy.typing import NDArray

SNAPSHOT_JPEG_QUALITY = 92


@dataclass(frozen=True)
class SnapshotResult:
    """A frame encoded as JPEG.

    Attributes:
        data: the JPEG bytes (baseline, 4:2:0, quality `SNAPSHOT_JPEG_QUALITY`).
        mime_type: "image/jpeg".
        width: width in pixels of the upright frame.
        height: height in pixels of the upright frame.
        time_ms: the frame's presentation time, ms from the start of the video stream
            (>= the requested time, unless the video ended first: then its last frame).
        frames_decoded: frames decoded from the keyframe to reach it.
    """

    data: bytes
    mime_type: str
    width: int
    height: int
    time_ms: int
    frames_decoded: int


def extract_snapshot(
    source: Path, *, at_ms: int, on_progress: Callable[[float], None] | None = None
) -> SnapshotResult:
    """Decode the frame at or after `at_ms` and encode it as a full-resolution JPEG.

    Args:
        source: a local video file FFmpeg reads.
        at_ms: the time of the wanted frame, ms from the start of the video stream (>= 0).
        on_progress: called with the fraction of frames decoded of those expected between the
            keyframe and the target (0..1].

    Returns:
        The JPEG and the frame's actual time. When `at_ms` lies past the last frame's start (but
        the range check let it through, e.g. within the last frame's display time), the last
        frame is used.

    Raises:
        PermanentMediaError: the file is not a readable video or no frame decodes.
        ValueError: `at_ms` < 0.
        OSError: the file cannot be read.
    """
    import av

    from common.processing._frames import upright_rgb
    from common.processing.video import open_container

    if at_ms < 0:
        raise ValueError("at_ms must be >= 0")
    with open_container(source) as container:
        video, clock = open_video_stream(container, source.name)
        target = clock.ms_to_pts(at_ms)
        try:
            container.seek(target, stream=video, backward=True, any_frame=False)
            chosen, decoded = _decode_to(container, video, target, clock.frame_pts, on_progress)
        except av.FFmpegError as exc:
            raise PermanentMediaError(f"{source.name}: video does not decode: {exc}") from exc
        if chosen is None:
            raise PermanentMediaError(f"{source.name}: no decodable frame at or before {at_ms} ms")
        rgb, _ = upright_rgb(chosen)
        time_ms = clock.pts_to_ms(chosen.pts)
    if on_progress is not None:
        on_progress(1.0)
    height, width = rgb.shape[:2]
    return SnapshotResult(
        data=_jpeg(rgb), mime_type="image/jpeg", width=width, height=height, time_ms=time_ms,
        frames_decoded=decoded,
    )  # fmt: skip


def _decode_to(
    container: Any,
    video: Any,
    target: int,
    frame_pts: int,
    on_progress: Callable[[float], None] | None,
) -> tuple[Any | None, int]:
    """Decode forward from the current position to the first frame with pts >= `target`.

    Returns:
        That frame (or the last frame, if the stream ends first; None if nothing decodes) and the
        number of frames decoded.
    """
    last = None
    decoded = 0
    expected: int | None = None
    for frame in container.decode(video):
        if frame.pts is None:
            continue
        decoded += 1
        if expected is None:
            expected = max(1, (target - frame.pts) // frame_pts + 1)
        if on_progress is not None:
            on_progress(min(1.0, decoded / expected))
        if frame.pts >= target:
            return frame, decoded
        last = frame
    return last, decoded


def _jpeg(rgb: NDArray[np.uint8]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=SNAPSHOT_JPEG_QUALITY, optimize=True)
    return buffer.getvalue()
