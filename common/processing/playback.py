"""Which videos a browser plays as they are, and what the others need to play.

A `<video>` element plays a file when the browser can demux its container and decode its
streams. The pairs below are those every current engine (Chromium, Firefox, WebKit) plays
without hardware help or platform codecs, from the engines' own lists
(https://developer.mozilla.org/en-US/docs/Web/Media/Formats/Video_codecs and
.../Containers; Chromium's `media/base/supported_types.cc`):

| container (MIME) | video | audio | as is |
| --- | --- | --- | --- |
| MP4 (`video/mp4`) | H.264, 8-bit 4:2:0 | AAC, MP3, none | yes |
| WebM (`video/webm`) | VP8, VP9 (8-bit 4:2:0) | Opus, Vorbis, none | yes |
| anything else: MOV, Matroska, AVI, MPEG-TS; HEVC, MJPEG, MPEG-4 Part 2, MPEG-2, AV1, 10-bit or 4:2:2/4:4:4 H.264, PCM audio, ... | | | no |

HEVC plays only where the platform decodes it (Safari, Chromium with a hardware decoder), AV1
only in some Safari versions, MOV only in Safari: not "as is". A video outside the table gets a
`playback` rendition, chosen per stream by `plan_playback`:

- **remux** (`video_action="copy"`): H.264 8-bit 4:2:0 of at most `MAX_WIDTH_PX` x
  `MAX_HEIGHT_PX` in another container (a camera's MOV, MKV or MPEG-TS): the video packets are
  copied into MP4, the audio copied when it is AAC, else encoded to AAC. Seconds, not minutes.
- **transcode** (`video_action="encode"`): anything else is decoded and encoded to H.264 (and
  AAC), scaled down to fit `MAX_WIDTH_PX` x `MAX_HEIGHT_PX`.

Either way the output is MP4 with the `moov` atom first (`common.processing.transcode`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from common.core.errors import PermanentMediaError

if TYPE_CHECKING:
    from pathlib import Path

MAX_WIDTH_PX = 1920
MAX_HEIGHT_PX = 1080
"""The box a `playback` rendition fits in (1080p, either orientation is bounded by the longer
side 1920 and the shorter side 1080)."""

PLAYABLE_AS_IS: dict[str, tuple[frozenset[str], frozenset[str | None]]] = {
    "video/mp4": (frozenset({"h264"}), frozenset({"aac", "mp3", None})),
    "video/webm": (frozenset({"vp8", "vp9"}), frozenset({"opus", "vorbis", None})),
}
"""Container MIME type -> (video codecs, audio codecs) browsers play as they are (FFmpeg's
codec names; None: no audio stream). The table of the module docstring."""

BROWSER_PIXEL_FORMATS = frozenset({"yuv420p", "yuvj420p"})
"""8-bit 4:2:0: what browsers' software decoders of H.264, VP8 and VP9 all take."""

COPYABLE_AUDIO = frozenset({"aac"})
"""Audio that goes into the MP4 rendition as it is."""

Action = Literal["copy", "encode", "none"]


@dataclass(frozen=True)
class VideoFormat:
    """What a video file holds, as far as playing it goes.

    Attributes:
        mime_type: the container's MIME type (sniffed at verification).
        video_codec: FFmpeg's name of the first video stream's codec ("h264", "hevc", "mjpeg").
        pixel_format: its decoded pixel format ("yuv420p"), None when FFmpeg does not say.
        width: coded width in pixels.
        height: coded height in pixels.
        audio_codec: FFmpeg's name of the first audio stream's codec, None without audio.
        duration_ms: duration in milliseconds (0 when unknown).
    """

    mime_type: str
    video_codec: str
    pixel_format: str | None
    width: int
    height: int
    audio_codec: str | None
    duration_ms: int


@dataclass(frozen=True)
class PlaybackPlan:
    """What a video needs to play in a browser.

    Attributes:
        as_is: the original plays as it is (no rendition).
        video_action: "copy" (remux the video packets) or "encode" (decode and encode H.264);
            "none" when `as_is`.
        audio_action: "copy", "encode" (to AAC) or "none" (no audio, or `as_is`).
        reason: why, in a sentence people read ("HEVC video does not play in every browser").
    """

    as_is: bool
    video_action: Action
    audio_action: Action
    reason: str


def probe_format(path: Path, mime_type: str) -> VideoFormat:
    """Read the streams of a local video file (demuxer only, nothing decoded).

    Raises:
        PermanentMediaError: not a container FFmpeg reads, or no video stream.
    """
    import av

    from common.processing.video import open_container

    container = open_container(path)
    try:
        if not container.streams.video:
            raise PermanentMediaError(f"{path.name}: no video stream")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        context = video.codec_context
        pixel_format = getattr(context, "pix_fmt", None) or getattr(context, "format", None)
        if pixel_format is not None and not isinstance(pixel_format, str):
            pixel_format = getattr(pixel_format, "name", None)
        duration_ms = 0
        if video.duration and video.time_base:
            duration_ms = int(video.duration * video.time_base * 1000)
        elif container.duration:
            duration_ms = int(container.duration // 1000)
        return VideoFormat(
            mime_type=mime_type,
            video_codec=context.name,
            pixel_format=pixel_format,
            width=int(context.width or 0),
            height=int(context.height or 0),
            audio_codec=audio.codec_context.name if audio is not None else None,
            duration_ms=max(0, duration_ms),
        )
    except av.FFmpegError as exc:
        raise PermanentMediaError(f"{path.name}: not a readable video: {exc}") from exc
    finally:
        container.close()


def fits(width: int, height: int) -> bool:
    """Whether a picture of `width` x `height` fits the 1080p box in either orientation."""
    return max(width, height) <= MAX_WIDTH_PX and min(width, height) <= MAX_HEIGHT_PX


def _codec_name(codec: str | None) -> str:
    names = {"h264": "H.264", "hevc": "HEVC (H.265)", "mjpeg": "Motion JPEG", "mpeg4": "MPEG-4"}
    return "no" if codec is None else names.get(codec, codec.upper())


def plan_playback(found: VideoFormat) -> PlaybackPlan:
    """Decide how `found` plays in a browser (the module docstring's table and rules)."""
    playable = PLAYABLE_AS_IS.get(found.mime_type)
    browser_pixels = found.pixel_format is None or found.pixel_format in BROWSER_PIXEL_FORMATS
    if (
        playable is not None
        and found.video_codec in playable[0]
        and found.audio_codec in playable[1]
        and browser_pixels
    ):
        return PlaybackPlan(True, "none", "none", "plays in browsers as it is")
    if found.audio_codec is None:
        audio: Action = "none"
    else:
        audio = "copy" if found.audio_codec in COPYABLE_AUDIO else "encode"
    copy_video = found.video_codec == "h264" and browser_pixels and fits(found.width, found.height)
    if copy_video:
        reason = f"{found.mime_type} is not a container every browser plays"
        if playable is not None:  # the container plays: the audio does not
            reason = f"{_codec_name(found.audio_codec)} audio does not play in every browser"
        return PlaybackPlan(False, "copy", audio, reason)
    if found.video_codec not in ("h264", "vp8", "vp9"):
        reason = f"{_codec_name(found.video_codec)} video does not play in every browser"
    elif not browser_pixels:
        reason = f"{found.pixel_format} pictures do not play in every browser"
    elif not fits(found.width, found.height):
        reason = f"{found.width} x {found.height} is larger than 1080p"
    else:
        reason = f"{found.mime_type} is not a container every browser plays"
    return PlaybackPlan(False, "encode", audio, reason)
