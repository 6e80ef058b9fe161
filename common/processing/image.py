"""Still images: decode with Pillow, orient, thumbnail, detect."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from common.core.errors import PermanentMediaError
from common.processing import _render
from common.processing.detection import detect
from common.processing.types import ImageAnalysis

if TYPE_CHECKING:
    from pathlib import Path
    from typing import BinaryIO

    from PIL import Image

# What Pillow raises on bytes it cannot decode: UnidentifiedImageError and "image file is
# truncated" are OSErrors; some plugins raise SyntaxError, ValueError, EOFError or struct.error.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


def analyze_image(
    path: Path, *, thumbnail_max_px: int = 320, min_score: float = 0.3
) -> ImageAnalysis:
    """Decode a still image, orient it, make a thumbnail and find faces and people.

    Args:
        path: a local file in any format Pillow reads (JPEG, PNG, WebP, GIF, TIFF, ...). The
            format is sniffed from the bytes; the file name is ignored. For an animated image only
            the first frame is used.
        thumbnail_max_px: bound on the thumbnail's longest side, in pixels (>= 1).
        min_score: detections scoring below this (0..1) are dropped.

    Returns:
        Size after EXIF orientation, the sniffed MIME type, one JPEG "thumbnail" rendition, and
        the detections in pixels of the oriented full-resolution image.

    Raises:
        PermanentMediaError: the bytes are not a decodable image (unknown format, empty, corrupt
            or truncated), or the image has more pixels than `PIL.Image.MAX_IMAGE_PIXELS`
            (a decompression bomb guard).
        ValueError: `thumbnail_max_px` is below 1.
        OSError: the file cannot be opened or read.
    """
    import numpy as np

    _render.check_thumbnail_max_px(thumbnail_max_px)
    with path.open("rb") as stream:
        rgb, mime_type = _decode(stream, path.name)
    bgr = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
    detections = detect(bgr, time_ms=None, min_score=min_score)
    return ImageAnalysis(
        width=rgb.width,
        height=rgb.height,
        mime_type=mime_type,
        renditions=(_render.thumbnail(rgb, thumbnail_max_px),),
        detections=tuple(detections),
    )


def _decode(stream: BinaryIO, name: str) -> tuple[Image.Image, str]:
    """Decode, apply the EXIF orientation tag and convert to RGB; return the image and MIME type."""
    from PIL import Image, ImageOps

    try:
        with Image.open(stream) as image:
            mime_type = image.get_format_mimetype() or "application/octet-stream"
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and image.width * image.height > limit:
                raise PermanentMediaError(
                    f"{name}: image of {image.width}x{image.height} pixels exceeds the limit of "
                    f"{limit} pixels",
                    details={"width": image.width, "height": image.height},
                )
            image.load()
            oriented = ImageOps.exif_transpose(image)
            return _to_rgb(oriented), mime_type
    except Image.DecompressionBombError as exc:
        raise PermanentMediaError(f"{name}: image too large to decode safely: {exc}") from exc
    except _DECODE_ERRORS as exc:
        raise PermanentMediaError(f"{name}: not a decodable image: {exc}") from exc


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
        # 16/32-bit greyscale: scale to 0..255 instead of letting convert() clip at 255.
        import numpy as np

        values = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if values.max(initial=0.0) > 255 else 255.0
        gray = np.clip(values * (255.0 / peak), 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    return image.convert("RGB")
