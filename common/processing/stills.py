"""Still renditions for screens: the grid's tiles at 1x and 2x, and the photo at display size.

- **Tiles** (`tiles`): the picture cropped around its centre to the grid's 4:3 tile and scaled
  to `TILE_1X` (320 x 240) and `TILE_2X` (640 x 480) pixels, each in WebP and JPEG (browsers pick
  with `<picture>` + `srcset`). A picture smaller than a tile is never enlarged: the tile keeps
  its own size, and the page shows it at that size instead of a blurred enlargement.
- **Display** (`display`): the photo with its longest side at most `DISPLAY_MAX_PX` (a 12 MP
  original is 4000 px wide; a detail view is at most ~1000 CSS px wide, 1600 device px at
  1.6x), in WebP, alpha kept. None when the original is already that small, in a web format and
  light (`DISPLAY_SMALL_BYTES`): a 512 px PNG photo of 790 kB is 4 s on a phone's slow 4G, its
  WebP 40 kB.

Quality settings: JPEG 82 / WebP 78 for tiles, WebP 82 for display (Pillow's encoders; WebP
method 4, its default balance of size and speed).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

TILE_1X = (320, 240)
TILE_2X = (640, 480)
DISPLAY_MAX_PX = 1600
DISPLAY_SMALL_BYTES = 250_000
"""An original in a web format within `DISPLAY_MAX_PX` and at most this heavy is shown as it is."""
TILE_JPEG_QUALITY = 82
TILE_WEBP_QUALITY = 78
DISPLAY_WEBP_QUALITY = 82


@dataclass(frozen=True)
class Still:
    """One encoded still rendition.

    Attributes:
        kind: "tile", "tile_2x", "tile_webp", "tile_webp_2x" or "display".
        data: the encoded bytes.
        mime_type: "image/jpeg" or "image/webp".
        width: pixels.
        height: pixels.
    """

    kind: str
    data: bytes
    mime_type: str
    width: int
    height: int


def _cover(picture: Image.Image, box: tuple[int, int]) -> Image.Image:
    """The centre of `picture` at the box's aspect ratio, scaled down (never up) into the box."""
    from PIL import Image

    box_w, box_h = box
    width, height = picture.size
    if width * box_h > height * box_w:  # wider than the box: cut the sides
        crop_w, crop_h = max(1, round(height * box_w / box_h)), height
    else:
        crop_w, crop_h = width, max(1, round(width * box_h / box_w))
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    cropped = picture.crop((left, top, left + crop_w, top + crop_h))
    if crop_w <= box_w:
        return cropped
    return cropped.resize(box, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(picture: Image.Image, kind: str, fmt: str, quality: int) -> Still:
    out = io.BytesIO()
    if fmt == "JPEG":
        picture.convert("RGB").save(out, "JPEG", quality=quality, optimize=True, progressive=True)
        mime = "image/jpeg"
    else:
        picture.save(out, "WEBP", quality=quality, method=4)
        mime = "image/webp"
    return Still(kind, out.getvalue(), mime, picture.width, picture.height)


def _flat(picture: Image.Image) -> Image.Image:
    """RGB or RGBA, whatever mode the decoder gave (palette, greyscale, CMYK)."""
    if picture.mode in ("RGB", "RGBA"):
        return picture
    has_alpha = picture.mode in ("LA", "PA") or "transparency" in picture.info
    return picture.convert("RGBA" if has_alpha else "RGB")


def tiles(picture: Image.Image) -> list[Still]:
    """The four tile renditions of an upright picture (see the module docstring)."""
    flat = _flat(picture)
    found = []
    for box, suffix in ((TILE_1X, ""), (TILE_2X, "_2x")):
        tile = _cover(flat, box)
        found.append(_encode(tile, f"tile{suffix}", "JPEG", TILE_JPEG_QUALITY))
        found.append(_encode(tile, f"tile_webp{suffix}", "WEBP", TILE_WEBP_QUALITY))
    return found


def display(picture: Image.Image, *, web_format: bool, size_bytes: int) -> Still | None:
    """The display-size rendition of an upright picture, or None when the original serves.

    Args:
        picture: the upright picture (full resolution).
        web_format: the original is JPEG, PNG or WebP (browsers show it as it is).
        size_bytes: the original's size; an original in a web format within the bound and at
            most `DISPLAY_SMALL_BYTES` serves as its own display rendition.
    """
    from PIL import Image

    flat = _flat(picture)
    longest = max(flat.size)
    if web_format and longest <= DISPLAY_MAX_PX and size_bytes <= DISPLAY_SMALL_BYTES:
        return None
    if longest > DISPLAY_MAX_PX:
        scale = DISPLAY_MAX_PX / longest
        size = (max(1, round(flat.width * scale)), max(1, round(flat.height * scale)))
        flat = flat.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return _encode(flat, "display", "WEBP", DISPLAY_WEBP_QUALITY)


def open_upright(data: bytes, *, draft_px: int | None = None) -> Image.Image:
    """Decode an image (its first frame), upright by its EXIF orientation.

    Args:
        data: the encoded image.
        draft_px: let the JPEG decoder shrink by a power of two while the result stays at least
            this large (`Image.draft`); None decodes at full size.

    Raises:
        PIL.UnidentifiedImageError, OSError: not an image Pillow decodes.
    """
    from PIL import Image, ImageOps

    picture = Image.open(io.BytesIO(data))
    if draft_px is not None and picture.format == "JPEG":
        picture.draft("RGB", (draft_px, draft_px))
    picture.load()
    return ImageOps.exif_transpose(picture)
