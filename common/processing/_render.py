"""JPEG renditions (thumbnails, posters) encoded with Pillow."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from common.processing.types import Rendition, RenditionKind

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from PIL import Image

JPEG_QUALITY = 85


def check_thumbnail_max_px(thumbnail_max_px: int) -> None:
    """Reject a thumbnail bound that cannot produce an image.

    Raises:
        ValueError: `thumbnail_max_px` is below 1.
    """
    if thumbnail_max_px < 1:
        raise ValueError(f"thumbnail_max_px must be >= 1, got {thumbnail_max_px}")


def encode_jpeg(image: Image.Image, kind: RenditionKind) -> Rendition:
    """Encode an RGB Pillow image as a baseline JPEG (quality 85, 4:2:0 chroma subsampling).

    Args:
        image: the picture, mode "RGB" (or "L").
        kind: the rendition's kind.

    Returns:
        The rendition, with the image's size.
    """
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return Rendition(
        kind=kind,
        data=buffer.getvalue(),
        mime_type="image/jpeg",
        width=image.width,
        height=image.height,
    )


def thumbnail(image: Image.Image, max_px: int) -> Rendition:
    """Return a JPEG thumbnail whose longest side is at most `max_px`, aspect ratio kept.

    Images already that small are encoded at their own size, never enlarged. Resampling is
    Lanczos (Pillow's `Image.thumbnail`, which first reduces by whole factors when it can).

    Args:
        image: the oriented RGB picture.
        max_px: bound on the thumbnail's width and height, in pixels (>= 1).
    """
    from PIL import Image

    check_thumbnail_max_px(max_px)
    small = image.copy()
    small.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    return encode_jpeg(small, "thumbnail")


def encode_array(rgb: NDArray[np.uint8], kind: RenditionKind) -> Rendition:
    """Encode an RGB array (height, width, 3) as a JPEG rendition (see `encode_jpeg`)."""
    from PIL import Image

    return encode_jpeg(Image.fromarray(rgb), kind)
