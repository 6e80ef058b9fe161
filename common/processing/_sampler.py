"""Decoding only the frames video samples need: frame-exact seeking, or keyframes only.

- `ExactSampler` returns the first frame at or after each time: it seeks to the keyframe before
  the time and decodes forward, unless decoding on from the previous sample is expected to be
  cheaper. Its cost grows with the GOP length: with the common 250-frame GOP nearly every frame
  of a video is decoded.
- `KeyframeSampler` moves each sample to the first keyframe at or after its time (from the
  container's own index, or the demuxer's packet flags read without decoding: `keyframe_index`),
  seeks there and decodes that one frame, with the decoder told to skip non-key frames (FFmpeg's
  `skip_frame=nokey`, https://ffmpeg.org/ffmpeg-codecs.html#Codec-Options). Samples then land up
  to one GOP later than asked, and two samples that land on one keyframe become one.
- `choose_sampling` picks "exact" when its expected decode count stays within a budget.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from common.processing._stream import StreamClock


@dataclass(frozen=True)
class KeyframeIndex:
    """Presentation times of the video packets, from the container's index or by demuxing.

    Attributes:
        keyframes_pts: pts of the keyframe packets, ascending.
        frames_pts: pts of every video packet, ascending (one packet is one frame).
        source: "container" (the demuxer's own index, read when the file was opened) or
            "demux" (a pass over the whole file).
    """

    keyframes_pts: tuple[int, ...]
    frames_pts: tuple[int, ...]
    source: str = "demux"


def keyframe_index(container: Any, stream: Any) -> KeyframeIndex:
    """The stream's packet times: from the container's index when it lists every frame (MP4 and
    MOV do: their sample tables are read at open, so no pass over the file is needed), else by
    demuxing the stream once (no decoding) and rewinding.
    """
    index = container_index(container, stream)
    return index if index is not None else demux_index(container, stream)


def container_index(container: Any, stream: Any) -> KeyframeIndex | None:
    """Packet times from FFmpeg's index of the stream (its `AVIndexEntry` table, which PyAV
    exposes as `stream.index_entries`), or None when it does not list every frame (WebM and MKV
    index keyframes only, MPEG-TS nothing; a PyAV without the attribute).

    The entries carry decode timestamps; presentation times are those plus the first
    keyframe's reordering delay (pts - dts of its packet, read here: the one packet read), which
    is constant for the usual fixed GOP structures. Where it is not, a keyframe's time is off by
    a frame or two: sampling only uses the times to choose keyframes and to estimate costs, and
    reports each frame's own decoded pts.
    """
    entries = getattr(stream, "index_entries", None)
    frames = int(stream.frames or 0)
    if entries is None or frames <= 0 or len(entries) != frames:
        return None
    dts = [int(e.timestamp) for e in entries if not e.is_discard]
    keys = [int(e.timestamp) for e in entries if e.is_keyframe and not e.is_discard]
    if not keys:
        return None
    delay = 0
    for packet in container.demux(stream):
        if packet.pts is not None and packet.dts is not None:
            delay = int(packet.pts) - int(packet.dts)
            break
    container.seek(0)
    return KeyframeIndex(
        tuple(sorted(t + delay for t in keys)), tuple(sorted(t + delay for t in dts)), "container"
    )


def demux_index(container: Any, stream: Any) -> KeyframeIndex:
    """Demux the video stream once and rewind; cost: reading the file, no decoding."""
    keys: list[int] = []
    frames: list[int] = []
    for packet in container.demux(stream):
        if packet.pts is None:
            continue
        frames.append(packet.pts)
        if packet.is_keyframe:
            keys.append(packet.pts)
    container.seek(0)
    return KeyframeIndex(tuple(sorted(keys)), tuple(sorted(frames)))


def exact_decode_cost(index: KeyframeIndex, clock: StreamClock, targets_ms: list[int]) -> int:
    """Frames `ExactSampler` is expected to decode for `targets_ms` (ascending)."""
    frames, keys = index.frames_pts, index.keyframes_pts
    position = -1  # index in `frames` of the last decoded frame
    total = 0
    for target_ms in targets_ms:
        target = bisect.bisect_left(frames, clock.ms_to_pts(target_ms))
        if target >= len(frames):
            break
        key_pos = bisect.bisect_right(keys, frames[target]) - 1
        key = bisect.bisect_left(frames, keys[key_pos]) if key_pos >= 0 else 0
        start = position + 1 if position >= key else key
        total += max(0, target - start + 1)
        position = max(position, target)
    return total


def keyframe_targets(index: KeyframeIndex, clock: StreamClock, targets_ms: list[int]) -> list[int]:
    """The keyframe pts each target moves to (first keyframe at or after it), deduplicated."""
    keys = index.keyframes_pts
    out: list[int] = []
    for target_ms in targets_ms:
        i = bisect.bisect_left(keys, clock.ms_to_pts(target_ms))
        if i >= len(keys):
            i = len(keys) - 1  # past the last keyframe: the last one
        if i >= 0 and (not out or keys[i] > out[-1]):
            out.append(keys[i])
    return out


class ExactSampler:
    """Returns the first frame at or after a time, seeking only when it pays."""

    def __init__(self, container: Any, stream: Any, clock: StreamClock) -> None:
        self._container = container
        self._stream = stream
        self._clock = clock
        self._frames: Iterator[Any] | None = None
        self._position_ms = -1  # time of the last decoded frame
        self._seek_cost_ms = 0.0  # largest distance seen from a seek target back to its keyframe
        self._can_seek = True
        self._half_frame_ms = clock.frame_ms / 2 if clock.fps > 0 else 0.0
        self.frames_decoded = 0

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
            if frame.pts is None:
                continue
            time_ms = self._clock.pts_to_ms(frame.pts)
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
        import av

        offset = self._clock.ms_to_pts(target_ms)
        try:
            self._container.seek(offset, stream=self._stream, backward=True, any_frame=False)
        except av.FFmpegError:
            self._can_seek = False
            if self._frames is None:
                self._frames = iter(self._container.decode(self._stream))
            return False
        self._frames = iter(self._container.decode(self._stream))
        return True


class KeyframeSampler:
    """Decodes keyframes only: the frame at each keyframe pts it is asked for, in order."""

    def __init__(
        self, container: Any, stream: Any, clock: StreamClock, index: KeyframeIndex
    ) -> None:
        self._container = container
        self._stream = stream
        self._clock = clock
        self._keys = index.keyframes_pts
        self._frames: Iterator[Any] | None = None
        self._last_pts: int | None = None
        stream.codec_context.skip_frame = "NONKEY"
        self.frames_decoded = 0

    def frame_at_pts(self, key_pts: int) -> tuple[Any, int] | None:
        """The decoded keyframe at `key_pts` (or the first frame after it), and its time in ms.

        Returns:
            None at the end of the stream.
        """
        if self._frames is None or self._last_pts is None or not self._next_key(key_pts):
            self._container.seek(key_pts, stream=self._stream, backward=True, any_frame=False)
            self._frames = iter(self._container.decode(self._stream))
        for frame in self._frames:
            self.frames_decoded += 1
            if frame.pts is None:
                continue
            self._last_pts = frame.pts
            if frame.pts >= key_pts:
                return frame, self._clock.pts_to_ms(frame.pts)
        return None

    def forget(self) -> None:
        """Drop the decoder position after a decode error; the next call seeks afresh."""
        self._frames = None

    def _next_key(self, key_pts: int) -> bool:
        """True when `key_pts` is the keyframe right after the last decoded one."""
        assert self._last_pts is not None
        i = bisect.bisect_right(self._keys, self._last_pts)
        return i < len(self._keys) and self._keys[i] == key_pts
