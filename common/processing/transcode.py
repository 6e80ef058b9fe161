"""A video's `playback` rendition: H.264 + AAC in MP4, `moov` first, at most 1080p.

`make_playback` follows a `common.processing.playback.PlaybackPlan`: the video is either copied
packet for packet (a remux of H.264 out of MOV, Matroska or MPEG-TS) or decoded and encoded with
libx264 (bundled in PyAV's FFmpeg), scaled down to fit 1920 x 1080; audio is copied when it is
AAC, else encoded with FFmpeg's native AAC encoder. Settings follow FFmpeg's guides
(https://trac.ffmpeg.org/wiki/Encode/H.264: CRF with a speed preset, `yuv420p` so every decoder
takes it; https://trac.ffmpeg.org/wiki/Encode/AAC). The output's timestamps start at 0 and the
`moov` index comes first (`movflags=+faststart`,
https://ffmpeg.org/ffmpeg-formats.html#mov_002c-mp4_002c-ismv), so a browser starts playing
before the download ends and seeks with Range requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from common.core.errors import PermanentMediaError
from common.processing._stream import FALLBACK_FPS, audio_layout
from common.processing.playback import MAX_HEIGHT_PX, MAX_WIDTH_PX, PlaybackPlan

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

X264_PRESET = "veryfast"
X264_CRF = 23
AAC_BIT_RATE = 128_000
MP4_OPTIONS = {"movflags": "+faststart"}


@dataclass(frozen=True)
class PlaybackResult:
    """What `make_playback` wrote.

    Attributes:
        width: video width in pixels.
        height: video height in pixels.
        duration_ms: end of the last video packet, from 0.
        video_action: "copy" or "encode".
        audio_action: "copy", "encode" or "none".
        frames: video packets written.
    """

    width: int
    height: int
    duration_ms: int
    video_action: str
    audio_action: str
    frames: int


def scaled_size(width: int, height: int) -> tuple[int, int]:
    """`width` x `height` scaled down (never up) to fit 1920 x 1080 in its own orientation, with
    even sides (4:2:0 needs them)."""
    box_w, box_h = (
        (MAX_WIDTH_PX, MAX_HEIGHT_PX) if width >= height else (MAX_HEIGHT_PX, MAX_WIDTH_PX)
    )
    scale = min(1.0, box_w / max(1, width), box_h / max(1, height))

    def even(value: float) -> int:
        return max(2, int(value) // 2 * 2)

    return even(width * scale), even(height * scale)


def make_playback(
    source: Path,
    target: Path,
    plan: PlaybackPlan,
    *,
    on_progress: Callable[[float], None] | None = None,
) -> PlaybackResult:
    """Write the playback rendition of `source` to `target` (MP4) as `plan` says.

    Args:
        source: a local video file FFmpeg reads.
        target: where to write (overwritten).
        plan: `plan_playback`'s decision (not `as_is`).
        on_progress: called with the fraction done (0..1], by video time against the duration.

    Returns:
        What was written.

    Raises:
        PermanentMediaError: the source does not decode or nothing could be written.
        ValueError: `plan.as_is` (nothing to make).
        OSError: a file cannot be read or written.
    """
    import av

    from common.processing.video import open_container

    if plan.as_is:
        raise ValueError("the video plays as it is: no rendition to make")
    container = open_container(source)
    try:
        if not container.streams.video:
            raise PermanentMediaError(f"{source.name}: no video stream")
        with av.open(str(target), mode="w", format="mp4", options=MP4_OPTIONS) as output:
            writer = _Writer(container, output, plan)
            writer.run(on_progress)
        if writer.frames == 0:
            raise PermanentMediaError(f"{source.name}: no video frame could be written")
        return PlaybackResult(
            width=writer.width,
            height=writer.height,
            duration_ms=writer.end_ms,
            video_action=plan.video_action,
            audio_action=writer.audio_action,
            frames=writer.frames,
        )
    except av.FFmpegError as exc:
        raise PermanentMediaError(f"{source.name}: video does not convert: {exc}") from exc
    finally:
        container.close()


class _Writer:
    """One pass over the input's packets into the output (see `make_playback`)."""

    def __init__(self, container: Any, output: Any, plan: PlaybackPlan) -> None:
        self._in = container
        self._out = output
        self._video_in = container.streams.video[0]
        self._video_in.thread_type = "AUTO"
        audio_in = container.streams.audio[0] if container.streams.audio else None
        self._audio_in = audio_in if plan.audio_action != "none" else None
        self._time_base: Fraction = self._video_in.time_base or Fraction(1, 1_000_000)
        self._start = self._video_in.start_time or 0
        self._duration_pts = self._video_in.duration or (
            round(Fraction(container.duration or 0, 1_000_000) / self._time_base)
        )
        self._copy_video = plan.video_action == "copy"
        context = self._video_in.codec_context
        if self._copy_video:
            self._video_out = output.add_stream_from_template(self._video_in)
            self.width, self.height = int(context.width), int(context.height)
        else:
            rate = self._video_in.average_rate or self._video_in.guessed_rate
            stream = output.add_stream(
                "libx264",
                rate=rate or Fraction(FALLBACK_FPS),
                options={"crf": str(X264_CRF), "preset": X264_PRESET},
            )
            self.width, self.height = scaled_size(int(context.width), int(context.height))
            stream.width, stream.height = self.width, self.height
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = self._time_base
            stream.time_base = self._time_base
            self._video_out = stream
        self.audio_action = "none"
        self._audio_out: Any | None = None
        if self._audio_in is not None:
            if plan.audio_action == "copy":
                self._audio_out = output.add_stream_from_template(self._audio_in)
                self.audio_action = "copy"
            else:
                audio_context = self._audio_in.codec_context
                stream = output.add_stream("aac", rate=audio_context.sample_rate or 48000)
                stream.layout = audio_layout(audio_context)
                stream.bit_rate = AAC_BIT_RATE
                self._audio_out = stream
                self.audio_action = "encode"
        self.frames = 0
        self.end_ms = 0
        self._rotated = False

    def run(self, on_progress: Callable[[float], None] | None) -> None:
        streams = [s for s in (self._video_in, self._audio_in) if s is not None]
        total = max(1, self._duration_pts)
        done = 0.0  # packets come in decode order: report the furthest presentation time
        for packet in self._in.demux(*streams):
            if packet.stream is self._video_in:
                self._video(packet)
                if on_progress is not None and packet.pts is not None:
                    fraction = min(1.0, max(0.0, (packet.pts - self._start) / total))
                    if fraction > done:
                        done = fraction
                        on_progress(done)
            else:
                self._audio(packet)
        if not self._copy_video:
            self._mux(self._video_out.encode(None))
        if self._audio_out is not None and self.audio_action == "encode":
            self._mux(self._audio_out.encode(None))
        if on_progress is not None:
            on_progress(1.0)

    def _video(self, packet: Any) -> None:
        if self._copy_video:
            if packet.pts is None or packet.dts is None:
                return
            end = packet.pts + (packet.duration or 0) - self._start
            packet.pts -= self._start
            packet.dts -= self._start
            packet.stream = self._video_out
            self._out.mux(packet)
            self.frames += 1
            self._note_end(end)
            return
        for frame in packet.decode():
            if frame.pts is None:
                continue
            if not self._rotated:
                self._rotated = True
                rotation = getattr(frame, "rotation", 0) or 0
                if rotation:
                    self._video_out.set_display_rotation(rotation)  # phone videos stay upright
            pts = frame.pts - self._start
            if pts < 0:
                continue
            self._note_end(pts + (frame.duration or 0))
            picture = frame.reformat(width=self.width, height=self.height, format="yuv420p")
            picture.pts = pts
            picture.time_base = self._time_base
            picture.pict_type = _picture_type_none()
            self._mux(self._video_out.encode(picture))
            self.frames += 1

    def _audio(self, packet: Any) -> None:
        assert self._audio_out is not None
        assert self._audio_in is not None
        start_s = self._start * self._time_base
        if self.audio_action == "copy":
            if packet.pts is None or packet.dts is None:
                return
            offset = round(start_s / self._audio_in.time_base)
            packet.pts -= offset
            packet.dts -= offset
            if packet.pts < 0:
                return
            packet.stream = self._audio_out
            self._out.mux(packet)
            return
        for frame in packet.decode():
            if frame.pts is None:
                continue
            rate = frame.sample_rate
            first = round((frame.pts * frame.time_base - start_s) * rate)
            if first < 0:
                continue
            frame.pts = first
            frame.time_base = Fraction(1, rate)
            self._mux(self._audio_out.encode(frame))

    def _note_end(self, end_pts: int) -> None:
        self.end_ms = max(self.end_ms, int(end_pts * self._time_base * 1000))

    def _mux(self, packets: list[Any]) -> None:
        for packet in packets:
            self._out.mux(packet)


def _picture_type_none() -> Any:
    from av.video.frame import PictureType

    return PictureType.NONE  # let x264 choose frame types, as ffmpeg does
