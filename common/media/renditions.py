"""The renditions processing makes for screens after analysis, before `processed`.

For every media: the grid's tiles (WebP and JPEG at 1x and 2x, `common.processing.stills`), from
the photo (its "web" rendition for GIF/BMP/TIFF) or the video's poster. For a photo: a display-size
rendition when the original is large or not in a web format. For a video: a storyboard sprite
with its time index (`common.processing.storyboard`), and, when browsers cannot play the
original as it is (`common.processing.playback`), a `playback` rendition (remuxed or transcoded
to H.264 + AAC in MP4, `common.processing.transcode`) whose progress goes to the media's
mirror document as step "playback" (`common.media.mirror.write_media_step`).

Everything is written through `common.media.derivatives`: the bytes here, the rows by the caller
in its transaction (`save_derivative_rows`). A video whose
playable version cannot be made (it decoded for analysis but not for the encoder) is still
`processed`: its analysis summary says why under `playback` and the gallery explains it. The
summary this returns goes into the media's `analysis` (`analysis.playback`, `docs/CONTRACTS.md`,
"Renditions"): `{"as_is": bool, "state": "original" | "rendition" | "unavailable", "reason",
"video_action", "audio_action"}`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from common.core.errors import PermanentMediaError
from common.media.derivatives import NewDerivative, store_derivatives

if TYPE_CHECKING:
    from pathlib import Path

    from common.db.models import MediaObject
    from common.processing import ImageAnalysis, VideoAnalysis

log = logging.getLogger(__name__)

WEB_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
PLAYBACK_STEP = "playback"


def _still_items(stills: list[Any]) -> list[NewDerivative]:
    return [NewDerivative(s.kind, s.mime_type, s.width, s.height, data=s.data) for s in stills]


def _image_items(media: MediaObject, path: Path, analysis: ImageAnalysis) -> list[NewDerivative]:
    from common.processing.stills import DISPLAY_MAX_PX, display, open_upright, tiles

    web = analysis.web
    source = web.data if web is not None else path.read_bytes()
    try:
        picture = open_upright(source, draft_px=DISPLAY_MAX_PX)
    except OSError as exc:  # analysis decoded it; a second decoder refusing is not fatal
        log.warning("media %s: no screen renditions: %s", media.id, exc)
        return []
    items = _still_items(tiles(picture))
    shown = display(
        picture,
        web_format=web is None and media.mime_type in WEB_IMAGE_TYPES,
        size_bytes=len(source),
    )
    if shown is not None:
        items += _still_items([shown])
    return items


def _video_stills(media: MediaObject, analysis: VideoAnalysis) -> list[NewDerivative]:
    from common.processing.stills import open_upright, tiles

    poster = next((r for r in analysis.renditions if r.kind == "poster"), None)
    if poster is None:
        return []
    try:
        return _still_items(tiles(open_upright(poster.data)))
    except OSError as exc:
        log.warning("media %s: no tiles from the poster: %s", media.id, exc)
        return []


def _storyboard(media: MediaObject, path: Path, duration_ms: int) -> list[NewDerivative]:
    from common.processing.storyboard import make_storyboard

    try:
        board = make_storyboard(path, duration_ms)
    except PermanentMediaError as exc:
        log.warning("media %s: no storyboard: %s", media.id, exc.message)
        return []
    return [
        NewDerivative(
            "storyboard",
            "image/jpeg",
            board.width,
            board.height,
            data=board.data,
            details=board.index(),
        )
    ]


def _playback(media: MediaObject, path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Make and store the playback rendition when one is needed: its rows and the summary."""
    from common.media.mirror import StepProgressReporter
    from common.processing.playback import plan_playback, probe_format
    from common.processing.transcode import make_playback
    from common.storage.tempfiles import temp_path

    try:
        plan = plan_playback(probe_format(path, media.mime_type))
    except PermanentMediaError as exc:
        return [], {"as_is": False, "state": "unavailable", "reason": exc.message}
    summary: dict[str, Any] = {
        "as_is": plan.as_is,
        "state": "original" if plan.as_is else "rendition",
        "reason": plan.reason,
        "video_action": plan.video_action,
        "audio_action": plan.audio_action,
    }
    if plan.as_is:
        return [], summary
    report = StepProgressReporter(media.id, media.device_id, PLAYBACK_STEP)
    report(0.0)
    with temp_path(suffix=".mp4") as target:
        try:
            made = make_playback(path, target, plan, on_progress=report)
        except PermanentMediaError as exc:
            log.warning("media %s: no playable version: %s", media.id, exc.message)
            return [], {**summary, "state": "unavailable", "reason": exc.message}
        rows = store_derivatives(
            media.id,
            [
                NewDerivative(
                    "playback",
                    "video/mp4",
                    made.width,
                    made.height,
                    path=target,
                    details={
                        "video_action": made.video_action,
                        "audio_action": made.audio_action,
                        "duration_ms": made.duration_ms,
                    },
                )
            ],
        )
    report(1.0)
    return rows, summary


def add_renditions(
    media: MediaObject, path: Path, analysis: ImageAnalysis | VideoAnalysis
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Make the screen renditions of an analysed media and store their bytes (module docstring).

    Args:
        media: the media being processed.
        path: its verified bytes on local disk.
        analysis: what analysis found (its poster, web rendition and duration are reused).

    Returns:
        The rows of what was stored, for `common.media.derivatives.save_derivative_rows` in the
        caller's transaction; and entries for the media's analysis summary: `{"playback":
        {...}}` for a video, `{}` for a photo.

    Raises:
        StorageUnavailable: storage trouble (retry).
    """
    from common.processing import ImageAnalysis

    if isinstance(analysis, ImageAnalysis):
        return store_derivatives(media.id, _image_items(media, path, analysis)), {}
    items = _video_stills(media, analysis) + _storyboard(media, path, analysis.duration_ms)
    rows = store_derivatives(media.id, items)
    playback_rows, playback = _playback(media, path)
    return rows + playback_rows, {"playback": playback}
