"""Clips: cut `[start_ms, start_ms + duration_ms)` out of a video into an MP4.

Two ways, chosen per request by `plan_clip` from the demuxer's packet flags and timestamps (no
decoding):

- **stream copy** (`"stream_copy"`): the compressed packets are remuxed as they are, like
  `ffmpeg -ss S -t D -c copy` (https://trac.ffmpeg.org/wiki/Seeking). It is allowed only when the
  cut is exact within `tolerance_ms`: the start lands on a keyframe, and the end is a *clean cut*
  in decode order, meaning every packet shown before it is decoded before every packet shown after
  it, so no kept B-frame references a dropped one (with B-frame pyramids clean cuts only occur
  every few frames).
- **re-encode** (`"reencode"`): seek to the keyframe before the start, decode forward, keep the
  frames whose presentation time lies in the range and encode them with libx264 (bundled in PyAV's
  FFmpeg; https://trac.ffmpeg.org/wiki/Encode/H.264), plus AAC trimmed to the sample when the
  source has audio. Frame-accurate at both ends.

Output: MP4 with `movflags=+faststart` (the `moov` index before the media data, so players can
start before the download ends; https://ffmpeg.org/ffmpeg-formats.html#mov_002c-mp4_002c-ismv).
Times are milliseconds from the start of the source's video stream. PyAV is imported on first use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from common.core.errors import PermanentMediaError
from common.processing._stream import StreamClock, open_video_stream

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

log = logging.getLogger(__name__)

ClipPath = Literal["stream_copy", "reencode"]
ClipMode = Literal["auto", "copy", "reencode"]

MP4_OPTIONS = {"movflags": "+faststart"}


@dataclass(frozen=True)
class ClipPlan:
    """How a clip will be cut (all times in ms from the start of the video stream).

    Attributes:
        path: "stream_copy" or "reencode".
        reason: why that path, for logs and the job result.
        start_ms: the first output frame's source time (the keyframe for a stream copy).
        end_ms: the end of the cut (exclusive).
        keyframe_ms: the keyframe decoding or copying starts from.
    """

    path: ClipPath
    reason: str
    start_ms: int
    end_ms: int
    keyframe_ms: int


@dataclass(frozen=True)
class ClipResult:
    """What `extract_clip` wrote.

    Attributes:
        path: which way it was cut ("stream_copy" or "reencode").
        reason: why that way.
        start_ms: source time of the first output frame.
        duration_ms: duration of the output's video, first frame start to last frame end.
        frames: video frames in the output.
        frames_decoded: frames the decoder produced (0 for a stream copy).
        packets: packets written, all streams.
        width: video width in pixels.
        height: video height in pixels.
        fps: average frame rate of the source (0.0 when the file does not say).
        video_codec: FFmpeg name of the output's video codec ("h264" after a re-encode).
        has_audio: True if the output has an audio stream.
    """

    path: ClipPath
    reason: str
    start_ms: int
    duration_ms: int
    frames: int
    frames_decoded: int
    packets: int
    width: int
    height: int
    fps: float
    video_codec: str
    has_audio: bool


@dataclass(frozen=True)
class _Source:
    container: Any
    video: Any
    audio: Any | None
    clock: StreamClock

    @property
    def time_base(self) -> Fraction:
        return self.clock.time_base

    @property
    def frame_pts(self) -> int:
        return self.clock.frame_pts  # one frame duration in time-base units (>= 1)

    def pts(self, ms: int) -> int:
        return self.clock.ms_to_pts(ms)

    def ms(self, pts: int) -> int:
        return self.clock.pts_to_ms(pts)


def extract_clip(
    source: Path,
    target: Path,
    *,
    start_ms: int,
    duration_ms: int,
    mode: ClipMode = "auto",
    tolerance_ms: int = 50,
    on_progress: Callable[[float], None] | None = None,
) -> ClipResult:
    """Write the clip `[start_ms, start_ms + duration_ms)` of `source` to `target` (MP4).

    Args:
        source: a local video file FFmpeg reads.
        target: where to write the MP4 (overwritten).
        start_ms: clip start, ms from the start of the video stream (>= 0).
        duration_ms: clip length in ms (>= 1).
        mode: "auto" (stream copy when `plan_clip` allows it, else re-encode), "copy" (always
            stream copy: starts at the keyframe at or before `start_ms`, as `ffmpeg -c copy`
            does), or "reencode".
        tolerance_ms: how far a keyframe or clean cut may be from the requested start and end
            for "auto" to choose a stream copy.
        on_progress: called with the fraction done (0..1]: packets remuxed, or frames decoded,
            of the total estimated from the range and the frame rate.

    Returns:
        What was written and how.

    Raises:
        PermanentMediaError: the source is not a readable video, or nothing in the range decodes.
        ValueError: `start_ms` < 0 or `duration_ms` < 1.
        OSError: a file cannot be read or written.
    """
    import av

    if start_ms < 0 or duration_ms < 1:
        raise ValueError("start_ms must be >= 0 and duration_ms >= 1")
    src = _open(source)
    try:
        plan = plan_clip(src, start_ms, start_ms + duration_ms, mode, tolerance_ms, source.name)
        log.info("%s: clip %s (%s)", source.name, plan.path, plan.reason)
        if plan.path == "stream_copy":
            return _stream_copy(src, plan, target, on_progress)
        return _reencode(src, plan, target, on_progress)
    except av.FFmpegError as exc:
        raise PermanentMediaError(f"{source.name}: video does not decode: {exc}") from exc
    finally:
        src.container.close()


def _open(path: Path) -> _Source:
    from common.processing.video import open_container

    container = open_container(path)
    try:
        video, clock = open_video_stream(container, path.name)
    except PermanentMediaError:
        container.close()
        raise
    return _Source(
        container=container,
        video=video,
        audio=container.streams.audio[0] if container.streams.audio else None,
        clock=clock,
    )


def plan_clip(
    src: _Source, start_ms: int, end_ms: int, mode: ClipMode, tolerance_ms: int, name: str
) -> ClipPlan:
    """Decide between stream copy and re-encode from the video packets around the range.

    Demuxes (does not decode) the video packets from the keyframe at or before `start_ms` until
    their decode timestamps pass `end_ms + tolerance_ms`, reading each packet's keyframe flag,
    pts and dts.

    Raises:
        PermanentMediaError: no video packet at or after the seek point (range past the end).
    """
    tolerance = round(Fraction(tolerance_ms, 1000) / src.time_base)
    start, end = src.pts(start_ms), src.pts(end_ms)
    _seek(src, start)
    packets: list[tuple[int, int, bool]] = []  # (pts, dts, keyframe) in decode order
    stream_end: int | None = None  # end of the last frame, when the scan reached the end
    for packet in src.container.demux(src.video):
        if packet.pts is None or packet.dts is None:
            continue
        if not packets and not packet.is_keyframe:
            continue
        if packet.dts >= end + tolerance:
            break
        packets.append((packet.pts, packet.dts, bool(packet.is_keyframe)))
    else:
        if packets:
            stream_end = max(pts for pts, _, _ in packets) + src.frame_pts
    if not packets:
        raise PermanentMediaError(f"{name}: no video at or after {start_ms} ms")
    first_key = src.ms(packets[0][0])
    if mode == "reencode":
        return ClipPlan("reencode", "re-encode requested", start_ms, end_ms, first_key)
    if mode == "copy":
        copy_end = _nearest_clean_cut(packets, packets[0][0], end, stream_end) or end
        reason = "stream copy requested"
        return ClipPlan("stream_copy", reason, first_key, src.ms(copy_end), first_key)
    distance, key_index = min((abs(p - start), i) for i, (p, _, k) in enumerate(packets) if k)
    key_pts = packets[key_index][0]
    if distance > tolerance:
        reason = (
            f"no keyframe within {tolerance_ms} ms of the start (nearest at {src.ms(key_pts)} ms)"
        )
        return ClipPlan("reencode", reason, start_ms, end_ms, first_key)
    cut = _nearest_clean_cut(packets[key_index:], key_pts, end, stream_end)
    if cut is None or abs(cut - end) > tolerance:
        reason = f"no clean decode-order cut within {tolerance_ms} ms of the end"
        return ClipPlan("reencode", reason, start_ms, end_ms, first_key)
    reason = "start on a keyframe and a clean cut at the end"
    return ClipPlan("stream_copy", reason, src.ms(key_pts), src.ms(cut), src.ms(key_pts))


def _nearest_clean_cut(
    packets: list[tuple[int, int, bool]], key_pts: int, end: int, stream_end: int | None
) -> int | None:
    """The presentation time nearest `end` at which cutting the decode order drops no reference.

    `packets` starts at the keyframe, in decode order; packets shown before the keyframe (open-GOP
    leading pictures) are ignored. A cut before packet k is clean when every kept packet (index
    < k) is shown before every dropped one; the end of the stream (`stream_end`, when the scan
    reached it) is clean too. Returns None if there is none.
    """
    shown = [pts for pts, _, _ in packets if pts >= key_pts]
    if not shown:
        return None
    suffix_min = [0] * len(shown)
    running = shown[-1] + 1
    for index in range(len(shown) - 1, -1, -1):
        running = min(running, shown[index])
        suffix_min[index] = running
    best = stream_end
    prefix_max = shown[0]
    for index in range(1, len(shown)):
        if prefix_max < suffix_min[index]:
            cut = suffix_min[index]
            if best is None or abs(cut - end) < abs(best - end):
                best = cut
        prefix_max = max(prefix_max, shown[index])
    return best


def _seek(src: _Source, pts: int) -> None:
    src.container.seek(pts, stream=src.video, backward=True, any_frame=False)


def _stream_copy(
    src: _Source, plan: ClipPlan, target: Path, on_progress: Callable[[float], None] | None
) -> ClipResult:
    import av

    start, end = src.pts(plan.start_ms), src.pts(plan.end_ms)
    total = max(1, round((end - start) / src.frame_pts))
    streams = [s for s in (src.video, src.audio) if s is not None]
    frames = packets_written = 0
    video_end = start
    with av.open(str(target), mode="w", format="mp4", options=MP4_OPTIONS) as output:
        out_video = output.add_stream_from_template(src.video)
        out_audio = output.add_stream_from_template(src.audio) if src.audio is not None else None
        audio_start = _rescale(start, src.time_base, src.audio.time_base) if src.audio else 0
        audio_end = _rescale(end, src.time_base, src.audio.time_base) if src.audio else 0
        _seek(src, start)
        video_done, audio_done = False, out_audio is None
        for packet in src.container.demux(*streams):
            if packet.pts is None or packet.dts is None:
                continue
            if packet.stream is src.video:
                if packet.dts >= end:
                    video_done = True
                if video_done or not start <= packet.pts < end:
                    continue
                video_end = max(video_end, packet.pts + (packet.duration or src.frame_pts))
                packet.pts, packet.dts = packet.pts - start, packet.dts - start
                packet.stream = out_video
                frames += 1
                if on_progress is not None:
                    on_progress(min(1.0, frames / total))
            else:
                if packet.pts >= audio_end:
                    audio_done = True
                if audio_done or packet.pts < audio_start:
                    continue
                packet.pts, packet.dts = packet.pts - audio_start, packet.dts - audio_start
                packet.stream = out_audio
            output.mux(packet)
            packets_written += 1
            if video_done and audio_done:
                break
    if frames == 0:
        raise PermanentMediaError("no video packet in the clip range")
    if on_progress is not None:
        on_progress(1.0)
    return ClipResult(
        path="stream_copy",
        reason=plan.reason,
        start_ms=plan.start_ms,
        duration_ms=src.clock.ticks_to_ms(video_end - start),
        frames=frames,
        frames_decoded=0,
        packets=packets_written,
        width=src.video.codec_context.width,
        height=src.video.codec_context.height,
        fps=src.clock.fps,
        video_codec=src.video.codec_context.name,
        has_audio=out_audio is not None,
    )


def _rescale(value: int, source: Fraction, target: Fraction) -> int:
    return round(value * source / target)


def _reencode(
    src: _Source, plan: ClipPlan, target: Path, on_progress: Callable[[float], None] | None
) -> ClipResult:
    import av

    from common.processing._clip_encode import ClipEncoder

    start, end = src.pts(plan.start_ms), src.pts(plan.end_ms)
    total = max(1, round((end - src.pts(plan.keyframe_ms)) / src.frame_pts))
    streams = [s for s in (src.video, src.audio) if s is not None]
    decoded = 0
    with av.open(str(target), mode="w", format="mp4", options=MP4_OPTIONS) as output:
        encoder = ClipEncoder(output, src.video, src.audio, start_pts=start, end_pts=end)
        _seek(src, start)
        for packet in src.container.demux(*streams):  # ends with one empty packet per stream
            if packet.stream is src.video and not encoder.video_done:
                for frame in packet.decode():
                    decoded += 1
                    encoder.add_video(frame)
                    if on_progress is not None:
                        on_progress(min(1.0, decoded / total))
            elif packet.stream is src.audio and not encoder.audio_done:
                for frame in packet.decode():
                    encoder.add_audio(frame)
            if encoder.video_done and encoder.audio_done:
                break
        encoder.finish()
    if encoder.frames == 0:
        raise PermanentMediaError("no decodable video frame in the clip range")
    if on_progress is not None:
        on_progress(1.0)
    return ClipResult(
        path="reencode",
        reason=plan.reason,
        start_ms=src.ms(encoder.first_pts if encoder.first_pts is not None else start),
        duration_ms=src.clock.ticks_to_ms(encoder.duration_pts),
        frames=encoder.frames,
        frames_decoded=decoded,
        packets=encoder.packets,
        width=encoder.width,
        height=encoder.height,
        fps=src.clock.fps,
        video_codec="h264",
        has_audio=encoder.has_audio,
    )
