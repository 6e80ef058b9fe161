"""Videos: probe with PyAV, decode a sample of frames by seeking, poster, thumbnail, detect."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

from common.core.errors import PermanentMediaError
from common.processing import _render
from common.processing.detection import detect
from common.processing.types import Detection, VideoAnalysis

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from fractions import Fraction
    from pathlib import Path

    import numpy as np
    from numpy.typing import NDArray


POSTER_MAX_MS = 1000
"""The poster is the frame at min(POSTER_MAX_MS, duration / 2)."""


def analyze_video(
    path: Path,
    *,
    sample_interval_ms: int = 1000,
    max_frames: int = 30,
    thumbnail_max_px: int = 320,
    min_score: float = 0.3,
    on_progress: Callable[[float], None] | None = None,
) -> VideoAnalysis:
    """Probe a video, decode sampled frames, find faces and people, and render a poster.

    Frames are sampled at 0, `sample_interval_ms`, 2 * `sample_interval_ms`, ... from the start of
    the video stream. When that would take more than `max_frames` frames, the interval is widened
    to `duration / max_frames` so that the samples still span the whole video. Each sample is
    reached by seeking to the keyframe before it and decoding forward to the first frame at or
    after its time, unless decoding forward from the previous sample is expected to be cheaper
    (the next sample is closer than the keyframe distance seen so far); the file is not decoded
    in full unless the samples need it. Frames carrying a display-rotation matrix (phone videos)
    are rotated upright; boxes and sizes are in pixels of the upright frame.

    Args:
        path: a local video file in any container and codec FFmpeg (bundled with PyAV) decodes.
        sample_interval_ms: time between sampled frames in milliseconds (>= 1).
        max_frames: most frames to decode for detection (>= 1).
        thumbnail_max_px: bound on the thumbnail's longest side, in pixels (>= 1).
        min_score: detections scoring below this (0..1) are dropped.
        on_progress: called with the fraction of sampled frames done (0..1], after each one.

    Returns:
        The probe (size, duration, codec, fps, audio), a "poster" JPEG of the frame at
        min(1 s, duration / 2) (or the first decodable frame) and its "thumbnail", and the
        detections of all sampled frames with their `time_ms`.

    Raises:
        PermanentMediaError: the file is not a container FFmpeg can read (empty, random bytes,
            truncated header), has no video stream, or no frame of it decodes.
        ValueError: an argument is out of range.
        OSError: the file cannot be opened or read.
    """
    import av

    if sample_interval_ms < 1 or max_frames < 1:
        raise ValueError("sample_interval_ms and max_frames must be >= 1")
    _render.check_thumbnail_max_px(thumbnail_max_px)
    with open_container(path) as container:
        try:
            probe = _probe(container, path.name)
            sampler = _FrameSampler(container, probe)
            return _analyze(
                sampler,
                probe,
                sample_interval_ms=sample_interval_ms,
                max_frames=max_frames,
                thumbnail_max_px=thumbnail_max_px,
                min_score=min_score,
                on_progress=on_progress,
                name=path.name,
            )
        except av.FFmpegError as exc:
            raise PermanentMediaError(f"{path.name}: video does not decode: {exc}") from exc


class _Probe(NamedTuple):
    stream: Any  # av.video.stream.VideoStream
    codec: str
    fps: float
    duration_ms: int
    has_audio: bool
    start_pts: int
    time_base: Fraction


def open_container(path: Path) -> Any:
    """Open a local media file with PyAV (an `av.container.InputContainer`; close it after use).

    The file is opened by Python first so that I/O errors surface as the usual OSErrors, not media
    errors; FFmpeg then reads it by name (its own I/O is faster than Python file callbacks).

    Raises:
        PermanentMediaError: the file is empty or not a container FFmpeg can read.
        OSError: the file cannot be read.
    """
    import av

    with path.open("rb") as stream:
        if not stream.read(1):
            raise PermanentMediaError(f"{path.name}: empty file")
    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as exc:
        raise PermanentMediaError(f"{path.name}: not a readable media container: {exc}") from exc


def _probe(container: Any, name: str) -> _Probe:
    """Read stream metadata; the duration falls back from stream to container to packet times."""
    from fractions import Fraction

    if not container.streams.video:
        raise PermanentMediaError(f"{name}: no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    time_base = stream.time_base or Fraction(1, 1_000_000)
    start_pts = stream.start_time or 0
    rate = stream.average_rate or stream.guessed_rate
    duration_ms = 0
    if stream.duration:
        duration_ms = int(stream.duration * time_base * 1000)
    elif container.duration:
        duration_ms = int(container.duration // 1000)  # container.duration is in microseconds
    else:
        duration_ms = _duration_from_packets(container, stream, start_pts, time_base)
    return _Probe(
        stream=stream,
        codec=stream.codec_context.name,
        fps=float(rate) if rate else 0.0,
        duration_ms=max(duration_ms, 0),
        has_audio=bool(container.streams.audio),
        start_pts=start_pts,
        time_base=time_base,
    )


def _duration_from_packets(container: Any, stream: Any, start_pts: int, time_base: Fraction) -> int:
    """Demux (without decoding) to find the end of the last packet, then rewind."""
    end = start_pts
    for packet in container.demux(stream):
        if packet.pts is not None:
            end = max(end, packet.pts + (packet.duration or 0))
    container.seek(0)
    return int((end - start_pts) * time_base * 1000)


def _sample_times_ms(
    duration_ms: int, interval_ms: int, max_frames: int, fps: float = 0.0
) -> list[int]:
    """Sample times from 0, every `interval_ms`, widened so that at most `max_frames` fit.

    The last frame starts one frame duration before the end, so no sample is placed after it.
    """
    frame_ms = 1000.0 / fps if fps > 0 else 0.0
    last_ms = math.floor(duration_ms - frame_ms)
    if last_ms <= 0:
        return [0]
    interval_ms = max(interval_ms, math.ceil((last_ms + 1) / max_frames))
    return list(range(0, last_ms + 1, interval_ms))[:max_frames]


class _FrameSampler:
    """Returns the first frame at or after a time, seeking only when it pays."""

    def __init__(self, container: Any, probe: _Probe) -> None:
        self._container = container
        self._probe = probe
        self._frames: Iterator[Any] | None = None
        self._position_ms = -1  # time of the last decoded frame
        self._seek_cost_ms = 0.0  # largest distance seen from a seek target back to its keyframe
        self._can_seek = True
        self._half_frame_ms = 500.0 / probe.fps if probe.fps > 0 else 0.0
        self.frames_decoded = 0

    def time_ms(self, frame: Any) -> int | None:
        if frame.pts is None:
            return None
        return int((frame.pts - self._probe.start_pts) * self._probe.time_base * 1000)

    def frame_at(self, target_ms: int) -> tuple[Any, int] | None:
        """Decode up to the first frame whose time is >= target (within half a frame).

        Returns:
            The frame and its time in ms, or None at the end of the stream.
        """
        after_seek = False
        if self._frames is None or (
            self._can_seek and target_ms - self._position_ms > self._seek_cost_ms
        ):
            after_seek = self._seek(target_ms)
        assert self._frames is not None
        for frame in self._frames:
            self.frames_decoded += 1
            time_ms = self.time_ms(frame)
            if time_ms is None:
                continue
            if after_seek:
                self._seek_cost_ms = max(self._seek_cost_ms, target_ms - time_ms)
                after_seek = False
            self._position_ms = time_ms
            if time_ms >= target_ms - self._half_frame_ms:
                return frame, time_ms
        return None

    def forget(self) -> None:
        """Drop the decoder position after a decode error; the next call seeks afresh."""
        self._frames = None

    def _seek(self, target_ms: int) -> bool:
        from fractions import Fraction

        import av

        stream = self._probe.stream
        offset = self._probe.start_pts + int(Fraction(target_ms, 1000) / self._probe.time_base)
        try:
            self._container.seek(offset, stream=stream, backward=True, any_frame=False)
        except av.FFmpegError as exc:
            _logger().info("seek failed, decoding forward instead: %s", exc)
            self._can_seek = False
            if self._frames is None:
                self._frames = iter(self._container.decode(stream))
            return False
        self._frames = iter(self._container.decode(stream))
        return True


def _analyze(
    sampler: _FrameSampler,
    probe: _Probe,
    *,
    sample_interval_ms: int,
    max_frames: int,
    thumbnail_max_px: int,
    min_score: float,
    on_progress: Callable[[float], None] | None,
    name: str,
) -> VideoAnalysis:
    import av

    samples = _sample_times_ms(probe.duration_ms, sample_interval_ms, max_frames, probe.fps)
    poster_ms = min(POSTER_MAX_MS, probe.duration_ms // 2)
    targets = sorted({*samples, poster_ms})
    sample_set = set(samples)
    detections: list[Detection] = []
    poster: NDArray[np.uint8] | None = None
    first: NDArray[np.uint8] | None = None
    rotation_deg = 0
    sampled = 0
    errors = 0
    last_error: Exception | None = None
    for target_ms in targets:
        try:
            found = sampler.frame_at(target_ms)
        except av.FFmpegError as exc:
            _logger().warning("%s: frame at %d ms does not decode: %s", name, target_ms, exc)
            errors += 1
            last_error = exc
            sampler.forget()
            continue
        if found is None:
            break  # end of stream: the container overstated the duration
        frame, time_ms = found
        rgb, rotation_deg = _upright_rgb(frame)
        if first is None:
            first = rgb
        if target_ms == poster_ms:
            poster = rgb
        if target_ms in sample_set:
            bgr = rgb[:, :, ::-1].copy()
            detections += detect(bgr, time_ms=time_ms, min_score=min_score)
            sampled += 1
            if on_progress is not None:
                on_progress(min(1.0, sampled / len(samples)))
    if first is None:
        detail = f" ({errors} decode errors)" if errors else ""
        raise PermanentMediaError(f"{name}: no decodable video frame{detail}") from last_error
    if on_progress is not None and sampled < len(samples):
        on_progress(1.0)
    poster_rgb = poster if poster is not None else first
    height, width = poster_rgb.shape[:2]
    return VideoAnalysis(
        width=width,
        height=height,
        duration_ms=probe.duration_ms,
        codec=probe.codec,
        fps=probe.fps,
        has_audio=probe.has_audio,
        renditions=_poster_renditions(poster_rgb, thumbnail_max_px),
        detections=tuple(detections),
        frames_sampled=sampled,
        rotation_deg=rotation_deg,
        frames_decoded=sampler.frames_decoded,
    )


def _upright_rgb(frame: Any) -> tuple[NDArray[np.uint8], int]:
    """Convert a decoded frame to RGB (height, width, 3) and apply its display rotation.

    PyAV's `VideoFrame.rotation` is the display matrix's counter-clockwise angle in degrees, the
    rotation FFmpeg's own `autorotate` applies; mirroring flags are ignored.

    Returns:
        The upright image and the clockwise rotation that was applied (0, 90, 180 or 270).
    """
    import numpy as np

    rgb: NDArray[np.uint8] = frame.to_ndarray(format="rgb24")
    quarter_turns_ccw = round((getattr(frame, "rotation", 0) or 0) / 90) % 4
    if quarter_turns_ccw:
        rgb = np.ascontiguousarray(np.rot90(rgb, quarter_turns_ccw))
    return rgb, (-90 * quarter_turns_ccw) % 360


def _poster_renditions(rgb: NDArray[np.uint8], thumbnail_max_px: int) -> tuple[Any, ...]:
    from PIL import Image

    image = Image.fromarray(rgb)
    return (_render.encode_jpeg(image, "poster"), _render.thumbnail(image, thumbnail_max_px))


def _logger() -> Any:
    import logging

    return logging.getLogger(__name__)
