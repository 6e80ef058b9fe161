"""When a file was captured, read from the file itself (so a retried upload declares the same time).

In order: the EXIF `DateTimeOriginal` of a photo (with `OffsetTimeOriginal` when the camera wrote
one, else in this machine's time zone, as camera clocks keep local time; EXIF 2.32, tags 0x9003 and
0x9011), the `creation_time` of a video container (ISO 8601 UTC, as MP4/QuickTime muxers write it),
else the file's modification time. Pillow and PyAV are used when installed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011


def _exif_time(path: Path) -> datetime | None:
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(path) as image:
            exif = image.getexif().get_ifd(_EXIF_IFD)
    except (OSError, ValueError, SyntaxError):
        return None
    raw = exif.get(_DATETIME_ORIGINAL)
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.strptime(raw.strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = exif.get(_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str):
        try:
            return datetime.strptime(f"{raw.strip()} {offset.strip()}", "%Y:%m:%d %H:%M:%S %z")
        except ValueError:
            pass
    return moment.astimezone()  # naive camera time: this machine's zone


def _container_time(path: Path) -> datetime | None:
    try:
        import av
    except ImportError:
        return None
    try:
        with av.open(str(path)) as container:
            raw = container.metadata.get("creation_time")
    except (OSError, ValueError, av.error.FFmpegError):
        return None
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.year < 1971:  # muxers write the epoch when they know nothing
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def capture_time(path: Path) -> datetime:
    """The capture time of a media file, tz-aware (see the module docstring)."""
    found = _exif_time(path) or _container_time(path)
    if found is not None:
        return found
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)
