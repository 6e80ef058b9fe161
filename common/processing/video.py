"""Videos: probe with PyAV, decode only the sampled frames, gate detection by motion, track.

Frames are sampled at 0, `sample_interval_ms`, 2 * `sample_interval_ms`, ... from the start of
the video stream (widened to fit `max_frames`), each either exactly (the first frame at or after
its time) or moved to the first keyframe at or after it, whichever `VideoOptions.sampling` and
the decode budget choose (see `common.processing._sampler`). With motion gating on, every sample
goes through background subtraction (`common.processing.motion`) and the detectors run only on
the first sample, samples with motion, at least every `detect_every_ms`, and the sample after one
with boxes; their boxes are filtered and tracked (`common.processing.tracking`).

Cost per sample: its decode (a keyframe alone, with keyframe sampling), a 320-pixel greyscale copy
for motion, and on detected samples one RGB copy at the largest size a detector searches at
(1024 pixels by default), each made by swscale straight from the decoded frame
(`common.processing._frames`); the poster is the only full-resolution RGB conversion. Keyframe
times come from the container's index when it has one (MP4, MOV), else from one demux pass.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

from common.core.errors import PermanentMediaError
from common.processing import _frames, _render, _sampler
from common.processing._pipeline import FrameAnalyzer
from common.processing._stream import StreamClock, open_video_stream
from common.processing.types import MotionSegment, VideoAnalysis, count_labels

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import numpy as np
    from numpy.typing import NDArray

    from common.processing.config import AnalysisConfig


POSTER_MAX_MS = 1000
"""The poster is the frame at min(POSTER_MAX_MS, duration / 2) (the nearest sample with
keyframe sampling)."""


def analyze_video(
    path: Path,
    config: AnalysisConfig | None = None,
    *,
    sample_interval_ms: int | None = None,
    max_frames: int | None = None,
    thumbnail_max_px: int | None = None,
    min_score: float | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> VideoAnalysis:
    """Probe a video, decode sampled frames, find, filter and track objects, render a poster.

    Frames carrying a display-rotation matrix (phone videos) are rotated upright; boxes and sizes
    are in pixels of the upright frame.

    Args:
        path: a local video file in any container and codec FFmpeg (bundled with PyAV) decodes.
        config: detectors, filters, sampling and gating; None is `AnalysisConfig()`.
        sample_interval_ms: overrides `config.video.sample_interval_ms` (existing callers).
        max_frames: overrides `config.video.max_frames` (existing callers).
        thumbnail_max_px: overrides `config.thumbnail_max_px` (existing callers).
        min_score: overrides every label's `min_score` (existing callers).
        on_progress: called with the fraction of samples done (0..1], after each one.

    Returns:
        The probe (size, duration, codec, fps, audio), a "poster" JPEG and its "thumbnail", the
        reported tracks (with snapshots) and their boxes with `time_ms`, counts per label, the
        detectors that ran, motion segments, and the cost (`frames_decoded`, `frames_detected`).

    Raises:
        PermanentMediaError: the file is not a container FFmpeg can read (empty, random bytes,
            truncated header), has no video stream, or no frame of it decodes.
        ValueError: an argument is out of range, or a detector cannot be built.
        OSError: the file cannot be opened or read.
    """
    import av

    from common.processing.config import resolve

    config = resolve(
        config,
        thumbnail_max_px=thumbnail_max_px,
        min_score=min_score,
        sample_interval_ms=sample_interval_ms,
        max_frames=max_frames,
    )
    _render.check_thumbnail_max_px(config.thumbnail_max_px)
    analyzer = FrameAnalyzer(config)
    with open_container(path) as container:
        try:
            stream, clock = open_video_stream(container, path.name)
            probe = _probe(container, stream, clock)
            return _analyze(
                container, stream, clock, probe, config, analyzer, on_progress, path.name
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


class _Frames:
    """The sampled frames of one video, decoded exactly or at keyframes."""

    def __init__(
        self, container: Any, stream: Any, clock: StreamClock, config: AnalysisConfig, probe: _Probe
    ) -> None:
        options = config.video
        self.targets_ms = _sample_times_ms(
            probe.duration_ms, options.sample_interval_ms, options.max_frames, clock.fps
        )
        self.poster_ms = min(POSTER_MAX_MS, probe.duration_ms // 2)
        self.sampling = options.sampling
        self._keys: list[int] = []
        if self.sampling != "exact":
            index = _sampler.keyframe_index(container, stream)
            if self.sampling == "auto":
                cost = _sampler.exact_decode_cost(
                    index, clock, sorted({*self.targets_ms, self.poster_ms})
                )
                budget = max(
                    options.max_decode_fraction * len(index.frames_pts), options.exact_max_frames
                )
                self.sampling = (
                    "exact" if cost <= budget or not index.keyframes_pts else "keyframes"
                )
            if self.sampling == "keyframes" and index.keyframes_pts:
                self._keys = _sampler.keyframe_targets(index, clock, self.targets_ms)
                self._sampler: Any = _sampler.KeyframeSampler(container, stream, clock, index)
            else:
                self.sampling = "exact"
        if self.sampling == "exact":
            self._sampler = _sampler.ExactSampler(container, stream, clock)

    @property
    def frames_decoded(self) -> int:
        return int(self._sampler.frames_decoded)

    def plan(self) -> list[tuple[int, bool, bool]]:
        """(target, is_sample, is_poster) in decode order; targets are ms, or pts for keyframes."""
        if self.sampling == "keyframes":
            return [(key, True, False) for key in self._keys]
        samples = set(self.targets_ms)
        return [(t, t in samples, t == self.poster_ms) for t in sorted({*samples, self.poster_ms})]

    def get(self, target: int) -> tuple[Any, int] | None:
        if self.sampling == "keyframes":
            return self._sampler.frame_at_pts(target)  # type: ignore[no-any-return]
        return self._sampler.frame_at(target)  # type: ignore[no-any-return]

    def forget(self) -> None:
        self._sampler.forget()


def _analyze(
    container: Any,
    stream: Any,
    clock: StreamClock,
    probe: _Probe,
    config: AnalysisConfig,
    analyzer: FrameAnalyzer,
    on_progress: Callable[[float], None] | None,
    name: str,
) -> VideoAnalysis:
    import av

    frames = _Frames(container, stream, clock, config, probe)
    plan = frames.plan()
    total = sum(1 for _, is_sample, _ in plan if is_sample)
    options = config.video
    analyzer.tracker.interval_ms = max(
        options.sample_interval_ms, math.ceil(probe.duration_ms / max(1, total))
    )
    gate = _Gate(config)
    poster: NDArray[np.uint8] | None = None
    poster_distance = math.inf
    rotation_deg = sampled = errors = 0
    warnings: list[str] = []
    last_error: Exception | None = None
    for target, is_sample, is_poster in plan:
        try:
            found = frames.get(target)
        except av.FFmpegError as exc:
            _logger().warning("%s: frame at %d does not decode: %s", name, target, exc)
            warnings.append(f"a frame near {_target_ms(target, frames, clock)} ms does not decode")
            errors += 1
            last_error = exc
            frames.forget()
            continue
        if found is None:
            break  # end of stream: the container overstated the duration
        frame, time_ms = found
        if is_poster or abs(time_ms - frames.poster_ms) < poster_distance:
            # the poster is the one full-resolution conversion
            poster, rotation_deg = _frames.upright_rgb(frame)
            poster_distance = -1.0 if is_poster else abs(time_ms - frames.poster_ms)
        if not is_sample:
            continue
        sampled += 1
        if gate.detect(frame, time_ms, alive=analyzer.tracker.alive):
            # Converted straight to the largest size a detector searches at (one swscale pass,
            # not a full-resolution RGB frame that each detector shrinks again); boxes come back
            # in full-resolution pixels.
            small = _frames.upright(frame, "rgb24", analyzer.max_side_px)
            analyzer.analyze(small, time_ms, source_size=_frames.upright_size(frame))
        if on_progress is not None:
            on_progress(min(1.0, sampled / max(1, total)))
    if poster is None:
        detail = f" ({errors} decode errors)" if errors else ""
        raise PermanentMediaError(f"{name}: no decodable video frame{detail}") from last_error
    if on_progress is not None and sampled < total:
        on_progress(1.0)
    poster_rgb = poster
    height, width = poster_rgb.shape[:2]
    tracks, boxes = analyzer.finish()
    return VideoAnalysis(
        width=width,
        height=height,
        duration_ms=probe.duration_ms,
        codec=probe.codec,
        fps=clock.fps,
        has_audio=probe.has_audio,
        renditions=_poster_renditions(poster_rgb, config.thumbnail_max_px),
        detections=tuple(sorted(boxes, key=lambda d: (d.time_ms or 0, -d.score))),
        frames_sampled=sampled,
        rotation_deg=rotation_deg,
        frames_decoded=frames.frames_decoded,
        tracks=tracks,
        counts=count_labels(tracks),
        detectors=analyzer.detector_names,
        motion_segments=gate.segments(probe.duration_ms, width * height),
        frames_detected=analyzer.frames_detected,
        sampling=frames.sampling,
        decode_warnings=tuple(warnings),
    )


class _Gate:
    """Which samples the detectors run on: all of them without motion gating; with it, the
    first, those with motion, one at least every `detect_every_ms`, and those while a track is
    alive. Motion is measured on a `motion_width_px` greyscale copy made by swscale."""

    def __init__(self, config: AnalysisConfig) -> None:
        from common.processing.motion import MotionDetector

        self._options = config.video
        self._motion = (
            MotionDetector(
                width_px=self._options.motion_width_px,
                min_area_fraction=self._options.motion_min_area_fraction,
            )
            if self._options.motion_gating
            else None
        )
        self._last_ms: int | None = None

    def detect(self, frame: Any, time_ms: int, *, alive: bool) -> bool:
        """Observe one sample; True when the detectors should run on it."""
        moving = True
        if self._motion is not None:
            gray = _frames.upright(frame, "gray", self._options.motion_width_px)
            moving = self._motion.observe_gray(gray, time_ms).moving
        last = self._last_ms
        due = last is None or time_ms - last >= self._options.detect_every_ms
        if moving or due or alive:
            self._last_ms = time_ms
            return True
        return False

    def segments(self, duration_ms: int, frame_area_px: int) -> tuple[MotionSegment, ...]:
        """The motion segments seen (empty without gating)."""
        from common.processing.motion import segments

        if self._motion is None:
            return ()
        return segments(self._motion.samples, duration_ms=duration_ms, frame_area_px=frame_area_px)


def _target_ms(target: int, frames: _Frames, clock: StreamClock) -> int:
    return clock.pts_to_ms(target) if frames.sampling == "keyframes" else target


def _poster_renditions(rgb: NDArray[np.uint8], thumbnail_max_px: int) -> tuple[Any, ...]:
    from PIL import Image

    image = Image.fromarray(rgb)
    return (_render.encode_jpeg(image, "poster"), _render.thumbnail(image, thumbnail_max_px))


def _logger() -> Any:
    import logging

    return logging.getLogger(__name__)
