"""Still images: decode with Pillow (reduced as it decodes), orient, thumbnail, detect, track."""

from __future__ import annotations

import struct
import threading
from typing import TYPE_CHECKING, NamedTuple

from common.core.errors import MediaTooLarge, PermanentMediaError
from common.processing import _render
from common.processing._pipeline import FrameAnalyzer
from common.processing.types import ImageAnalysis, count_labels

if TYPE_CHECKING:
    from pathlib import Path
    from typing import BinaryIO

    from PIL import Image

    from common.processing.config import AnalysisConfig
    from common.processing.types import Rendition

# What Pillow raises on bytes it cannot decode: UnidentifiedImageError and "image file is
# truncated" are OSErrors; some plugins raise SyntaxError, ValueError, EOFError or struct.error.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)

WORKING_MAX_SIDE_PX = 1024
"""Detection runs on a copy no larger than this on its longest side (the face search size); boxes
are mapped back to full-resolution pixels. JPEGs are reduced while decoding (DCT scaling)."""

_EXIF_ORIENTATION = 0x0112
_TRANSPOSED_ORIENTATIONS = (5, 6, 7, 8)  # orientations that swap width and height
# EXIF orientation -> Pillow transpose method (as `PIL.ImageOps.exif_transpose` maps them).
_TRANSPOSE = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}
# Pillow's switch for keeping what a truncated file decodes is process-global: flip it only
# under this lock, for one retry, and every decode here takes the lock.
_TRUNCATED_LOCK = threading.Lock()


def analyze_image(
    path: Path,
    config: AnalysisConfig | None = None,
    *,
    thumbnail_max_px: int | None = None,
    min_score: float | None = None,
) -> ImageAnalysis:
    """Decode a still image, orient it, make a thumbnail, find and filter objects.

    Args:
        path: a local file in any format Pillow reads (JPEG, PNG, WebP, GIF, BMP, TIFF, ...).
            The format is sniffed from the bytes; the file name is ignored. For an animated GIF
            (or a multi-page TIFF) only the first frame is used. The file is only read.
        config: detectors, filters and sizes; None is `AnalysisConfig()` (faces + HOG people).
        thumbnail_max_px: overrides `config.thumbnail_max_px` (kept for existing callers).
        min_score: overrides every label's `min_score` (kept for existing callers); each label's
            `threshold` still applies.

    Returns:
        Size after EXIF orientation, the sniffed MIME type, one JPEG "thumbnail", the reported
        objects (`tracks`, one per box, each with a cropped snapshot), their boxes
        (`detections`, in pixels of the oriented full-resolution image), `counts`, the
        detectors that ran, `decode_warnings` (a truncated file that decoded partially), and
        for formats browsers do not all show (GIF, BMP, TIFF, ...) a "web" rendition in `web`
        unless `config.web_rendition` is off.

    Raises:
        PermanentMediaError: the bytes are not a decodable image (unknown format, empty, corrupt,
            or truncated before any pixel), or the image has more pixels than
            `PIL.Image.MAX_IMAGE_PIXELS` (a decompression bomb guard).
        ValueError: `thumbnail_max_px` is below 1, or a detector cannot be built.
        OSError: the file cannot be opened or read.
    """
    import numpy as np

    from common.processing.config import resolve

    config = resolve(config, thumbnail_max_px=thumbnail_max_px, min_score=min_score)
    _render.check_thumbnail_max_px(config.thumbnail_max_px)
    analyzer = FrameAnalyzer(config)
    web_max_px = config.web_max_px if config.web_rendition else None
    with _TRUNCATED_LOCK:
        with path.open("rb") as stream:
            decoded = _decode(stream, path.name, lenient=False, web_max_px=web_max_px)
        if decoded is None:
            with path.open("rb") as stream:
                decoded = _decode(stream, path.name, lenient=True, web_max_px=web_max_px)
    assert decoded is not None
    rgb = decoded.rgb
    width, height = decoded.size
    analyzer.analyze(np.asarray(rgb), None, source_size=(width, height))
    tracks, boxes = analyzer.finish()
    tracks = tuple(sorted(tracks, key=lambda t: -t.best_score))
    return ImageAnalysis(
        width=width,
        height=height,
        mime_type=decoded.mime_type,
        renditions=(_render.thumbnail(rgb, config.thumbnail_max_px),),
        detections=tuple(sorted(boxes, key=lambda d: -d.score)),
        tracks=tracks,
        counts=count_labels(tracks),
        detectors=analyzer.detector_names,
        decode_warnings=decoded.warnings,
        web=decoded.web,
        animated=decoded.animated,
    )


class _Decoded(NamedTuple):
    rgb: Image.Image  # the oriented RGB working copy, longest side <= WORKING_MAX_SIDE_PX
    mime_type: str
    size: tuple[int, int]  # oriented full-resolution (width, height)
    warnings: tuple[str, ...]
    web: Rendition | None
    animated: bool


def _decode(
    stream: BinaryIO, name: str, *, lenient: bool, web_max_px: int | None = None
) -> _Decoded | None:
    """Decode a reduced, oriented RGB copy (and the "web" rendition of a non-web format).

    Args:
        stream: the file.
        name: its name, for messages.
        lenient: keep what a truncated file decodes.
        web_max_px: bound of the "web" rendition made for formats outside
            `_render.WEB_FORMATS`; None makes none.

    Returns:
        The decoded copy and facts; None when the data is truncated and `lenient` is False (the
        caller retries leniently).

    Raises:
        PermanentMediaError: not decodable (when `lenient`, also: nothing of it decoded).
    """
    from PIL import Image, ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = lenient  # (PNG's getexif() loads the pixels too)
    web: Rendition | None = None
    try:
        with Image.open(stream) as image:
            mime_type = image.get_format_mimetype() or "application/octet-stream"
            _check_decode_size(image, stream, name)
            full = (image.width, image.height)
            orientation = image.getexif().get(_EXIF_ORIENTATION)
            factor = max(image.width, image.height) / WORKING_MAX_SIDE_PX
            if factor > 1 and image.format == "JPEG":
                # Decode at 1/2, 1/4 or 1/8 scale, never below the working size.
                target = (round(image.width / factor), round(image.height / factor))
                image.draft("RGB" if image.mode != "L" else "L", target)
            animated = bool(getattr(image, "is_animated", False))  # seeks back to frame 0
            image.load()
            if image.getexif().get(_EXIF_ORIENTATION) is None:
                orientation = None  # the plugin applied it while loading (Pillow's TIFF does)
            if orientation in _TRANSPOSED_ORIENTATIONS:
                full = (full[1], full[0])
            source = image.convert("I") if image.mode.startswith("I;16") else image
            method = _TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
            if web_max_px is not None and image.format not in _render.WEB_FORMATS:
                lossless = source.mode in ("P", "PA", "1")
                if source is not image:
                    image.close()  # the 16-bit original: `source` is its 32-bit copy
                # the working copy comes from the bounded copy: the decoded one can go
                source = _reduce(source, web_max_px, fine=True, release=True)
                web = _render.web(_transposed(_eight_bit(source), method), lossless=lossless)
            oriented = _transposed(_to_rgb(_reduce(source, WORKING_MAX_SIDE_PX)), method)
    except Image.DecompressionBombError as exc:
        # Pillow refuses before the size is known to us (over twice its pixel limit)
        raise MediaTooLarge(f"{name}: image too large to decode safely: {exc}") from exc
    except OSError as exc:
        if not lenient and "truncated" in str(exc):
            return None
        raise PermanentMediaError(f"{name}: not a decodable image: {exc}") from exc
    except _DECODE_ERRORS as exc:
        raise PermanentMediaError(f"{name}: not a decodable image: {exc}") from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    warnings = _truncation_warnings(oriented, name) if lenient else ()
    return _Decoded(oriented, mime_type, full, warnings, web, animated)


MAX_DECODE_BYTES = 336 * 1024 * 1024
"""Bound on what decoding one image holds at once: the decoded picture (Pillow keeps 4 bytes a
pixel for RGB and the other multi-band modes, 1 for L, P and 1; 16-bit greyscale is 2 plus its
4-byte copy) plus, for TIFFs decoded by libtiff, the file, which libtiff maps whole while it
decodes. Keeps process_media's peak RSS under 600 MiB with its libraries and models loaded (about
115 MiB: the object detector's onnxruntime session alone is 65-75 MiB) and the working copies:
an 84 MP PNG or BMP (336 MiB decoded) passes; 89 MP ones (Pillow's pixel limit, 358 MB decoded:
603 MiB with a web copy) and a 76 MP RGBA LZW TIFF (303 MB + a 197 MB file: 633 MiB) do not
(`bench/bench_analysis_perf.py`)."""


def _check_decode_size(image: Image.Image, stream: BinaryIO, name: str) -> None:
    """Refuse, before any pixel is decoded, an image over Pillow's pixel limit
    (`PIL.Image.MAX_IMAGE_PIXELS`) or whose decode would hold more than `MAX_DECODE_BYTES`.

    Raises:
        MediaTooLarge: over either bound.
    """
    import os

    from PIL import Image

    pixels = image.width * image.height
    per_pixel = 1 if image.mode in ("1", "L", "P") else 6 if image.mode.startswith("I;16") else 4
    mapped = 0
    if image.format == "TIFF" and any(tile[0] == "libtiff" for tile in getattr(image, "tile", ())):
        here = stream.tell()
        mapped = stream.seek(0, os.SEEK_END)  # a file object without a descriptor is read whole
        stream.seek(here)
    limit = Image.MAX_IMAGE_PIXELS
    if (limit is not None and pixels > limit) or pixels * per_pixel + mapped > MAX_DECODE_BYTES:
        raise MediaTooLarge(
            f"{name}: image of {image.width}x{image.height} pixels ({image.mode}, {mapped} "
            f"mapped bytes) exceeds the limit of {limit} pixels or {MAX_DECODE_BYTES} bytes",
            details={"width": image.width, "height": image.height},
        )


def _transposed(image: Image.Image, method: int | None) -> Image.Image:
    from PIL import Image

    return image.transpose(Image.Transpose(method)) if method is not None else image


def _reduce(
    image: Image.Image, max_side_px: int, *, fine: bool = False, release: bool = False
) -> Image.Image:
    """Shrink to `max_side_px`, keeping the mode when it can.

    The detectors' working copy is an area average (Pillow's box filter, the resampling OpenCV's
    INTER_AREA and MTCNN's reference pyramid use): 3x cheaper than Lanczos at the common 1.2x
    reduction of a 1 MP photo (5.5 against 18 ms). `fine` (the "web" rendition people look at)
    uses Lanczos after a whole-factor box reduction to at least 3x the target (Pillow's
    `reducing_gap=3.0`; for pictures with alpha or over 16 MP the whole factor is taken as large
    as it goes, so that Lanczos and its copies work on a reduced picture). Whole-factor
    reductions go band by band (`_banded_reduce`), and so does the last resize of a picture with
    alpha or over 16 MP (`_banded_resize`); `release` frees `image`'s pixels as soon as the
    reduced copy exists (the caller needs only the result).
    """
    from PIL import Image

    scale = max_side_px / max(image.width, image.height)
    if scale >= 1:
        return image
    if image.mode in ("P", "1"):
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    factor = int(1 / (scale * (3.0 if fine else 1.0)))
    if factor < 2 and (image.mode in ("RGBA", "LA") or image.width * image.height > _LARGE_PX):
        # Pillow would premultiply a full-size copy of an alpha picture, and its two-pass resize
        # of a large one keeps a (target width x source height) intermediate
        factor = int(1 / scale)
    if factor >= 2:
        reduced = _banded_reduce(image, factor)
        if release:
            image.close()
        image = reduced
    resample = Image.Resampling.LANCZOS if fine else Image.Resampling.BOX
    if image.mode in ("RGBA", "LA") or image.width * image.height > _LARGE_PX:
        resized = _banded_resize(image, size, resample)
    else:
        resized = image.resize(size, resample)
    if release:
        image.close()
    return resized


_BAND_ROWS = 512  # rows of the source reduced at a time
_LARGE_PX = 16_000_000  # pictures above this are reduced by whole factors first, to bound memory


def _banded_reduce(image: Image.Image, factor: int) -> Image.Image:
    """`image.reduce(factor)` (a box average of factor x factor blocks) done in bands of rows.

    The same pixels as one call, without the full-size copies one call makes of a large picture
    (Pillow premultiplies an RGBA or LA image into a second full-size image first), so decoding
    a large non-JPEG costs one decoded copy plus a band.
    """
    from PIL import Image

    width, height = image.size
    out = Image.new(image.mode, (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, _BAND_ROWS // factor)
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(height, top + rows)))
        out.paste(band.reduce(factor), (0, top // factor))
    return out


def _banded_resize(
    image: Image.Image, size: tuple[int, int], resample: Image.Resampling
) -> Image.Image:
    """`image.resize(size, resample)` done in bands of output rows.

    Each band resizes a crop of the source rows it covers plus a margin wider than the filter's
    support (Pillow's `resize(box=...)` maps the band's exact source rows, so the seams are the
    pixels one call gives, to float rounding). Bounds what one call costs on a large picture:
    Pillow premultiplies a full-size copy of an RGBA or LA image first, and its two-pass resize
    keeps a (target width x source height) intermediate.
    """
    from PIL import Image

    width, height = image.size
    out = Image.new(image.mode, size)
    scale_y = height / size[1]
    margin = int(4 * max(1.0, scale_y)) + 2  # Lanczos reaches 3 source rows per output row
    rows = max(1, int(_BAND_ROWS / scale_y))
    for top in range(0, size[1], rows):
        bottom = min(size[1], top + rows)
        source_top, source_bottom = top * scale_y, bottom * scale_y
        crop_top = max(0, int(source_top) - margin)
        crop_bottom = min(height, int(source_bottom) + 1 + margin)
        band = image.crop((0, crop_top, width, crop_bottom))
        box = (0.0, source_top - crop_top, float(width), source_bottom - crop_top)
        out.paste(band.resize((size[0], bottom - top), resample, box=box), (0, top))
    return out


def _truncation_warnings(image: Image.Image, name: str) -> tuple[str, ...]:
    """Describe a lenient decode; refuse one that produced no picture at all."""
    import numpy as np

    pixels = np.asarray(image)
    if pixels.size == 0 or int(pixels.max()) == int(pixels.min()):
        raise PermanentMediaError(f"{name}: image file is truncated before any pixel")
    rows = pixels.reshape(pixels.shape[0], -1)
    flat = rows.max(axis=1) == rows.min(axis=1)
    filled = 0
    while filled < len(flat) and flat[len(flat) - 1 - filled]:
        filled += 1
    decoded = 100 * (len(flat) - filled) // len(flat)
    return (
        f"truncated image data: about {decoded}% of the rows decoded, the rest is the "
        "decoder's fill colour",
    )


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; transparent areas become white."""
    from PIL import Image

    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I") or image.mode == "F":
        return _eight_bit(image).convert("RGB")
    return image.convert("RGB")


def _eight_bit(image: Image.Image) -> Image.Image:
    """16/32-bit greyscale scaled to 8-bit "L" (convert() would clip at 255); else unchanged."""
    from PIL import Image

    if not (image.mode.startswith("I") or image.mode == "F"):
        return image
    import numpy as np

    values = np.asarray(image, dtype=np.float64)
    peak = 65535.0 if values.max(initial=0.0) > 255 else 255.0
    gray = np.clip(values * (255.0 / peak), 0, 255).astype(np.uint8)
    return Image.fromarray(gray)
