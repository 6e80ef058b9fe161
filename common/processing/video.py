"""Videos: decode every frame, watch it for motion, run the detectors where things move, track.

H.264 and its kin need every reference frame decoded anyway, so the stream is decoded whole (with
FFmpeg's frame threads) and each frame feeds the motion detector as a small greyscale copy made
by the decoder's scaler (`common.processing.motion`). The detectors run on a sample:

- at the first frame and at least every `full_frame_every_ms`: a full pass (the whole frame and
  its tiles; faces everywhere), which finds what is there without moving;
- while something moves or a tracked object moves, every `1000 / detect_fps` ms: on regions
  around the motion boxes and the tracked objects' predicted boxes (`common.processing.regions`,
  Frigate's approach), faces only around the people found;
- for tracked objects that stand still (a parked car), every `stationary_interval_ms` on their
  regions.

`detect_fps` is lowered for long videos so that at most `max_samples` samples run. Sampled frames
are converted to RGB at most `detect_max_side_px` on their longest side (swscale, straight from
the decoded frame); the poster is the only full-resolution RGB conversion. Boxes are filtered
and tracked (`common.processing.tracking`); tracks and their boxes are in source pixels of the
upright frame.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

from common.core.errors import PermanentMediaError
from common.processing import _frames, _render
from common.processing._pipeline import FrameAnalyzer
from common.processing._stream import StreamClock, open_video_stream
from common.processing.types import VideoAnalysis, count_labels

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import numpy as np
    from numpy.typing import NDArray

    from common.processing.config import AnalysisConfig
    from common.processing.motion import MotionSample
    from common.processing.regions import Region


_FACES_EVERY_MS = 1000
"""Faces are searched in the heads of the people found at most this often (full passes search
the whole frame whenever they run)."""

POSTER_MAX_MS = 1000
"""The poster is the first frame at or after min(POSTER_MAX_MS, duration / 2)."""


def analyze_video(
    path: Path,
    config: AnalysisConfig | None = None,
    *,
    thumbnail_max_px: int | None = None,
    min_score: float | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> VideoAnalysis:
    """Probe a video, decode it, find, filter and track objects, render a poster.

    Frames carrying a display-rotation matrix (phone videos) are rotated upright; boxes and sizes
    are in pixels of the upright frame.

    Args:
        path: a local video file in any container and codec FFmpeg (bundled with PyAV) decodes.
        config: detectors, filters, sampling and regions; None is `AnalysisConfig()`.
        thumbnail_max_px: overrides `config.thumbnail_max_px`.
        min_score: overrides every label's `min_score`.
        on_progress: called with the fraction of the stream decoded (0..1], as it goes.

    Returns:
        The probe (size, duration, codec, fps, audio), a "poster" JPEG and its "thumbnail", the
        reported tracks (with snapshots) and their boxes with `time_ms`, counts per label, the
        detectors that ran, motion segments, and the cost (`frames_decoded`, `frames_detected`,
        `regions_detected`, `detect_interval_ms`).

    Raises:
        PermanentMediaError: the file is not a container FFmpeg can read (empty, random bytes,
            truncated header), has no video stream, or no frame of it decodes.
        ValueError: an argument is out of range, or a detector cannot be built.
        OSError: the file cannot be opened or read.
    """
    import av

    from common.processing.config import resolve

    config = resolve(config, thumbnail_max_px=thumbnail_max_px, min_score=min_score)
    _render.check_thumbnail_max_px(config.thumbnail_max_px)
    analyzer = FrameAnalyzer(config)
    with open_container(path) as container:
        try:
            stream, clock = open_video_stream(container, path.name)
            probe = _probe(container, stream, clock)
            return _Run(container, stream, clock, probe, config, analyzer, path.name).run(
                on_progress
            )
        except av.FFmpegError as exc:
            raise PermanentMediaError(f"{path.name}: video does not decode: {exc}") from exc


class _Probe(NamedTuple):
    codec: str
    duration_ms: int
    has_audio: bool


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


def _probe(container: Any, stream: Any, clock: StreamClock) -> _Probe:
    """Read stream metadata; the duration falls back from stream to container to packet times."""
    if stream.duration:
        duration_ms = math.floor(stream.duration * clock.time_base * 1000)
    elif container.duration:
        duration_ms = int(container.duration // 1000)  # container.duration is in microseconds
    else:
        duration_ms = _duration_from_packets(container, stream, clock)
    return _Probe(
        codec=stream.codec_context.name,
        duration_ms=max(duration_ms, 0),
        has_audio=bool(container.streams.audio),
    )


def _duration_from_packets(container: Any, stream: Any, clock: StreamClock) -> int:
    """Demux (without decoding) to find the end of the last packet, then rewind."""
    end = clock.start_pts
    for packet in container.demux(stream):
        if packet.pts is not None:
            end = max(end, packet.pts + (packet.duration or 0))
    container.seek(0)
    return clock.pts_to_ms(end)


class _Run:
    """One analysis: the decode loop, when to sample, where to look."""

    def __init__(
        self,
        container: Any,
        stream: Any,
        clock: StreamClock,
        probe: _Probe,
        config: AnalysisConfig,
        analyzer: FrameAnalyzer,
        name: str,
    ) -> None:
        from common.processing.motion import MotionDetector

        self._container, self._stream, self._clock = container, stream, clock
        self._probe, self._config, self._analyzer, self._name = probe, config, analyzer, name
        options = config.video
        seconds = max(probe.duration_ms, 1) / 1000
        fps = min(options.detect_fps, options.max_samples / seconds)
        self.interval_ms = max(1, round(1000 / fps))
        analyzer.tracker.interval_ms = self.interval_ms
        analyzer.tracker.stationary_interval_ms = options.stationary_interval_ms
        self._motion = MotionDetector(
            threshold=options.motion_threshold,
            min_area_fraction=options.motion_min_area_fraction,
        )
        self._half_frame_ms = clock.frame_ms / 2 if clock.fps > 0 else 0.0
        self._last_sample_ms: int | None = None
        self._last_full_ms: int | None = None
        self._last_faces_ms: int | None = None

    def run(self, on_progress: Callable[[float], None] | None) -> VideoAnalysis:
        import av

        poster_ms = min(POSTER_MAX_MS, self._probe.duration_ms // 2)
        poster: NDArray[np.uint8] | None = None
        rotation_deg = decoded = errors = 0
        warnings: list[str] = []
        last_error: Exception | None = None
        size = (0, 0)
        reported = 0.0
        for packet in self._container.demux(self._stream):
            try:
                frames = packet.decode()
            except av.FFmpegError as exc:
                time_ms = self._clock.pts_to_ms(packet.pts) if packet.pts is not None else -1
                _logger().warning(
                    "%s: a packet near %d ms does not decode: %s", self._name, time_ms, exc
                )
                if len(warnings) < 20:
                    warnings.append(f"a frame near {time_ms} ms does not decode")
                errors += 1
                last_error = exc
                continue
            for frame in frames:
                if frame.pts is None:
                    continue
                decoded += 1
                time_ms = self._clock.pts_to_ms(frame.pts)
                size = _frames.upright_size(frame)
                if poster is None and time_ms >= poster_ms - self._half_frame_ms:
                    poster, rotation_deg = _frames.upright_rgb(frame)
                self._observe(frame, time_ms, size)
                if on_progress is not None and self._probe.duration_ms > 0:
                    fraction = min(1.0, time_ms / self._probe.duration_ms)
                    if fraction - reported >= 0.02:
                        reported = fraction
                        on_progress(fraction)
        if poster is None:
            detail = f" ({errors} decode errors)" if errors else ""
            raise PermanentMediaError(
                f"{self._name}: no decodable video frame{detail}"
            ) from last_error
        if on_progress is not None:
            on_progress(1.0)
        return self._result(poster, rotation_deg, decoded, tuple(warnings), size)

    def _observe(self, frame: Any, time_ms: int, size: tuple[int, int]) -> None:
        """Motion on one frame; the detectors when a sample is due."""
        options = self._config.video
        width, height = size
        motion_w = max(1, round(width * options.motion_height_px / max(1, height)))
        gray = _frames.upright(frame, "gray", motion_w, interpolation="FAST_BILINEAR")
        motion = self._motion.observe_gray(gray, time_ms)
        full = self._full_due(time_ms)
        if not full and not self._sample_due(time_ms, motion):
            return
        analyzer = self._analyzer
        rgb = _frames.upright(frame, "bgr24", options.detect_max_side_px)  # as detectors take it
        regions = None if full else self._regions(rgb, gray, motion, size, time_ms)
        if regions is not None and not regions:
            return
        if regions is None:
            self._last_full_ms = time_ms
        self._last_sample_ms = time_ms
        faces = self._last_faces_ms is None or time_ms - self._last_faces_ms >= _FACES_EVERY_MS
        if faces:
            self._last_faces_ms = time_ms
        analyzer.analyze(rgb, time_ms, source_size=size, regions=regions, bgr=True, faces=faces)

    def _full_due(self, time_ms: int) -> bool:
        options = self._config.video
        if self._last_full_ms is None:
            return True
        if not options.motion_gating:
            return self._rate_due(time_ms)
        return time_ms - self._last_full_ms >= options.full_frame_every_ms and self._rate_due(
            time_ms
        )

    def _rate_due(self, time_ms: int) -> bool:
        last = self._last_sample_ms
        return last is None or time_ms - last >= self.interval_ms - self._half_frame_ms

    def _sample_due(self, time_ms: int, motion: MotionSample) -> bool:
        """A sample at the detection rate while anything moves; for still tracked objects, when
        one was last seen a stationary interval ago."""
        if not self._rate_due(time_ms):
            return False
        tracker = self._analyzer.tracker
        if motion.moving or tracker.moving:
            return True
        interval = self._config.video.stationary_interval_ms
        return any(
            p.still and time_ms - p.last_seen_ms >= interval for p in tracker.predictions(time_ms)
        )

    def _regions(
        self,
        rgb: NDArray[np.uint8],
        gray: NDArray[np.uint8],
        motion: MotionSample,
        size: tuple[int, int],
        time_ms: int,
    ) -> list[Region] | None:
        """Regions around motion and tracked objects, in `rgb`'s pixels (None: a full pass, when
        no detector works on regions)."""
        from common.processing.regions import regions_around

        region_px = self._analyzer.region_px
        if region_px is None:
            return None
        height, width = rgb.shape[:2]
        mx, my = width / gray.shape[1], height / gray.shape[0]
        moving = [(x * mx, y * my, w * mx, h * my) for x, y, w, h in motion.boxes]
        sx, sy = width / size[0], height / size[1]
        interval = self._config.video.stationary_interval_ms
        objects = [
            (x * sx, y * sy, w * sx, h * sy)
            for p in self._analyzer.tracker.predictions(time_ms)
            for x, y, w, h in (p.box,)
            if not p.still or time_ms - p.last_seen_ms >= interval
        ]
        options = self._config.video
        return regions_around(moving, objects, width, height, region_px, options.max_regions)

    def _result(
        self,
        poster: NDArray[np.uint8],
        rotation_deg: int,
        decoded: int,
        warnings: tuple[str, ...],
        size: tuple[int, int],
    ) -> VideoAnalysis:
        from common.processing.motion import segments

        height, width = poster.shape[:2]
        tracks, boxes = self._analyzer.finish()
        return VideoAnalysis(
            width=width,
            height=height,
            duration_ms=self._probe.duration_ms,
            codec=self._probe.codec,
            fps=self._clock.fps,
            has_audio=self._probe.has_audio,
            renditions=_poster_renditions(poster, self._config.thumbnail_max_px),
            detections=tuple(sorted(boxes, key=lambda d: (d.time_ms or 0, -d.score))),
            frames_sampled=decoded,
            rotation_deg=rotation_deg,
            frames_decoded=decoded,
            tracks=tracks,
            counts=count_labels(tracks),
            detectors=self._analyzer.detector_names,
            motion_segments=segments(
                self._motion.samples,
                duration_ms=self._probe.duration_ms,
                frame_area_px=width * height,
            ),
            frames_detected=self._analyzer.frames_detected,
            sampling="motion" if self._config.video.motion_gating else "every",
            decode_warnings=warnings,
            detect_interval_ms=self.interval_ms,
            regions_detected=self._analyzer.regions_detected,
        )


def _poster_renditions(rgb: NDArray[np.uint8], thumbnail_max_px: int) -> tuple[Any, ...]:
    from PIL import Image

    image = Image.fromarray(rgb)
    return (_render.encode_jpeg(image, "poster"), _render.thumbnail(image, thumbnail_max_px))


def _logger() -> Any:
    import logging

    return logging.getLogger(__name__)
