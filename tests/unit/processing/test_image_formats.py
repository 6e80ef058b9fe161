"""GIF, BMP and TIFF stills: analysed like any image, plus a "web" rendition.

Every file is made by Pillow in the test; detectors are off (`detectors=("people",)` on tiny
images finds nothing) where only decoding matters.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from common.processing import AnalysisConfig, analyze_image

CONFIG = AnalysisConfig(detectors=("people",))


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_animated_gif_is_analysed_on_its_first_frame_with_a_png_web_copy(tmp_path: Path) -> None:
    # GIVEN a two-frame GIF: red, then blue
    path = tmp_path / "anim.gif"
    red = Image.new("RGB", (64, 48), (255, 0, 0))
    blue = Image.new("RGB", (64, 48), (0, 0, 255))
    red.save(path, save_all=True, append_images=[blue], duration=100, loop=0)
    before = _sha256(path)

    result = analyze_image(path, CONFIG)

    assert (result.width, result.height, result.mime_type) == (64, 48, "image/gif")
    assert result.animated
    # The thumbnail and the web copy show the first frame; a palette image stays lossless PNG.
    assert _open(result.renditions[0].data).convert("RGB").getpixel((10, 10))[0] > 200
    assert result.web is not None
    assert (result.web.kind, result.web.mime_type) == ("web", "image/png")
    assert (result.web.width, result.web.height) == (64, 48)
    assert _open(result.web.data).convert("RGB").getpixel((10, 10)) == (255, 0, 0)
    assert _sha256(path) == before  # the original is never rewritten


def test_gif_transparency_is_kept_in_the_web_copy(tmp_path: Path) -> None:
    path = tmp_path / "clear.gif"
    image = Image.new("P", (40, 40), 1)
    image.putpalette([0, 0, 0, 0, 200, 0] + [0, 0, 0] * 254)
    for x in range(20):
        for y in range(40):
            image.putpixel((x, y), 0)  # left half: the transparent index
    image.save(path, transparency=0)

    result = analyze_image(path, CONFIG)

    assert result.web is not None
    assert result.web.mime_type == "image/png"
    web = _open(result.web.data).convert("RGBA")
    assert web.getpixel((5, 5))[3] == 0  # transparent stays transparent
    assert web.getpixel((30, 5)) == (0, 200, 0, 255)
    assert not result.animated
    # Detection and the thumbnail see transparent areas as white, as for PNG.
    assert _open(result.renditions[0].data).convert("RGB").getpixel((2, 2)) == (255, 255, 255)


def test_bmp_gets_a_jpeg_web_copy_of_its_size(tmp_path: Path) -> None:
    path = tmp_path / "photo.bmp"
    pixels = np.zeros((60, 90, 3), dtype=np.uint8)
    pixels[:, :, 1] = np.linspace(0, 255, 90, dtype=np.uint8)
    Image.fromarray(pixels).save(path)

    result = analyze_image(path, CONFIG)

    assert result.mime_type == "image/bmp"
    assert result.web is not None
    assert (result.web.mime_type, result.web.width, result.web.height) == ("image/jpeg", 90, 60)
    web = np.asarray(_open(result.web.data).convert("RGB"), dtype=np.int16)
    assert np.abs(web - pixels).max() <= 12  # a JPEG of the same picture


def test_tiff_with_alpha_keeps_it_and_opaque_alpha_is_dropped(tmp_path: Path) -> None:
    clear = Image.new("RGBA", (32, 32), (10, 20, 30, 255))
    clear.paste((10, 20, 30, 0), (0, 0, 16, 32))
    opaque = Image.new("RGBA", (32, 32), (10, 20, 30, 255))
    clear.save(tmp_path / "clear.tif")
    opaque.save(tmp_path / "opaque.tif")

    with_alpha = analyze_image(tmp_path / "clear.tif", CONFIG)
    without = analyze_image(tmp_path / "opaque.tif", CONFIG)

    assert with_alpha.mime_type == "image/tiff"
    assert with_alpha.web is not None
    assert with_alpha.web.mime_type == "image/png"
    assert _open(with_alpha.web.data).getpixel((4, 4))[3] == 0
    assert without.web is not None
    assert without.web.mime_type == "image/jpeg"


def test_16_bit_tiff_keeps_its_tones_in_the_web_copy(tmp_path: Path) -> None:
    path = tmp_path / "scan.tif"
    Image.fromarray(np.full((20, 20), 32768, dtype=np.uint16)).save(path)

    result = analyze_image(path, CONFIG)

    assert result.web is not None
    assert result.web.mime_type == "image/jpeg"
    web = _open(result.web.data)
    assert web.mode == "L"
    assert 120 <= web.getpixel((10, 10)) <= 136  # half of full scale, not clipped to white


def test_oriented_tiff_web_copy_is_upright(tmp_path: Path) -> None:
    # GIVEN a 40x20 TIFF whose orientation tag says "rotate 90 degrees clockwise to display"
    path = tmp_path / "turned.tif"
    image = Image.new("RGB", (40, 20), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 10, 20))  # a white band on the left
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(path, exif=exif)

    result = analyze_image(path, CONFIG)

    assert (result.width, result.height) == (20, 40)
    assert result.web is not None
    assert (result.web.width, result.web.height) == (20, 40)
    web = _open(result.web.data).convert("L")
    assert web.getpixel((10, 2)) > 200  # the band is now on top
    assert web.getpixel((10, 37)) < 50


def test_multipage_tiff_uses_its_first_page(tmp_path: Path) -> None:
    path = tmp_path / "pages.tif"
    first = Image.new("L", (30, 30), 250)
    second = Image.new("L", (30, 30), 5)
    first.save(path, save_all=True, append_images=[second])

    result = analyze_image(path, CONFIG)

    assert result.animated
    assert result.web is not None
    assert _open(result.web.data).getpixel((15, 15)) > 200


def test_web_copy_is_bounded_and_can_be_turned_off(tmp_path: Path) -> None:
    path = tmp_path / "wide.bmp"
    Image.new("RGB", (1200, 300), (90, 90, 90)).save(path)

    bounded = analyze_image(path, CONFIG.merged({"web_max_px": 600}))
    off = analyze_image(path, CONFIG.merged({"web_rendition": False}))

    assert bounded.web is not None
    assert (bounded.web.width, bounded.web.height) == (600, 150)
    assert (bounded.width, bounded.height) == (1200, 300)  # sizes stay those of the original
    assert off.web is None
    assert [r.kind for r in off.renditions] == ["thumbnail"]


@pytest.mark.parametrize(("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png")])
def test_web_formats_get_no_web_copy(tmp_path: Path, fmt: str, mime: str) -> None:
    path = tmp_path / "plain.img"
    Image.new("RGB", (50, 40), (1, 2, 3)).save(path, format=fmt)

    result = analyze_image(path, CONFIG)

    assert result.mime_type == mime
    assert result.web is None
    assert not result.animated
    assert [r.kind for r in result.renditions] == ["thumbnail"]


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_banded_reduction_gives_the_pixels_of_one_reduction(
    monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    from common.processing import image as image_module

    monkeypatch.setattr(image_module, "_BAND_ROWS", 16)  # many bands, the last one partial
    rng = np.random.default_rng(7)
    bands = 1 if mode == "L" else len(mode)
    pixels = rng.integers(0, 255, (203, 157, bands), dtype=np.uint8).squeeze()
    picture = Image.fromarray(pixels, mode)

    for factor in (2, 3, 5):
        banded = np.asarray(image_module._banded_reduce(picture, factor))
        assert np.array_equal(banded, np.asarray(picture.reduce(factor)))


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("resample", [Image.Resampling.LANCZOS, Image.Resampling.BOX])
def test_banded_resize_gives_the_pixels_of_one_resize(
    monkeypatch: pytest.MonkeyPatch, mode: str, resample: Image.Resampling
) -> None:
    from common.processing import image as image_module

    monkeypatch.setattr(image_module, "_BAND_ROWS", 24)  # many bands, the last one partial
    rng = np.random.default_rng(11)
    picture = Image.fromarray(rng.integers(0, 255, (211, 173, len(mode)), dtype=np.uint8), mode)

    for size in ((120, 147), (91, 111), (40, 49)):  # scales 0.69, 0.53 and 0.23
        banded = np.asarray(image_module._banded_resize(picture, size, resample), dtype=int)
        whole = np.asarray(picture.resize(size, resample), dtype=int)
        # the same filter over the same source rows; only float rounding may differ
        assert np.abs(banded - whole).max() <= 1


def test_a_tiff_whose_decode_would_hold_too_much_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from common.core.errors import MediaTooLarge
    from common.processing import image as image_module

    rng = np.random.default_rng(3)
    picture = Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8), "RGB")
    picture.save(tmp_path / "scan.tif", compression="tiff_lzw")
    picture.save(tmp_path / "scan.png")
    # GIVEN a bound between the decoded picture (400 x 300 x 4 bytes) and that plus the LZW file
    decoded = 400 * 300 * 4
    monkeypatch.setattr(image_module, "MAX_DECODE_BYTES", decoded + 1000)
    # WHEN the TIFF (decoded by libtiff, which maps the file) and the PNG are analysed
    # THEN the TIFF is refused with its size, the PNG (read as a stream) is analysed
    with pytest.raises(MediaTooLarge) as refused:
        analyze_image(tmp_path / "scan.tif", CONFIG)
    assert refused.value.details == {"width": 400, "height": 300}
    assert analyze_image(tmp_path / "scan.png", CONFIG).width == 400
    # AND below the decoded picture alone, the PNG is refused too
    monkeypatch.setattr(image_module, "MAX_DECODE_BYTES", decoded - 1)
    with pytest.raises(MediaTooLarge):
        analyze_image(tmp_path / "scan.png", CONFIG)
