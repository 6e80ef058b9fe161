"""A video's storyboard: one JPEG sprite of small frames and their times, for timeline previews.

As players do (Mux's storyboards, JW Player and video.js thumbnail tracks), the sprite is a grid
of equal tiles, left to right then top to bottom; tile `i` shows the frame at `times_ms[i]` and
stands for the time from there to the next tile's. A player shows, for a time `t`, the last tile
whose time is at or before `t` (`docs/CONTRACTS.md`, "Renditions"). Tiles are taken every
`interval_ms` (at least `MIN_INTERVAL_MS`, widened so at most `MAX_TILES` fit), each the first
frame at or after its time; frames are upright (the stream's display rotation applied, as analysis does).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.core.errors import PermanentMediaError
from common.processing._stream import open_video_stream

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from PIL import Image

TILE_WIDTH_PX = 160
MAX_TILES = 100
MAX_COLUMNS = 10
MIN_INTERVAL_MS = 1000
JPEG_QUALITY = 70
SEEK_GAP_MS = 4000
"""Decode on to the next tile when it is at most this far ahead; seek when it is further."""


@dataclass(frozen=True)
class Storyboard:
    """A storyboard sprite and its time index.

    Attributes:
        data: the sprite, JPEG.
        width: sprite width in pixels (`columns * tile_width_px`).
        height: sprite height in pixels (`rows * tile_height_px`).
        tile_width_px: one tile's width.
        tile_height_px: one tile's height (the video's aspect ratio).
        columns: tiles per row.
        interval_ms: time between tiles.
        times_ms: each tile's frame time, ms from the start of the video stream.
    """

    data: bytes
    width: int
    height: int
    tile_width_px: int
    tile_height_px: int
    columns: int
    interval_ms: int
    times_ms: tuple[int, ...]

    def index(self) -> dict[str, Any]:
        """The time index as stored with the rendition (everything but the bytes)."""
        return {
            "tile_width_px": self.tile_width_px,
            "tile_height_px": self.tile_height_px,
            "columns": self.columns,
            "interval_ms": self.interval_ms,
            "times_ms": list(self.times_ms),
        }


def tile_times_ms(duration_ms: int, max_tiles: int = MAX_TILES) -> tuple[int, list[int]]:
    """(interval, tile times) for a video of `duration_ms`: every `MIN_INTERVAL_MS` or wider so
    that at most `max_tiles` fit, on whole 100 ms steps; at least one tile (at 0)."""
    interval = max(MIN_INTERVAL_MS, math.ceil(max(duration_ms, 1) / max_tiles / 100) * 100)
    count = max(1, min(max_tiles, math.ceil(duration_ms / interval)))
    return interval, [i * interval for i in range(count)]


def make_storyboard(
    path: Path,
    duration_ms: int,
    *,
    tile_width_px: int = TILE_WIDTH_PX,
    max_tiles: int = MAX_TILES,
) -> Storyboard:
    """Make the storyboard of a local video file.

    Args:
        path: the video.
        duration_ms: its duration (from analysis).
        tile_width_px: width of one tile.
        max_tiles: at most this many tiles.

    Returns:
        The sprite and its index.

    Raises:
        PermanentMediaError: the video does not decode.
    """
    import av
    from PIL import Image

    from common.processing._frames import upright
    from common.processing.video import open_container

    interval, times = tile_times_ms(duration_ms, max_tiles)
    container = open_container(path)
    try:
        stream, clock = open_video_stream(container, path.name)
        pictures: list[Image.Image] = []
        for frame in _frames_at(container, stream, [clock.ms_to_pts(t) for t in times]):
            pictures.append(Image.fromarray(upright(frame, "rgb24", tile_width_px * 2)))
    except av.FFmpegError as exc:
        raise PermanentMediaError(f"{path.name}: video does not decode: {exc}") from exc
    finally:
        container.close()
    if not pictures:
        raise PermanentMediaError(f"{path.name}: no frame decodes")
    first = pictures[0]
    tile_h = max(2, round(tile_width_px * first.height / max(1, first.width)))
    columns = min(MAX_COLUMNS, len(pictures))
    rows = math.ceil(len(pictures) / columns)
    sprite = Image.new("RGB", (columns * tile_width_px, rows * tile_h))
    for index, picture in enumerate(pictures):
        tile = picture.resize((tile_width_px, tile_h), Image.Resampling.BILINEAR, reducing_gap=2.0)
        sprite.paste(tile, ((index % columns) * tile_width_px, (index // columns) * tile_h))
    out = io.BytesIO()
    sprite.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return Storyboard(
        data=out.getvalue(),
        width=sprite.width,
        height=sprite.height,
        tile_width_px=tile_width_px,
        tile_height_px=tile_h,
        columns=columns,
        interval_ms=interval,
        times_ms=tuple(times[: len(pictures)]),
    )


def _frames_at(container: Any, stream: Any, targets: list[int]) -> Iterator[Any]:
    """The first frame at or after each target pts (the last frame when the video ends first)."""
    gap = round(SEEK_GAP_MS / 1000 / stream.time_base) if stream.time_base else 0
    decoder: Iterator[Any] | None = None
    position: int | None = None
    last: Any | None = None
    for target in targets:
        if decoder is None or position is None or target - position > gap:
            container.seek(target, stream=stream, backward=True, any_frame=False)
            decoder = iter(container.decode(stream))
        found = None
        if last is not None and last.pts is not None and last.pts >= target:
            found = last
        while found is None:
            frame = next(decoder, None)
            if frame is None:
                break
            if frame.pts is None:
                continue
            position, last = frame.pts, frame
            if frame.pts >= target:
                found = frame
        if found is None and last is not None:
            found = last
        if found is not None:
            yield found
