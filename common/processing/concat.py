"""One clip cut across several recordings: decode each part's range, encode them as one MP4.

A camera's wall-clock window may start in one recording and end in the next. Each part
`[start_ms, start_ms + duration_ms)` of its source is decoded and re-encoded into a single H.264
(libx264, the same preset and CRF as `common.processing.clip`) + AAC MP4 with `+faststart`, parts
back to back at the first part's frame rate and size (later parts are scaled to it).

Recordings of one camera may have different frame rates (25 and 29.97 fps, a variable rate), so
the output is re-timed to one constant rate on the wall clock, as FFmpeg's `fps` filter does
(https://ffmpeg.org/ffmpeg-filters.html#fps): part `i` fills output times
`[sum of the earlier parts' durations, + duration_ms)`, and each output frame slot shows the
source frame on screen at that moment (frames are repeated or dropped, never slowed down or sped
up). Every part lasts its `duration_ms` to within one output frame, whatever its source rate.
Audio is kept when every part has it (resampled to the first part's rate and layout); frames are
kept whole at the part edges, so audio is trimmed to within one audio frame (~21 ms at 48 kHz).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from common.core.errors import PermanentMediaError
from common.processing._clip_encode import AAC_BIT_RATE, X264_CRF, X264_PRESET
from common.processing._stream import FALLBACK_FPS


@dataclass(frozen=True)
class Part:
    """A range of one source: `[start_ms, start_ms + duration_ms)`, ms from its stream start."""

    source: Path
    start_ms: int
    duration_ms: int


@dataclass(frozen=True)
class ConcatResult:
    """What `concat_clip` wrote: frames, length, size, and whether there is audio."""

    frames: int
    duration_ms: int
    width: int
    height: int
    has_audio: bool


def _open(path: Path) -> Any:
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise PermanentMediaError(f"{path.name}: not a readable video: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise PermanentMediaError(f"{path.name}: no video stream")
    return container


def _frames_in(container: Any, stream: Any, part: Part) -> Any:
    """(seconds from the part's start, frame) of the decoded frames of `stream` whose time lies
    in the part's range (seeks first)."""
    start_s, end_s = part.start_ms / 1000, (part.start_ms + part.duration_ms) / 1000
    offset = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    container.seek(
        int((start_s + offset) / stream.time_base), stream=stream, backward=True, any_frame=False
    )
    for frame in container.decode(stream):
        if frame.pts is None:
            continue
        moment = float(frame.pts * stream.time_base) - offset
        if moment < start_s:
            continue
        if moment >= end_s:
            return
        yield moment - start_s, frame


class _Writer:
    """The output: one H.264 stream at the first part's rate and size, AAC when all have audio."""

    def __init__(self, out: Any, first: Any, with_audio: bool) -> None:
        import av

        video_in = first.streams.video[0]
        self.rate = video_in.average_rate or video_in.guessed_rate or Fraction(FALLBACK_FPS)
        self.width, self.height = video_in.codec_context.width, video_in.codec_context.height
        self._out = out
        self.video = out.add_stream(
            "libx264", rate=self.rate, options={"crf": str(X264_CRF), "preset": X264_PRESET}
        )
        self.video.width, self.video.height, self.video.pix_fmt = self.width, self.height, "yuv420p"
        self.audio: Any = None
        self._resampler: Any = None
        if with_audio:
            audio_in = first.streams.audio[0]
            self.audio = out.add_stream("aac", rate=audio_in.rate)
            self.audio.bit_rate = AAC_BIT_RATE
            self.audio.layout = audio_in.layout.name
            self._resampler = av.AudioResampler(
                format="fltp", layout=audio_in.layout.name, rate=audio_in.rate
            )
        self.frames = 0
        self._samples = 0
        self._elapsed = Fraction(0)
        """Output seconds the parts written so far fill (the sum of their durations)."""

    def _slot_time(self) -> Fraction:
        """Output time of the next frame slot."""
        return self.frames / self.rate

    def _emit(self, picture: Any, until: Fraction, progress: Callable[[int], None]) -> None:
        """Show `picture` in every frame slot before `until` (output seconds)."""
        while self._slot_time() < until:
            picture.pts = self.frames
            picture.time_base = Fraction(1) / self.rate
            self._out.mux(self.video.encode(picture))
            self.frames += 1
            progress(self.frames)

    def part(self, container: Any, part: Part, progress: Callable[[int], None]) -> None:
        """Encode one part, re-timed to the output rate (module docstring), then its audio."""
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        begin = self._elapsed
        end = begin + Fraction(part.duration_ms, 1000)
        shown: Any = None
        for seconds, frame in _frames_in(container, stream, part):
            at = min(begin + Fraction(seconds).limit_denominator(1_000_000), end)
            if shown is not None:
                self._emit(shown, at, progress)  # the previous frame until this one's time
            shown = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        if shown is not None:
            self._emit(shown, end, progress)
        self._elapsed = end
        if self.audio is None:
            return
        for _, frame in _frames_in(container, container.streams.audio[0], part):
            for chunk in self._resampler.resample(frame):
                chunk.pts = self._samples
                self._samples += chunk.samples
                self._out.mux(self.audio.encode(chunk))

    def flush(self) -> None:
        """Drain the encoders."""
        self._out.mux(self.video.encode())
        if self.audio is not None:
            self._out.mux(self.audio.encode())


def concat_clip(
    parts: Sequence[Part], target: Path, *, on_progress: Callable[[float], None] | None = None
) -> ConcatResult:
    """Write the parts back to back into one MP4 at `target` (see the module docstring).

    Raises:
        PermanentMediaError: a source does not decode, or no frame lies in any part.
        ValueError: no parts.
    """
    import av

    if not parts:
        raise ValueError("no parts")
    sources = [_open(part.source) for part in parts]
    try:
        with av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            writer = _Writer(out, sources[0], all(s.streams.audio for s in sources))
            total = max(1, round(sum(p.duration_ms for p in parts) / 1000 * float(writer.rate)))

            def progress(frames: int) -> None:
                if on_progress is not None and frames % 10 == 0:
                    on_progress(min(frames / total, 0.99))

            for container, part in zip(sources, parts, strict=True):
                writer.part(container, part, progress)
            if writer.frames == 0:
                raise PermanentMediaError("no decodable video frame in the parts")
            writer.flush()
    except av.error.FFmpegError as exc:
        raise PermanentMediaError(f"a part does not decode: {exc}") from exc
    finally:
        for container in sources:
            container.close()
    if on_progress is not None:
        on_progress(1.0)
    return ConcatResult(
        frames=writer.frames,
        duration_ms=round(writer.frames * 1000 / float(writer.rate)),
        width=writer.width,
        height=writer.height,
        has_audio=writer.audio is not None,
    )
