"""The re-encode half of `common.processing.clip`: trim decoded frames and encode H.264 + AAC.

Video frames are kept when their presentation time lies in `[start, end)` and re-timed from the
start; audio frames are trimmed to the sample. Encoder settings follow FFmpeg's H.264 guide
(https://trac.ffmpeg.org/wiki/Encode/H.264: CRF rate control, a speed preset) and AAC guide
(https://trac.ffmpeg.org/wiki/Encode/AAC: the native `aac` encoder at a constant bit rate).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from common.processing._stream import FALLBACK_FPS, audio_layout, clock_of

X264_PRESET = "veryfast"
X264_CRF = 20
AAC_BIT_RATE = 128_000


class ClipEncoder:
    """Encodes the frames of one clip into an open output container.

    Attributes:
        video_done: a frame at or after the end has been seen (decoders emit in display order).
        audio_done: the same for audio (True from the start when there is no audio).
        frames: video frames encoded.
        packets: packets written, all streams.
        first_pts: source pts of the first encoded video frame, None before it.
        duration_pts: end of the last encoded frame minus the start, in source time-base units.
        width: encoded width in pixels.
        height: encoded height in pixels.
        has_audio: True if the output has an audio stream.
    """

    def __init__(
        self, output: Any, video_in: Any, audio_in: Any | None, *, start_pts: int, end_pts: int
    ) -> None:
        """Add the output streams.

        Args:
            output: a PyAV output container opened for writing.
            video_in: the source video stream.
            audio_in: the source audio stream, or None.
            start_pts: the clip start, in the video stream's time base.
            end_pts: the clip end (exclusive), in the video stream's time base.
        """
        self._output = output
        self._time_base: Fraction = video_in.time_base
        self._start, self._end = start_pts, end_pts
        rate = video_in.average_rate or video_in.guessed_rate or Fraction(FALLBACK_FPS)
        self._frame_pts = clock_of(video_in).frame_pts
        video = output.add_stream(
            "libx264", rate=rate, options={"crf": str(X264_CRF), "preset": X264_PRESET}
        )
        video.width = self.width = video_in.codec_context.width
        video.height = self.height = video_in.codec_context.height
        video.pix_fmt = "yuv420p"
        video.codec_context.time_base = self._time_base
        video.time_base = self._time_base
        self._video = video
        self._audio: Any | None = None
        self._audio_start_s = Fraction(0)
        self._audio_window_s = Fraction(0)
        if audio_in is not None:
            context = audio_in.codec_context
            audio = output.add_stream("aac", rate=context.sample_rate)
            audio.layout = audio_layout(context)
            audio.bit_rate = AAC_BIT_RATE
            self._audio = audio
            self._audio_start_s = start_pts * self._time_base
            self._audio_window_s = (end_pts - start_pts) * self._time_base
        self.has_audio = self._audio is not None
        self.video_done = False
        self.audio_done = self._audio is None
        self.frames = 0
        self.packets = 0
        self.first_pts: int | None = None
        self.duration_pts = 0

    def add_video(self, frame: Any) -> None:
        """Encode `frame` if it lies in the clip; note the end once a frame reaches it."""
        from av.video.frame import PictureType

        if frame.pts is None or self.video_done:
            return
        if frame.pts >= self._end:
            self.video_done = True
            return
        if frame.pts < self._start:
            return
        if self.first_pts is None:
            self.first_pts = frame.pts
            rotation = getattr(frame, "rotation", 0) or 0
            if rotation:
                self._video.set_display_rotation(rotation)  # keep phone videos upright
        end = frame.pts + (frame.duration or self._frame_pts)
        self.duration_pts = end - self.first_pts
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        frame.pts -= self._start
        frame.pict_type = PictureType.NONE  # let x264 choose frame types, as ffmpeg does
        self._mux(self._video.encode(frame))
        self.frames += 1

    def add_audio(self, frame: Any) -> None:
        """Encode the part of `frame` that lies in the clip, trimmed to the sample."""
        if self._audio is None or frame.pts is None or self.audio_done:
            return
        rate = frame.sample_rate
        first = round((frame.pts * frame.time_base - self._audio_start_s) * rate)
        window = round(self._audio_window_s * rate)
        if first >= window:
            self.audio_done = True
            return
        low, high = max(0, -first), min(frame.samples, window - first)
        if high <= low:
            return
        if (low, high) != (0, frame.samples):
            frame = _slice_audio(frame, low, high)
        frame.pts = first + low
        frame.time_base = Fraction(1, rate)
        self._mux(self._audio.encode(frame))

    def finish(self) -> None:
        """Flush the encoders (their delayed packets) into the container."""
        self._mux(self._video.encode(None))
        if self._audio is not None:
            self._mux(self._audio.encode(None))

    def _mux(self, packets: list[Any]) -> None:
        for packet in packets:
            self._output.mux(packet)
            self.packets += 1


def _slice_audio(frame: Any, low: int, high: int) -> Any:
    """Samples `[low, high)` of an audio frame as a new frame (same format, layout and rate)."""
    import av

    samples = frame.to_ndarray()
    if frame.format.is_planar:
        part = samples[:, low:high]
    else:
        channels = samples.shape[1] // frame.samples
        part = samples[:, low * channels : high * channels]
    sliced = av.AudioFrame.from_ndarray(
        part.copy(), format=frame.format.name, layout=frame.layout.name
    )
    sliced.sample_rate = frame.sample_rate
    return sliced
